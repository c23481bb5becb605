#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Relay throughput and capacity on veth, measured with tools/rtpgen (traffic
# made in the kernel with BPF_PROG_TEST_RUN live frames, counted and dropped
# by an XDP sink):
#
#   generator (eth0) ==veth== (left0) relay (right0) ==veth== (eth0) sink
#
# 1. packets/s the relay forwards flat out: xtrunk's XDP relay against a bare
#    XDP redirect forwarder (no parsing, no lookup) on the same devices, in
#    the same run, with the traffic on 1 and on 20,000 flows (80,000
#    installed, on two relay addresses, as tools/bench_flows installs them).
# 2. capacity: paced G.711 streams (50 packets/s each) relayed with loss under
#    0.1%, up to 80,000 streams, counting only what reached the relay (the
#    generator's own transmit drops, ring overflows on the sending veth, are
#    reported apart).
# 3. the userspace relays, one call, XDP detached: xtrunkd --no-xdp
#    (a SIPp call, tests/sip/bench_hold_uac.xml and bench_uas.xml, sets up the
#    stream; its relay port is the one xtrunkd bound) and rtpengine's userspace
#    relay (table -1, offer/answer over its NG protocol with tools/ng_client)
#    when it is installed (tools/deps.sh bench). Each gets CPU 0 to itself.
#
# Flat-out figures: the median over 5 rounds (ROUNDS) of runs of 2 s (SECONDS_FLAT).
# Generator, relay and sink share one CPU (veth runs the receiver's NAPI on
# the sender's CPU): absolute figures describe this VM, the ratio is the point.
# With BENCH_OUT set, also writes $BENCH_OUT/capacity.dat (plot data).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
source "$ROOT/tools/netns.sh"
source "$ROOT/tools/bench_lib.sh"

TAG=$$
NS_GEN=xtg-gen-$TAG
NS_RELAY=xtg-relay-$TAG
NS_SINK=xtg-sink-$TAG
PIN=/sys/fs/bpf/xtrunk-throughput-$TAG
SECONDS_FLAT=${SECONDS_FLAT:-2}
SECONDS_PACED=${SECONDS_PACED:-3}
ROUNDS=${ROUNDS:-5} # flat-out figures: rounds of bare forwarder then xtrunk, the median ratio
FLOWS_INSTALLED=80000 # on two relay addresses, 40,000 ports each (tools/bench_flows)
PORTS_PER_ADDR=40000
MAX_FLOWS=20000 # the flat-out figure's
CPU=$(($(nproc) - 1))
RELAY_CPU=0 # the userspace relays' CPU
WORK=$(mktemp -d /tmp/xtthroughput.XXXXXX)
PIDS=()

