#!/usr/bin/env bash
# End to end: admission control in xtrunkd, as a PBX and a trunk see it. A
# PBX host with two addresses (its own, and a second one that plays an
# outsider or a flooder), the relay and a SIP trunk are network namespaces;
# SIPp plays the callers and the trunk. Per case: the SIP answers each source
# gets, the calls that go through, and the metrics xtrunkd exports for it.
#   1. channels: N calls up, call N+1 gets 503 with Retry-After, one hangs up,
#      the next call goes through; a refused call holds no channel.
#   2. allow/deny: an INVITE from outside gets 403 (reject) or nothing (drop),
#      an in-dialog BYE from outside gets 403 and the call goes on; calls from
#      inside go through.
#   3. sip_rate: an OPTIONS flood from one source is mostly dropped unanswered
#      while a call from the PBX's own address completes with its media.
#   3b. spoofing: a flood from forty addresses (each with a full sip_rate
#      bucket) is held to sip_rate_global while the PBX's call completes; the
#      PBX over its own sip_rate_peer is limited too; a source that never
#      ACKs (a spoofed victim) gets each failure once, never retransmitted.
#   4. bad values for these keys stop xtrunkd with FILE:LINE: why.
#   0. (first) secure by default: with no allow, only the side's peer may
#      send requests (403 to another address); SDP aiming media at loopback,
#      multicast, link-local, a relay port or media_deny gets 488, counted.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init a adm
METRICS=127.0.0.1:9477

PBX=10.90.1.2      # the PBX
OUTSIDER=10.90.1.3 # another address on the PBX's network: outsider, flooder
RELAY_P=10.90.1.1
TRUNK=10.90.2.2


# write_config PBX_SIDE_LINES TRUNK_SIDE_LINES: the test's configuration with
# extra keys for each side (newline-separated).
write_config() {
	{
		cat <<-EOF
			# written by $0
			[relay]
			pin_dir = $PIN
			metrics = $METRICS

		EOF
		lab_sides "$1" "$2"
	} >"$CONF"
}

# restart LOG PBX_SIDE_LINES TRUNK_SIDE_LINES: xtrunkd with that configuration
# (the one running stops first, and must stop cleanly: under SANITIZE=1 a
# leak or an error is a non-zero exit).
restart() {
	[[ -z $XD_PID ]] || check "${XD_LOG##*/}: xtrunkd stops cleanly (SIGTERM, exit 0)" stop_xtrunkd
	write_config "$2" "$3"
	start_xtrunkd "$WORK/$1"
}

# metric 'NAME{LABELS}': its value in xtrunkd's /metrics now ("" if absent).

# ---- SIPp ----

declare -A SIPP_PID
# uas NAME CALLS: the trunk's SIPp answering CALLS calls (adm_uas.xml), in the background.
uas() {
	ip netns exec "$NS_T" sipp -sf "$SIP_DIR/adm_uas.xml" -i "$TRUNK" -p 5060 -m "$2" \
		-nostdin -timeout 60 -timeout_error -trace_msg -message_file "$WORK/$1.msg" \
		>"$WORK/$1.out" 2>&1 &
	SIPP_PID[$1]=$!
	track $!
	wait_until 10 udp_bound "$NS_T" 5060
}
# uac NAME SRC PORT SCENARIO [SIPP-ARGS...]: a caller's SIPp from SRC:PORT, in the background.
uac() {
	local name=$1 src=$2 port=$3 sf=$4
	shift 4
	ip netns exec "$NS_P" sipp -sf "$SIP_DIR/$sf" "$RELAY_P:5060" -s 1000 -i "$src" -p "$port" \
		-nostdin -timeout 30 -timeout_error -trace_msg -message_file "$WORK/$name.msg" \
		"$@" >"$WORK/$name.out" 2>&1 &
	SIPP_PID[$name]=$!
	track $!
}
# finished NAME: SIPp NAME's exit status, once it ends (124: it had to be stopped).
finished() { reap "${SIPP_PID[$1]}" "${2:-40}"; }
calls() { # NAME Successful|Failed: SIPp's final count
	grep -a "$2 call" "$WORK/$1.out" | tail -1 | awk -F'|' '{gsub(/ /, "", $3); print $3}'
}
# received NAME: the messages SIPp NAME received, from its trace.
received() {
	[[ -r $WORK/$1.msg ]] || return 0
	tr -d '\r' <"$WORK/$1.msg" | awk '/^----------/ { hdr = 1; rx = 0; next }
		hdr { rx = /message received/; hdr = 0; next }
		rx { print }'
}
status_lines() { received "$1" | grep -E '^SIP/2.0 [0-9]{3}' | awk '{print $2}' | paste -sd' '; }

