#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Benchmarks of xtrunk's data path and of xtrunkd's control plane (make
# bench). They run in network namespaces of their own, built here (calls: in
# tools/bench_calls.sh) and removed on exit, pass or fail; only private
# addresses, nothing leaves the machine.
#
# Usage: tools/bench.sh [-l] [BENCHMARK...]   (default: every benchmark)
#
# Each benchmark's output also goes to $BENCH_OUT/NAME.log (default
# bench-results/, with the plot data), and BENCHMARKS.md and its plots
# (doc/bench/) are written from them at the end (tools/bench_report.sh): a
# full run starts them afresh; naming benchmarks reruns only those and keeps
# the others' last results, each dated in the report.
#
# To add a benchmark: write a bench_NAME function in its own section below,
# using the lab (or extending lab_up), and add NAME to BENCHMARKS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
BENCHMARKS=(xdp_relay xdp_relay_rtp xdp_relay_partial xdp_relay_fib xdp_steps throughput flows calls rss scrape)
export BENCH_OUT=${BENCH_OUT:-$ROOT/bench-results}
REPORT=${BENCH_REPORT:-$ROOT/BENCHMARKS.md}
PLOTS=${BENCH_PLOTS:-$ROOT/doc/bench}

NS=xtbench$$
RELAY_DEV=xtb0			# where the relay's packets arrive and leave
GW_DEV=xtb1			# its veth peer: the next hop's side
RELAY_NET_ADDR=10.200.0.1/24	# the relay host's address on RELAY_DEV
GATEWAY=10.200.0.2		# next hop towards the peers; never assigned, only a neighbour
RELAY_NET=10.200.1.0/24		# the relay's media addresses, all local (AnyIP)
RELAY_ADDR=10.200.1.1		# the first of them; bench_xdp uses one per slot after it
PEER_NET=10.201.0.0/16		# where the peers live: routed through GATEWAY
SOURCE_ADDR=10.202.0.10		# the sending PBX

# BPF_PROG_TEST_RUN runs the program on the calling CPU: keep every run on one.
BENCH_CPU=$(($(nproc) - 1))

die() {
	echo "bench: $*" >&2
	exit 1
}

in_ns() {
	ip netns exec "$NS" "$@"
}

# --- the lab: one namespace, one veth pair, a routed peer subnet ----------

lab_down() {
	ip netns del "$NS" 2>/dev/null || true
}

lab_up() {
	local gw_mac

	ip netns add "$NS"
	in_ns ip link set lo up
	in_ns ip link add "$RELAY_DEV" type veth peer name "$GW_DEV"
	in_ns ip link set "$RELAY_DEV" up
	in_ns ip link set "$GW_DEV" up
	in_ns ip addr add "$RELAY_NET_ADDR" dev "$RELAY_DEV"
	# Local, as on a real relay: resolving a next hop asks for a route from them.
	in_ns ip route add local "$RELAY_NET" dev lo
	gw_mac=$(in_ns cat "/sys/class/net/$GW_DEV/address")
	# Permanent, so the next hop of every peer resolves without ARP, for the
	# controller's cache and bpf_fib_lookup alike.
	in_ns ip neigh replace "$GATEWAY" lladdr "$gw_mac" dev "$RELAY_DEV" nud permanent
	in_ns ip route add "$PEER_NET" via "$GATEWAY" dev "$RELAY_DEV"
	# A relay is an endpoint, not a router: forwarding stays off unless a
	# benchmark needs it.
	in_ns sysctl -q -w net.ipv4.ip_forward=0
}

# --- xdp_relay: the relay program against a parse-and-XDP_TX baseline ----

bench_xdp() {
	[ -x "$BUILD/bench_xdp" ] || die "$BUILD/bench_xdp is missing: run make first"
	in_ns taskset -c "$BENCH_CPU" "$BUILD/bench_xdp" -i "$RELAY_DEV" \
		--relay-addr "$RELAY_ADDR" --peer-net "$PEER_NET" --source "$SOURCE_ADDR" "$@"
}

# Flows as the controller installs them: next hop resolved once, cached in each.
bench_xdp_relay() {
	bench_xdp
}

# --- xdp_relay_rtp: the same, flows keeping RTP statistics (audio) ------

bench_xdp_relay_rtp() {
	bench_xdp --rtp
}

