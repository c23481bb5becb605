#!/usr/bin/env bash
# End to end: hostile SIP and SDP while a real call runs. A PBX, the relay and
# a SIP trunk are network namespaces; SIPp places a call with G.711 audio and
# DTMF through xtrunkd. While its media flows, the PBX's host sends malformed
# messages to the relay (truncated, oversized, NUL bytes, invalid UTF-8,
# absurd ports, thousands of m= lines, bad Content-Length, missing headers,
# no c= line, bodies that are not SDP) and the trunk's host sends broken
# re-INVITEs into the call's own dialog. Every message that can be answered
# gets the 4xx a user would expect; what has nothing to answer to (no request
# line, no Via) is dropped and counted. Fragmented datagrams from a stranger
# aimed at the call's relay port are dropped in XDP, never reassembled by the
# relay's stack for xtrunkd's socket. The call completes with its media
# relayed, its flows untouched; xtrunkd stays up, exits clean, and holds no
# relay port and no flow afterwards.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init h hostile
G711_PACKETS=236 # SIPp's g711a.pcap; the caller adds 10 DTMF packets
DTMF_PACKETS=10

PBX=10.89.1.2
TRUNK=10.89.2.2
RELAY_P=10.89.1.1
RELAY_T=10.89.2.1
MEDIA_P=40000
MEDIA_T=50000
STRANGER=10.89.1.3 # another address on the PBX's network, in no SDP
METRICS=127.0.0.1:9477 # in the relay's namespace

ctl() { in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" "$@"; }
flow_count() { ctl -j flow list | jq length; }
flows_are() { [[ $(flow_count) == "$1" ]]; }
flow_lines() { ctl -j flow list | jq -r '[.[] | "\(.local) \(.to) \(.via) \(.from)"] | sort | join(",")'; }

# relay_ports: "side state count ..." from xtrunkd's own metrics.
relay_ports() {
	in_ns "$NS_R" curl -sf "http://$METRICS/metrics" |
		sed -nE 's/^xtrunk_relay_ports\{side="([a-z]+)",state="([a-z]+)"\} ([0-9]+)$/\1 \2 \3/p' |
		sort | paste -sd' '
}
metric() { # metric NAME_AND_LABELS: its value in xtrunkd's metrics, 0 when absent
	local v
	v=$(in_ns "$NS_R" curl -sf "http://$METRICS/metrics" | awk -v m="$1" '$1 == m { print $2 }')
	echo "${v:-0}"
}

NO_RATE="sip_rate = 0
sip_rate_global = 0
sip_rate_peer = 0"
write_config() {
	{
		cat <<-EOF
			# written by $0
			[relay]
			pin_dir = $PIN
			metrics = $METRICS
			control = $WORK/control.sock

		EOF
		lab_sides "$NO_RATE" "$NO_RATE"
	} >"$CONF"
}

setup() {
	lab_up 89
	ip -n "$NS_P" addr add "$STRANGER/24" dev eth0
	write_config
}

# ---- hostile messages: each one file, sent as one UDP datagram ----

# send_from NS ADDR FILE: one datagram from a host to the relay's SIP port on its side.
send_from() {
	ip netns exec "$1" bash -c "cat '$3' >/dev/udp/$2/5060"
}
# send_fragmented COUNT ADDR:PORT: COUNT datagrams of 3,000 bytes from the
# stranger, each sent in fragments (the link's MTU is 1,500).
send_fragmented() {
	ip netns exec "$NS_P" /usr/bin/python3 - "$STRANGER" "$1" "${2%:*}" "${2##*:}" <<-'PY'
		import socket, sys
		src, count, addr, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		# IP_MTU_DISCOVER (10): IP_PMTUDISC_DONT (0), fragment here; Python names neither
		s.setsockopt(socket.IPPROTO_IP, 10, 0)
		s.bind((src, 0))
		for _ in range(count):
		    s.sendto(b"F" * 3000, (addr, port))
	PY
}
# reasm_oks: datagrams the relay's IPv4 stack reassembled from fragments.
reasm_oks() {
	ip netns exec "$NS_R" awk '$1 == "Ip:" { if (!n) for (i = 2; i <= NF; i++) col[$i] = i;
		else print $col["ReasmOKs"]; n++ }' /proc/net/snmp
}
drop_fragment_ctl() { ctl -j stats | jq .drop_fragment; }
userspace_source_drops() {
	in_ns "$NS_R" curl -sf "http://$METRICS/metrics" |
		awk '/^xtrunk_media_source_drops_total\{path="userspace"/ { n += $2 } END { print n + 0 }'
}
drop_fragment_is() {
	[[ $(drop_fragment_ctl) == "$1" &&
		$(metric 'xtrunk_xdp_packets_total{verdict="drop",reason="fragment"}') == "$1" ]]
}