# ---- the lab ----

setup() {
	lab_up 90
	ip -n "$NS_P" addr add "$OUTSIDER/24" dev eth0
}
setup

# === 0. secure by default: only the peer may call, media only where it may go ===
# latch = off: with NAT latching the SDP's address is replaced by the SIP source's
if ! restart default.log "media_deny = 10.90.9.0/24
latch = off" ""; then
	fail "xtrunkd starts with no allow on either side"
	sed 's/^/# /' "$XD_LOG"
	finish_tests admission
	exit 1
fi
uac def-out "$OUTSIDER" 5060 adm_uac_403.xml -m 1
finished def-out
check_eq "default: with no allow, an INVITE from $OUTSIDER (not the side's peer) gets 403 Forbidden" \
	"0 403" "$? $(status_lines def-out | grep -o 403)"
check_eq "default: counted as an acl refusal on the PBX side; no call started" "1 0" \
	"$(metric 'xtrunk_sip_requests_rejected_total{side="pbx",reason="acl"}') $(metric 'xtrunk_calls_started_total')"
# refused_media NAME ADDR PORT REASON: the PBX's INVITE with media at ADDR:PORT gets 488, counted
refused_media() {
	uac "$1" "$PBX" 5060 adm_uac_488.xml -m 1 -key media_addr "$2" -mp "$3"
	finished "$1"
	check_eq "default: SDP media at $2:$3 ($4) gets 488 Not Acceptable Here" "0 488" \
		"$? $(status_lines "$1" | grep -o 488)"
	check_eq "default: ... counted as xtrunk_sdp_media_refused_total{reason=\"$4\"}" "1" \
		"$(metric "xtrunk_sdp_media_refused_total{side=\"pbx\",reason=\"$4\"}")"
}
refused_media media-lo 127.0.0.1 40000 loopback
refused_media media-mc 224.0.0.1 40000 multicast
refused_media media-ll 169.254.10.1 40000 link_local
refused_media media-relay "$RELAY_P" 20000 relay
refused_media media-deny 10.90.9.5 40000 denied
check "default: the refused calls left no relay port in use" \
	metric_is 'xtrunk_relay_ports{side="pbx",state="used"}' 0
check "default: xtrunkd logs why (the address and the reason)" \
	grep -q 'media address 127.0.0.1:40000 refused (loopback)' "$XD_LOG"

# === 1. channels: the trunk carries 2 calls at once ===
if ! restart channels.log "" "channels = 2"; then
	fail "xtrunkd starts with channels = 2 on the trunk side"
	sed 's/^/# /' "$XD_LOG"
	finish_tests admission
	exit 1
fi
check_eq "channels: /metrics shows the trunk's limit of 2 and no limit on the PBX side" "2 0" \
	"$(metric 'xtrunk_channels_limit{side="trunk"}') $(metric 'xtrunk_channels_limit{side="pbx"}')"
uas chan-uas 3
uac chan-a "$PBX" 5061 adm_uac_hold.xml -m 1 -d 4000
uac chan-b "$PBX" 5062 adm_uac_hold.xml -m 1 -d 9000
check "channels: with two calls up, both sides show 2 channels in use" \
	wait_until 10 eval 'metric_is "xtrunk_channels_active{side=\"trunk\"}" 2 &&
		metric_is "xtrunk_channels_active{side=\"pbx\"}" 2'
uac chan-c "$PBX" 5063 adm_uac_503.xml -m 1
finished chan-c
check_eq "channels: the third call gets 503 Service Unavailable (SIPp's scenario passes)" \
	"0 1 503" "$? $(calls chan-c Successful) $(status_lines chan-c | grep -o 503)"
