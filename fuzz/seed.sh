#!/usr/bin/env bash
# Writes a few hand-made seed inputs into corpus/TARGET/ (kept out of git;
# the fuzzer grows the corpus from them).
set -eu
cd "$(dirname "$0")"
seed() { mkdir -p "corpus/$1"; printf '%b' "$3" > "corpus/$1/$2"; }
seed sse plain '\x00\x02\x05\x11event: data\ndata: [1,2]\n\nevent: control\ndata: {"streamNextOffset":"1_2","upToDate":true}\n\n'
seed sse crlf '\x01\x01\x03event: data\r\ndata:x\r\ndata: y\r\n\r\n: comment\rid: 1\rretry: 5\r\r'
seed json_split nested '\x02\x03\x09 [ {"a":[1,"]\\\\\\""]}, "x\\"y", 12, null,[[]],-1.5e3,true ] '
seed json_split empty '\x00[]'
seed sanitize mixed 'a\tb\r\n\x1b[2J\xc2\x9b\xe2\x80\xae\xe2\x81\xa0\xf3\xa0\x81\x81\xff\n\xef\xbb\xbfz'
seed adapter_command cmds '{"type":"validate","target":{"target":"retry-options","maxRetries":3,"initialDelayMs":10}}\n{"type":"validate","target":{"target":"idempotent-producer","epoch":0}}\n{"type":"set-dynamic-header","name":"X","valueType":"counter","initialValue":"1"}\n{"type":"clear-dynamic"}\nnot json\n{"type":"head","path":"/x"}\n{"type":"nope"}\n'
seed config full '[tail]\nmax_messages = 50\n\nheaders = ["A: b"]\n\n[keys]\nquit = "q"\n\n[theme]\nborder = "blue"\n\n[servers.local]\nurl = "http://127.0.0.1:4437"\n'
seed bookmarks v1 '{"version":1,"streams":{"http://127.0.0.1:1/s":{"bookmarks":[{"name":"a","offset":"1_2","created":"2026-01-01T00:00:00Z"}]}},"recent":[]}'