sdp_body() { # sdp_body ADDR PORT [EXTRA_LINES]: a G.711 offer
	printf 'v=0\r\no=pbx 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n%s' \
		"$1" "$1" "$2" "${3:-}"
}

# request NAME BODY_FILE HEADER...: an INVITE from the PBX's host, branch
# z9hG4bK-h-NAME and Call-ID h-NAME, with HEADERs (Via, From, To, Call-ID,
# CSeq left out when a HEADER is "-Via" ...), Content-Length right unless
# given, then the body. Written to $WORK/NAME.sip.
request() {
	local name=$1 body=$2 h skip=" " len=
	shift 2
	for h in "$@"; do
		[[ $h == -* ]] && skip+="${h#-} "
		[[ $h == Content-Length:* ]] && len=1
	done
	{
		printf 'INVITE sip:1000@%s:5060 SIP/2.0\r\n' "$RELAY_P"
		[[ $skip == *" Via "* ]] || printf 'Via: SIP/2.0/UDP %s:5070;branch=z9hG4bK-h-%s;rport\r\n' "$PBX" "$name"
		[[ $skip == *" From "* ]] || printf 'From: <sip:2000@%s>;tag=h-%s\r\n' "$PBX" "$name"
		[[ $skip == *" To "* ]] || printf 'To: <sip:1000@%s>\r\n' "$RELAY_P"
		[[ $skip == *" Call-ID "* ]] || printf 'Call-ID: h-%s\r\n' "$name"
		[[ $skip == *" CSeq "* ]] || printf 'CSeq: 1 INVITE\r\n'
		printf 'Contact: <sip:2000@%s:5070>\r\nMax-Forwards: 70\r\n' "$PBX"
		for h in "$@"; do
			[[ $h == -* ]] || printf '%s\r\n' "$h"
		done
		[[ -n $len ]] || printf 'Content-Length: %d\r\n' "$(stat -c %s "$body")"
		printf '\r\n'
		cat "$body"
	} >"$WORK/$name.sip"
}