check_eq "channels: ... with Retry-After: 5" "Retry-After: 5" \
	"$(received chan-c | grep -i '^Retry-After:' | head -1)"
check_eq "channels: /metrics counts it as a call rejected by the limit" "1" \
	"$(metric 'xtrunk_calls_total{result="rejected_limit"}')"
check_eq "channels: ... and as a PBX-side INVITE rejected for channel_limit" "1" \
	"$(metric 'xtrunk_sip_requests_rejected_total{side="pbx",reason="channel_limit"}')"
check_eq "channels: the refused call took no channel and never reached the trunk" "2 2" \
	"$(metric 'xtrunk_channels_active{side="trunk"}') $(metric 'xtrunk_calls_started_total')"
check "channels: xtrunkd logs why it refused" \
	grep -q 'INVITE refused (503): endpoint trunk has all 2 channels in use' "$XD_LOG"
finished chan-a
check_eq "channels: the first call hangs up normally" "0 1" "$? $(calls chan-a Successful)"
check "channels: ... which frees its channel (1 in use)" \
	wait_until 5 metric_is 'xtrunk_channels_active{side="trunk"}' 1
uac chan-d "$PBX" 5064 adm_uac_hold.xml -m 1 -d 500
finished chan-d
check_eq "channels: the next call goes through" "0 1" "$? $(calls chan-d Successful)"
finished chan-b
check_eq "channels: the second call, up all along, hangs up normally" "0 1" \
	"$? $(calls chan-b Successful)"
finished chan-uas
check_eq "channels: the trunk answered exactly the three admitted calls" "0 3" \
	"$? $(calls chan-uas Successful)"
check "channels: after the calls no channel is in use on either side" \
	wait_until 5 eval 'metric_is "xtrunk_channels_active{side=\"trunk\"}" 0 &&
		metric_is "xtrunk_channels_active{side=\"pbx\"}" 0'
check_eq "channels: /metrics shows 3 answered calls and 1 rejected by the limit" "3 1" \
	"$(metric 'xtrunk_calls_total{result="answered"}') $(metric 'xtrunk_calls_total{result="rejected_limit"}')"

# === 2a. allow, deny = reject: only the PBX's own address may send SIP ===
restart acl-reject.log "allow = $PBX/32, fd90:1::2/128
deny = reject" ""
uac acl-out "$OUTSIDER" 5060 adm_uac_403.xml -m 1
finished acl-out
check_eq "acl: an INVITE from $OUTSIDER (outside allow) gets 403 Forbidden (SIPp's scenario passes)" \
	"0 1 403" "$? $(calls acl-out Successful) $(status_lines acl-out | grep -o 403)"
check_eq "acl: ... never a 100 Trying: nothing was started for it" "403" "$(status_lines acl-out)"
check_eq "acl: /metrics counts one call rejected by the ACL, none started" "1 0" \
	"$(metric 'xtrunk_calls_total{result="rejected_acl"}') $(metric 'xtrunk_calls_started_total')"
check_eq "acl: ... and one PBX-side request rejected for acl (its ACK is not counted as one)" "1 0" \
	"$(metric 'xtrunk_sip_requests_rejected_total{side="pbx",reason="acl"}') $(metric 'xtrunk_sip_requests_dropped_total{side="pbx",reason="acl"}')"

