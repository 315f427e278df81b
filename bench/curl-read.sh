#!/usr/bin/env bash
# Contender: a plain curl loop reading a stream in catch-up.
# Usage: curl-read.sh STREAM_URL [OFFSET] > sink
# GETs STREAM_URL?offset=O, writes each body to stdout, and follows the
# Stream-Next-Offset response header (copied as is: offsets are opaque)
# until a response says Stream-Up-To-Date: true.
set -euo pipefail

url="$1"
offset="${2:--1}"
headers="$(mktemp)"
trap 'rm -f "$headers"' EXIT

for ((i = 0; i < 1000000; i++)); do
  curl -sS --fail --get --data-urlencode "offset=$offset" -D "$headers" "$url"
  next="" up=""
  while IFS=: read -r name value; do
    value="${value#"${value%%[! ]*}"}"
    value="${value%$'\r'}"
    case "${name,,}" in
      stream-next-offset) next="$value" ;;
      stream-up-to-date) up="$value" ;;
    esac
  done <"$headers"
  [[ "$up" == true ]] && exit 0
  [[ -n "$next" ]] || { echo "curl-read: no Stream-Next-Offset" >&2; exit 1; }
  offset="$next"
done
echo "curl-read: gave up after $i requests" >&2
exit 1
