#!/usr/bin/env bash
# End to end: real SIP calls through xtrunkd. A PBX, the relay and a SIP trunk
# provider are network namespaces; SIPp plays the PBX and the trunk, with
# G.711 audio and DTMF; xtrunkd runs on the relay with the configuration this
# test writes. For every call: what SIPp saw, what media arrived where (tshark
# on the receiving host), the flow table before, during and after the call,
# and the relay ports it held.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init c calls
G711=/usr/share/sip-tester/g711a.pcap       # 236 G.711 A-law packets, 7 s
DTMF=/usr/share/sip-tester/dtmf_2833_1.pcap # 10 RFC 4733 packets of digit 1
G711_PACKETS=236
DTMF_PACKETS=10

# Each side: its host's namespace and addresses, the relay's addresses facing
# it, the relay port range, the media port SIPp uses there.
declare -A NS=([pbx]=$NS_P [trunk]=$NS_T)
declare -A HOST4=([pbx]=10.88.1.2 [trunk]=10.88.2.2)
declare -A HOST6=([pbx]=fd88:1::2 [trunk]=fd88:2::2)
declare -A RELAY4=([pbx]=10.88.1.1 [trunk]=10.88.2.1)
declare -A RELAY6=([pbx]=fd88:1::1 [trunk]=fd88:2::1)
declare -A PORT_MIN=([pbx]=20000 [trunk]=30000)
declare -A PORT_MAX=([pbx]=20099 [trunk]=30099)
declare -A MEDIA=([pbx]=40000 [trunk]=50000)
SIP_SOCKETS="10.88.1.1:5060 10.88.2.1:5060"

ctl() { in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" "$@"; }
other() { [[ $1 == pbx ]] && echo trunk || echo pbx; }
declare -A NAME=([pbx]=PBX [trunk]=trunk)

# ep FAMILY ADDR PORT: IP:PORT or [IPv6]:PORT, as xtrunkctl and ss print them.
ep() { [[ $1 == 6 ]] && echo "[$2]:$3" || echo "$2:$3"; }
host() { [[ $1 == 6 ]] && echo "${HOST6[$2]}" || echo "${HOST4[$2]}"; }
relay() { [[ $1 == 6 ]] && echo "${RELAY6[$2]}" || echo "${RELAY4[$2]}"; }

write_config() {
	cat >"$CONF" <<-EOF
		# written by $0
		[relay]
		pin_dir = $PIN
		dscp = 46

		[side pbx]
		interface = left0
		address = ${RELAY4[pbx]}
		address6 = ${RELAY6[pbx]}
		ports = ${PORT_MIN[pbx]}-${PORT_MAX[pbx]}
		sip = ${RELAY4[pbx]}:5060
		peer = ${HOST4[pbx]}:5060

		[side trunk]
		interface = right0
		address = ${RELAY4[trunk]}
		address6 = ${RELAY6[trunk]}
		ports = ${PORT_MIN[trunk]}-${PORT_MAX[trunk]}
		sip = ${RELAY4[trunk]}:5060
		peer = ${HOST4[trunk]}:5060
	EOF
}

# ---- xtrunkd ----

# Lines xtrunkd logged about its most recent call.
last_call_log() {
	local id
	id=$(grep -oE 'call c[0-9]+:' "$XD_LOG" | tail -1)
	[[ -n $id ]] && grep -F "$id" "$XD_LOG" | sed 's/^call c[0-9]*: //'
}

# The most recent call's signalling events, "EVENT|EVENT|...".
call_events() {
	last_call_log | grep -E '^(INVITE from|answered|BYE from|cancelled by|failed:)' | paste -sd'|'
}
# logged TEXT: the most recent call's log has a line starting with TEXT.
logged() { last_call_log | grep -q "^$1"; }

# "XDP USERSPACE" packet counts of the most recent call.
last_call_media() {
	last_call_log | sed -nE 's/^media relayed: ([0-9]+) packets in XDP, ([0-9]+) in userspace$/\1 \2/p'
}

# ---- what the relay holds ----

flow_count() { ctl -j flow list | jq length; }
flows_are() { [[ $(flow_count) == "$1" ]]; }
flow_lines() { jq -r '[.[] | "\(.local) \(.to) \(.via) \(.from) \(.dscp)"] | sort | join(",")' <<<"$1"; }
relay_sockets() { ip netns exec "$NS_R" ss -Huan | awk '{print $4}' | sort | xargs; }
relay_ports_bound() { [[ $(relay_sockets | wc -w) -ge $1 ]]; }
only_sip_sockets() { [[ $(relay_sockets) == "$SIP_SOCKETS" ]]; }

# flow_line FAMILY IN IN_PORT OUT_PORT RTCP: "LOCAL TO VIA FROM DSCP" of the flow
# for what side IN's host sends to the relay port IN_PORT (+1 for RTCP): it
# leaves from the relay's OUT_PORT on the other side to that host's media port.
flow_line() {
	local f=$1 in=$2 out r=$5
	out=$(other "$in")
	echo "$(ep "$f" "$(relay "$f" "$in")" $(($3 + r)))" \
		"$(ep "$f" "$(host "$f" "$out")" $((MEDIA[$out] + r)))" \
		"$(ep "$f" "$(relay "$f" "$out")" $(($4 + r)))" "$(ep "$f" "$(host "$f" "$in")" '*')" 46
}

# expected_flows FAMILY PBX_RELAY_PORT TRUNK_RELAY_PORT: the four flows of a call
# with one audio stream, RTP and RTCP each way, towards the SDPs' peers.
expected_flows() {
	local f=$1 pp=$2 tp=$3 rtcp
	for rtcp in 0 1; do
		flow_line "$f" pbx "$pp" "$tp" $rtcp
		flow_line "$f" trunk "$tp" "$pp" $rtcp
	done | sort | paste -sd,
}

# The relay's sockets during a call: SIP plus an RTP/RTCP pair on each side.
expected_sockets() {
	local f=$1 pp=$2 tp=$3
	{
		tr ' ' '\n' <<<"$SIP_SOCKETS"
		ep "$f" "$(relay "$f" pbx)" "$pp"
		ep "$f" "$(relay "$f" pbx)" $((pp + 1))
		ep "$f" "$(relay "$f" trunk)" "$tp"
		ep "$f" "$(relay "$f" trunk)" $((tp + 1))
	} | sort | xargs
}

# ---- SIPp ----

# Messages SIPp received, from its -trace_msg file.
received() {
	[[ -r $1 ]] || return 0
	tr -d '\r' <"$1" | awk '/^----------/ { hdr = 1; rx = 0; next }
		hdr { rx = /message received/; hdr = 0; next }
		rx { print }'
}
# sdp_field TRACE c|m: the first received SDP's connection address or audio port.
sdp_field() {
	case $2 in
	c) received "$1" | awk '/^c=IN IP[46] / { print $3; exit }' ;;
	m) received "$1" | awk '/^m=audio / { print $2; exit }' ;;
	esac
}
successful_calls() {
	grep -a 'Successful call' "$1" | tail -1 | awk -F'|' '{gsub(/ /, "", $3); print $3}'
}

