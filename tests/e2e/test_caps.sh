#!/usr/bin/env bash
# End to end: what one client can hold in xtrunkd (issue 13 point 5). A PBX
# host with two addresses (its own, the side's peer, and a second allowed
# one), the relay, and a trunk that rings on and never answers
# (sip_caps.py); INVITEs come from sip_caps.py too, all at once.
#   1. calls in set-up: 30 unanswered calls from one source other than the
#      peer with setup_calls_per_source = 10: 10 ring, 20 get 503 with
#      Retry-After, counted; the peer is held to setup_calls (15) only.
#   2. streams: an offer with 6 audio streams (streams = 4 by default): the
#      trunk gets the first 4 with relay ports and 2 with port 0, counted.
#   3. /metrics: idle TCP connections are closed after metrics_idle, at most
#      metrics_connections at once, and a scrape works while they are open.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init c caps
METRICS=127.0.0.1:9477

PBX=10.91.1.2   # the PBX: the pbx side's peer
OTHER=10.91.1.3 # another allowed address on the PBX's network
RELAY_P=10.91.1.1
TRUNK=10.91.2.2

# restart LOG PBX_SIDE_LINES TRUNK_SIDE_LINES [RELAY_LINES]
restart() {
	[[ -z $XD_PID ]] || check "${XD_LOG##*/}: xtrunkd stops cleanly (SIGTERM, exit 0)" stop_xtrunkd
	{
		printf '[relay]\npin_dir = %s\nmetrics = %s\n%s\n\n' "$PIN" "$METRICS" "${4:-}"
		lab_sides "$2" "$3"
	} >"$CONF"
	start_xtrunkd "$WORK/$1"
}

caps() { /usr/bin/python3 "$(dirname "$0")/sip_caps.py" "$@"; }

# trunk NAME MODE SECONDS: the trunk's sip_caps.py in the background
trunk() {
	ip netns exec "$NS_T" /usr/bin/python3 "$(dirname "$0")/sip_caps.py" trunk "$TRUNK:5060" \
		"$2" "$3" >"$WORK/$1.out" 2>&1 &
	TRUNK_PID=$!
	track $TRUNK_PID
	wait_until 10 udp_bound "$NS_T" 5060
}
# calls SRC COUNT [STREAMS]: COUNT INVITEs at once from SRC:5090; the last codes, counted
calls() { ip netns exec "$NS_P" /usr/bin/python3 "$(dirname "$0")/sip_caps.py" calls \
	"$RELAY_P:5060" "$1:5090" "$2" 4 "${3:-1}"; }

lab_up 91
ip -n "$NS_P" addr add "$OTHER/24" dev eth0

# === 1. calls in set-up ===
if ! restart setup.log "allow = 10.91.1.0/24
setup_calls = 15
setup_calls_per_source = 10" ""; then
	fail "xtrunkd starts with setup_calls = 15, setup_calls_per_source = 10"
	sed 's/^/# /' "$XD_LOG"
	finish_tests caps
	exit 1
fi
trunk ring ring 60
check_eq "setup: 30 unanswered INVITEs from $OTHER (not the peer): 10 ring, 20 get 503" \
	"180:10 503:20" "$(calls "$OTHER" 30)"
check_eq "setup: /metrics counts the 20 as rejected for setup_limit_source, 20 calls rejected_setup" \
	"20 20" \
	"$(metric 'xtrunk_sip_requests_rejected_total{side="pbx",reason="setup_limit_source"}') $(metric 'xtrunk_calls_total{result="rejected_setup"}')"
check_eq "setup: ... 10 calls in set-up on the PBX side, none from the trunk" "10 0" \
	"$(metric 'xtrunk_calls_setup{side="pbx"}') $(metric 'xtrunk_calls_setup{side="trunk"}')"
check "setup: the 503 says when to retry (Retry-After)" \
	ip netns exec "$NS_P" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'"$OTHER"'", 5091)); s.settimeout(3)
m = ("INVITE sip:1000@'"$RELAY_P"' SIP/2.0\r\nVia: SIP/2.0/UDP '"$OTHER"':5091;branch=z9hG4bK-ra\r\n"
     "From: <sip:2000@'"$OTHER"'>;tag=ra\r\nTo: <sip:1000@'"$RELAY_P"'>\r\nCall-ID: ra-1\r\n"
     "CSeq: 1 INVITE\r\nContact: <sip:2000@'"$OTHER"':5091>\r\nMax-Forwards: 70\r\n"
     "Content-Length: 0\r\n\r\n")