# A call from the PBX; while it is up, a BYE for its dialog from the outsider.
uas acl-uas 1
uac acl-in "$PBX" 5060 adm_uac_hold.xml -m 1 -d 3000
in_dialog_probe() { # [NAME [METHOD]]: a request from the outsider in SIPp NAME's call (acl-in)
	local dialog to_tag name=${1:-acl-in} method=${2:-BYE}
	wait_until 10 eval '[[ -n $(received $name | grep -i "^To:.*tag=") ]]' || return 1
	to_tag=$(received "$name" | grep -i '^To:.*tag=' | head -1 | sed 's/.*tag=//')
	dialog=$(received "$name" | grep -i '^Call-ID:' | head -1 | awk '{print $2}')
	# From the outsider: the dialog's Call-ID and both tags, as if it were the PBX.
	# CSeq 1, not above the PBX's own: nta records a dialog's remote CSeq before
	# the request reaches xtrunkd, so a higher one, even refused, would make
	# the PBX's next request in the dialog look out of order (500).
	# A BYE: its first answer (2 s at most). An INVITE: every answer in 5 s,
	# never ACKed (nta would retransmit a failure at 0.5, 1.5 and 3.5 s).

	ip netns exec "$NS_P" /usr/bin/python3 - "$OUTSIDER" "$RELAY_P" "$dialog" "$to_tag" \
		"$method" >"$WORK/probe.txt" 2>&1 <<-'PY'
		import socket, sys, time
		src, relay, callid, totag, method = sys.argv[1:6]
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind((src, 5070))
		m = ("%s sip:xtrunk@%s:5060 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s:5070;branch=z9hG4bK-probe%s\r\n"
		     "From: <sip:2000@%s>;tag=hold5060x1\r\nTo: <sip:1000@%s>;tag=%s\r\n"
		     "Call-ID: %s\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
		     % (method, relay, src, method, src, relay, totag, callid, method))
		s.sendto(m.encode(), (relay, 5060))
		end = time.monotonic() + (5.0 if method == "INVITE" else 2.0)
		answers = []
		while time.monotonic() < end and (method == "INVITE" or not answers):
		    s.settimeout(max(end - time.monotonic(), 0.01))
		    try:
		        answers.append(s.recv(4096).decode().split("\r\n")[0])
		    except socket.timeout:
		        break
		print("\n".join(answers) if answers else "no answer")
		PY
}
in_dialog_probe
check_eq "acl: a BYE in the call's dialog from $OUTSIDER gets 403 Forbidden" \
	"SIP/2.0 403 Forbidden" "$(cat "$WORK/probe.txt")"
in_dialog_probe acl-in INVITE
check_eq "acl: a re-INVITE in the call's dialog from $OUTSIDER gets one 403, not retransmitted until an ACK" \
	"SIP/2.0 403 Forbidden" "$(cat "$WORK/probe.txt")"
finished acl-in
check_eq "acl: ... and the call goes on until the PBX hangs up (SIPp's scenario passes)" "0 1" \
	"$? $(calls acl-in Successful)"
finished acl-uas
check_eq "acl: the trunk sees one BYE, the PBX's" "0 1" \
	"$? $(received acl-uas | grep -c '^BYE ')"
check_eq "acl: /metrics: 3 PBX-side requests rejected for acl, 1 call answered" "3 1" \
	"$(metric 'xtrunk_sip_requests_rejected_total{side="pbx",reason="acl"}') $(metric 'xtrunk_calls_total{result="answered"}')"

# === 2b. deny = drop: the outsider hears nothing ===
restart acl-drop.log "allow = $PBX/32
deny = drop" ""
uac drop-out "$OUTSIDER" 5060 adm_uac_unanswered.xml -m 1
finished drop-out
check_eq "acl drop: an INVITE from $OUTSIDER gets no answer at all" "0 1 " \
	"$? $(calls drop-out Successful) $(status_lines drop-out)"
check_eq "acl drop: /metrics counts it dropped for acl and as a call rejected by the ACL" "1 1 0" \
	"$(metric 'xtrunk_sip_requests_dropped_total{side="pbx",reason="acl"}') $(metric 'xtrunk_calls_total{result="rejected_acl"}') $(metric 'xtrunk_sip_requests_rejected_total{side="pbx",reason="acl"}')"
uas drop-uas 1
uac drop-in "$PBX" 5060 adm_uac_hold.xml -m 1 -d 3000
# in a dialog the stack holds a transaction for the request: only an answer frees it
in_dialog_probe drop-in
check_eq "acl drop: a BYE in the call's dialog from $OUTSIDER gets 403 all the same (a dropped one would hold a transaction until exit)" \
	"SIP/2.0 403 Forbidden" "$(cat "$WORK/probe.txt")"
check_eq "acl drop: ... counted as rejected, not dropped, for acl" "1 1" \
	"$(metric 'xtrunk_sip_requests_rejected_total{side="pbx",reason="acl"}') $(metric 'xtrunk_sip_requests_dropped_total{side="pbx",reason="acl"}')"