# run_call NAME CALLER FAMILY UAC_XML UAS_XML DURING
#   CALLER (pbx or trunk) calls the other side through the relay; FAMILY 4 or
#   6 is the media's (SIP stays IPv4). Both hosts capture the media that
#   arrives at their media ports. DURING: "flows" waits for the call's four
#   flows and snapshots them, "ports" for its relay ports, "none" waits not;
#   then DURING_HOOK, when set, runs (a function name) while the call goes on.
#   PBX_CAPTURE_EXTRA: more for the PBX's capture filter ("or ...").
# Leaves: RC[uac|uas], OK[uac|uas], TRACE[pbx|trunk], CAP[pbx|trunk],
#   FLOWS_BEFORE, FLOWS_DURING, SOCKETS_DURING, FLOWS_AFTER, SOCKETS_AFTER.
declare -A RC OK TRACE CAP
run_call() {
	local name=$1 caller=$2 family=$3 uac=$4 uas=$5 during=$6 callee side extra
	local uac_pid uas_pid
	callee=$(other "$caller")
	FLOWS_DURING=
	SOCKETS_DURING=
	FLOWS_BEFORE=$(ctl -j flow list)

	for side in pbx trunk; do
		CAP[$side]=$WORK/$name.$side.pcapng
		extra=
		[[ $side == pbx ]] && extra=${PBX_CAPTURE_EXTRA:-}
		capture_start "${CAP[$side]}" "${NS[$side]}" eth0 \
			"udp dst portrange ${MEDIA[$side]}-$((MEDIA[$side] + 1))${extra:+ or $extra}"
	done
	TRACE[$caller]=$WORK/$name.uac.msg
	TRACE[$callee]=$WORK/$name.uas.msg

	ip netns exec "${NS[$callee]}" sipp -sf "$SIP_DIR/$uas" -i "${HOST4[$callee]}" -p 5060 \
		-mi "$(host "$family" "$callee")" -mp "${MEDIA[$callee]}" -m 1 -nostdin \
		-timeout 30 -timeout_error -trace_msg -message_file "${TRACE[$callee]}" \
		-trace_err -error_file "$WORK/$name.uas.err" >"$WORK/$name.uas.out" 2>&1 &
	uas_pid=$!
	track $uas_pid
	wait_until 10 udp_bound "${NS[$callee]}" 5060
	ip netns exec "${NS[$caller]}" sipp -sf "$SIP_DIR/$uac" "${RELAY4[$caller]}:5060" -s 1000 \
		-i "${HOST4[$caller]}" -p 5060 -mi "$(host "$family" "$caller")" \
		-mp "${MEDIA[$caller]}" -m 1 -nostdin -timeout 30 -timeout_error \
		-trace_msg -message_file "${TRACE[$caller]}" -trace_err \
		-error_file "$WORK/$name.uac.err" >"$WORK/$name.uac.out" 2>&1 &
	uac_pid=$!
	track $uac_pid

	case $during in
	flows)
		wait_until 15 flows_are 4
		FLOWS_DURING=$(ctl -j flow list)
		SOCKETS_DURING=$(relay_sockets)
		;;
	ports)
		wait_until 15 relay_ports_bound 6
		FLOWS_DURING=$(ctl -j flow list)
		SOCKETS_DURING=$(relay_sockets)
		;;
	esac
	[[ -n ${DURING_HOOK:-} ]] && "$DURING_HOOK"

	reap $uac_pid 45
	RC[uac]=$?
	reap $uas_pid 45
	RC[uas]=$?
	OK[uac]=$(successful_calls "$WORK/$name.uac.out")
	OK[uas]=$(successful_calls "$WORK/$name.uas.out")
	# The hang-up is answered once xtrunkd has let go; allow it a moment.
	wait_until 5 flows_are 0
	FLOWS_AFTER=$(ctl -j flow list)
	wait_until 5 only_sip_sockets
	SOCKETS_AFTER=$(relay_sockets)
	for side in pbx trunk; do
		capture_stop "${CAP[$side]}"
	done
	if [[ ${RC[uac]} != 0 || ${RC[uas]} != 0 ]]; then
		echo "# $name: SIPp caller exit ${RC[uac]}, callee exit ${RC[uas]}; xtrunkd said:"
		last_call_log | sed 's/^/#   /'
		cat "$WORK/$name.uac.err" "$WORK/$name.uas.err" 2>/dev/null | head -20 | sed 's/^/#   /'
	fi
}

# packets PCAP: one line per UDP packet, "SOURCE DSCP PAYLOAD" (read once).
packets() {
	local txt
	txt=$WORK/$(basename "$1").txt
	[[ -e $txt ]] ||
		tshark -r "$1" -T fields -e ip.src -e ipv6.src -e udp.srcport -e ip.dsfield.dscp \
			-e ipv6.tclass.dscp -e udp.payload 2>/dev/null |
		awk -F'\t' '{ if ($1 != "") print $1 ":" $3, $4, $6; else print "[" $2 "]:" $3, $5, $6 }' \
			>"$txt"
	cat "$txt"
}

# media_from CAPTURE: "COUNT SOURCE DSCP" for each source that sent to the host.
media_from() {
	packets "$1" | awk '{ print $1, $2 }' | sort | uniq -c | awk '{ print $1, $2, $3 }' |
		paste -sd,
}

# payloads PCAP...: a digest of the UDP payloads in the captures, in any order.
payloads() {
	local f
	for f in "$@"; do
		packets "$f" | awk '{ print $3 }'
	done | sort | md5sum | cut -d' ' -f1
}

