#!/usr/bin/env bash
# End to end: the call timers, the early-dialog BYE and in-dialog requests
# with other bodies (issue 13 points 3, 4, 11), as the PBX and the trunk see
# them. SIPp plays both.
#   1. A caller that never ACKs the 200: after 64*T1 (32 s) both legs get a
#      BYE and the call's ports are freed, while a normal call placed beside
#      it (ACKed, held 40 s) stays up past that point and ends normally.
#   2. Timer C: a callee that rings and never answers: after ring_timeout the
#      caller gets 408 Request Timeout and the callee a CANCEL.
#   3. A BYE from the caller in the early dialog: the callee gets a CANCEL
#      (never a BYE on a dialog it has not answered), the caller 487 for its
#      INVITE and 200 for its BYE.
#   4. INFO with application/dtmf-relay in a call reaches the callee with its
#      body as sent (was: 415), and the caller gets the callee's 200.
# Each case checks SIPp's result on both ends, /metrics and that no channel
# or relay port is left.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init t dialogs
METRICS=127.0.0.1:9477
PBX=10.95.1.2
RELAY_P=10.95.1.1
TRUNK=10.95.2.2

# idle: no channel in use, no relay port used, no call
idle() {
	metric_is 'xtrunk_calls_active' 0 &&
		metric_is 'xtrunk_channels_active{side="pbx"}' 0 &&
		metric_is 'xtrunk_channels_active{side="trunk"}' 0 &&
		metric_is 'xtrunk_relay_ports{side="pbx",state="used"}' 0 &&
		metric_is 'xtrunk_relay_ports{side="trunk",state="used"}' 0
}

declare -A SIPP_PID
# uas NAME SCENARIO CALLS: the trunk's SIPp, in the background.
uas() {
	ip netns exec "$NS_T" sipp -sf "$SIP_DIR/$2" -i "$TRUNK" -p 5060 -m "$3" -nostdin \
		-timeout 90 -timeout_error -trace_msg -message_file "$WORK/$1.msg" \
		>"$WORK/$1.out" 2>&1 &
	SIPP_PID[$1]=$!
	track $!
	wait_until 10 udp_bound "$NS_T" 5060
}
# uac NAME PORT SCENARIO [SIPP-ARGS...]: the PBX's SIPp, in the background.
uac() {
	local name=$1 port=$2 sf=$3
	shift 3
	ip netns exec "$NS_P" sipp -sf "$SIP_DIR/$sf" "$RELAY_P:5060" -s 1000 -i "$PBX" \
		-p "$port" -nostdin -timeout 90 -timeout_error -trace_msg \
		-message_file "$WORK/$name.msg" "$@" >"$WORK/$name.out" 2>&1 &
	SIPP_PID[$name]=$!
	track $!
}
finished() { reap "${SIPP_PID[$1]}" "${2:-40}"; }
calls() { # NAME Successful|Failed: SIPp's final count
	grep -a "$2 call" "$WORK/$1.out" | tail -1 | awk -F'|' '{gsub(/ /, "", $3); print $3}'
}
# requests NAME: the request methods SIPp NAME received, in order.
requests() {
	[[ -r $WORK/$1.msg ]] || return 0
	tr -d '\r' <"$WORK/$1.msg" | awk '/^----------/ { hdr = 1; rx = 0; next }
		hdr { rx = /message received/; hdr = 0; next }
		rx && /^[A-Z]+ sip:/ { print $1 }' | paste -sd' '
}

lab_up 95
{
	printf '# written by %s\n[relay]\npin_dir = %s\nmetrics = %s\nring_timeout = 3\n\n' \
		"$0" "$PIN" "$METRICS"
	lab_sides
} >"$CONF"
check "xtrunkd --check-config accepts ring_timeout = 3" quiet "$XTRUNKD" --check-config -c "$CONF"
if ! start_xtrunkd "$WORK/xtrunkd.log"; then
	fail "xtrunkd starts"
	sed 's/^/# /' "$XD_LOG"
	finish_tests dialogs
	exit 1