finished drop-in
check_eq "acl drop: a call from the PBX's address goes through, undisturbed" "0 1" \
	"$? $(calls drop-in Successful)"
finished drop-uas

# === 3. sip_rate = 20: a flood from one source, a call from another ===
RATE=20
FLOOD=300
# the flooder is on the PBX's network, which allow opens (only the peer may send by default)
restart rate.log "sip_rate = $RATE
allow = 10.90.1.0/24" ""
# The call: SIPp's short call with its DTMF burst both ways, from the PBX's address.
ip netns exec "$NS_T" sipp -sf "$SIP_DIR/uas_short.xml" -i "$TRUNK" -p 5060 -mi "$TRUNK" \
	-mp 50000 -m 1 -nostdin -timeout 30 -timeout_error >"$WORK/rate-uas.out" 2>&1 &
SIPP_PID[rate-uas]=$!
track $!
wait_until 10 udp_bound "$NS_T" 5060
# The flood: $FLOOD OPTIONS at 300/s (15 times the rate) from the outsider address.
uac flood "$OUTSIDER" 5060 adm_flood_options.xml -m $FLOOD -r 300 -l $FLOOD
sleep 0.3
uac rate-uac "$PBX" 5060 uac_short.xml -m 1 -mi "$PBX" -mp 40000
finished rate-uac
check_eq "rate: during the flood, the PBX's call completes (SIPp's scenario passes)" "0 1" \
	"$? $(calls rate-uac Successful)"
finished rate-uas
check_eq "rate: ... on the trunk too" "0 1" "$? $(calls rate-uas Successful)"
media=$(grep -oE 'media relayed: [0-9]+ packets in XDP, [0-9]+ in userspace' "$XD_LOG" | tail -1 |
	awk '{print $3 + $7}')
check_eq "rate: ... with all its media relayed (10 DTMF packets each way)" "20" "$media"
finished flood 60
answered=$(calls flood Successful)
dropped=$(calls flood Failed)
echo "# flood: $FLOOD OPTIONS sent, $answered answered, $dropped unanswered"
check_eq "rate: every flood request was either answered or not" "$FLOOD" $((answered + dropped))
# a burst of $RATE, then $RATE a second for the ~1 s the flood lasts (2x slack)
check "rate: the flood got mostly no answer ($answered of $FLOOD answered, at most $((4 * RATE)) allowed)" \
	test "$answered" -le $((4 * RATE)) -a "$answered" -ge "$RATE"
check_eq "rate: /metrics counts exactly the unanswered flood as dropped for rate on the PBX side" \
	"$dropped" "$(metric 'xtrunk_sip_requests_dropped_total{side="pbx",reason="rate"}')"
check_eq "rate: ... and the OPTIONS it answered as received requests" "$answered" \
	"$(metric 'xtrunk_sip_requests_total{side="pbx",method="OPTIONS"}')"
# The side's own peer is trusted: the same burst from the PBX's address is all answered.
uac peer-burst "$PBX" 5060 adm_flood_options.xml -m $FLOOD -r 300 -l $FLOOD
finished peer-burst 60
check_eq "rate: the same $FLOOD OPTIONS at 300/s from the PBX (the side's peer) are all answered" \
	"$FLOOD 0" "$(calls peer-burst Successful) $(calls peer-burst Failed)"
check_eq "rate: the rate table tracks the flooding source only (the PBX, the side's peer, is trusted)" "1" \
	"$(metric 'xtrunk_sip_rate_sources{side="pbx"}')"
check "stopping xtrunkd (SIGTERM) ends it cleanly" stop_xtrunkd

# === 3b. spoofing: many sources, one budget; failures sent once ===
# Forty more addresses on the PBX's host play spoofed sources: each new one
# gets a full sip_rate bucket, only sip_rate_global holds them together.
# allow opens the lower half of the PBX's network; .200 stays outside it.
SPOOFED=()
for i in $(seq 64 103); do SPOOFED+=("10.90.1.$i"); done
for a in "${SPOOFED[@]}" 10.90.1.110 10.90.1.111 10.90.1.200; do
	ip -n "$NS_P" addr add "$a/24" dev eth0
