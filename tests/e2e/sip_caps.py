#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Many calls in set-up at once, and a trunk that never answers them
(test_caps.sh).

  sip_caps.py calls RELAY:PORT ADDR:PORT COUNT SECONDS [STREAMS]
      COUNT INVITEs from ADDR:PORT at once, each with an SDP offer of STREAMS
      audio streams (default 1; media at ADDR, ports 40000, 40002, ...),
      never retransmitted, never ACKed, never cancelled. After SECONDS,
      prints the last status code each call got, counted: "180:10 503:20"
      ("-" for a call that got nothing).
  sip_caps.py trunk ADDR:PORT MODE SECONDS
      A trunk on ADDR:PORT for SECONDS: every INVITE gets 180 Ringing
      (MODE ring: it rings on, never answered) or 486 Busy Here (MODE busy);
      the m= lines of each INVITE it receives are printed, one INVITE a line
      ("audio 30000|audio 0|..."), on stdout as they come.
"""
import socket
import sys
import time
import uuid


def hostport(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def offer(addr, streams):
    sdp = "v=0\r\no=caller 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n" % (addr, addr)
    for i in range(streams):
        sdp += "m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n" % (40000 + 2 * i)
    return sdp


def invite(relay, src, call_id, tag, sdp):
    return ("INVITE sip:1000@%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s\r\n"
            "From: <sip:2000@%s>;tag=%s\r\nTo: <sip:1000@%s>\r\n"
            "Call-ID: %s\r\nCSeq: 1 INVITE\r\nContact: <sip:2000@%s:%d>\r\n"
            "Max-Forwards: 70\r\nContent-Type: application/sdp\r\n"
            "Content-Length: %d\r\n\r\n%s"
            % (relay[0], relay[1], src[0], src[1], tag, src[0], tag, relay[0], call_id,
               src[0], src[1], len(sdp), sdp)).encode()


def headers(text):
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    return lines[0], lines[1:], body


def header(lines, name):
    for line in lines:
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def calls(relay, src, count, seconds, streams):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(src)
    last = {}
    sdp = offer(src[0], streams)
    for n in range(count):
        tag = uuid.uuid4().hex[:8]
        call_id = "caps-%d-%s" % (n, tag)
        last[call_id] = "-"
        s.sendto(invite(relay, src, call_id, tag, sdp), relay)
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
        first, lines, _ = headers(data.decode(errors="replace"))
        call_id = header(lines, "Call-ID")
        words = first.split()
        if len(words) >= 2 and words[0] == "SIP/2.0" and call_id in last and words[1] != "100":
            last[call_id] = words[1]
    counts = {}
    for code in last.values():
        counts[code] = counts.get(code, 0) + 1
    print(" ".join("%s:%d" % (c, counts[c]) for c in sorted(counts)))


def trunk(addr, mode, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr)
    seen = set()
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            break
        first, lines, body = headers(data.decode(errors="replace"))
        if not first.startswith("INVITE "):
            continue  # ACK, CANCEL, BYE: nothing more is needed of this trunk
        status = "180 Ringing" if mode == "ring" else "486 Busy Here"
        reply = "SIP/2.0 %s\r\n" % status
        for name in ("Via", "From", "Call-ID", "CSeq"):
            for line in lines:
                if line.lower().startswith(name.lower() + ":"):
                    reply += line + "\r\n"
        reply += "To: %s;tag=trunk\r\nContent-Length: 0\r\n\r\n" % header(lines, "To")
        s.sendto(reply.encode(), peer)
        call_id = header(lines, "Call-ID")
        if call_id not in seen:  # a retransmission is answered, not printed again
            seen.add(call_id)
            media = [line[2:].split(" RTP")[0] for line in body.split("\r\n")
                     if line.startswith("m=")]
            print("|".join(media), flush=True)


def main():
    if len(sys.argv) in (6, 7) and sys.argv[1] == "calls":
        calls(hostport(sys.argv[2]), hostport(sys.argv[3]), int(sys.argv[4]),
              float(sys.argv[5]), int(sys.argv[6]) if len(sys.argv) == 7 else 1)
    elif len(sys.argv) == 5 and sys.argv[1] == "trunk":
        trunk(hostport(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