fi

# === 1. a 2xx never ACKed, beside a normal call ===
uas held-uas adm_uas.xml 2
uac no-ack 5061 uac_no_ack.xml -m 1
uac held 5062 adm_uac_hold.xml -m 1 -d 40000
check "no-ack: both calls are up" wait_until 10 metric_is 'xtrunk_calls_active' 2
finished no-ack 60
check_eq "no-ack: the caller that never ACKed its 200 gets a BYE from the relay (SIPp passes)" \
	"0 1" "$? $(calls no-ack Successful)"
check "no-ack: xtrunkd logs why it hung up" \
	grep -q 'no ACK to the 2xx: hanging up both legs' "$XD_LOG"
check_eq "no-ack: counted as a failed call; the normal call is still up, holding its channels" \
	"1 1 1" "$(metric 'xtrunk_calls_total{result="failed"}') $(metric 'xtrunk_calls_active') $(metric 'xtrunk_channels_active{side="trunk"}')"
finished held 30
check_eq "no-ack: the normal call, ACKed, lasted its 40 s past 64*T1 and hung up normally" \
	"0 1" "$? $(calls held Successful)"
finished held-uas
check_eq "no-ack: the trunk answered both calls and got a BYE for each (SIPp passes)" \
	"0 2" "$? $(calls held-uas Successful)"
check "no-ack: nothing is left: no call, channel or relay port" wait_until 5 idle

# === 2. timer C: a callee that rings forever ===
uas ring-uas uas_cancel.xml 1
uac ring 5063 uac_ring_timeout.xml -m 1
finished ring
check_eq "timer C: after ring_timeout the caller gets 408 Request Timeout (SIPp passes)" \
	"0 1" "$? $(calls ring Successful)"
finished ring-uas
check_eq "timer C: ... and the callee gets a CANCEL, answers 487 (SIPp passes)" \
	"0 1 INVITE CANCEL ACK" "$? $(calls ring-uas Successful) $(requests ring-uas)"
check_eq "timer C: counted as a call ended by timeout" "1" \
	"$(metric 'xtrunk_calls_total{result="timeout"}')"
check "timer C: xtrunkd logs it" grep -q 'no answer within ring_timeout' "$XD_LOG"
check "timer C: nothing is left: no call, channel or relay port" wait_until 5 idle

# === 3. BYE in the early dialog ===
uas bye-uas uas_cancel.xml 1
uac early-bye 5064 uac_early_bye.xml -m 1
finished early-bye
check_eq "early BYE: the caller gets 487 for its INVITE and 200 for its BYE (SIPp passes)" \
	"0 1" "$? $(calls early-bye Successful)"
finished bye-uas
check_eq "early BYE: the callee gets a CANCEL, never a BYE on its unanswered dialog" \
	"0 1 INVITE CANCEL ACK" "$? $(calls bye-uas Successful) $(requests bye-uas)"
check_eq "early BYE: counted as a cancelled call" "1" \
	"$(metric 'xtrunk_calls_total{result="cancelled"}')"
check "early BYE: nothing is left: no call, channel or relay port" wait_until 5 idle

# === 4. INFO with a DTMF body ===
uas info-uas uas_info.xml 1
uac info 5065 uac_info.xml -m 1
finished info
check_eq "INFO: the caller's INFO (application/dtmf-relay) gets the callee's 200 (SIPp passes)" \
	"0 1" "$? $(calls info Successful)"
finished info-uas
check_eq "INFO: the callee got it with its Content-Type and body, Signal=5 (SIPp's check passes)" \
	"0 1 INVITE ACK INFO BYE" "$? $(calls info-uas Successful) $(requests info-uas)"
check "INFO: nothing is left: no call, channel or relay port" wait_until 5 idle

check "stopping xtrunkd (SIGTERM) ends it cleanly" stop_xtrunkd
finish_tests dialogs
