#!/usr/bin/env python3
"""RSS of a running `dsx serve` over rounds of long-poll requests.

Usage: rss_longpoll.py PID BASE_URL [ROUNDS] [PER_ROUND] [CONNECTIONS]

Creates one stream, then per round sends PER_ROUND long-poll GETs at the
stream's tail over CONNECTIONS keep-alive connections (the server should
run with a short --long-poll-timeout-ms so that each ends in a 204), and
prints VmRSS of PID after each round. Loopback only; bounded in count.
"""
import http.client
import sys
import threading
import time
import urllib.parse


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    pid = int(sys.argv[1])
    base = urllib.parse.urlsplit(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    per_round = int(sys.argv[4]) if len(sys.argv) > 4 else 200_000
    conns = int(sys.argv[5]) if len(sys.argv) > 5 else 16
    assert base.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    path = "/v1/stream/rss-probe"
    c = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
    c.request("PUT", path, body=b"x", headers={"Content-Type": "text/plain"})
    r = c.getresponse()
    r.read()
    tail = r.getheader("Stream-Next-Offset")
    assert tail, "no Stream-Next-Offset"
    query = f"{path}?offset={urllib.parse.quote(tail)}&live=long-poll"
    print(f"round 0 rss_kb {rss_kb(pid)}", flush=True)
    for rnd in range(1, rounds + 1):
        counts = [0] * conns
        statuses = {}
        lock = threading.Lock()

        def worker(k):
            conn = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
            n = per_round // conns
            for _ in range(n):
                conn.request("GET", query)
                resp = conn.getresponse()
                resp.read()
                with lock:
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                counts[k] += 1
            conn.close()

        t0 = time.time()
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(1)
        print(
            f"round {rnd} rss_kb {rss_kb(pid)} requests {sum(counts)} "
            f"statuses {statuses} secs {time.time() - t0:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
