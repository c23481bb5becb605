#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Benchmarks of xtrunk's data path (make bench). They run in a network
# namespace of their own, built here and removed on exit, pass or fail; only
# private addresses, nothing leaves the machine.
#
# Usage: tools/bench.sh [-l] [BENCHMARK...]   (default: every benchmark)
#
# To add a benchmark: write a bench_NAME function in its own section below,
# using the lab (or extending lab_up), and add NAME to BENCHMARKS.
set -euo pipefail

BUILD=${BUILD:-build}
BENCHMARKS=(xdp_relay)

NS=xtbench$$
RELAY_DEV=xtb0			# where the relay's packets arrive and leave
GW_DEV=xtb1			# its veth peer: the next hop's side
RELAY_NET_ADDR=10.200.0.1/24	# the relay host's address on RELAY_DEV
GATEWAY=10.200.0.2		# next hop towards the peers; never assigned, only a neighbour
RELAY_ADDR=10.200.1.1		# first relay (media) address; benchmarks add slots after it
PEER_NET=10.201.0.0/16		# where the peers live: routed through GATEWAY
SOURCE_ADDR=10.202.0.10		# the sending PBX

# One CPU for every timed run: the generator and the program share it anyway.
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
	gw_mac=$(in_ns cat "/sys/class/net/$GW_DEV/address")
	# Permanent, so bpf_fib_lookup resolves every peer without ARP.
	in_ns ip neigh replace "$GATEWAY" lladdr "$gw_mac" dev "$RELAY_DEV" nud permanent
	in_ns ip route add "$PEER_NET" via "$GATEWAY" dev "$RELAY_DEV"
	# bpf_fib_lookup answers BPF_FIB_LKUP_RET_FWD_DISABLED unless forwarding
	# is on for the ingress device; a new namespace starts with it off.
	in_ns sysctl -q -w "net.ipv4.conf.$RELAY_DEV.forwarding=1"
}

# --- xdp_relay: the relay program against a parse-and-XDP_TX baseline ----

bench_xdp_relay() {
	[ -x "$BUILD/bench_xdp" ] || die "$BUILD/bench_xdp is missing: run make first"
	in_ns taskset -c "$BENCH_CPU" "$BUILD/bench_xdp" -i "$RELAY_DEV" \
		--relay-addr "$RELAY_ADDR" --peer-net "$PEER_NET" --source "$SOURCE_ADDR"
}

# --- main ------------------------------------------------------------------

main() {
	local name

	if [ "${1:-}" = -l ]; then
		printf '%s\n' "${BENCHMARKS[@]}"
		return
	fi
	[ "$(id -u)" -eq 0 ] || die "needs root (BPF, network namespaces)"
	[ $# -gt 0 ] || set -- "${BENCHMARKS[@]}"
	for name in "$@"; do
		declare -F "bench_$name" >/dev/null || die "no benchmark named $name (-l lists them)"
	done

	trap lab_down EXIT
	lab_up
	for name in "$@"; do
		"bench_$name"
	done
}

main "$@"