# check_sipp NAME: both SIPp ends completed their scenario.
check_sipp() {
	check_eq "$1: the caller's SIPp completes its scenario (exit 0, 1 successful call)" \
		"0 1" "${RC[uac]} ${OK[uac]}"
	check_eq "$1: the callee's SIPp completes its scenario (exit 0, 1 successful call)" \
		"0 1" "${RC[uas]} ${OK[uas]}"
}

# check_media NAME SIDE FAMILY COUNT SENT...: SIDE received COUNT packets, every
# one from the relay's address and the relay port its SDP named, with DSCP 46,
# carrying the payloads of SENT (the pcaps the other side played) unchanged.
check_media() {
	local name=$1 side=$2 f=$3 count=$4 port src
	shift 4
	port=$(sdp_field "${TRACE[$side]}" m)
	src=$(ep "$f" "$(relay "$f" "$side")" "$port")
	check_eq "$name: the ${NAME[$side]} receives $count media packets, all from the relay's $src with DSCP 46" \
		"$count $src 46" "$(media_from "${CAP[$side]}")"
	check_eq "$name: ... every RTP payload the ${NAME[$(other "$side")]} sent, intact" \
		"$(payloads "$@")" "$(payloads "${CAP[$side]}")"
}

# check_flows NAME FAMILY: the flow table before, during and after the call,
# and the relay ports during and after.
check_flows() {
	local name=$1 f=$2 pp tp
	pp=$(sdp_field "${TRACE[pbx]}" m)
	tp=$(sdp_field "${TRACE[trunk]}" m)
	check_eq "$name: before the call the flow table is empty" "0" "$(jq length <<<"$FLOWS_BEFORE")"
	check_eq "$name: during the call xtrunkctl shows its 4 flows (RTP+RTCP each way) towards the SDPs' peers" \
		"$(expected_flows "$f" "$pp" "$tp")" "$(flow_lines "$FLOWS_DURING")"
	check_eq "$name: during the call the relay holds an RTP/RTCP port pair on each side" \
		"$(expected_sockets "$f" "$pp" "$tp")" "$SOCKETS_DURING"
	check_end "$name"
}

# check_end NAME: nothing of the call is left on the relay.
check_end() {
	check_eq "$1: after the call the flow table is empty" "0" "$(jq length <<<"$FLOWS_AFTER")"
	check_eq "$1: after the call the relay holds only its SIP sockets" "$SIP_SOCKETS" "$SOCKETS_AFTER"
}

# media_lines: where the most recent call's flows sent RTP, each time they were (re)installed.
media_lines() { last_call_log | sed -nE 's/^stream 1: media to pbx ([^ ]+).*, to trunk ([^ ]+).*/\1 \2/p' | paste -sd,; }
# sdp_values TRACE WHAT: a field of every SDP SIPp received, in order.
sdp_values() {
	case $2 in
	port) received "$1" | awk '/^m=audio / { print $2 }' ;;
	version) received "$1" | awk '/^o=/ { print $3 }' ;;
	dir) received "$1" | awk '/^a=(sendrecv|sendonly|recvonly|inactive)$/ { sub(/^a=/, ""); print }' ;;
	esac | paste -sd' '
}

setup() {
	lab_up 88
	write_config
}

setup

# The cases run in the order that needs one restart of xtrunkd: every call
# with XDP (1-6, 8, 9), then --no-xdp (7), then configurations it refuses (10).

# === xtrunkd starts on the relay with this test's configuration ===
check "xtrunkd --check-config accepts the test's configuration" \
	quiet "$XTRUNKD" -c "$CONF" --check-config
if ! start_xtrunkd "$WORK/xtrunkd.log"; then
	fail "xtrunkd starts in the relay namespace and says it is ready"
	sed 's/^/# /' "$XD_LOG"
	finish_tests calls
	exit 1
fi
pass "xtrunkd starts in the relay namespace and says it is ready"
check "its maps are pinned under $PIN" test -e "$PIN/xt_flows"
check_eq "the relay listens for SIP on both sides, and on nothing else" "$SIP_SOCKETS" "$(relay_sockets)"

# === 1. a basic call from the PBX to the trunk: audio both ways, DTMF ===
run_call basic pbx 4 uac_audio.xml uas_audio.xml flows
check_sipp basic
check_media basic trunk 4 $((G711_PACKETS + DTMF_PACKETS)) "$G711" "$DTMF"
check_media basic pbx 4 $G711_PACKETS "$G711"
check_eq "basic: the trunk receives the DTMF digit as 10 RFC 4733 packets (payload type 101)" \
	"$DTMF_PACKETS" "$(tshark -r "${CAP[trunk]}" -d "udp.port==${MEDIA[trunk]},rtp" \
		-Y 'rtp.p_type == 101' -T fields -e rtp.seq 2>/dev/null | wc -l)"
check_flows basic 4
check_eq "basic: xtrunkd logs the call's INVITE, answer and BYE" \
	"INVITE from pbx for 1000|answered (200)|BYE from pbx" \
	"$(call_events)"
read -r xdp user <<<"$(last_call_media)"
check_eq "basic: xtrunkd counted every relayed packet" $((2 * G711_PACKETS + DTMF_PACKETS)) \
	$((xdp + user))
check "basic: XDP relayed the media, userspace at most the first packets ($xdp in XDP, $user in userspace)" \
	test "$user" -le 4
# Topology hiding: the trunk only ever sees the relay.
trunk_rx=$(received "${TRACE[trunk]}")
pbx_rx=$(received "${TRACE[pbx]}")
check_eq "basic: the SDP the trunk receives names the relay's trunk-side address" \
	"${RELAY4[trunk]}" "$(sdp_field "${TRACE[trunk]}" c)"
check_eq "basic: ... in its o= line too" "${RELAY4[trunk]}" \
	"$(grep -m1 '^o=' <<<"$trunk_rx" | awk '{print $6}')"
tport=$(sdp_field "${TRACE[trunk]}" m)
check "basic: ... and a relay port ($tport), not the PBX's media port" \
	test "$tport" -ge "${PORT_MIN[trunk]}" -a "$tport" -le "${PORT_MAX[trunk]}"
check_eq "basic: the INVITE reaches the trunk with one Via, the relay's" \
	"Via: SIP/2.0/UDP ${RELAY4[trunk]}" \
	"$(sed -n '/^INVITE /,/^$/p' <<<"$trunk_rx" | grep -i '^Via:' | sed 's/;.*//' | paste -sd'|')"
