#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Idle TCP connections to /metrics, and a scrape while they are open
(test_caps.sh).

  metrics_conns.py HOST:PORT COUNT WAIT
      Opens COUNT connections that send nothing, scrapes /metrics on a new
      one, then waits up to WAIT seconds for xtrunkd to close the idle ones.
      Prints "scrape STATUS open OPEN closed CLOSED after SECONDS": OPEN of
      them still open right after the scrape, CLOSED closed by the server
      (EOF) within WAIT, the last one after SECONDS.
"""
import select
import socket
import sys
import time
import urllib.request


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    host, port = sys.argv[1].rsplit(":", 1)
    count, wait = int(sys.argv[2]), float(sys.argv[3])
    start = time.monotonic()
    conns = [socket.create_connection((host, int(port)), timeout=5) for _ in range(count)]
    try:
        with urllib.request.urlopen("http://%s/metrics" % sys.argv[1], timeout=5) as r:
            status = r.status if b"xtrunk_calls_started_total" in r.read() else "no-metrics"
    except Exception as e:  # noqa: BLE001 - any failure is the answer
        status = type(e).__name__
    open_now = 0
    for c in conns:
        c.setblocking(False)
        try:
            open_now += c.recv(1) != b""
        except BlockingIOError:
            open_now += 1
        except OSError:
            pass
    closed, last = 0, 0.0
    pending = list(conns)
    end = time.monotonic() + wait
    while pending and time.monotonic() < end:
        ready, _, _ = select.select(pending, [], [], max(0.0, end - time.monotonic()))
        for c in ready:
            try:
                data = c.recv(4096)
            except OSError:
                data = b""
            if data == b"":
                closed += 1
                last = time.monotonic() - start
                pending.remove(c)
    print("scrape %s open %d closed %d after %.0f" % (status, open_now, closed, last))


if __name__ == "__main__":
    main()