make_hostile() {
	local i
	sdp_body "$PBX" 6000 >"$WORK/good.sdp"
	: >"$WORK/empty"
	# Absurd ports: beyond 65535; every stream at port 0 (nothing to relay).
	sdp_body "$PBX" 99999 >"$WORK/port-99999.sdp"
	printf 'v=0\r\no=pbx 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 0 RTP/AVP 8\r\nm=video 0 RTP/AVP 96\r\n' \
		"$PBX" "$PBX" >"$WORK/port-0.sdp"
	# Thousands of m= lines: 2,000 (37 KB), and as many as one 64 KB datagram holds.
	{
		sdp_body "$PBX" 6000
		for ((i = 0; i < 2000; i++)); do printf 'm=audio %d RTP/AVP 0\r\n' $((6002 + 2 * i)); done
	} >"$WORK/m-2000.sdp"
	{
		sdp_body "$PBX" 6000
		for ((i = 0; i < 3300; i++)); do printf 'm=audio %d RTP/AVP 0\r\n' $((6002 + 2 * i)); done
	} | awk '{ n += length($0) + 1; if (n > 64000) exit; print }' >"$WORK/m-64k.sdp"
	printf 'v=0\r\no=pbx 1 1 IN IP4 %s\r\ns=-\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8\r\n' "$PBX" >"$WORK/no-c.sdp"
	# sofia-sip's SDP parser runs out of memory on this one (found by make fuzz)
	printf 'v=0\r\no=pbx 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=image 6000 udptl t38 \x7f\r\n' \
		"$PBX" "$PBX" >"$WORK/sofia-loop.sdp"
	printf '<html><body>not SDP</body></html>\r\n' >"$WORK/html"
	printf 'v=0\r\no=pbx 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8\x00\x00\r\n' \
		"$PBX" "$PBX" >"$WORK/nul.sdp"

	request port-99999 "$WORK/port-99999.sdp" 'Content-Type: application/sdp'
	request port-0 "$WORK/port-0.sdp" 'Content-Type: application/sdp'
	request m-2000 "$WORK/m-2000.sdp" 'Content-Type: application/sdp'
	request m-64k "$WORK/m-64k.sdp" 'Content-Type: application/sdp'
	request no-c "$WORK/no-c.sdp" 'Content-Type: application/sdp'
	request sofia-loop "$WORK/sofia-loop.sdp" 'Content-Type: application/sdp'
	request text-plain "$WORK/good.sdp" 'Content-Type: text/plain'
	request html-as-sdp "$WORK/html" 'Content-Type: application/sdp'
	request nul-in-sdp "$WORK/nul.sdp" 'Content-Type: application/sdp'
	request length-over "$WORK/good.sdp" 'Content-Type: application/sdp' 'Content-Length: 9999'
	request length-under "$WORK/good.sdp" 'Content-Type: application/sdp' 'Content-Length: 30'
	request length-negative "$WORK/good.sdp" 'Content-Type: application/sdp' 'Content-Length: -5'
	request length-text "$WORK/good.sdp" 'Content-Type: application/sdp' 'Content-Length: many'
	request no-call-id "$WORK/good.sdp" -Call-ID 'Content-Type: application/sdp'
	request no-from "$WORK/good.sdp" -From 'Content-Type: application/sdp'
	request no-to "$WORK/good.sdp" -To 'Content-Type: application/sdp'
	request no-cseq "$WORK/good.sdp" -CSeq 'Content-Type: application/sdp'
	request no-via "$WORK/good.sdp" -Via 'Content-Type: application/sdp'
	# Bad encodings: NUL bytes in a header; invalid UTF-8 in the display name
	# and the Subject (with a port the relay refuses: the call must not proceed).
	request nul-header "$WORK/good.sdp" $'Subject: a\x01b' 'Content-Type: application/sdp'
	LC_ALL=C sed -i 's/^Subject: a\x01b/Subject: a\x00\x00b/' "$WORK/nul-header.sip"
	request bad-utf8 "$WORK/port-99999.sdp" $'Subject: \xc3\x28 \xff\xfe' 'Content-Type: application/sdp'
	LC_ALL=C sed -i 's/^From: </From: "\xed\xa0\x80\xc0\xaf" </' "$WORK/bad-utf8.sip"
	# Truncated: the first 200 bytes of an INVITE, cut inside its headers.
	head -c 200 "$WORK/port-99999.sip" >"$WORK/truncated.sip"
	LC_ALL=C sed -i 's/h-port-99999/h-truncated/g' "$WORK/truncated.sip"
	# No request line at all: nothing to answer to.
	{
		printf 'HELLO WORLD\r\n'
		tail -n +2 "$WORK/port-99999.sip"
	} | LC_ALL=C sed 's/h-port-99999/h-garbage/g' >"$WORK/garbage.sip"
	# Binary: junk after a printable first byte reaches the SIP stack (dropped,
	# counted); a STUN Binding request (first byte 0) is dropped by the
	# socket's filter before it (sofia-sip would leak memory answering it).
	{
		printf 'Z'
		head -c 1500 /dev/zero | tr '\0' '\377'
	} >"$WORK/binary.sip"
	printf '\x00\x01\x00\x00\x21\x12\xa4\x42h-stun-txid1' >"$WORK/stun.sip"
	# Well-formed requests in a dialog that does not exist: an ACK is never
	# answered, a BYE gets 481.
	for m in ACK BYE; do
		printf '%s sip:1000@%s:5060 SIP/2.0\r\nVia: SIP/2.0/UDP %s:5070;branch=z9hG4bK-h-stray-%s;rport\r\nFrom: <sip:2000@%s>;tag=h-stray\r\nTo: <sip:1000@%s>;tag=nobody\r\nCall-ID: h-stray-%s\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
			"$m" "$RELAY_P" "$PBX" "${m,,}" "$PBX" "$RELAY_P" "${m,,}" "$m" >"$WORK/stray-${m,,}.sip"
	done
}