check_eq "basic: ... and the relay's Contact" "Contact: <sip:xtrunk@${RELAY4[trunk]}:5060>" \
	"$(sed -n '/^INVITE /,/^$/p' <<<"$trunk_rx" | grep -i '^Contact:')"
check_eq "basic: nothing the trunk receives names the PBX's address" "0" \
	"$(grep -c -F "${HOST4[pbx]}" <<<"$trunk_rx")"
check "basic: the trunk's call has its own Call-ID, not the PBX's" test \
	"$(grep -m1 -i '^Call-ID:' <<<"$trunk_rx")" != "$(grep -m1 -i '^Call-ID:' <<<"$pbx_rx")"
check_eq "basic: the SDP the PBX receives names the relay's PBX-side address" \
	"${RELAY4[pbx]}" "$(sdp_field "${TRACE[pbx]}" c)"
check_eq "basic: nothing the PBX receives names the trunk's address" "0" \
	"$(grep -c -F "${HOST4[trunk]}" <<<"$pbx_rx")"

# === 2. early media: 183 with SDP, audio before the 200 ===
PBX_CAPTURE_EXTRA="udp src port 5060" run_call early pbx 4 uac_audio.xml uas_early_media.xml flows
check_sipp early
early=$(tshark -r "${CAP[pbx]}" -T fields -e udp.srcport -e sip.Status-Code -e sip.CSeq.method \
	2>/dev/null | awk -F'\t' '$1 == 5060 && $2 == 200 && $3 == "INVITE" { exit } $1 != 5060 { n++ } END { print n + 0 }')
check "early: the PBX hears the trunk's early media through the relay before the 200 OK ($early packets)" \
	test "$early" -ge 10
tshark -r "${CAP[pbx]}" -Y 'udp.srcport != 5060' -w "$WORK/early.pbx-media.pcapng" 2>/dev/null
CAP[pbx]=$WORK/early.pbx-media.pcapng
check_media early pbx 4 $G711_PACKETS "$G711"
check_media early trunk 4 $((G711_PACKETS + DTMF_PACKETS)) "$G711" "$DTMF"
check_flows early 4
check_eq "early: xtrunkd logs the call's INVITE, answer and BYE" \
	"INVITE from pbx for 1000|answered (200)|BYE from pbx" \
	"$(call_events)"

# === 3. a call from the trunk to the PBX ===
run_call inbound trunk 4 uac_short.xml uas_short.xml flows
check_sipp inbound
check_media inbound pbx 4 $DTMF_PACKETS "$DTMF"
check_media inbound trunk 4 $DTMF_PACKETS "$DTMF"
check_flows inbound 4
check_eq "inbound: xtrunkd logs the call from the trunk and its end" \
	"INVITE from trunk for 1000|answered (200)|BYE from trunk" \
	"$(call_events)"
check_eq "inbound: nothing the PBX receives names the trunk's address" "0" \
	"$(received "${TRACE[pbx]}" | grep -c -F "${HOST4[trunk]}")"

# === 4. CANCEL before the answer ===
# check_cancelled NAME: the caller's INVITE ended with 487, the callee saw the CANCEL.
check_cancelled() {
	check_eq "$1: the caller gets 487 Request Terminated for its INVITE, once (its ACK matched)" \
		"1" "$(received "${TRACE[pbx]}" | grep -c '^SIP/2.0 487 ')"
	check_eq "$1: the callee sees the CANCEL" "1" "$(received "${TRACE[trunk]}" | grep -c '^CANCEL ')"
	wait_until 5 logged 'failed: 487'
	check_eq "$1: xtrunkd logs the cancel and the callee's 487" \
		"INVITE from pbx for 1000|cancelled by pbx|failed: 487 Request Terminated" \
		"$(call_events)"
}
run_call cancel pbx 4 uac_cancel.xml uas_cancel.xml ports
check_sipp cancel
check_cancelled cancel
check_eq "cancel: while it rang the relay held a port pair on each side" "6" \
	"$(wc -w <<<"$SOCKETS_DURING")"
check_eq "cancel: no flow was ever installed" "0 0" \
	"$(jq length <<<"$FLOWS_BEFORE") $(jq length <<<"$FLOWS_AFTER")"
check_end cancel

# === 4b. CANCEL while the trunk plays early media ===
# Flows go in on the 183 and out on the CANCEL; xtrunkd's per-call log still
# counts what they relayed (it used to end the media first and log 0).
run_call cancel-early pbx 4 uac_cancel.xml uas_early_cancel.xml flows
check_sipp cancel-early
check_cancelled cancel-early
heard=$(packets "${CAP[pbx]}" | wc -l)
check "cancel-early: the PBX hears the trunk's early media until it cancels ($heard packets)" \
	test "$heard" -ge 5
check_eq "cancel-early: ... all from the relay's address and port with DSCP 46" \
	"$heard $(ep 4 "${RELAY4[pbx]}" "$(sdp_field "${TRACE[pbx]}" m)") 46" "$(media_from "${CAP[pbx]}")"
check_flows cancel-early 4
read -r xdp user <<<"$(last_call_media)"
check "cancel-early: xtrunkd logs the early media it relayed ($xdp in XDP, $user in userspace)" \
	test "$((xdp + user))" -gt 0

# === 5. 486 Busy Here from the trunk ===
run_call busy pbx 4 uac_busy.xml uas_busy.xml none
check_sipp busy
check_eq "busy: the PBX gets the trunk's 486 Busy Here, once (its ACK matched)" "1" \
	"$(received "${TRACE[pbx]}" | grep -c '^SIP/2.0 486 Busy Here')"
check_end busy
wait_until 5 logged 'failed: 486'
check_eq "busy: xtrunkd logs the refusal" "INVITE from pbx for 1000|failed: 486 Busy Here" \
	"$(call_events)"

# === 6. the callee (trunk side) hangs up ===
run_call callee-bye pbx 4 uac_wait_bye.xml uas_bye.xml flows
check_sipp callee-bye
check_media callee-bye pbx 4 $DTMF_PACKETS "$DTMF"
check_media callee-bye trunk 4 $DTMF_PACKETS "$DTMF"
check_flows callee-bye 4
check_eq "callee-bye: the PBX gets the BYE from the relay" "1" \
	"$(received "${TRACE[pbx]}" | grep -c '^BYE sip:')"
