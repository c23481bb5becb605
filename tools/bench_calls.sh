#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# xtrunkd's control plane (make bench, section "calls"): the highest rate of
# calls that xtrunkd sets up and tears down with zero failed calls, and the
# time it adds to the INVITE->200 exchange, each against SIPp calling SIPp
# directly in the same run:
#
#   pbx (eth0 10.91.1.2) == (left0 10.91.1.1) relay (right0 10.91.2.1) == (eth0 10.91.2.2) trunk
#   pbx (dir0 10.91.3.2) ============== direct, the baseline ============= (dir0 10.91.3.3) trunk
#
# The SIPp UAC (tests/sip/bench_uac.xml) in the PBX namespace calls the SIPp
# UAS (tests/sip/bench_uas.xml) in the trunk namespace: an SDP offer and answer
# (so xtrunkd allocates relay ports and installs the call's four flows), no
# media, hung up as soon as it is answered. Both SIPps run on CPU 0, xtrunkd
# alone on the last CPU. The rate steps up (RATES); each step runs RATE x
# STEP_S calls with a fresh UAC and UAS and passes when every call succeeded
# on both ends, the UAC kept >= 95% of the rate and, via xtrunkd, xtrunkd is
# alive and holds no relay port once the calls are over. The first step that
# fails ends the ramp. The first step (LATENCY_S long) also logs every SIP
# message with SIPp's microsecond timestamps (-trace_msg; SIPp's own response
# times, -trace_rtt, count whole milliseconds): INVITE sent -> 200 received.
#
# Usage: tools/bench_calls.sh [-v]   (-v: one line per step on stderr)
# Everything (namespaces, xtrunkd, its pins under /sys/fs/bpf) is removed on
# exit, pass or fail; only private addresses, nothing leaves the machine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/netns.sh
source "$ROOT/tools/netns.sh"
# shellcheck source=tools/bench_lib.sh
source "$ROOT/tools/bench_lib.sh"
BUILD=${BUILD:-$ROOT/build}
[[ $BUILD == /* ]] || BUILD=$PWD/$BUILD
XTRUNKD=$BUILD/xtrunkd
SIP=$ROOT/tests/sip

read -ra RATES <<<"${CALLS_RATES:-200 400 600 800 1000 1500 2000 2500 3000 3500 4000 4500 6500 9000 12000}"
STEP_S=${CALLS_STEP_S:-3}	# seconds of calls per step
LATENCY_S=${CALLS_LATENCY_S:-5}	# the first step, whose INVITE->200 times are kept
GOAL_CPS=500

NS_PBX=xtcalls$$-pbx
NS_RELAY=xtcalls$$-relay
NS_TRUNK=xtcalls$$-trunk
PIN=/sys/fs/bpf/xtrunk-bench-$$
SIPP_CPU=0
XTRUNKD_CPU=$(($(nproc) - 1))
RELAY_PORTS_MIN=20000 # the relay ports of both sides, in the configuration below
RELAY_PORTS_MAX=59999

VERBOSE=0
MAX_direct=0 MAX_relay=0 STOP_direct='' STOP_relay='' # set by ramp
WORK=
XTRUNKD_PID=
UAS_PID=
UAC_PID=

die() {
	echo "bench_calls: $*" >&2
	exit 1
}

say() {
	[ "$VERBOSE" = 1 ] && echo "calls: $*" >&2
	return 0
}

# stop_pid PID: TERM, up to 5 s, then KILL.
stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	stop_pid "$UAC_PID"
	stop_pid "$UAS_PID"
	stop_pid "$XTRUNKD_PID" # detaches XDP and removes its pins
	for ns in "$NS_PBX" "$NS_RELAY" "$NS_TRUNK"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ -d "$PIN" ]; then # xtrunkd did not get to remove them
		rm -f "$PIN"/* 2>/dev/null || true
		rmdir "$PIN" 2>/dev/null || true
	fi
	[ -z "$WORK" ] || rm -rf "$WORK"
}

# --- the hosts and xtrunkd ---------------------------------------------------

lab_up() {
	mount | grep -q ' /sys/fs/bpf type bpf' || mount -t bpf bpf /sys/fs/bpf
	three_hosts "$NS_PBX" "$NS_RELAY" "$NS_TRUNK" 10.91.1 10.91.2 fd91:1 fd91:2
	# The baseline's wire: the PBX and the trunk side by side, no relay.
	ip link add dir0 netns "$NS_PBX" type veth peer name dir0 netns "$NS_TRUNK"
	ip -n "$NS_PBX" addr add 10.91.3.2/24 dev dir0
	ip -n "$NS_TRUNK" addr add 10.91.3.3/24 dev dir0
	ip -n "$NS_PBX" link set dir0 up
	ip -n "$NS_TRUNK" link set dir0 up
	ip -n "$NS_PBX" neigh replace 10.91.3.3 lladdr "$(_mac "$NS_TRUNK" dir0)" dev dir0 nud permanent
	ip -n "$NS_TRUNK" neigh replace 10.91.3.2 lladdr "$(_mac "$NS_PBX" dir0)" dev dir0 nud permanent
}

write_config() {
	cat >"$WORK/xtrunkd.conf" <<-EOF
		# bench_calls: 10,000 RTP/RTCP port pairs a side, freed at BYE
		[relay]
		xdp = native
		slots = 2
		pin_dir = $PIN
		control = $WORK/xtrunkd.sock

		[side pbx]
		interface = left0
		address = 10.91.1.1
		address6 = fd91:1::1
		sip = 10.91.1.1:5060
		peer = 10.91.1.2:5060
		ports = 20000-39999
		sip_rate = 0
		sip_rate_global = 0
		sip_rate_peer = 0
		setup_calls = 0
		setup_calls_per_source = 0

		[side trunk]
		interface = right0
		address = 10.91.2.1
		address6 = fd91:2::1
		sip = 10.91.2.1:5060
		peer = 10.91.2.2:5060
		ports = 40000-59999
		sip_rate = 0
		sip_rate_global = 0
		sip_rate_peer = 0
		setup_calls = 0
		setup_calls_per_source = 0
	EOF
	# Its own control socket, and no SIP rate limit (the benchmark is the
	# flood), where this xtrunkd has them.
	xtrunkd_config_fit "$XTRUNKD" "$NS_RELAY" "$WORK/xtrunkd.conf" || die "bad configuration"
}

start_xtrunkd() {
	write_config
	nsenter --net="/run/netns/$NS_RELAY" taskset -c "$XTRUNKD_CPU" \
		"$XTRUNKD" -c "$WORK/xtrunkd.conf" >"$WORK/xtrunkd.log" 2>&1 &
	XTRUNKD_PID=$!
	for _ in $(seq 100); do
		grep -q 'xtrunkd: ready' "$WORK/xtrunkd.log" && return 0
		kill -0 "$XTRUNKD_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$WORK/xtrunkd.log" >&2
	die "xtrunkd did not start"
}

# Relay ports xtrunkd holds (UDP sockets in its port ranges).
relay_ports_held() {
	ss -N "$NS_RELAY" -Huan | awk -v lo="$RELAY_PORTS_MIN" -v hi="$RELAY_PORTS_MAX" '
		{ n = split($4, a, ":"); p = a[n] + 0; if (p >= lo && p <= hi) held++ }
		END { print held + 0 }'
}

# --- SIPp ----------------------------------------------------------------------

# The value of a column of SIPp's statistics file (-trace_stat), last line.
stat_field() {
	awk -F';' -v name="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) col = i }
		{ last = $0 }
		END { if (!col) exit; split(last, f, ";"); print f[col] }' "$1"
}

# INVITE->200 times in ms, one a line, from a UAC's -trace_msg log: first
# INVITE sent to first 200 (CSeq INVITE) received, per Call-ID.
invite_200_ms() {
	awk '
		function done() {
			if (cid == "") return
			if (dir == "out" && start ~ /^INVITE / && !(cid in inv)) inv[cid] = ts
			if (dir == "in" && start ~ /^SIP\/2\.0 200/ && cseq ~ /INVITE/ && !(cid in ok))
				ok[cid] = ts
		}
		/^-+ [0-9]+-[0-9]+-[0-9]+ [0-9:.]+$/ {
			done()
			split($3, t, ":"); ts = t[1] * 3600 + t[2] * 60 + t[3]
			dir = ""; start = ""; cid = ""; cseq = ""; hdr = 1
			next
		}
		hdr == 1 { dir = $0 ~ /message sent/ ? "out" : "in"; hdr = 2; next }
		hdr == 2 && start == "" && NF { start = $0; next }
		tolower($1) == "call-id:" || tolower($1) == "i:" { cid = $2 }
		tolower($1) == "cseq:" { cseq = $3 }
		END {
			done()
			for (c in ok) if (c in inv) {
				d = ok[c] - inv[c]; if (d < 0) d += 86400
				printf "%.3f\n", d * 1000
			}
		}' "$1"
}

# percentile FILE P: nearest rank of the sorted numbers in FILE.
percentile() {
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
		if (!NR) exit; r = int(NR * p / 100); if (r < NR * p / 100) r++
		if (r < 1) r = 1; print v[r] }'
}

# wait_udp NS PORT: until something listens there (3 s at most).
wait_udp() {
	for _ in $(seq 300); do
		[ -n "$(ss -N "$1" -Hlun "sport = :$2")" ] && return 0
		sleep 0.01
	done
	return 1
}

# sipp_step PATH RATE SECONDS [trace]: one step; sets STEP_* (see below).
# PATH is "direct" or "relay".
sipp_step() {
	local path=$1 rate=$2 secs=$3 trace=${4:-} calls uac_ip uas_ip target rc=0 uas_rc=0
	local dir="$WORK/$path-$rate" uac_trace=()

	calls=$((rate * secs))
	if [ "$path" = direct ]; then
		uac_ip=10.91.3.2 uas_ip=10.91.3.3 target=10.91.3.3:5060
	else
		uac_ip=10.91.1.2 uas_ip=10.91.2.2 target=10.91.1.1:5060
	fi
	mkdir -p "$dir"
	# A step that passes ends within secs / 0.95: the UAC's -timeout (2 s
	# more) only cuts failing steps short, as the UAS's does a lost UAC.
	[ -z "$trace" ] || uac_trace=(-trace_msg -message_file "$dir/uac.msg")

	# 212992: net.core.rmem_max's default; SIPp's own 64 KB overflows first.
	ip netns exec "$NS_TRUNK" taskset -c "$SIPP_CPU" sipp -sf "$SIP/bench_uas.xml" \
		-i "$uas_ip" -p 5060 -m "$calls" -nostdin -buff_size 212992 \
		-recv_timeout 2000 -timeout "$((secs + 6))s" \
		-trace_stat -stf "$dir/uas.csv" -fd 1 >"$dir/uas.out" 2>&1 &
	UAS_PID=$!
	wait_udp "$NS_TRUNK" 5060 || die "the SIPp UAS did not start: $(cat "$dir/uas.out")"

	ip netns exec "$NS_PBX" taskset -c "$SIPP_CPU" sipp -sf "$SIP/bench_uac.xml" "$target" \
		-s 1000 -i "$uac_ip" -p 5060 -r "$rate" -m "$calls" -nostdin -buff_size 212992 \
		-recv_timeout 2000 -timeout "$((secs + 2))s" -timeout_error "${uac_trace[@]}" \
		-trace_stat -stf "$dir/uac.csv" -fd 1 >"$dir/uac.out" 2>&1 &
	UAC_PID=$!
	wait "$UAC_PID" || rc=$?
	UAC_PID=

	# The UAS ends by itself after its last BYE; a missing BYE ends it here.
	for _ in $(seq 25); do
		kill -0 "$UAS_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$UAS_PID" 2>/dev/null; then
		uas_rc=1
		stop_pid "$UAS_PID"
	else
		wait "$UAS_PID" || uas_rc=$?
	fi
	UAS_PID=

	STEP_OK=$(stat_field "$dir/uac.csv" 'SuccessfulCall(C)')
	STEP_FAILED=$(stat_field "$dir/uac.csv" 'FailedCall(C)')
	STEP_RATE=$(stat_field "$dir/uac.csv" 'CallRate(C)')
	STEP_RETRANS=$(stat_field "$dir/uac.csv" 'Retransmissions(C)')
	STEP_UAS_OK=$(stat_field "$dir/uas.csv" 'SuccessfulCall(C)')
	STEP_UAS_FAILED=$(stat_field "$dir/uas.csv" 'FailedCall(C)')
	: "${STEP_OK:=0}" "${STEP_FAILED:=$calls}" "${STEP_RATE:=0}" "${STEP_RETRANS:=0}"
	: "${STEP_UAS_OK:=0}" "${STEP_UAS_FAILED:=0}"
	# A call fails when either end says so, or never got there.
	STEP_LOST=$((calls - (STEP_OK < STEP_UAS_OK ? STEP_OK : STEP_UAS_OK)))
	STEP_WHY=
	if [ "$STEP_LOST" -gt 0 ] || [ "$rc" -ne 0 ] || [ "$uas_rc" -ne 0 ]; then
		STEP_WHY="$STEP_LOST of $calls failed"
		[ "$STEP_LOST" -gt 0 ] || STEP_WHY="SIPp exit $rc/$uas_rc"
	elif awk -v a="$STEP_RATE" -v r="$rate" 'BEGIN { exit !(a < 0.95 * r) }'; then
		STEP_WHY=$(printf 'reached %.0f cps' "$STEP_RATE")
	fi
	if [ "$path" = relay ]; then
		if ! kill -0 "$XTRUNKD_PID" 2>/dev/null; then
			STEP_WHY="${STEP_WHY:+$STEP_WHY, }xtrunkd died"
		elif [ -z "$STEP_WHY" ]; then
			# Every call ended: every relay port must be free again.
			local held
			for _ in $(seq 20); do
				held=$(relay_ports_held)
				[ "$held" -eq 0 ] && break
				sleep 0.1
			done
			[ "$held" -eq 0 ] || STEP_WHY="xtrunkd still holds $held relay ports"
		fi
	fi
	say "$(printf '%-6s %5d cps x %ds: %d/%d ok (UAS %d), achieved %.0f cps, %d retransmissions%s' \
		"$path" "$rate" "$secs" "$STEP_OK" "$calls" "$STEP_UAS_OK" "$STEP_RATE" \
		"$STEP_RETRANS" "${STEP_WHY:+: FAIL ($STEP_WHY)}")"
	[ -z "$STEP_WHY" ]
}

# ramp PATH: steps up the rates; sets MAX_<PATH>, STOP_<PATH>, LAT_<PATH>.
ramp() {
	local path=$1 rate secs first=1 max=0 stop=""

	# Warm up (first calls, next-hop resolution) and check the path works.
	sipp_step "$path" 50 1 >/dev/null || {
		[ "$path" = relay ] && tail -20 "$WORK/xtrunkd.log" >&2
		die "$path: 50 warm-up calls did not all succeed ($STEP_WHY); see above"
	}
	for rate in "${RATES[@]}"; do
		secs=$STEP_S
		[ -z "$first" ] || secs=$LATENCY_S
		if sipp_step "$path" "$rate" "$secs" ${first:+trace}; then
			max=$rate
		else
			stop="$rate cps: $STEP_WHY"
		fi
		if [ -n "$first" ]; then
			invite_200_ms "$WORK/$path-$rate/uac.msg" >"$WORK/$path.lat"
			first=
		fi
		[ -z "$stop" ] || break
	done
	[ -n "$stop" ] || stop="none up to ${RATES[-1]} cps"
	printf -v "MAX_$path" '%s' "$max"
	printf -v "STOP_$path" '%s' "$stop"
}

# --- main ----------------------------------------------------------------------

main() {
	local ratio goal med_d p99_d med_r p99_r t0

	[ "${1:-}" = -v ] && VERBOSE=1
	[ "$(id -u)" -eq 0 ] || die "needs root (BPF, network namespaces)"
	command -v sipp >/dev/null || die "sipp is missing (make deps)"
	[ -x "$XTRUNKD" ] || die "$XTRUNKD is missing: run make first"
	[ "$XTRUNKD_CPU" -gt "$SIPP_CPU" ] || echo "bench_calls: one CPU: xtrunkd shares it with SIPp" >&2
	t0=$SECONDS

	trap cleanup EXIT
	trap 'exit 130' INT TERM
	WORK=$(mktemp -d /tmp/xtcalls.XXXXXX)
	lab_up

	echo "calls  xtrunkd vs SIPp calling SIPp directly: INVITE (SDP) -> 180 -> 200 (SDP) -> ACK -> BYE -> 200," \
		"no media; xtrunkd on CPU $XTRUNKD_CPU, SIPp on CPU $SIPP_CPU; steps of ${STEP_S} s" \
		"(the first ${LATENCY_S} s, timed) at ${RATES[*]} cps until a call fails or the rate falls below 95%"
	ramp direct
	start_xtrunkd
	ramp relay

	ratio=$(awk -v r="$MAX_relay" -v d="$MAX_direct" 'BEGIN { printf "%.2f", d ? r / d : 0 }')
	goal=$([ "$MAX_relay" -ge "$GOAL_CPS" ] && echo met || echo MISSED)
	printf 'calls  direct  max %d cps (0 failed)  via xtrunkd  max %d cps (0 failed)  ratio %s  goal >= %d cps: %s\n' \
		"$MAX_direct" "$MAX_relay" "$ratio" "$GOAL_CPS" "$goal"
	printf 'calls  first failing step: direct %s; via xtrunkd %s\n' "$STOP_direct" "$STOP_relay"

	if [ -s "$WORK/direct.lat" ] && [ -s "$WORK/relay.lat" ]; then
		med_d=$(percentile "$WORK/direct.lat" 50)
		p99_d=$(percentile "$WORK/direct.lat" 99)
		med_r=$(percentile "$WORK/relay.lat" 50)
		p99_r=$(percentile "$WORK/relay.lat" 99)
		awk -v md="$med_d" -v pd="$p99_d" -v mr="$med_r" -v pr="$p99_r" \
			-v n="$(wc -l <"$WORK/relay.lat")" -v rate="${RATES[0]}" 'BEGIN {
			fmt = "calls  INVITE->200 added by xtrunkd: median %.2f ms, p99 %.2f ms"
			fmt = fmt " (direct median %.2f ms, p99 %.2f ms; via xtrunkd %.2f ms, %.2f ms:"
			fmt = fmt " ratio %.1f, %.1f) at %d cps, %d calls\n"
			printf fmt, mr - md, pr - pd, md, pd, mr, pr, (md > 0 ? mr / md : 0),
				(pd > 0 ? pr / pd : 0), rate, n
		}'
	else
		echo "calls  INVITE->200 added by xtrunkd: not measured (the ${RATES[0]} cps step failed)"
	fi
	say "done in $((SECONDS - t0)) s"
}

main "$@"