# What the relay answered, by branch: "BRANCH STATUS" lines from tshark in the
# relay's namespace (every SIP message the relay sends from port 5060).
answer_to() { # NAME: the statuses the relay sent for it, sorted, unique
	awk -v b="z9hG4bK-h-$1" '$1 == b { print $2 }' "$WORK/answers.txt" | sort -un | paste -sd' '
}

# ---- the trunk's own dialog, from what its SIPp received and sent ----

# in_dialog NAME BODY_FILE TYPE CSEQ: a re-INVITE from the trunk's host in the call's dialog.
in_dialog() {
	local name=$1 body=$2 type=$3 cseq=$4 trace=$WORK/uas.msg callid from to
	callid=$(tr -d '\r' <"$trace" | sed -n 's/^Call-ID: *//p' | head -1)
	from=$(tr -d '\r' <"$trace" | sed -n 's/^From: *//p' | head -1)      # the relay, its tag
	to=$(tr -d '\r' <"$trace" | grep -m1 -E '^To:.*;tag=' | sed 's/^To: *//') # SIPp's tag
	{
		printf 'INVITE sip:xtrunk@%s:5060 SIP/2.0\r\n' "$RELAY_T"
		printf 'Via: SIP/2.0/UDP %s:5070;branch=z9hG4bK-h-%s;rport\r\n' "$TRUNK" "$name"
		printf 'From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d INVITE\r\n' "$to" "$from" "$callid" "$cseq"
		printf 'Contact: <sip:1000@%s:5060>\r\nMax-Forwards: 70\r\n' "$TRUNK"
		printf 'Content-Type: %s\r\nContent-Length: %d\r\n\r\n' "$type" "$(stat -c %s "$body")"
		cat "$body"
	} >"$WORK/$name.sip"
}

# ---- the test ----

setup
make_hostile
start_xtrunkd "$WORK/xtrunkd.log"
check "xtrunkd starts on the relay" alive "$XD_PID"
PORTS_BEFORE=$(relay_ports)
MALFORMED_BEFORE=$(metric 'xtrunk_sip_malformed_total{side="pbx"}')
check "the relay's ports are all free before the call (metrics)" \
	grep -qE '^pbx free [0-9]+ pbx used 0 trunk free [0-9]+ trunk used 0$' <<<"$PORTS_BEFORE"

# Everything the relay sends from its SIP ports, as "BRANCH STATUS".
# (nsenter, not the in_ns function: $! must be tshark's PID, not a subshell's)
nsenter --net="/run/netns/$NS_R" tshark -l -i any -f "udp src port 5060" -Y sip -T fields \
	-e sip.Via.branch -e sip.Status-Code >"$WORK/answers.txt" 2>"$WORK/answers.log" &
track $!
ANSWERS_PID=$!
wait_until 20 grep -qs "Capture started" "$WORK/answers.log"
# The media each end receives.
capture_start "$WORK/pbx.pcapng" "$NS_P" eth0 "udp dst portrange $MEDIA_P-$((MEDIA_P + 1))"
capture_start "$WORK/trunk.pcapng" "$NS_T" eth0 "udp dst portrange $MEDIA_T-$((MEDIA_T + 1))"

ip netns exec "$NS_T" sipp -sf "$SIP_DIR/uas_audio.xml" -i "$TRUNK" -p 5060 -mi "$TRUNK" \
	-mp $MEDIA_T -m 1 -nostdin -timeout 40 -timeout_error -trace_msg -message_file "$WORK/uas.msg" \
	>"$WORK/uas.out" 2>&1 &
