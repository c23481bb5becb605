#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""SIP from many source addresses, or from one that never ACKs: what a spoofed
flood and a reflection victim look like to xtrunkd (test_admission.sh).

  sip_sources.py flood RELAY:PORT COUNT RATE ADDR...
      COUNT OPTIONS in all, spread over the ADDRs in turn (each from its own
      socket, port 5080), at RATE a second; then 3 s more for answers.
      Prints "sent N answered M".
  sip_sources.py invite RELAY:PORT ADDR:PORT SECONDS [MAX_FORWARDS]
      One INVITE from ADDR:PORT, never ACKed and never retransmitted, as a
      victim whose address was spoofed would see it: every response that
      comes within SECONDS, their status codes in order ("100 486").
"""
import socket
import sys
import time
import uuid


def hostport(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def options(src, sport, relay, n):
    return ("OPTIONS sip:ping@%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-fl%d\r\n"
            "From: <sip:flood@%s>;tag=fl%d\r\n"
            "To: <sip:ping@%s>\r\n"
            "Call-ID: flood-%d-%s\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            % (relay[0], relay[1], src, sport, n, src, n, relay[0], n, src)).encode()


def flood(relay, count, rate, addrs):
    socks = []
    for a in addrs:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, 5080))
        s.setblocking(False)
        socks.append((a, s))
    answered = set()

    def drain():
        for _, s in socks:
            while True:
                try:
                    data = s.recv(65535)
                except BlockingIOError:
                    break
                lines = data.decode(errors="replace").split("\r\n")
                if not lines[0].startswith("SIP/2.0 200"):
                    continue
                for line in lines:
                    if line.lower().startswith("call-id:"):
                        answered.add(line.split(":", 1)[1].strip())

    start = time.monotonic()
    for n in range(count):
        a, s = socks[n % len(socks)]
        s.sendto(options(a, 5080, relay, n), relay)
        ahead = start + (n + 1) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        if n % 50 == 0:
            drain()
    end = time.monotonic() + 3
    while time.monotonic() < end:
        drain()
        time.sleep(0.01)
    print("sent %d answered %d" % (count, len(answered)))


def invite(relay, src, seconds, max_forwards):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(src)
    tag = uuid.uuid4().hex[:8]
    m = ("INVITE sip:1000@%s:%d SIP/2.0\r\n"
         "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s\r\n"
         "From: <sip:2000@%s>;tag=%s\r\nTo: <sip:1000@%s>\r\n"
         "Call-ID: victim-%s\r\nCSeq: 1 INVITE\r\nContact: <sip:2000@%s:%d>\r\n"
         "Max-Forwards: %d\r\nContent-Length: 0\r\n\r\n"
         % (relay[0], relay[1], src[0], src[1], tag, src[0], tag, relay[0], tag, src[0],
            src[1], max_forwards))
    s.sendto(m.encode(), relay)
    codes = []
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data = s.recv(65535)
        except socket.timeout:
            break
        first = data.decode(errors="replace").split("\r\n", 1)[0].split()
        if len(first) >= 2 and first[0] == "SIP/2.0":
            codes.append(first[1])
    print(" ".join(codes))


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "flood":
        flood(hostport(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5:])
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "invite":
        invite(hostport(sys.argv[2]), hostport(sys.argv[3]), float(sys.argv[4]),
               int(sys.argv[5]) if len(sys.argv) == 6 else 70)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