check_eq "callee-bye: xtrunkd logs the BYE from the trunk" "BYE from trunk" \
	"$(last_call_log | grep '^BYE from')"

# === 8. IPv6 media (SIP over IPv4, c=IN IP6 in the SDP) ===
run_call ipv6 pbx 6 uac_short.xml uas_short.xml flows
check_sipp ipv6
check_eq "ipv6: the SDP the trunk receives names the relay's IPv6 address" \
	"${RELAY6[trunk]}" "$(sdp_field "${TRACE[trunk]}" c)"
check_eq "ipv6: the SDP the PBX receives names the relay's IPv6 address" \
	"${RELAY6[pbx]}" "$(sdp_field "${TRACE[pbx]}" c)"
check_media ipv6 trunk 6 $DTMF_PACKETS "$DTMF"
check_media ipv6 pbx 6 $DTMF_PACKETS "$DTMF"
check_flows ipv6 6

# === 9. malformed SIP gets 400; the next call works ===
# send_raw FILE: one UDP datagram from the PBX to the relay's SIP port.
send_raw() {
	ip netns exec "$NS_P" bash -c "cat '$1' >/dev/udp/${RELAY4[pbx]}/5060"
}
bad_invite() { # CALL_ID HEADERS... (CRLF-terminated lines, then the body)
	local callid=$1
	shift
	{
		printf 'INVITE sip:1000@%s:5060 SIP/2.0\r\n' "${RELAY4[pbx]}"
		printf 'Via: SIP/2.0/UDP %s:5070;branch=z9hG4bK-%s\r\n' "${HOST4[pbx]}" "$callid"
		printf 'From: <sip:2000@%s>;tag=t-%s\r\nTo: <sip:1000@%s>\r\n' "${HOST4[pbx]}" "$callid" "${RELAY4[pbx]}"
		printf 'Call-ID: %s\r\nMax-Forwards: 70\r\n' "$callid"
		printf '%s\r\n' "$@"
	} >"$WORK/$callid.sip"
}
bad_invite bad-length 'CSeq: 1 INVITE' 'Content-Type: application/sdp' 'Content-Length: 9999' '' 'v=0'
bad_invite no-cseq 'Content-Length: 0' ''
bad_invite bad-sdp 'CSeq: 1 INVITE' 'Content-Type: application/sdp' 'Content-Length: 9' '' 'xyzzy=0'
printf 'INVITE garbage\r\nVia: SIP/2.0/UDP %s:5070;branch=z9hG4bK-garbage\r\nCall-ID: garbage\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n' \
	"${HOST4[pbx]}" >"$WORK/garbage.sip"

# What the relay answers on the PBX side, as it arrives: "CALL-ID STATUS".
ip netns exec "$NS_P" tshark -l -i eth0 -f "udp and src host ${RELAY4[pbx]} and src port 5060" \
	-Y sip -T fields -e sip.Call-ID -e sip.Status-Code >"$WORK/bad.txt" 2>"$WORK/bad.log" &
bad_tshark=$!
track $bad_tshark
wait_until 20 grep -qs "Capture started" "$WORK/bad.log"
answer_to() { # CALL_ID: the statuses the relay sent for it
	awk -v id="$1" '$1 == id { print $2 }' "$WORK/bad.txt" | sort -u | paste -sd' '
}
all_answered() {
	[[ -n $(answer_to bad-length) && -n $(answer_to no-cseq) && $(answer_to bad-sdp) == "100 400" ]]
}
# The garbage first: once the later ones are answered, it has been read too.
for m in garbage bad-length no-cseq bad-sdp; do
	send_raw "$WORK/$m.sip"
done
wait_until 10 all_answered
kill -INT $bad_tshark
reap $bad_tshark 10
check_eq "malformed: an INVITE whose Content-Length overruns the datagram gets 400" "400" \
	"$(answer_to bad-length)"
check_eq "malformed: an INVITE without CSeq gets 400" "400" "$(answer_to no-cseq)"
check_eq "malformed: an INVITE whose SDP cannot be parsed gets 100 then 400" "100 400" \
	"$(answer_to bad-sdp)"
check_eq "malformed: a garbage request line gets no answer (nothing to answer to)" "" \
	"$(answer_to garbage)"
check "malformed: xtrunkd is still running" alive "$XD_PID"
check_eq "malformed: no flow and no relay port are left behind" "0 $SIP_SOCKETS" \
	"$(flow_count) $(relay_sockets)"
run_call after-malformed pbx 4 uac_short.xml uas_short.xml flows
check_sipp after-malformed
check_media after-malformed trunk 4 $DTMF_PACKETS "$DTMF"
check_media after-malformed pbx 4 $DTMF_PACKETS "$DTMF"
check_flows after-malformed 4

# === 11. re-INVITEs: hold, resume, refresh, a rejected and an accepted move, delayed offer ===
run_call reinvite pbx 4 uac_reinvite.xml uas_reinvite.xml flows
check_sipp reinvite
pp=$(sdp_field "${TRACE[pbx]}" m)
tp=$(sdp_field "${TRACE[trunk]}" m)
check_eq "reinvite: every SDP the trunk gets names the same relay port (9 offers/answers, no new port)" \
	"$tp $tp $tp $tp $tp $tp $tp $tp $tp" "$(sdp_values "${TRACE[trunk]}" port)"
check_eq "reinvite: ... and every SDP the PBX gets (the 488 brings none)" \
	"$pp $pp $pp $pp $pp $pp $pp $pp" "$(sdp_values "${TRACE[pbx]}" port)"
check_eq "reinvite: the hold reaches the trunk as sendonly, its answer the PBX as recvonly" \
	"sendrecv sendonly sendrecv sendrecv sendrecv sendrecv sendrecv sendrecv sendrecv|sendrecv recvonly sendrecv sendrecv sendrecv sendrecv sendrecv sendrecv" \
	"$(sdp_values "${TRACE[trunk]}" dir)|$(sdp_values "${TRACE[pbx]}" dir)"
check_eq "reinvite: the UPDATE's c=0.0.0.0 hold reaches the trunk as it is, the resume with the relay's address" \
	"0.0.0.0|${RELAY4[trunk]}" \
	"$(received "${TRACE[trunk]}" | awk '/^UPDATE / { u = 1 } u && /^c=/ { print $3; u = 0 }' | paste -sd'|')"