UAS=$!
track $UAS
wait_until 10 bash -c "ip netns exec $NS_T ss -Huan 'sport = :5060' | grep -q ." # SIPp is listening
ip netns exec "$NS_P" sipp -sf "$SIP_DIR/uac_audio.xml" "$RELAY_P:5060" -s 1000 -i "$PBX" -p 5060 \
	-mi "$PBX" -mp $MEDIA_P -m 1 -nostdin -timeout 40 -timeout_error >"$WORK/uac.out" 2>&1 &
UAC=$!
track $UAC
check "the call is up: its 4 flows are installed" wait_until 15 flows_are 4
FLOWS_DURING=$(flow_lines)

# A stranger's fragmented datagrams aimed at the relay port the PBX sends its
# RTP to: XDP drops each first fragment, so the relay's stack reassembles none
# and none reaches xtrunkd's socket for the port (where its source check would
# have to drop it, on the SIP event loop). Fragmented SIP (m-64k below, to
# port 5060: no flow) still passes.
MEDIA_LOCAL=$(ctl -j flow list | jq -r --arg p "$PBX:" \
	'[.[] | select(.from // "" | startswith($p)) | .local] | sort | first // ""')
REASM_BEFORE=$(reasm_oks)
DROP_FRAGMENT_BEFORE=$(drop_fragment_ctl)
USERSPACE_DROPS_BEFORE=$(userspace_source_drops)
send_fragmented 5 "$MEDIA_LOCAL"
check "5 fragmented datagrams from $STRANGER to the call's relay port $MEDIA_LOCAL: drop_fragment +5 in xtrunkctl stats and /metrics" \
	wait_until 2 drop_fragment_is $((DROP_FRAGMENT_BEFORE + 5))
check_eq "... the relay's stack reassembled none of them (ReasmOKs)" "$REASM_BEFORE" "$(reasm_oks)"
check_eq "... and none reached xtrunkd (its userspace source drops)" "$USERSPACE_DROPS_BEFORE" \
	"$(userspace_source_drops)"

# Out of dialog, from the PBX's host, while the call's media flows.
HOSTILE=(port-99999 port-0 m-2000 m-64k no-c sofia-loop text-plain html-as-sdp nul-in-sdp
	length-over length-under length-negative length-text no-call-id no-from no-to no-cseq
	no-via nul-header bad-utf8 truncated garbage stray-ack stray-bye binary stun)
for m in "${HOSTILE[@]}"; do
	send_from "$NS_P" "$RELAY_P" "$WORK/$m.sip"
done
# Into the call's dialog, from the trunk's host: re-INVITEs the relay must
# refuse without touching the call (were one relayed, the PBX's SIPp fails).
in_dialog re-port-99999 "$WORK/port-99999.sdp" application/sdp 1
in_dialog re-m-2000 "$WORK/m-2000.sdp" application/sdp 2
in_dialog re-no-c "$WORK/no-c.sdp" application/sdp 3
in_dialog re-html "$WORK/html" application/sdp 4
in_dialog re-text "$WORK/good.sdp" text/plain 5
in_dialog re-sofia-loop "$WORK/sofia-loop.sdp" application/sdp 6
for m in re-port-99999 re-m-2000 re-no-c re-html re-text re-sofia-loop; do
	send_from "$NS_T" "$RELAY_T" "$WORK/$m.sip"
done
final_answers() { [[ $(answer_to re-sofia-loop) == 4* && $(answer_to m-64k) == *4* ]]; }
wait_until 10 final_answers

check "xtrunkd is still running after the hostile messages" alive "$XD_PID"
check_eq "the call's flows are untouched by them" "$FLOWS_DURING" "$(flow_lines)"

reap $UAC 60
RC_UAC=$?
reap $UAS 60
RC_UAS=$?
check_eq "the PBX's SIPp completes its call (exit 0)" 0 "$RC_UAC"
check_eq "the trunk's SIPp completes its call (exit 0)" 0 "$RC_UAS"
wait_until 5 flows_are 0
kill -INT "$ANSWERS_PID" 2>/dev/null
reap "$ANSWERS_PID" 10
for side in pbx trunk; do
	capture_stop "$WORK/$side.pcapng"