# stop_pid PID: TERM, up to 5 s, then KILL.
stop_pid() {
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	if [[ -e $PIN ]]; then
		ctl iface detach left0 >/dev/null 2>&1 || true
		ctl iface detach right0 >/dev/null 2>&1 || true
	fi
	for ns in "$NS_GEN" "$NS_RELAY" "$NS_SINK"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$PIN"
	[[ -n ${BENCH_KEEP:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctl() { nsenter --net="/run/netns/$NS_RELAY" "$BUILD/xtrunkctl" --pin-dir "$PIN" "$@"; }

tx_errors() {
	ip netns exec "$NS_GEN" ethtool -S eth0 | awk '/xdp_xmit_errors/ {print $2; exit}' ||
		echo 0
}

# rtpgen ARGS...: prints "sent received tx_errors pps seconds"
rtpgen() {
	local before after line
	before=$(tx_errors)
	line=$(taskset -c "$CPU" "$BUILD/rtpgen" --gen "$NS_GEN:eth0" --dst-mac "$RELAY_MAC" \
		--src 10.66.1.2 --dst 10.68.0.1 --dst-port 2000 --port-step 1 \
		--ports-per-addr "$PORTS_PER_ADDR" --sink "$NS_SINK:eth0" "$@")
	after=$(tx_errors)
	awk -v err=$((${after:-0} - ${before:-0})) \
		'{for (i = 1; i < NF; i++) v[$i] = $(i + 1); print v["sent"], v["received"], err, v["received_pps"], v["seconds"]}' \
		<<<"$line"
}

# Flow i at 10.68.0.1 + i / 40000, port 2000 + i % 40000, to the sink: the
# flows xtrunkd installs (RTP statistics on even ports), batched.
install_flows() {
	nsenter --net="/run/netns/$NS_RELAY" "$BUILD/bench_flows" --pin-dir "$PIN" add \
		--flows "$1" --relay-base 10.68.0.1 --ports-per-addr "$PORTS_PER_ADDR" --first-port 2000 \
		--via 10.66.2.1 --peer 10.66.2.2 --src 10.66.1.2 >/dev/null
}

three_hosts "$NS_GEN" "$NS_RELAY" "$NS_SINK" 10.66.1 10.66.2 fd66:1 fd66:2
RELAY_MAC=$(ip -n "$NS_RELAY" -j link show left0 | jq -r '.[0].address')

# --- 1. flat out: bare forwarder vs xtrunk ---
# Round after round, the bare forwarder and then xtrunk on the same stream
# counts, one right after the other: this VM's speed drifts by 10% and more
# between runs seconds apart, so each round gives its own ratio, and the
# figure is the median of the rounds' ratios (with the median packets/s).
flat_pps() {
	local pps
	read -r _ _ _ pps _ < <(rtpgen --seconds "$SECONDS_FLAT" "$@")
	echo "${pps%.*}"
}

# Attaching creates and pins the maps. xtrunk stays on right0, where it
# takes no part in this traffic (packets only leave there), so that the
# flows stay installed while left0 takes the bare forwarder in turn.
ctl iface attach left0 >/dev/null
ctl iface attach right0 >/dev/null
install_flows "$FLOWS_INSTALLED"
ctl iface detach left0 >/dev/null
declare -a BARE1 BAREN ONE MANY R1 R2
for round in $(seq "$ROUNDS"); do
	BARE1+=("$(flat_pps --streams 1 --forward "$NS_RELAY:left0:right0")")
	BAREN+=("$(flat_pps --streams "$MAX_FLOWS" --forward "$NS_RELAY:left0:right0")")
	ctl iface attach left0 >/dev/null
	ONE+=("$(flat_pps --streams 1)")
	MANY+=("$(flat_pps --streams "$MAX_FLOWS")")
	ctl iface detach left0 >/dev/null
	i=$((round - 1))
	R1+=("$(awk -v a="${ONE[$i]}" -v b="${BARE1[$i]}" 'BEGIN { printf "%.3f", b ? a / b : 0 }')")
	R2+=("$(awk -v a="${MANY[$i]}" -v b="${BAREN[$i]}" 'BEGIN { printf "%.3f", b ? a / b : 0 }')")
	printf 'throughput  round %d: bare %s / xtrunk %s pps on 1 stream (%s), bare %s / xtrunk %s pps on %d (%s)\n' \
		"$round" "${BARE1[$i]}" "${ONE[$i]}" "${R1[$i]}" "${BAREN[$i]}" "${MANY[$i]}" "$MAX_FLOWS" "${R2[$i]}"
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r >= g ? "met" : "MISSED") }'; }
mpps() { awk -v p="$1" 'BEGIN { printf "%.2f", p / 1e6 }'; }

one_pps=$(median "${ONE[@]}")
r1=$(printf '%.2f' "$(median "${R1[@]}")")
r2=$(printf '%.2f' "$(median "${R2[@]}")")
# The goal: xtrunk at 0.80 of the bare forwarder, RTP statistics and the
# partial-checksum test included (flows on even ports keep statistics).
GOAL=0.80
printf 'throughput  bare XDP redirect %s Mpps  xtrunk 1 flow %s Mpps  ratio %s (goal >= %s) %s  (medians of %d rounds; ratios %s-%s)\n' \
	"$(mpps "$(median "${BARE1[@]}")")" "$(mpps "$(median "${ONE[@]}")")" "$r1" "$GOAL" "$(verdict "$r1" "$GOAL")" "$ROUNDS" \
	"$(printf '%s\n' "${R1[@]}" | sort -g | head -1)" "$(printf '%s\n' "${R1[@]}" | sort -g | tail -1)"
printf 'throughput  bare XDP redirect %s Mpps  xtrunk %d flows %s Mpps  ratio %s (goal >= %s) %s  (medians of %d rounds; ratios %s-%s)\n' \
	"$(mpps "$(median "${BAREN[@]}")")" "$MAX_FLOWS" "$(mpps "$(median "${MANY[@]}")")" "$r2" "$GOAL" "$(verdict "$r2" "$GOAL")" "$ROUNDS" \
	"$(printf '%s\n' "${R2[@]}" | sort -g | head -1)" "$(printf '%s\n' "${R2[@]}" | sort -g | tail -1)"
ctl iface attach left0 >/dev/null

# --- 2. capacity: paced streams with loss under 0.1% ---
best=0
[[ -z ${BENCH_OUT:-} ]] || echo "# streams calls relayed_pps loss_percent" >"$BENCH_OUT/capacity.dat"
for streams in 1000 5000 10000 20000 30000 40000 50000 60000 80000; do
	read -r sent received errors pps secs < <(rtpgen --streams "$streams" --rate 50 \
		--seconds "$SECONDS_PACED")
	reached=$((sent - errors))
	loss=$(awk -v r="$reached" -v g="$received" 'BEGIN { printf "%.3f", r ? 100 * (r - g) / r : 100 }')
	ok=$(awk -v l="$loss" 'BEGIN { print (l < 0.1 ? 1 : 0) }')
	# The generator shares the core: past some load it cannot offer all of it,
	# and a load not offered is not a load relayed.
	offered=$(awk -v s="$sent" -v t="$secs" -v n="$streams" 'BEGIN { print ((t > 0 && s / t >= 0.97 * n * 50) ? 1 : 0) }')
	printf 'capacity    %5d one-way G.711 streams (= %5d two-way calls)' "$streams" $((streams / 2))
	if [[ $offered != 1 ]]; then
		printf '  generator sent only %.0f pps of %d: the core the generator, relay and sink share is full  stop\n' \
			"$(awk -v s="$sent" -v t="$secs" 'BEGIN { print (t > 0 ? s / t : 0) }')" $((streams * 50))
		GEN_LIMITED=1
		break
	fi
	printf '  relayed %s pps  loss %s%% at the relay  generator tx drops %d  %s\n' \
		"${pps%.*}" "$loss" "$errors" "$([[ $ok == 1 ]] && echo ok || echo 'over 0.1%')"
	[[ -z ${BENCH_OUT:-} ]] || echo "$streams $((streams / 2)) ${pps%.*} $loss" >>"$BENCH_OUT/capacity.dat"
	[[ $ok == 1 ]] || break
	best=$streams
done
printf 'capacity    largest paced load tried with loss under 0.1%%: %d streams = %d two-way G.711 calls (generator, relay and sink on one core%s)\n' \
	"$best" $((best / 2)) "${GEN_LIMITED:+; a lower bound: their one core could not offer the next step}"

# --- 3. the userspace relays: xtrunkd --no-xdp and rtpengine, one call ---

ctl iface detach left0 >/dev/null
ctl iface detach right0 >/dev/null
# Without an XDP program a veth takes XDP_TX'd frames only with GRO on.
ip netns exec "$NS_RELAY" ethtool -K left0 gro on >/dev/null
ip netns exec "$NS_RELAY" ethtool -K right0 gro on >/dev/null

# The generator's stream 0 comes from 10.66.1.2:40000 (the PBX's SDP); the
# trunk's SDP puts the media at the sink, 10.66.2.2:20000.
PBX_MEDIA_PORT=40000
TRUNK_MEDIA_PORT=20000

# relay_port_bound ADDR LO HI: the lowest even UDP port bound at ADDR in LO-HI
relay_port_bound() {
	ss -N "$NS_RELAY" -Huan | awk -v a="$1" -v lo="$2" -v hi="$3" '
		{ n = split($4, f, ":"); p = f[n] + 0; addr = substr($4, 1, length($4) - length(f[n]) - 1)
		  if (addr == a && p >= lo && p <= hi && p % 2 == 0 && (!best || p < best)) best = p }
		END { if (best) print best }'
}

# userspace_pps PORT: "PPS LOAD", the most packets/s a userspace relay at its
# PBX side port PORT delivered, one stream, over offered loads stepping up to
# flat out. Stepping up, not flooding first: once its receive queue had
# overflowed, rtpengine kept discarding at every load; and paced smoothly
# (rtpgen --smooth), as rtpengine discards after bursts too. What counts is
# what arrived, not the offered load.
userspace_pps() {
	local best=0 at=0 load pps rate sweep="" sent secs
	for load in 25000 50000 100000 200000 400000 0; do
		rate=()
		[[ $load == 0 ]] || rate=(--rate "$load" --smooth)
		sent=0 secs=0
		read -r sent _ _ pps secs < <(rtpgen --streams 1 --seconds "$SECONDS_FLAT" \
			--dst 10.66.1.1 --dst-port "$1" "${rate[@]}")
		pps=${pps%.*}
		sweep+=" $(awk -v s="$sent" -v t="$secs" 'BEGIN { printf "%.0f", (t > 0 ? s / t : 0) }')->${pps:-0}"
		if [[ ${pps:-0} -gt $best ]]; then
			best=$pps at=$load
		fi
	done
	echo "$best $at$sweep"
}

xtrunkd_userspace() {
	local log=$WORK/xtrunkd.log port=
	cat >"$WORK/xtrunkd.conf" <<-EOF
		[relay]
		xdp = native
		media_timeout = 3600
		pin_dir = $PIN-xtrunkd
		metrics = 127.0.0.1:9477
		control = $WORK/xtrunkd.sock

		[side pbx]
		interface = left0
		address = 10.66.1.1
		sip = 10.66.1.1:5060
		peer = 10.66.1.2:5060
		ports = 30000-30099
		sip_rate = 0
		sip_rate_global = 0
		sip_rate_peer = 0
		setup_calls = 0
		setup_calls_per_source = 0

		[side trunk]
		interface = right0
		address = 10.66.2.1
		sip = 10.66.2.1:5060
		peer = 10.66.2.2:5060
		ports = 31000-31099
	EOF
	# its own control socket (not the system's), where xtrunkd has one
	xtrunkd_config_fit "$BUILD/xtrunkd" "$NS_RELAY" "$WORK/xtrunkd.conf" 2>"$WORK/config.err" ||
		{ WHY="bad configuration: $(tr '\n' ' ' <"$WORK/config.err")"; return 1; }
	nsenter --net="/run/netns/$NS_RELAY" taskset -c "$RELAY_CPU" "$BUILD/xtrunkd" \
		-c "$WORK/xtrunkd.conf" --no-xdp >"$log" 2>&1 &
	XTRUNKD_PID=$!
	PIDS+=("$XTRUNKD_PID")
	for _ in $(seq 100); do
		grep -q 'xtrunkd: ready' "$log" && break
		kill -0 "$XTRUNKD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q 'xtrunkd: ready' "$log"; then
		WHY="xtrunkd did not start: $(tail -3 "$log" | tr '\n' ' ')"
		return 1
	fi
	ip netns exec "$NS_SINK" taskset -c "$RELAY_CPU" sipp -sf "$ROOT/tests/sip/bench_uas.xml" \
		-i 10.66.2.2 -p 5060 -mp "$TRUNK_MEDIA_PORT" -m 1 -nostdin >"$WORK/uas.out" 2>&1 &
	PIDS+=($!)
	sleep 0.3
	ip netns exec "$NS_GEN" taskset -c "$RELAY_CPU" sipp -sf "$ROOT/tests/sip/bench_hold_uac.xml" \
		10.66.1.1:5060 -i 10.66.1.2 -p 5060 -mp "$PBX_MEDIA_PORT" -m 1 -d 60000 -nostdin \
		>"$WORK/uac.out" 2>&1 &
	PIDS+=($!)
	# The call is up once the answer's flows exist: xtrunkd logs nothing we
	# rely on, so wait for the PBX side's relay port, then for the ACK.
	for _ in $(seq 50); do
		port=$(relay_port_bound 10.66.1.1 30000 30099)
		[[ -n $port ]] && break
		sleep 0.1
	done
	if [[ -z $port ]]; then
		WHY="no relay port bound after the INVITE: $(tail -3 "$log" | tr '\n' ' ')"
		return 1
	fi
	sleep 1
	USERSPACE_PORT=$port
}

rtpengine_userspace() {
	local offer answer port
	command -v rtpengine >/dev/null ||
		{ WHY="rtpengine is not installed (tools/deps.sh bench installs rtpengine-daemon)"; return 1; }
	nsenter --net="/run/netns/$NS_RELAY" taskset -c "$RELAY_CPU" rtpengine --table=-1 \
		--interface=pbx/10.66.1.1 --interface=trunk/10.66.2.1 --listen-ng=127.0.0.1:2223 \
		--port-min=32000 --port-max=32999 --foreground --log-stderr --log-level=4 \
		--pidfile="$WORK/rtpengine.pid" >"$WORK/rtpengine.log" 2>&1 &
	RTPENGINE_PID=$!
	PIDS+=("$RTPENGINE_PID")
	for _ in $(seq 50); do
		[[ -n $(ss -N "$NS_RELAY" -Hlun 'sport = :2223') ]] && break
		sleep 0.1
	done
	offer=$(printf 'v=0\r\no=pbx 1 1 IN IP4 10.66.1.2\r\ns=-\r\nc=IN IP4 10.66.1.2\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n' "$PBX_MEDIA_PORT" |
		ng call-id=bench1 command=offer from-tag=pbx1 'direction=[pbx,trunk]' sdp=-) ||
		{ WHY="NG offer failed: $offer"; return 1; }
	answer=$(printf 'v=0\r\no=trunk 1 1 IN IP4 10.66.2.2\r\ns=-\r\nc=IN IP4 10.66.2.2\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n' "$TRUNK_MEDIA_PORT" |
		ng call-id=bench1 command=answer from-tag=pbx1 to-tag=trunk1 sdp=-) ||
		{ WHY="NG answer failed: $answer"; return 1; }
	port=$(awk '/^m=audio/ { print $2; exit }' <<<"$answer")
	[[ -n $port ]] || { WHY="no m=audio port in rtpengine's answer"; return 1; }
	RTPENGINE_PORT=$port
}

ng() { nsenter --net="/run/netns/$NS_RELAY" "$BUILD/ng_client" 127.0.0.1 2223 "$@" 2>&1; }

xdp_vs() { # NAME "PPS LOAD": the ratio line of a userspace relay
	local r pps load sweep
	read -r pps load sweep <<<"$2"
	printf 'throughput  userspace %s packets/s sent->delivered, paced loads then flat out:%s\n' "$1" "$sweep"
	if [[ ${pps:-0} -lt 1000 ]]; then
		printf 'throughput  userspace %s: not measured: at most %s packets/s reached the sink\n' "$1" "${pps:-0}"
		return
	fi
	r=$(awk -v a="$one_pps" -v b="$pps" 'BEGIN { printf "%.1f", b ? a / b : 0 }')
	[[ $load == 0 ]] && load="flat out" || load="$load pps"
	printf 'throughput  userspace %s 1 call %s Mpps (best at offered load %s)  xtrunk XDP 1 flow %s Mpps  ratio %sx (goal >= 10x) %s\n' \
		"$1" "$(mpps "$pps")" "$load" "$(mpps "$one_pps")" "$r" "$(verdict "$r" 10)"
}

WHY=
if xtrunkd_userspace; then
	xtrunkd_pps=$(userspace_pps "$USERSPACE_PORT")
	xdp_vs "xtrunkd --no-xdp" "$xtrunkd_pps"
else
	echo "throughput  userspace xtrunkd --no-xdp: not measured: $WHY"
fi
stop_pid "$XTRUNKD_PID"

WHY=
if rtpengine_userspace; then
	rtpengine_pps=$(userspace_pps "$RTPENGINE_PORT")
	xdp_vs "rtpengine $(rtpengine --version 2>&1 | awk '{ print $2; exit }') (table -1)" "$rtpengine_pps"
	ng call-id=bench1 command=delete from-tag=pbx1 >/dev/null || true
	stop_pid "$RTPENGINE_PID"
else
	echo "throughput  userspace rtpengine: not measured: $WHY"
fi