check_eq "reinvite: the o= version the trunk sees goes up only when the SDP changes (not on the refresh)" \
	"1 2 3 3 4 4 4 5 6" "$(sdp_values "${TRACE[trunk]}" version)"
check_eq "reinvite: the trunk's re-INVITE without SDP got SDP in its ACK (the PBX's answer, rewritten)" \
	"${RELAY4[trunk]} $tp" \
	"$(received "${TRACE[trunk]}" | awk '/^ACK / { a = 1 } /^(INVITE|BYE) / { a = 0 } a && /^c=/ { c = $3 } a && /^m=/ { print c, $2 }' | tail -1)"
check_eq "reinvite: xtrunkd logs both holds and resumes" \
	"holds the call|resumes the call|holds the call|resumes the call" \
	"$(last_call_log | grep -oE '(holds|resumes) the call' | paste -sd'|')"
moved="$(ep 4 "${HOST4[pbx]}" $((MEDIA[pbx] + 2))) $(ep 4 "${HOST4[trunk]}" "${MEDIA[trunk]}")"
check_eq "reinvite: flows go in at the answer, move with the offer, back on its 488, move again when accepted, out on the c=0.0.0.0 hold and back on the resume; the refresh changes nothing" \
	"$(ep 4 "${HOST4[pbx]}" "${MEDIA[pbx]}") $(ep 4 "${HOST4[trunk]}" "${MEDIA[trunk]}"),$moved,$(ep 4 "${HOST4[pbx]}" "${MEDIA[pbx]}") $(ep 4 "${HOST4[trunk]}" "${MEDIA[trunk]}"),$moved,$moved" \
	"$(media_lines)"
check_media reinvite trunk 4 $((2 * DTMF_PACKETS)) "$DTMF" "$DTMF"
check_media reinvite pbx 4 $((2 * DTMF_PACKETS)) "$DTMF" "$DTMF"
check_end reinvite

# === 12. delayed offer: no SDP in the INVITE, the offer in the 200, the answer in the ACK ===
run_call delayed pbx 4 uac_delayed.xml uas_short.xml flows
check_sipp delayed
trunk_rx=$(received "${TRACE[trunk]}")
check_eq "delayed: the INVITE reaches the trunk without SDP" "0" \
	"$(sed -n '/^INVITE /,/^$/p' <<<"$trunk_rx" | grep -ci '^Content-Type: application/sdp')"
check_eq "delayed: the PBX gets the trunk's offer in the 200, naming the relay" "${RELAY4[pbx]}" \
	"$(sdp_field "${TRACE[pbx]}" c)"
check_eq "delayed: the trunk gets the PBX's answer in the ACK, naming the relay" \
	"${RELAY4[trunk]} $(sdp_field "${TRACE[trunk]}" m)" \
	"$(awk '/^ACK / { a = 1 } /^(INVITE|BYE) / { a = 0 } a && /^c=/ { c = $3 } a && /^m=/ { print c, $2 }' <<<"$trunk_rx")"
check_media delayed trunk 4 $DTMF_PACKETS "$DTMF"
check_media delayed pbx 4 $DTMF_PACKETS "$DTMF"
check_flows delayed 4

# === 13. forking: two early dialogs with their own SDP, both answer ===
run_call fork pbx 4 uac_short.xml uas_fork.xml flows
check_sipp fork
check_eq "fork: the PBX gets one 200 to its INVITE (the first answer), not the second branch's" "1" \
	"$(received "${TRACE[pbx]}" | awk '/^SIP\/2.0 / { s = $2 } /^CSeq:/ && $3 == "INVITE" && s == 200 { n++ } END { print n + 0 }')"
trunk_rx=$(received "${TRACE[trunk]}")
check_eq "fork: the relay ACKs both answers and sends BYE to the branch that answered second, then the first at the end" \
	"ACK branch-b|ACK branch-a|BYE branch-a|BYE branch-b" \
	"$(awk '/^(ACK|BYE) / { m = $1 } m && /^To:/ { sub(/.*tag=/, ""); print m, $0; m = "" }' <<<"$trunk_rx" | paste -sd'|')"
branch_b="$(ep 4 "${HOST4[pbx]}" "${MEDIA[pbx]}") $(ep 4 "${HOST4[trunk]}" "${MEDIA[trunk]}")"
check_eq "fork: early media follows the latest 18x (b, then a), and the answered branch (b) keeps the flows" \
	"$branch_b,$(ep 4 "${HOST4[pbx]}" "${MEDIA[pbx]}") $(ep 4 "${HOST4[trunk]}" $((MEDIA[trunk] + 2))),$branch_b" \
	"$(media_lines)"
check_media fork pbx 4 $DTMF_PACKETS "$DTMF"
check_end fork

# === 14. CANCEL crossing the 200 ===
run_call cancel-cross pbx 4 uac_cancel.xml uas_cancel_cross.xml ports
check_sipp cancel-cross
check_eq "cancel-cross: the PBX's INVITE ends with 487" "1" \
	"$(received "${TRACE[pbx]}" | grep -c '^SIP/2.0 487 ')"
check_eq "cancel-cross: the trunk's 200 that crossed the CANCEL is ACKed, then BYEd" "ACK|BYE" \
	"$(received "${TRACE[trunk]}" | grep -oE '^(ACK|BYE) ' | tr -d ' ' | paste -sd'|')"
check_end cancel-cross

# === 15. audio (rtcp-mux) + video, the video refused; then T.38 ===
run_call multi pbx 4 uac_multi.xml uas_multi.xml flows
check_sipp multi
trunk_rx=$(received "${TRACE[trunk]}")
pbx_rx=$(received "${TRACE[pbx]}")
tp=$(sdp_field "${TRACE[trunk]}" m)
# relay ports are handed out at random: the video's is any other even one of the range
vp=$(sed -n '/^INVITE /,/^BYE /p' <<<"$trunk_rx" | awk '/^m=video/ { print $2; exit }')
check_eq "multi: the trunk gets both streams with relay ports, and rtcp-mux" \
	"audio $tp|rtcp-mux|video $vp" \
	"$(sed -n '/^INVITE /,/^BYE /p' <<<"$trunk_rx" | awk '/^m=/ { sub(/^m=/, ""); print $1, $2 } /^a=rtcp-mux/ { print "rtcp-mux" }' | head -3 | paste -sd'|')"