done
from_relay() { # CAPTURE RELAY_ADDR: packets that arrived from the relay's address
	tshark -r "$1" -Y "ip.src == $2" 2>/dev/null | wc -l
}
check_eq "the trunk receives all $((G711_PACKETS + DTMF_PACKETS)) audio and DTMF packets, from the relay" \
	$((G711_PACKETS + DTMF_PACKETS)) "$(from_relay "$WORK/trunk.pcapng" "$RELAY_T")"
check_eq "the PBX receives all $G711_PACKETS audio packets, from the relay" \
	$G711_PACKETS "$(from_relay "$WORK/pbx.pcapng" "$RELAY_P")"

# What a user sees for each message (100 Trying comes first for an INVITE the
# relay accepted as SIP, then the SDP's verdict).
expect() { check_eq "$2: $3" "$1" "$(answer_to "$2")"; }
expect "100 488" port-99999 "SDP with m=audio 99999 gets 488 Not Acceptable Here"
expect "100 488" port-0 "an offer with every m= port 0 (nothing to relay) gets 488"
expect "100 488" m-2000 "SDP with 2,000 m= lines (37 KB) gets 488"
expect "100 488" m-64k "a 64 KB datagram (the largest UDP carries) of m= lines gets 488"
expect "100 400" no-c "SDP without a c= line (malformed: RFC 4566 requires one) gets 400"
expect "100 400" sofia-loop "an m= line sofia-sip cannot parse (it would exhaust memory) gets 400"
expect "100 415" text-plain "a body of type text/plain gets 415 Unsupported Media Type"
expect "100 400" html-as-sdp "HTML labelled application/sdp gets 400"
expect "100 400" nul-in-sdp "NUL bytes inside the SDP get 400"
expect "400" length-over "a Content-Length beyond the datagram gets 400"
expect "100 488" length-under "a Content-Length cutting the SDP before its m= line gets 488 (no media)"
expect "400" length-negative "a negative Content-Length gets 400"
expect "400" length-text "a Content-Length that is not a number gets 400"
expect "400" no-call-id "an INVITE without Call-ID gets 400"
expect "400" no-from "an INVITE without From gets 400"
expect "400" no-to "an INVITE without To gets 400"
expect "400" no-cseq "an INVITE without CSeq gets 400"
expect "" no-via "an INVITE without Via gets no answer (nowhere to send one)"
expect "400" nul-header "NUL bytes in a header get 400"
expect "100 488" bad-utf8 "invalid UTF-8 in From and Subject is carried through to the SDP's verdict (488)"
expect "400" truncated "an INVITE cut inside its headers gets 400"
expect "" garbage "a datagram with no request line gets no answer (nothing to answer to)"
expect "" stray-ack "an ACK for a dialog that does not exist gets no answer (ACKs never do)"
expect "481" stray-bye "a BYE for a dialog that does not exist gets 481"
expect "488" re-port-99999 "in the call: a re-INVITE with m=audio 99999 gets 488"
expect "488" re-m-2000 "in the call: a re-INVITE with 2,000 m= lines gets 488"
expect "400" re-no-c "in the call: a re-INVITE without c= gets 400"
expect "400" re-html "in the call: a re-INVITE with HTML as SDP gets 400"
expect "415" re-text "in the call: a re-INVITE with a text/plain body gets 415"
expect "400" re-sofia-loop "in the call: a re-INVITE with an m= line sofia-sip cannot parse gets 400"

# The 9 answered 400 by the SIP stack, and the 3 it could not answer.
check_eq "xtrunk_sip_malformed_total counts the 12 messages that are not valid SIP (9 answered, 3 dropped)" \
	$((MALFORMED_BEFORE + 12)) "$(metric 'xtrunk_sip_malformed_total{side="pbx"}')"
check_eq "no flow is left after the call" 0 "$(flow_count)"
check_eq "every relay port is free again (metrics as before the call)" "$PORTS_BEFORE" "$(relay_ports)"
check_eq "none of the refused INVITEs reached the trunk (its SIPp saw one INVITE: the call's)" 1 \
	"$(tr -d '\r' <"$WORK/uas.msg" | grep -c '^INVITE ')"
stop_xtrunkd
check_eq "xtrunkd exits 0 on SIGTERM (no sanitizer error or leak)" 0 "$?"

finish_tests hostile