s.sendto(m.encode(), ("'"$RELAY_P"'", 5060))
d = s.recv(65535).decode()
sys.exit(0 if d.startswith("SIP/2.0 503") and "\r\nRetry-After: 5" in d else 1)'
check "setup: xtrunkd warns once that a source is over setup_calls_per_source" \
	test "$(grep -c 'endpoint pbx: a source has 10 calls in set-up (setup_calls_per_source)' "$XD_LOG")" -eq 1
check_eq "setup: the peer ($PBX) is held to setup_calls = 15 only: of 8 INVITEs, 5 ring, 3 get 503" \
	"180:5 503:3" "$(calls "$PBX" 8)"
check_eq "setup: ... counted as setup_limit; 15 calls in set-up" "3 15" \
	"$(metric 'xtrunk_sip_requests_rejected_total{side="pbx",reason="setup_limit"}') $(metric 'xtrunk_calls_setup{side="pbx"}')"
check "setup: ... and logged" grep -q 'endpoint pbx: 15 calls in set-up (setup_calls): new INVITEs get 503' "$XD_LOG"
check_eq "setup: the refused calls never reached the trunk (it saw 15 INVITEs)" "15" \
	"$(wc -l <"$WORK/ring.out")"
check_eq "setup: ... and hold no channel (15 in use)" "15" \
	"$(metric 'xtrunk_channels_active{side="trunk"}')"
kill "$TRUNK_PID" 2>/dev/null

# === 2. streams ===
restart streams.log "" ""
trunk busy busy 30
check_eq "streams: an offer with 6 audio streams from the PBX ends as the trunk refuses it (486)" \
	"486:1" "$(calls "$PBX" 1 6)"
check_eq "streams: the trunk got 6 m= lines: the first 4 with relay ports, 2 with port 0 (RFC 3264)" \
	"6 4 2" "$(awk -F'|' 'NR == 1 { z = 0; for (i = 1; i <= NF; i++) z += $i == "audio 0";
		print NF, NF - z, z }' "$WORK/busy.out")"
check_eq "streams: /metrics counts 2 streams refused from the PBX" "2" \
	"$(metric 'xtrunk_sdp_streams_refused_total{side="pbx"}')"
check "streams: ... xtrunkd logs it" grep -q 'SDP from pbx: 2 streams past streams = 4 refused (port 0)' "$XD_LOG"
check "streams: no relay port is left in use" \
	wait_until 5 metric_is 'xtrunk_relay_ports{side="pbx",state="used"}' 0
kill "$TRUNK_PID" 2>/dev/null

restart streams2.log "" "streams = 2"
trunk busy2 busy 30
calls "$PBX" 1 3 >/dev/null
check_eq "streams: the stricter side's limit applies (trunk streams = 2: 2 relayed, 1 with port 0)" \
	"3 2 1" "$(awk -F'|' 'NR == 1 { z = 0; for (i = 1; i <= NF; i++) z += $i == "audio 0";
		print NF, NF - z, z }' "$WORK/busy2.out")"
kill "$TRUNK_PID" 2>/dev/null

# === 3. /metrics connections ===
conns() { in_ns "$NS_R" /usr/bin/python3 "$(dirname "$0")/metrics_conns.py" "$METRICS" "$@"; }
read -r _ status _ open _ closed _ after < <(conns 20 20)
check_eq "metrics: with 20 idle TCP connections open, a scrape works and all 20 are still open" \
	"200 20" "$status $open"
check "metrics: ... xtrunkd closes the 20 idle ones after 10 s (all $closed closed, after ${after:-?} s)" \
	test "$closed" -eq 20 -a "${after:-0}" -ge 9 -a "${after:-0}" -le 14
read -r _ status _ open _ closed _ after < <(conns 40 3)
# 40 idle and the scrape's own: 32 at most, so the 9 idle longest are closed at once
check_eq "metrics: with 40 idle connections (32 at most), a scrape works; the 9 idle longest are closed for it and the scrape" \
	"200 31 9" "$status $open $closed"
check "metrics: xtrunkd still answers once they are gone" \
	wait_until 15 eval '[[ -n $(metric xtrunk_calls_started_total) ]]'
check "stopping xtrunkd (SIGTERM) ends it cleanly" stop_xtrunkd

finish_tests caps