# --- xdp_relay_partial: RTP flows, every checksum partial (veth senders) ---

bench_xdp_relay_partial() {
	bench_xdp --rtp --partial -f 1,10000
}

# --- xdp_steps: what each step of the relay costs (an ablation) ---------

bench_xdp_steps() {
	NS=$NS RELAY_DEV=$RELAY_DEV RELAY_ADDR=$RELAY_ADDR PEER_NET=$PEER_NET \
		SOURCE_ADDR=$SOURCE_ADDR BENCH_CPU=$BENCH_CPU BUILD=$BUILD \
		"$(dirname "${BASH_SOURCE[0]}")/bench_steps.sh"
}

# --- xdp_relay_fib: the same, flows without a next hop (bpf_fib_lookup) ---

bench_xdp_relay_fib() {
	# bpf_fib_lookup answers BPF_FIB_LKUP_RET_FWD_DISABLED unless forwarding
	# is on for the ingress device (that device alone is enough).
	in_ns sysctl -q -w "net.ipv4.conf.$RELAY_DEV.forwarding=1"
	bench_xdp --fib
	in_ns sysctl -q -w "net.ipv4.conf.$RELAY_DEV.forwarding=0"
}

# --- throughput: packets/s through veths, xtrunk vs a bare XDP forwarder ---

# In-kernel traffic (tools/rtpgen) through three hosts of its own: flat-out
# packets/s against the bare forwarder, and the paced G.711 capacity.
bench_throughput() {
	BUILD="$BUILD" "$(dirname "${BASH_SOURCE[0]}")/bench_throughput.sh"
}

# --- flows: a million flows: install, remove, memory, throughput 1k vs 1M --

# Its own three hosts and xtrunk attached with 16 address slots
# (tools/bench_flows.sh, tools/bench_flows.c).
bench_flows() {
	BUILD="$BUILD" "$(dirname "${BASH_SOURCE[0]}")/bench_flows.sh"
}

# --- calls: xtrunkd's SIP control plane against SIPp calling SIPp directly -

# Calls per second with zero failed calls and the INVITE->200 time xtrunkd
# adds. It builds its own three hosts and runs xtrunkd (tools/bench_calls.sh),
# not the lab above.
bench_calls() {
	BUILD="$BUILD" "$(dirname "${BASH_SOURCE[0]}")/bench_calls.sh"
}

# --- rss: xtrunkd's memory with as many calls up as fit --------------------

bench_rss() {
	BUILD="$BUILD" "$(dirname "${BASH_SOURCE[0]}")/bench_rss.sh"
}

# --- scrape: a Prometheus scrape of xtrunkd at 0, 2 and 100,000 flows -----

bench_scrape() {
	BUILD="$BUILD" "$(dirname "${BASH_SOURCE[0]}")/bench_scrape.sh"
}

# --- main ------------------------------------------------------------------

# run NAME: the benchmark, its output on stdout and in $BENCH_OUT/NAME.log
run() {
	local log=$BENCH_OUT/$1.log rc
	echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs" >"$log"
	set +e
	"bench_$1" 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
	set -e
	[ "$rc" -eq 0 ] || echo "bench: $1 failed (exit $rc)" | tee -a "$log" >&2
	return "$rc"
}

main() {
	local name

	if [ "${1:-}" = -l ]; then
		printf '%s\n' "${BENCHMARKS[@]}"
		return
	fi
	[ "$(id -u)" -eq 0 ] || die "needs root (BPF, network namespaces)"
	mkdir -p "$BENCH_OUT"
	if [ $# -eq 0 ]; then
		set -- "${BENCHMARKS[@]}"
		rm -f "$BENCH_OUT"/*.log "$BENCH_OUT"/*.dat
	fi
	for name in "$@"; do
		declare -F "bench_$name" >/dev/null || die "no benchmark named $name (-l lists them)"
	done

	trap lab_down EXIT
	trap 'exit 130' INT TERM
	lab_up
	failed=0
	for name in "$@"; do
		run "$name" || failed=$((failed + 1))
	done
	"$ROOT/tools/bench_report.sh" "$BENCH_OUT" "$REPORT" "$PLOTS"
	echo "bench: $REPORT written (plots in $PLOTS)"
	[ "$failed" -eq 0 ] || die "$failed benchmark(s) failed"
}

main "$@"
