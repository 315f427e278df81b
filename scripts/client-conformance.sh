#!/usr/bin/env bash
# Check the client-conformance adapter (src/bin/conformance-adapter/main.rs) against
# a running Durable Streams server.
#
# Why not the official runner: npm has no @durable-streams/client-conformance-tests
# (`npm view` answers E404 for every version), and the runner also always starts its
# own embedded Node test server rather than taking a server URL. So this script
# drives the adapter itself, over the same JSON-lines protocol on stdin/stdout, with
# scenarios taken from ../shared/reference/adapter-protocol.md: the idempotent
# producer commands (pipelined batches and their 409 gaps, auto-claim, dedup, close,
# detach), reads in every live mode with their chunk/status/offset rules, errors and
# their codes, dynamic headers and params, validation, a benchmark operation. The
# fault-injection scenarios run only where the server offers /_test/inject-error
# (the Node reference server does; the official Rust server does not).
#
# Usage: scripts/client-conformance.sh [SERVER_URL]
#   SERVER_URL defaults to $DS_RUST_URL, else http://127.0.0.1:4501 (the official Rust
#   server as ../shared/tools/start-ref-servers.sh starts it). A URL with a path is a
#   stream prefix, e.g. http://127.0.0.1:4437/v1/stream for
#   `dsx serve --test-hooks --long-poll-timeout-ms 500`. Needs cargo and python3.
# Prints one PASS/FAIL line per check and "N passed, N failed"; exits non-zero on any
# failure.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVER="${1:-${DS_RUST_URL:-http://127.0.0.1:4501}}"
SERVER="${SERVER%/}"

(cd "$REPO" && cargo build --quiet --bin conformance-adapter)
ADAPTER="$REPO/target/debug/conformance-adapter"

exec python3 - "$SERVER" "$ADAPTER" <<'PY'
import base64, json, subprocess, sys, time, urllib.error, urllib.parse, urllib.request, uuid

