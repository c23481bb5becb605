#!/usr/bin/env bash
# BPF packet tests: build a private network namespace whose routes and
# permanent neighbours bpf_fib_lookup() resolves, and run build/test_packets
# in it. Packet tests need no pinned maps, so `ip netns exec` is fine here.
#
# The addresses and neighbour MACs are the ones tests/pkt/test_packets.c
# expects: change both files together. Nothing is sent; no traffic leaves.
#
# Usage: tests/pkt/run.sh        (as root; exits non-zero when a case fails)
set -euo pipefail

XT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XT_BUILD=${XT_BUILD:-$XT_ROOT/build}
TEST_PACKETS=$XT_BUILD/test_packets
NS=xt-pkt-$$

GATEWAY_MAC=02:00:00:01:00:fe   # next hop to the trunk, on the ingress link
PBX_B_MAC=02:00:00:02:00:02     # peer on the egress link
BARE_PEER_MAC=02:00:00:03:00:02 # peer on the unattached device's link

if [[ $(id -u) -ne 0 ]]; then
	echo "$0: needs root (BPF, network namespaces)" >&2
	exit 1
fi
if [[ ! -x $TEST_PACKETS ]]; then
	make -C "$XT_ROOT" -s "build/test_packets"
fi

# The namespace goes away on every exit, pass or fail.
delete_netns() {
	ip netns del "$NS" 2>/dev/null || true
}
trap delete_netns EXIT
trap 'exit 130' INT TERM
ip netns add "$NS"
ip -n "$NS" link set lo up

# add_device NAME: a veth whose peer end stays in the namespace, both up.
add_device() {
	ip -n "$NS" link add "$1" type veth peer name "$1-peer"
	ip -n "$NS" link set "$1-peer" up
	ip -n "$NS" link set "$1" up
}

# forwarding DEV 0|1: per-device forwarding, as bpf_fib_lookup() checks it on
# the ingress device (BPF_FIB_LKUP_RET_FWD_DISABLED when off).
forwarding() {
	ip netns exec "$NS" sysctl -q -w "net.ipv4.conf.$1.forwarding=$2" \
		"net.ipv6.conf.$1.forwarding=$2"
}

# ingress: where packets arrive and XDP_TX leaves; the trunk is behind a gateway.
add_device in0
ip -n "$NS" addr add 10.10.1.1/24 dev in0
ip -n "$NS" addr add fd10:1::1/64 dev in0 nodad
ip -n "$NS" neigh add 10.10.1.254 lladdr $GATEWAY_MAC dev in0 nud permanent
ip -n "$NS" neigh add fd10:1::fe lladdr $GATEWAY_MAC dev in0 nud permanent
ip -n "$NS" route add 10.30.0.0/16 via 10.10.1.254 dev in0
ip -n "$NS" route add fd10:30::/32 via fd10:1::fe dev in0
forwarding in0 1

# egress: the other device xtrunk is attached to (in xt_tx_ports).
add_device out0
ip -n "$NS" addr add 10.10.2.1/24 dev out0
ip -n "$NS" addr add fd10:2::1/64 dev out0 nodad
ip -n "$NS" neigh add 10.10.2.2 lladdr $PBX_B_MAC dev out0 nud permanent
ip -n "$NS" neigh add fd10:2::2 lladdr $PBX_B_MAC dev out0 nud permanent
forwarding out0 1

# unattached: a device without xtrunk (absent from xt_tx_ports).
add_device bare0
ip -n "$NS" addr add 10.10.3.1/24 dev bare0
ip -n "$NS" addr add fd10:3::1/64 dev bare0 nodad
ip -n "$NS" neigh add 10.10.3.2 lladdr $BARE_PEER_MAC dev bare0 nud permanent
ip -n "$NS" neigh add fd10:3::2 lladdr $BARE_PEER_MAC dev bare0 nud permanent
forwarding bare0 1

# no forwarding: packets "arriving" here must not be relayed.
add_device nofwd0
forwarding nofwd0 0

ifindex() {
	ip -n "$NS" -o link show dev "$1" | cut -d: -f1
}

ip netns exec "$NS" "$TEST_PACKETS" \
	"$(ifindex in0)" "$(ifindex out0)" "$(ifindex bare0)" "$(ifindex nofwd0)"
