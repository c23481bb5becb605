#!/usr/bin/env bash
# End to end: one xtrunkd serving two PBX endpoints and two trunk endpoints
# ([pbx office-a], [pbx office-b], [trunk carrier-a], [trunk carrier-b]),
# each with its own SIP port, relay ports, channel limit and allowed network.
# The PBX host plays both offices (10.93.1.2 and .3), the trunk host both
# carriers (10.93.2.2 and .3); SIPp plays every party. Checked, as a user sees
# it: xtrunkctl lists the four endpoints with their own ports and limits;
# /metrics labels every per-endpoint family by endpoint name; a call from
# office-b goes to the first trunk (carrier-a) on office-b's and carrier-a's
# relay ports and counts on those two endpoints only; a call from carrier-b
# goes to the first PBX (office-a); office-a's channel limit of 1 refuses a
# second call with 503 while carrier-a's limit is not reached; an INVITE from
# office-a's address to office-b's SIP port gets 403 counted on office-b.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init e endpoints
METRICS=127.0.0.1:9477
SOCK=$WORK/run/xtrunkd.sock

OFFICE_A=10.93.1.2
OFFICE_B=10.93.1.3
CARRIER_A=10.93.2.2
CARRIER_B=10.93.2.3
RELAY_P=10.93.1.1
RELAY_T=10.93.2.1