SERVER, ADAPTER = sys.argv[1], sys.argv[2]
# Faults are keyed by the request path, which includes any path in SERVER.
PATH_PREFIX = urllib.parse.urlparse(SERVER).path.rstrip("/")
ORIGIN = SERVER[: len(SERVER) - len(PATH_PREFIX)] if PATH_PREFIX else SERVER
p = subprocess.Popen([ADAPTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

def send(c):
    p.stdin.write(json.dumps(c) + "\n")
    p.stdin.flush()

class Reply(dict):
    """A reply where a missing field reads as None (so a failed command
    fails its check instead of stopping the script)."""

    def __getitem__(self, key):
        return self.get(key)


def recv():
    return json.loads(p.stdout.readline(), object_hook=Reply)

def cmd(c):
    send(c)
    return recv()

def http(method, path, body=None, headers=None, origin=False):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request((ORIGIN if origin else SERVER) + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()

def inject(path, **fault):
    fault["path"] = PATH_PREFIX + path
    fault.setdefault("count", 1)
    return http("POST", "/_test/inject-error", json.dumps(fault), {"content-type": "application/json"}, origin=True)[0]

passed = failed = 0

def check(name, cond, got):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else "  got: " + json.dumps(got)[:500]))

def fresh():
    return "/test-stream-" + str(uuid.uuid4())

def data(r):
    return "".join(c["data"] for c in r.get("chunks", []))

r = cmd({"type": "init", "serverUrl": SERVER})
check("init declares every feature", r.get("success") and all(r["features"].get(f) for f in
      ["batching", "sse", "longPoll", "auto", "dynamicHeaders", "retryOptions", "batchItems", "strictZeroValidation"]), r)

# ---- idempotent producer commands
# concurrent batches, text + json, autoclaim with pipelining
for ct, items, want in [("text/plain", ["msg-%02d" % i for i in range(20)], ["msg-00","msg-05","msg-19"]),
                        ("application/json", ['{"id": %d}' % i for i in range(10)], ['"id":0','"id":5','"id":9'])]:
    for auto in (False, True):
        s = fresh(); cmd({"type": "create", "path": s, "contentType": ct})
        r = cmd({"type": "idempotent-append-batch", "path": s, "items": items, "producerId": "p", "epoch": 0, "autoClaim": auto, "maxInFlight": 5})
        check(f"concurrent batch {ct} autoClaim={auto}", r.get("success") and r.get("status") == 200, r)
        r = cmd({"type": "read", "path": s})
        got = data(r)
        ok = all(w in got for w in want) and r.get("upToDate") is True
        if ct == "text/plain": ok = ok and got == "".join(items)
        check(f"  read back in order {ct}", ok, r)

# dedup: same 2-item batch twice from fresh producers
s = fresh(); cmd({"type": "create", "path": s, "contentType": "application/json"})
for i in range(2):
    r = cmd({"type": "idempotent-append-batch", "path": s, "items": ['{"msg":"first"}', '{"msg":"second"}'], "producerId": "dup", "epoch": 0, "autoClaim": False})
    check(f"dedup batch {i}", r.get("success"), r)
r = cmd({"type": "read", "path": s})
check("dedup exact data", "".join(c["data"] for c in r["chunks"]) == '[{"msg":"first"},{"msg":"second"}]', r)

# autoClaim: server at epoch 5
s = fresh(); cmd({"type": "create", "path": s, "contentType": "text/plain"})
st, h, _ = http("POST", s, "e5", {"content-type": "text/plain", "Producer-Id": "ac", "Producer-Epoch": "5", "Producer-Seq": "0"})
r = cmd({"type": "idempotent-append", "path": s, "data": "claimed", "producerId": "ac", "epoch": 0, "autoClaim": True})
check("autoClaim over epoch 5", r.get("success") and r.get("status") == 200, r)
r = cmd({"type": "idempotent-append", "path": s, "data": "+more", "producerId": "ac", "epoch": 0, "autoClaim": True})
check("autoClaim second append", r.get("success"), r)
r = cmd({"type": "read", "path": s}); check("  data", "".join(c["data"] for c in r["chunks"]) == "e5claimed+more", r)
st, h, _ = http("POST", s, "zombie", {"content-type": "text/plain", "Producer-Id": "ac", "Producer-Epoch": "6", "Producer-Seq": "0"})
check("  server sees epoch 6 seq 0 as dup", st == 204, st)
# no autoClaim: stale epoch error
r = cmd({"type": "idempotent-append", "path": s, "data": "x", "producerId": "ac", "epoch": 1, "autoClaim": False})
check("stale epoch error (403)", not r.get("success") and r.get("status") == 403, r)

# idempotent close tests
s = fresh(); cmd({"type": "create", "path": s, "contentType": "text/plain"})
cmd({"type": "idempotent-append", "path": s, "data": "a", "producerId": "c", "epoch": 0, "autoClaim": False})
r = cmd({"type": "idempotent-close", "path": s, "producerId": "c", "epoch": 0, "autoClaim": False})
check("idempotent close after append", r.get("success") and r.get("status") == 200 and r.get("finalOffset"), r)
r = cmd({"type": "idempotent-close", "path": s, "producerId": "c", "epoch": 0, "autoClaim": False})
check("repeat close", r.get("success"), r)
r = cmd({"type": "idempotent-close", "path": s, "producerId": "other", "epoch": 0, "autoClaim": False})
check("other producer close -> STREAM_CLOSED", r.get("errorCode") == "STREAM_CLOSED" and r.get("status") == 409, r)
r = cmd({"type": "head", "path": s}); check("head closed", r.get("streamClosed") is True, r)
s = fresh(); cmd({"type": "create", "path": s, "contentType": "text/plain"})
r1 = cmd({"type": "idempotent-close", "path": s, "producerId": "c", "epoch": 0, "autoClaim": False, "data": "body-A"})
r2 = cmd({"type": "idempotent-close", "path": s, "producerId": "c", "epoch": 0, "autoClaim": False, "data": "body-B"})
r = cmd({"type": "read", "path": s})
check("close with body retry different body", r1.get("success") and r2.get("success") and "".join(c["data"] for c in r["chunks"]) == "body-A" and r.get("streamClosed") is True, [r1, r2, r])
s = fresh(); cmd({"type": "create", "path": s, "contentType": "application/json"})
r1 = cmd({"type": "idempotent-close", "path": s, "producerId": "c", "epoch": 0, "autoClaim": False, "data": '{"final":true}'})
r = cmd({"type": "read", "path": s})
check("json close with body", r1.get("success") and "".join(c["data"] for c in r["chunks"]) == '[{"final":true}]', [r1, r])
# autoclaim close on epoch 3 stream
s = fresh(); cmd({"type": "create", "path": s, "contentType": "text/plain"})
http("POST", s, "x", {"content-type": "text/plain", "Producer-Id": "z", "Producer-Epoch": "3", "Producer-Seq": "0"})
r = cmd({"type": "idempotent-close", "path": s, "producerId": "z", "epoch": 0, "autoClaim": True})
check("autoClaim close", r.get("success"), r)
# detach
s = fresh(); cmd({"type": "create", "path": s, "contentType": "text/plain"})
cmd({"type": "idempotent-append", "path": s, "data": "a", "producerId": "d", "epoch": 0, "autoClaim": False})
r = cmd({"type": "idempotent-detach", "path": s, "producerId": "d", "epoch": 0})
check("detach", r.get("success") and r.get("status") == 200, r)
r = cmd({"type": "idempotent-detach", "path": s, "producerId": "nobody", "epoch": 0})
check("detach without producer", r.get("success"), r)
r = cmd({"type": "head", "path": s}); check("  still open", r.get("streamClosed") is False, r)
# json idempotent append of an array value stays one message
s = fresh(); cmd({"type": "create", "path": s, "contentType": "application/json"})
cmd({"type": "idempotent-append", "path": s, "data": "[1,2]", "producerId": "j", "epoch": 0, "autoClaim": False})
cmd({"type": "idempotent-append", "path": s, "data": '{"a":1}', "producerId": "j", "epoch": 0, "autoClaim": False})
r = cmd({"type": "read", "path": s}); check("json array message kept whole", "".join(c["data"] for c in r["chunks"]) == '[[1,2],{"a":1}]', r)
r = cmd({"type": "idempotent-append", "path": s, "data": "not json", "producerId": "j", "epoch": 0, "autoClaim": False})
check("invalid json refused client-side", not r.get("success"), r)
r = cmd({"type": "idempotent-append", "path": s, "data": "3", "producerId": "j", "epoch": 0, "autoClaim": False})
check("  producer still usable", r.get("success"), r)
# append to closed stream via producer
s = fresh(); cmd({"type": "create", "path": s, "contentType": "text/plain"})
cmd({"type": "close", "path": s})
r = cmd({"type": "idempotent-append", "path": s, "data": "late", "producerId": "l", "epoch": 0, "autoClaim": False})
check("producer append to closed stream -> STREAM_CLOSED", r.get("errorCode") == "STREAM_CLOSED", r)

# ---- plain stream commands and reads
faults = inject("/probe", status=500) == 200
http("DELETE", "/_test/inject-error", origin=True)

s = fresh(); cmd({"type": "create", "path": s, "contentType": "application/json"})
r = cmd({"type": "read", "path": s, "offset": "now", "live": "long-poll", "timeoutMs": 1000})
check("longpoll now empty -> 204", r.get("status") == 204 and r["chunks"] == [] and r["upToDate"] is True and r["offset"] not in ("now", "-1"), r)
r = cmd({"type": "read", "path": s})
check("catch-up empty json: no chunk", r.get("chunks") == [] and r["upToDate"] is True and r["streamClosed"] is False, r)
r0 = cmd({"type": "append", "path": s, "data": '{"msg":"first"}', "binary": False})
send({"type": "read", "path": s, "offset": r0["offset"], "live": "long-poll", "timeoutMs": 5000, "maxChunks": 1})
time.sleep(0.3); http("POST", s, '{"msg":"second"}', {"content-type": "application/json"})
r = recv(); check("longpoll waits for data", data(r) == '[{"msg":"second"}]' and r["status"] == 200, r)
send({"type": "read", "path": s, "offset": "now", "live": "sse", "timeoutMs": 5000, "maxChunks": 1})
time.sleep(0.2); http("POST", s, '{"msg":"third"}', {"content-type": "application/json"})
r = recv(); check("sse offset=now sees append", data(r) == '[{"msg":"third"}]', r)
r = cmd({"type": "read", "path": s, "live": True, "timeoutMs": 1000})
check("auto read", data(r).count("msg") == 3 and r["upToDate"] is True, r)

t = fresh(); cmd({"type": "create", "path": t, "contentType": "text/plain"})
cmd({"type": "append", "path": t, "data": "  two leading spaces", "binary": False})
r = cmd({"type": "read", "path": t, "live": "sse", "timeoutMs": 1000, "maxChunks": 1})
check("sse strips one space", data(r) == " two leading spaces", r)
cmd({"type": "append", "path": t, "data": "line1\nline2\u2028x", "binary": False})
cmd({"type": "close", "path": t})
r = cmd({"type": "read", "path": t, "live": "sse", "timeoutMs": 3000})
check("sse closed stream ends with streamClosed", r["streamClosed"] is True and data(r) == " two leading spacesline1\nline2\u2028x", r)
r = cmd({"type": "read", "path": t, "live": "sse", "timeoutMs": 3000, "maxChunks": 1})
check("sse closed final event maxChunks 1", r["streamClosed"] is True, r)
t0 = time.time(); r = cmd({"type": "read", "path": t, "offset": r["offset"], "live": "long-poll", "timeoutMs": 3000})
check("longpoll closed immediate", r["streamClosed"] is True and time.time() - t0 < 1.5, [r, time.time() - t0])
r = cmd({"type": "head", "path": t}); check("head closed text", r["streamClosed"] is True and r["contentType"].startswith("text/plain"), r)

b = fresh(); cmd({"type": "create", "path": b, "contentType": "application/octet-stream"})
cmd({"type": "append", "path": b, "data": base64.b64encode(b"Hello Binary!").decode(), "binary": True})
r = cmd({"type": "read", "path": b}); check("binary catch-up text", data(r) == "Hello Binary!", r)
r = cmd({"type": "read", "path": b, "live": "sse", "timeoutMs": 800, "maxChunks": 1}); check("binary sse decoded", data(r) == "Hello Binary!", r)
cmd({"type": "append", "path": b, "data": base64.b64encode(b"\xff\xfe\x00").decode(), "binary": True})
r = cmd({"type": "read", "path": b}); check("non-utf8 binary read", len(r["chunks"] or []) >= 1 and r["upToDate"], r)

r = cmd({"type": "read", "path": "/nonexistent-stream-12345"}); check("404 read", r.get("errorCode") == "NOT_FOUND" and "nonexistent-stream-12345" in r["message"], r)
r = cmd({"type": "read", "path": "/nonexistent-stream-12345", "offset": "now", "live": "sse"}); check("404 sse", r.get("errorCode") == "NOT_FOUND" and r.get("status") == 404, r)
r = cmd({"type": "append", "path": "/error-context-append-nonexistent", "data": "x", "binary": False}); check("404 append", r.get("errorCode") == "NOT_FOUND" and "error-context-append-nonexistent" in r["message"], r)
r = cmd({"type": "head", "path": "/nonexistent-stream-12345"}); check("404 head", r.get("errorCode") == "NOT_FOUND" and "nonexistent-stream-12345" in r["message"], r)
r = cmd({"type": "read", "path": s, "offset": "ffffffffffffffff"}); check("bad offset -> INVALID_OFFSET", r.get("errorCode") == "INVALID_OFFSET" and r.get("status") == 400, r)
r = cmd({"type": "append", "path": t, "data": "", "binary": False}); check("empty append fails", not r.get("success"), r)
q = fresh(); cmd({"type": "create", "path": q, "contentType": "text/plain"})
r1 = cmd({"type": "append", "path": q, "data": "a", "binary": False, "seq": 5}); r2 = cmd({"type": "append", "path": q, "data": "b", "binary": False, "seq": 5})
check("seq regression -> SEQUENCE_CONFLICT", r1.get("success") and r2.get("errorCode") == "SEQUENCE_CONFLICT", [r1, r2])
r = cmd({"type": "append", "path": q, "data": "c", "binary": False, "seq": 9007199254740991}); check("large seq", r.get("success"), r)
r = cmd({"type": "create", "path": q, "contentType": "text/plain"}); check("idempotent create 200", r.get("status") == 200, r)
r = cmd({"type": "create", "path": q, "contentType": "application/json"}); check("create conflict", r.get("status") == 409, r)
c = fresh(); r = cmd({"type": "create", "path": c, "contentType": "text/plain; charset=utf-8", "ttlSeconds": 3600})
r = cmd({"type": "head", "path": c}); check("head exact content type", r.get("contentType") == "text/plain; charset=utf-8" and r.get("offset"), r)
r = cmd({"type": "delete", "path": c}); check("delete 200", r.get("status") == 200, r)
r = cmd({"type": "delete", "path": c}); check("delete 404", r.get("status") == 404, r)
r = cmd({"type": "close", "path": c}); check("close 404", r.get("status") == 404, r)

if faults:
    f = fresh(); cmd({"type": "create", "path": f, "contentType": "application/json"})
    cmd({"type": "append", "path": f, "data": '{"k":"' + "v" * 2000 + '"}', "binary": False})
    inject(f, status=500, count=2); r = cmd({"type": "read", "path": f}); check("read after 2x500", r.get("success") and r["chunks"], r)
    inject(f, status=503, count=2); r = cmd({"type": "append", "path": f, "data": '{"x":1}', "binary": False}); check("append after 2x503", r.get("success"), r)
    inject(f, status=429, count=1, retryAfter=1); t0 = time.time(); r = cmd({"type": "read", "path": f}); check("429 retry-after", r.get("success"), [r, time.time() - t0])
    inject(f, status=500, count=20); t0 = time.time(); r = cmd({"type": "read", "path": f}); el = time.time() - t0
    check("20x500 fails in time", not r.get("success") and el < 20, [r, el]); http("DELETE", "/_test/inject-error", origin=True)
    inject(f, dropConnection=True, count=2); r = cmd({"type": "read", "path": f}); check("dropped connections retried (read)", r.get("success"), r)
    inject(f, truncateBodyBytes=10, count=1); r = cmd({"type": "read", "path": f}); check("truncated body -> PARSE_ERROR", r.get("errorCode") == "PARSE_ERROR", r)
    r = cmd({"type": "read", "path": f}); check("  next read ok", r.get("success"), r)
    inject(f, corruptBody=True, count=1); r = cmd({"type": "read", "path": f}); check("corrupt body -> PARSE_ERROR", r.get("errorCode") == "PARSE_ERROR", r)
    inject(f, delayMs=1500, count=1); r = cmd({"type": "read", "path": f}); check("delayed 1.5s read", r.get("success"), r)
    inject(f, status=400, count=1); r = cmd({"type": "read", "path": f}); check("injected 400 read -> INVALID_OFFSET", r.get("errorCode") == "INVALID_OFFSET" and r.get("status") == 400, r)
    inject(f, count=2, injectSseEvent={"eventType": "control", "data": "{not json"}); r = cmd({"type": "read", "path": f, "live": "sse", "timeoutMs": 2000})
    check("bad sse control -> PARSE_ERROR", r.get("errorCode") == "PARSE_ERROR", r); http("DELETE", "/_test/inject-error", origin=True)
    inject(f, count=2, injectSseEvent={"eventType": "control", "data": ""}); r = cmd({"type": "read", "path": f, "live": "sse", "timeoutMs": 2000})
    check("empty sse control -> PARSE_ERROR", r.get("errorCode") == "PARSE_ERROR", r); http("DELETE", "/_test/inject-error", origin=True)
    inject(f, count=2, injectSseEvent={"eventType": "mystery", "data": "x"}); r = cmd({"type": "read", "path": f, "live": "sse", "timeoutMs": 1000, "maxChunks": 2})
    check("unknown sse event ignored", r.get("success") and r["chunks"], r); http("DELETE", "/_test/inject-error", origin=True)
    inject(f, status=500, count=2); r = cmd({"type": "read", "path": f, "offset": "-1", "live": "long-poll", "timeoutMs": 2000, "maxChunks": 1}); check("longpoll after 500s", r.get("success") and r["chunks"], r)
    inject(f, status=500, count=2); r = cmd({"type": "read", "path": f, "live": "sse", "timeoutMs": 2000, "maxChunks": 1}); check("sse after 500s", r.get("success") and r["chunks"], r)
    http("DELETE", "/_test/inject-error", origin=True)
else:
    print("(no fault injection on this server)")

# dynamic headers (last: they stay for the rest of the session)
cmd({"type": "set-dynamic-header", "name": "X-Request-Counter", "valueType": "counter"})
cmd({"type": "set-dynamic-header", "name": "Authorization", "valueType": "token", "initialValue": "Bearer token-v1"})
cmd({"type": "set-dynamic-param", "name": "request_id", "valueType": "counter"})
d = fresh(); cmd({"type": "create", "path": d, "contentType": "text/plain"})
rs = [cmd({"type": "append", "path": d, "data": str(i), "binary": False}) for i in range(3)]
check("dynamic counter over appends 1,2,3", [r.get("headersSent", {}).get("X-Request-Counter") for r in rs] == ["1", "2", "3"] and rs[0].get("paramsSent", {}).get("request_id") == "1", rs)
cmd({"type": "set-dynamic-header", "name": "X-Request-Counter", "valueType": "counter"})
cmd({"type": "set-dynamic-header", "name": "Authorization", "valueType": "token", "initialValue": "Bearer token-v2"})
rs = [cmd({"type": "read", "path": d}) for i in range(2)]
check("dynamic counter over reads 1,2 + token v2", [r.get("headersSent", {}).get("X-Request-Counter") for r in rs] == ["1", "2"] and rs[1]["headersSent"]["Authorization"] == "Bearer token-v2" and data(rs[0]) == "012", rs)
r = cmd({"type": "read", "path": d, "live": "long-poll", "timeoutMs": 800}); check("reads still fine with dynamic params", r.get("success"), r)

# ---- validation (no network)
for target, ok in [({"target": "retry-options"}, True), ({"target": "retry-options", "maxRetries": -1}, False),
                   ({"target": "retry-options", "initialDelayMs": 0}, False), ({"target": "retry-options", "multiplier": 0.5}, False),
                   ({"target": "retry-options", "initialDelayMs": 100, "maxDelayMs": 10}, False),
                   ({"target": "idempotent-producer", "producerId": "test-producer", "epoch": 0, "maxBatchBytes": 1048576}, True),
                   ({"target": "idempotent-producer", "epoch": -1}, False), ({"target": "idempotent-producer", "maxBatchBytes": 0}, False),
                   ({"target": "idempotent-producer", "maxBatchItems": 0}, False)]:
    r = cmd({"type": "validate", "target": target})
    field = [k for k in target if k != "target"]
    named = ok or any(f in r.get("message", "") for f in field)
    check(f"validate {json.dumps(target)}", bool(r.get("success")) == ok and named and (ok or r.get("errorCode") == "INVALID_ARGUMENT"), r)
r = cmd({"type": "no-such-command"})
check("unknown command -> NOT_SUPPORTED", r.get("errorCode") == "NOT_SUPPORTED", r)
r = cmd({"type": "benchmark", "iterationId": "i1", "operation": {"op": "throughput_append", "path": fresh(), "count": 1000, "size": 100, "concurrency": 5}})
check("benchmark throughput_append", r.get("success") and r.get("iterationId") == "i1" and isinstance(r.get("durationNs"), str), r)
r = cmd({"type": "shutdown"})
check("shutdown", r.get("success"), r)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