done
GLOBAL=50
PEER_RATE=100
SPOOF_FLOOD=1000
restart spoof.log "allow = 10.90.1.0/25
sip_rate = 20
sip_rate_global = $GLOBAL
sip_rate_peer = $PEER_RATE" ""
sources() { ip netns exec "$NS_P" /usr/bin/python3 "$(dirname "$0")/sip_sources.py" "$@"; }
uas spoof-uas 1
# $SPOOF_FLOOD OPTIONS at 1000/s, 25 from each address: within sip_rate (20, burst 20)
sources flood "$RELAY_P:5060" $SPOOF_FLOOD 1000 "${SPOOFED[@]}" >"$WORK/spoof-flood.txt" 2>&1 &
flood_pid=$!
track $flood_pid
sleep 0.3
uac spoof-call "$PBX" 5060 adm_uac_hold.xml -m 1 -d 500
finished spoof-call
check_eq "spoof: during a flood from ${#SPOOFED[@]} addresses, the PBX's call completes (its own bucket)" \
	"0 1" "$? $(calls spoof-call Successful)"
finished spoof-uas
check_eq "spoof: ... on the trunk too" "0 1" "$? $(calls spoof-uas Successful)"
reap $flood_pid 30
read -r _ sent _ answered <"$WORK/spoof-flood.txt"
echo "# spoofed flood: ${sent:-?} OPTIONS sent, ${answered:-?} answered"
# a burst of $GLOBAL, then $GLOBAL a second for the ~1 s the flood lasts (2x slack)
check "spoof: the flood is held to sip_rate_global ($answered of $SPOOF_FLOOD answered, $GLOBAL to $((4 * GLOBAL)) allowed)" \
	test "${sent:-0}" -eq $SPOOF_FLOOD -a "${answered:-0}" -ge $GLOBAL -a "${answered:-0}" -le $((4 * GLOBAL))
spoof_global=$(metric 'xtrunk_sip_requests_dropped_total{side="pbx",reason="rate_global"}')
spoof_rate=$(metric 'xtrunk_sip_requests_dropped_total{side="pbx",reason="rate"}')
check_eq "spoof: /metrics counts the unanswered flood as dropped for rate_global (none for one source's rate)" \
	"$((SPOOF_FLOOD - ${answered:-0})) 0" "$spoof_global $spoof_rate"
check_eq "spoof: ... the rate table tracks the ${#SPOOFED[@]} sources, and the PBX lost nothing" \
	"${#SPOOFED[@]} 0" \
	"$(metric 'xtrunk_sip_rate_sources{side="pbx"}') $(metric 'xtrunk_sip_requests_dropped_total{side="pbx",reason="rate_peer"}')"
check "spoof: xtrunkd warns that sources other than the peer are over sip_rate_global" \
	grep -q 'endpoint pbx: sources other than the peer send more than sip_rate_global = 50' "$XD_LOG"

# Victims: an INVITE each from an address that never ACKs, as a spoofed
# source's owner would see it; 6 s covers nta's retransmissions at 0.5, 1.5
# and 3.5 s (RFC 3261 timer G).
ip netns exec "$NS_T" sipp -sf "$SIP_DIR/uas_busy.xml" -i "$TRUNK" -p 5060 -m 1 -nostdin \
	-timeout 30 -timeout_error >"$WORK/busy-uas.out" 2>&1 &
SIPP_PID[busy-uas]=$!
track $!
wait_until 10 udp_bound "$NS_T" 5060
sources invite "$RELAY_P:5060" 10.90.1.110:5090 6 >"$WORK/victim-busy.txt" 2>&1 &
victim_busy=$!
sources invite "$RELAY_P:5060" 10.90.1.111:5090 6 0 >"$WORK/victim-483.txt" 2>&1 &
victim_483=$!
sources invite "$RELAY_P:5060" 10.90.1.200:5090 6 >"$WORK/victim-403.txt" 2>&1 &
victim_403=$!
track $victim_busy
track $victim_483
track $victim_403
reap $victim_busy 20
reap $victim_483 20
reap $victim_403 20
check_eq "no reflection: a call from an allowed non-peer that the trunk refuses: 100, then 486 once (not until an ACK)" \
	"100 486" "$(cat "$WORK/victim-busy.txt")"