ctl() { in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" --socket "$SOCK" "$@"; }
# metric 'NAME{LABELS}': its value in xtrunkd's /metrics now ("" if absent).
# metrics NAME LABEL-PREFIX: "endpoint=value ..." for every endpoint, in config order
metrics() {
	local out="" ep
	for ep in office-a office-b carrier-a carrier-b; do
		out+="$ep=$(metric "$1{side=\"$ep\"${2:-}}") "
	done
	echo "${out% }"
}

write_config() {
	cat >"$CONF" <<-EOF
		# written by $0
		[relay]
		pin_dir = $PIN
		metrics = $METRICS
		control = $SOCK

		[pbx office-a]
		interface = left0
		address = $RELAY_P
		ports = 20000-20099
		sip = $RELAY_P:5060
		peer = $OFFICE_A:5060
		channels = 1
		allow = $OFFICE_A/32

		[pbx office-b]
		interface = left0
		address = $RELAY_P
		ports = 21000-21099
		sip = $RELAY_P:5070
		peer = $OFFICE_B:5060
		channels = 2
		allow = $OFFICE_B/32

		[trunk carrier-a]
		interface = right0
		address = $RELAY_T
		ports = 30000-30099
		sip = $RELAY_T:5060
		peer = $CARRIER_A:5060
		latch = off
		channels = 3

		[trunk carrier-b]
		interface = right0
		address = $RELAY_T
		ports = 31000-31199
		sip = $RELAY_T:5070
		peer = $CARRIER_B:5060
		latch = off
		channels = 4
	EOF
}

# ---- SIPp ----

declare -A SIPP_PID
# uas NAME NS ADDR CALLS: a callee answering CALLS calls on ADDR:5060 (adm_uas.xml).
uas() {
	ip netns exec "$2" sipp -sf "$SIP_DIR/adm_uas.xml" -i "$3" -p 5060 -m "$4" -nostdin \
		-timeout 60 -timeout_error -trace_msg -message_file "$WORK/$1.msg" \
		>"$WORK/$1.out" 2>&1 &
	SIPP_PID[$1]=$!
	track $!
	wait_until 10 eval "[[ -n \$(ip netns exec $2 ss -Huan 'src $3:5060') ]]"
}
# uac NAME NS SRC PORT TARGET SCENARIO [SIPP-ARGS...]: a caller from SRC:PORT to TARGET.
uac() {
	local name=$1 ns=$2 src=$3 port=$4 target=$5 sf=$6
	shift 6
	ip netns exec "$ns" sipp -sf "$SIP_DIR/$sf" "$target" -s 1000 -i "$src" -p "$port" \
		-nostdin -timeout 30 -timeout_error -trace_msg -message_file "$WORK/$name.msg" \
		"$@" >"$WORK/$name.out" 2>&1 &
	SIPP_PID[$name]=$!
	track $!
}
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
# media NAME: "address port" of the first SDP SIPp NAME received
media() {
	received "$1" | awk '/^c=IN IP4/ && !c { c = $3 } /^m=audio/ && !m { m = $2 }
		END { print c, m }'
}

# ---- the lab ----

lab_up 93
ip -n "$NS_P" addr add "$OFFICE_B/24" dev eth0
ip -n "$NS_T" addr add "$CARRIER_B/24" dev eth0
write_config
check "xtrunkd --check-config accepts two [pbx NAME] and two [trunk NAME] sections" \
	quiet "$XTRUNKD" --check-config -c "$CONF"
if ! start_xtrunkd "$WORK/xtrunkd.log"; then
	fail "xtrunkd starts with four endpoints"
	sed 's/^/# /' "$XD_LOG"
	finish_tests endpoints
	exit 1
fi

# === 1. each endpoint as xtrunkctl and /metrics show it, idle ===
check_eq "trunk list -j: the four endpoints, their kinds, SIP addresses and channel limits" \
	"office-a:pbx:$RELAY_P:5060:1 office-b:pbx:$RELAY_P:5070:2 carrier-a:trunk:$RELAY_T:5060:3 carrier-b:trunk:$RELAY_T:5070:4" \
	"$(ctl -j trunk list | jq -r 'map("\(.side):\(.kind):\(.sip):\(.limit)") | join(" ")')"
check_eq "port list -j: each endpoint's own relay port range, all free" \
	"office-a:20000-20099:0/100 office-b:21000-21099:0/100 carrier-a:30000-30099:0/100 carrier-b:31000-31199:0/200" \
	"$(ctl -j port list | jq -r 'map("\(.side):\(.min)-\(.max):\(.used)/\(.free)") | join(" ")')"
check_eq "/metrics: xtrunk_channels_limit for each endpoint by name" \
	"office-a=1 office-b=2 carrier-a=3 carrier-b=4" "$(metrics xtrunk_channels_limit)"
check_eq "/metrics: xtrunk_relay_ports free, for each endpoint by name" \
	"office-a=100 office-b=100 carrier-a=100 carrier-b=200" \
	"$(metrics xtrunk_relay_ports ',state="free"')"
check "xtrunkd listens for SIP on each endpoint's own address and port" \
	eval "udp_bound $NS_R 5060 && udp_bound $NS_R 5070 &&
		[[ \$(ip netns exec $NS_R ss -Huan 'sport = :5070' | wc -l) == 2 ]]"

# === 2. a call from office-b goes to the first trunk, carrier-a ===
uas ca-uas "$NS_T" "$CARRIER_A" 1
uac ob-call "$NS_P" "$OFFICE_B" 5061 "$RELAY_P:5070" adm_uac_hold.xml -m 1 -d 3000
check "office-b's call: both endpoints it crosses hold a channel, the others none" \
	wait_until 10 eval '[[ $(metrics xtrunk_channels_active) == "office-a=0 office-b=1 carrier-a=1 carrier-b=0" ]]'
check_eq "office-b's call: 2 relay ports used on office-b and carrier-a only" \
	"office-a=0 office-b=2 carrier-a=2 carrier-b=0" "$(metrics xtrunk_relay_ports ',state="used"')"
finished ob-call
check_eq "office-b's call: answered and hung up (SIPp's scenario passes)" "0 1" \
	"$? $(calls ob-call Successful)"
finished ca-uas
check_eq "... carrier-a's SIPp took it" "0 1" "$? $(calls ca-uas Successful)"
read -r addr port <<<"$(media ca-uas)"
check "... carrier-a was offered carrier-a's relay address and a port of its range ($addr $port)" \
	test "$addr" == "$RELAY_T" -a "${port:-0}" -ge 30000 -a "${port:-0}" -le 30099
read -r addr port <<<"$(media ob-call)"
check "... office-b was answered with office-b's relay address and a port of its range ($addr $port)" \
	test "$addr" == "$RELAY_P" -a "${port:-0}" -ge 21000 -a "${port:-0}" -le 21099
check_eq "/metrics: the INVITE counted on office-b, the 200 on carrier-a" \
	"1 1 0" \
	"$(metric 'xtrunk_sip_requests_total{side="office-b",method="INVITE"}') $(metric 'xtrunk_sip_responses_total{side="carrier-a",class="2xx",code="200"}') $(metric 'xtrunk_sip_requests_total{side="office-a",method="INVITE"}')"
check "office-b's call ended: every channel and relay port is free again" \
	wait_until 10 eval '[[ $(metrics xtrunk_channels_active) == "office-a=0 office-b=0 carrier-a=0 carrier-b=0" &&
		$(metrics xtrunk_relay_ports ",state=\"used\"") == "office-a=0 office-b=0 carrier-a=0 carrier-b=0" ]]'