check "multi: ... the video on another even relay port of the range ($vp)" \
	test "${vp:-0}" -ne "$tp" -a $((${vp:-1} % 2)) -eq 0 -a "${vp:-0}" -ge "${PORT_MIN[trunk]}" -a "${vp:-0}" -le "${PORT_MAX[trunk]}"
check_eq "multi: a=rtcp (RFC 3605) names the relay's RTCP ports, with its address where the offer had one" \
	"a=rtcp:$((tp + 1)) IN IP4 ${RELAY4[trunk]}|a=rtcp:$((vp + 1))" \
	"$(sed -n '/^INVITE /,/^BYE /p' <<<"$trunk_rx" | grep '^a=rtcp:' | head -2 | paste -sd'|')"
check_eq "multi: ... in the answer to the PBX too" \
	"a=rtcp:$(($(sdp_field "${TRACE[pbx]}" m) + 1)) IN IP4 ${RELAY4[pbx]}" \
	"$(grep -m1 '^a=rtcp:' <<<"$pbx_rx")"
check_eq "multi: the PBX gets the refused video with port 0" "video 0" \
	"$(awk '/^m=video/ { sub(/^m=/, ""); print $1, $2; exit }' <<<"$pbx_rx")"
t38=$(awk '/^INVITE / { n++ } n == 2 && /^m=/ { sub(/^m=/, ""); print $1, $2 }' <<<"$trunk_rx" | paste -sd'|')
image=${t38##*image }
check_eq "multi: the T.38 re-INVITE reaches the trunk with audio and video off and an image stream" \
	"audio 0|video 0|image $image" "$t38"
check "multi: ... on another relay port ($image)" \
	test "$image" -ne "$tp" -a "$image" -ge "${PORT_MIN[trunk]}" -a "$image" -le "${PORT_MAX[trunk]}"
check_eq "multi: flows: audio at the answer, then only the fax stream, towards the T.38 ports" \
	"1 $(ep 4 "${HOST4[pbx]}" "${MEDIA[pbx]}") $(ep 4 "${HOST4[trunk]}" "${MEDIA[trunk]}"),3 $(ep 4 "${HOST4[pbx]}" $((MEDIA[pbx] + 4))) $(ep 4 "${HOST4[trunk]}" $((MEDIA[trunk] + 4)))" \
	"$(last_call_log | sed -nE 's/^stream ([0-9]+): media to pbx ([^ ]+).*, to trunk ([^ ]+).*/\1 \2 \3/p' | paste -sd,)"
check_end multi

# === 18. glare: a second offer while one is pending gets 491 ===
run_call glare pbx 4 uac_glare.xml uas_glare.xml flows
check_sipp glare
check_eq "glare: the PBX's second re-INVITE gets 491 Request Pending, its first 200" "491 3|200 2" \
	"$(received "${TRACE[pbx]}" | awk '/^SIP\/2.0 / { s = $2 } /^CSeq:/ && $3 == "INVITE" && s >= 200 && $2 > 1 { print s, $2 }' | paste -sd'|')"
check_eq "glare: only the first re-INVITE reaches the trunk (2 INVITE transactions)" "2" \
	"$(received "${TRACE[trunk]}" | awk '/^INVITE / { i = 1 } i && /^CSeq:/ { print $2; i = 0 }' | sort -u | wc -l)"
check_end glare

# === 16. a PBX behind NAT: latching (symmetric RTP) ===
# The PBX's SDP names 192.0.2.10, its SIP comes from ${HOST4[pbx]}: xtrunkd
# (latch = auto on the PBX side) expects its media from the SIP source's
# address, latches the port of the first packet and answers there.
NAT_PORT=45678
nat_talk() {
	local rport
	rport=$(sdp_field "${TRACE[pbx]}" m)
	# the NAT's mapping of the PBX's media: its public address, another port
	ip netns exec "$NS_P" "$UDP_PEER" talk "${HOST4[pbx]}:$NAT_PORT" "${RELAY4[pbx]}:$rport" \
		20 100000 2500 >"$WORK/nat.talk" 2>&1 &
	local talk=$!
	# once it has latched, while it talks, another port of the same address
	# (after 2 s of quiet that port would take over: NAT rebinding)
	sleep 1
	ip netns exec "$NS_P" "$UDP_PEER" send "${HOST4[pbx]}:$((NAT_PORT + 1))" \
		"${RELAY4[pbx]}:$rport" 3 1000 >/dev/null 2>&1
	wait "$talk"
	NAT_FLOWS=$(ctl -j flow list)
}
DURING_HOOK=nat_talk run_call nat pbx 4 uac_nat.xml uas_nat.xml flows
check_sipp nat
rport=$(sdp_field "${TRACE[pbx]}" m)
check_eq "nat: xtrunkd latches the PBX's media to its SIP source address" \
	"to pbx $(ep 4 "${HOST4[pbx]}" "${MEDIA[pbx]}") (latching)" \
	"$(last_call_log | sed -nE 's/^stream 1: media (to pbx [^,]*),.*/\1/p' | head -1)"
check_eq "nat: the trunk gets every packet the PBX sent from its NAT port, and none from the other port" \
	"20 $(ep 4 "${RELAY4[trunk]}" "$(sdp_field "${TRACE[trunk]}" m)") 46" "$(media_from "${CAP[trunk]}")"
check_eq "nat: the trunk's media goes back to the latched port (10 DTMF packets from the relay)" \
	"10 $(ep 4 "${RELAY4[pbx]}" "$rport")" \
	"$(awk '$1 == "from" { n++; src = $2 } END { print n + 0, src }' "$WORK/nat.talk")"
check_eq "nat: nothing went to the address in the PBX's SDP or its media port" "" \
	"$(media_from "${CAP[pbx]}")"
check_eq "nat: the PBX's flow latched to $NAT_PORT, dropped the 3 packets from another port, relayed 20 in XDP" \
	"$(ep 4 "${HOST4[pbx]}" $NAT_PORT) 3 20" \
	"$(jq -r --arg l "$(ep 4 "${RELAY4[pbx]}" "$rport")" '.[] | select(.local == $l) | "\(.from) \(.drops) \(.packets)"' <<<"$NAT_FLOWS")"
check_end nat

# === 7. the basic call with xtrunkd --no-xdp: relayed in userspace ===
check "stopping xtrunkd (SIGTERM) ends it cleanly" stop_xtrunkd
check "... and removes its pins" test ! -e "$PIN"
check_eq "... and its XDP program from both interfaces" "" \
	"$(ip -n "$NS_R" -j link show | jq -r '.[] | select(.xdp) | .ifname' | paste -sd,)"
check "xtrunkd --no-xdp starts and says it is ready" \
	start_xtrunkd "$WORK/xtrunkd-noxdp.log" --no-xdp
check "... with media in userspace" grep -q 'ready (media in userspace)' "$XD_LOG"
check "no-xdp: no maps are pinned" test ! -e "$PIN"
check_eq "no-xdp: no XDP program is attached" "" \
	"$(ip -n "$NS_R" -j link show | jq -r '.[] | select(.xdp) | .ifname' | paste -sd,)"
run_call no-xdp pbx 4 uac_audio.xml uas_audio.xml ports
check_sipp no-xdp
check_media no-xdp trunk 4 $((G711_PACKETS + DTMF_PACKETS)) "$G711" "$DTMF"
check_media no-xdp pbx 4 $G711_PACKETS "$G711"
check_eq "no-xdp: xtrunkctl shows no flow before, during or after the call" "0 0 0" \
	"$(jq length <<<"$FLOWS_BEFORE") $(jq length <<<"$FLOWS_DURING") $(jq length <<<"$FLOWS_AFTER")"
pp=$(sdp_field "${TRACE[pbx]}" m)
tp=$(sdp_field "${TRACE[trunk]}" m)
check_eq "no-xdp: during the call the relay holds an RTP/RTCP port pair on each side" \
	"$(expected_sockets 4 "$pp" "$tp")" "$SOCKETS_DURING"
check_end no-xdp
check_eq "no-xdp: xtrunkd relayed every packet in userspace" \
	"0 $((2 * G711_PACKETS + DTMF_PACKETS))" "$(last_call_media)"
# NAT latching in userspace: the same as XDP does (case 16)
DURING_HOOK=nat_talk run_call nat-no-xdp pbx 4 uac_nat.xml uas_nat.xml ports
check_sipp nat-no-xdp
check_eq "nat-no-xdp: the trunk gets every packet the PBX sent from its NAT port, and none from the other port" \
	"20 $(ep 4 "${RELAY4[trunk]}" "$(sdp_field "${TRACE[trunk]}" m)") 46" "$(media_from "${CAP[trunk]}")"
check_eq "nat-no-xdp: the trunk's media goes back to the latched port" \
	"10 $(ep 4 "${RELAY4[pbx]}" "$(sdp_field "${TRACE[pbx]}" m)")" \
	"$(awk '$1 == "from" { n++; src = $2 } END { print n + 0, src }' "$WORK/nat.talk")"
check_eq "nat-no-xdp: nothing went to the address in the PBX's SDP or its media port" "" \
	"$(media_from "${CAP[pbx]}")"
check_end nat-no-xdp
check "stopping xtrunkd --no-xdp ends it cleanly" stop_xtrunkd

# === 17. media timeouts: silence ends a call, later while on hold ===
# xtrunkd again, with XDP and short timeouts: 2 s, 5 s on hold.
sed -e '/^\[relay\]/a media_timeout = 2' -e '/^\[relay\]/a hold_timeout = 5' "$CONF" >"$WORK/timeout.conf"
CONF=$WORK/timeout.conf check "xtrunkd starts with media_timeout = 2 and hold_timeout = 5" \
	start_xtrunkd "$WORK/xtrunkd-timeout.log"
# bye_after TRACE: seconds from the last SIP message SIPp sent to the BYE it got.
bye_after() {
	tr -d '\r' <"$1" | awk '
		function secs(t, a) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
		/^----------/ { t = $NF; hdr = 1; next }
		hdr { sent = /message sent/; hdr = 0; if (sent) last = t; next }
		!sent && /^BYE / { printf "%d\n", secs(t) - secs(last) + 0.5; exit }'
}
run_call timeout pbx 4 uac_wait_bye.xml uas_wait_bye.xml flows
check_sipp timeout
check_eq "timeout: after the media stops, xtrunkd hangs up both legs with BYE" "1 1" \
	"$(received "${TRACE[pbx]}" | grep -c '^BYE ') $(received "${TRACE[trunk]}" | grep -c '^BYE ')"
check "timeout: ... and logs why" logged 'media timeout: hanging up both legs'
check_end timeout
run_call hold-timeout pbx 4 uac_hold_wait.xml uas_hold_wait.xml flows
check_sipp hold-timeout
check "hold-timeout: on hold the call outlives the 2 s media timeout and ends with the 5 s one" \
	logged 'media timeout on hold: hanging up both legs'
secs=$(bye_after "${TRACE[pbx]}")
check "hold-timeout: ... the BYE came ${secs}s after the hold (5 s, not 2 s)" test "${secs:-0}" -ge 4 -a "${secs:-0}" -le 8
check_end hold-timeout
check "stopping xtrunkd ends it cleanly" stop_xtrunkd

# === 10. a bad configuration line ===
bad_config() { # LINE: a copy of the test's configuration with LINE added to [relay]
	sed "/^\[relay\]/a $1" "$CONF" >"$WORK/bad.conf"
	grep -n -F -x "$1" "$WORK/bad.conf" | cut -d: -f1
}
line=$(bad_config 'dscp = 99')
out=$(timeout 10 nsenter --net="/run/netns/$NS_R" "$XTRUNKD" -c "$WORK/bad.conf" 2>&1)
rc=$?
check "config: xtrunkd -c with 'dscp = 99' exits non-zero" test "$rc" -ne 0 -a "$rc" -ne 124
check_eq "config: ... and says FILE:$line: why" \
	"xtrunkd: $WORK/bad.conf:$line: dscp must be a number from 0 to 63, not '99'" "$out"
line=$(bad_config 'media_timeout')
out=$(timeout 10 nsenter --net="/run/netns/$NS_R" "$XTRUNKD" -c "$WORK/bad.conf" 2>&1)
rc=$?
check "config: a line without '=' makes xtrunkd exit non-zero" test "$rc" -ne 0 -a "$rc" -ne 124
check_eq "config: ... and says FILE:$line: why" \
	"xtrunkd: $WORK/bad.conf:$line: expected 'key = value', got 'media_timeout'" "$out"
check "config: no pins are left by the refused starts" test ! -e "$PIN"

finish_tests calls