check_eq "no reflection: an INVITE with Max-Forwards: 0 from an allowed non-peer: one 483" \
	"483" "$(cat "$WORK/victim-483.txt")"
check_eq "no reflection: an INVITE from outside allow: one 403" \
	"403" "$(cat "$WORK/victim-403.txt")"
finished busy-uas
check_eq "no reflection: the trunk's 486 was ACKed by xtrunkd (SIPp's scenario passes)" "0 1" \
	"$? $(calls busy-uas Successful)"
check "no reflection: the refused call holds no channel" \
	wait_until 5 metric_is 'xtrunk_channels_active{side="pbx"}' 0

# The peer has a bucket of its own, generous but not absent: over UDP its address can be spoofed too.
uac peer-over "$PBX" 5060 adm_flood_options.xml -m 600 -r 600 -l 600
finished peer-over 60
peer_answered=$(calls peer-over Successful)
peer_dropped=$(calls peer-over Failed)
# a burst of $PEER_RATE, then $PEER_RATE a second for the ~1 s the burst lasts (1.5x slack)
check "spoof: 600 OPTIONS at 600/s from the PBX over sip_rate_peer = $PEER_RATE are limited ($peer_answered answered)" \
	test "${peer_answered:-0}" -ge $PEER_RATE -a "${peer_answered:-0}" -le $((3 * PEER_RATE))
check_eq "spoof: ... /metrics counts the rest dropped for rate_peer" "$peer_dropped" \
	"$(metric 'xtrunk_sip_requests_dropped_total{side="pbx",reason="rate_peer"}')"
check "spoof: ... and xtrunkd warns about the peer" \
	grep -q 'endpoint pbx: the peer sends more than sip_rate_peer = 100' "$XD_LOG"
check "stopping xtrunkd (SIGTERM) ends it cleanly" stop_xtrunkd

# === 4. bad values stop xtrunkd with FILE:LINE: why ===
bad_value() { # LINE EXPECTED-WHY: LINE added to [side trunk] is refused with EXPECTED-WHY
	local line out rc
	sed "/^\[side trunk\]/a $1" "$CONF" >"$WORK/bad.conf"
	line=$(grep -n -F -x "$1" "$WORK/bad.conf" | cut -d: -f1)
	out=$(timeout 10 "$XTRUNKD" --check-config -c "$WORK/bad.conf" 2>&1)
	rc=$?
	check_eq "config: '$1' stops xtrunkd (exit non-zero) with FILE:$line: why" \
		"1 xtrunkd: $WORK/bad.conf:$line: $2" "$((rc != 0 && rc != 124)) $out"
}
bad_value 'channels = -1' "channels must be a number from 0 (no limit) to 1000000, not '-1'"
bad_value 'sip_rate = fast' "sip_rate must be a number from 0 (no limit) to 1000000, not 'fast'"
bad_value 'sip_rate_global = -5' \
	"sip_rate_global must be a number from 0 (no limit) to 1000000, not '-5'"
bad_value 'sip_rate_peer = 1e9' "sip_rate_peer must be a number from 0 (no limit) to 1000000, not '1e9'"
bad_value 'deny = ignore' "deny must be reject or drop, not 'ignore'"
bad_value 'allow = 10.90.1.2/8' \
	"allow: '10.90.1.2/8' has bits set past its /8 prefix (host bits must be zero)"
bad_value 'allow = fd90::/129' "allow: 'fd90::/129': the prefix length must be 0 to 128"
bad_value 'allow = 10.90.1.0/24, pbx.example' \
	"allow: 'pbx.example' is not an IPv4 or IPv6 network (ADDR/PREFIX)"
sed "/^\[side trunk\]/a allow = 10.0.0.0/8, fd00::/8 192.168.0.0/16" "$CONF" >"$WORK/good.conf"
check "config: allow takes IPv4 and IPv6 networks, separated by commas or spaces" \
	quiet "$XTRUNKD" --check-config -c "$WORK/good.conf"

finish_tests admission