# === 3. a call from carrier-b goes to the first PBX, office-a; office-a's limit is 1 ===
uas oa-uas "$NS_P" "$OFFICE_A" 1
uac cb-call "$NS_T" "$CARRIER_B" 5061 "$RELAY_T:5070" adm_uac_hold.xml -m 1 -d 5000
check "carrier-b's call: carrier-b and office-a hold a channel" \
	wait_until 10 eval '[[ $(metrics xtrunk_channels_active) == "office-a=1 office-b=0 carrier-a=0 carrier-b=1" ]]'
uac cb-503 "$NS_T" "$CARRIER_B" 5062 "$RELAY_T:5070" adm_uac_503.xml -m 1
finished cb-503
check_eq "a second call from carrier-b gets 503: office-a's limit of 1 (carrier-b's 4 is not reached)" \
	"0 1 503" "$? $(calls cb-503 Successful) $(status_lines cb-503 | grep -o 503)"
check_eq "/metrics: that 503 counts on carrier-b, the endpoint it came from" "1 0" \
	"$(metric 'xtrunk_sip_requests_rejected_total{side="carrier-b",reason="channel_limit"}') $(metric 'xtrunk_sip_requests_rejected_total{side="office-a",reason="channel_limit"}')"
check "xtrunkd logs which endpoint was full" \
	grep -q 'endpoint carrier-b: INVITE refused (503): endpoint office-a has all 1 channels in use' "$XD_LOG"
finished cb-call
check_eq "carrier-b's first call: answered by office-a and hung up" "0 1" \
	"$? $(calls cb-call Successful)"
finished oa-uas
check_eq "... office-a's SIPp took it" "0 1" "$? $(calls oa-uas Successful)"
read -r addr port <<<"$(media oa-uas)"
check "... office-a was offered a port of office-a's range ($addr $port)" \
	test "$addr" == "$RELAY_P" -a "${port:-0}" -ge 20000 -a "${port:-0}" -le 20099
read -r addr port <<<"$(media cb-call)"
check "... carrier-b was answered with a port of carrier-b's range ($addr $port)" \
	test "$addr" == "$RELAY_T" -a "${port:-0}" -ge 31000 -a "${port:-0}" -le 31199

# === 4. each endpoint's own ACL ===
uac acl "$NS_P" "$OFFICE_A" 5063 "$RELAY_P:5070" adm_uac_403.xml -m 1
finished acl
check_eq "office-a's address calling office-b's SIP port gets 403 (office-b allows only $OFFICE_B)" \
	"0 403" "$? $(status_lines acl | grep -o 403)"
check_eq "/metrics: the 403 counts on office-b for acl, not on office-a" "1 0" \
	"$(metric 'xtrunk_sip_requests_rejected_total{side="office-b",reason="acl"}') $(metric 'xtrunk_sip_requests_rejected_total{side="office-a",reason="acl"}')"

check "stopping xtrunkd (SIGTERM) ends it cleanly" stop_xtrunkd
finish_tests endpoints
