#!/usr/bin/env bash
# The demo lab: a PBX, the relay and a SIP trunk provider as network namespaces.
#
#   xt-pbx (10.77.1.2, fd77:1::2) == xt-relay (10.77.1.1 / 10.77.2.1) == xt-trunk (10.77.2.2, fd77:2::2)
#
#   tools/lab.sh up      create the lab (idempotent: recreates it)
#   tools/lab.sh down    remove everything the lab made: flows, XDP, pins, namespaces
#   tools/lab.sh demo    up, relay a G.711 stream both ways through XDP, show it, down
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tools/netns.sh"

NS_PBX=xt-pbx
NS_RELAY=xt-relay
NS_TRUNK=xt-trunk
PIN=/sys/fs/bpf/xtrunk
XTRUNKCTL=${XTRUNKCTL:-$ROOT/build/xtrunkctl}
UDP_PEER=${UDP_PEER:-$ROOT/build/udp_peer}

relay() { nsenter --net="/run/netns/$NS_RELAY" "$@"; }

down() {
	if ip netns list | grep -qw "$NS_RELAY"; then
		relay "$XTRUNKCTL" iface detach left0 2>/dev/null || true
		relay "$XTRUNKCTL" iface detach right0 2>/dev/null || true
	fi
	for ns in "$NS_PBX" "$NS_RELAY" "$NS_TRUNK"; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

up() {
	if [[ -e $PIN ]] && ! ip netns list | grep -qw "$NS_RELAY"; then
		echo "lab: $PIN exists and is not the lab's: xtrunk runs elsewhere here" >&2
		exit 1
	fi
	down
	mount | grep -q ' /sys/fs/bpf type bpf' || mount -t bpf bpf /sys/fs/bpf
	three_hosts "$NS_PBX" "$NS_RELAY" "$NS_TRUNK" 10.77.1 10.77.2 fd77:1 fd77:2
	relay "$XTRUNKCTL" iface attach left0 mode native
	relay "$XTRUNKCTL" iface attach right0 mode native
	echo "lab: up (xtrunk attached to left0 and right0 in $NS_RELAY)"
}

# One call's media, set up by hand as the controller will: PBX 10.77.1.2:40000
# talks to the relay's PBX side 10.77.1.1:20000; the trunk 10.77.2.2:50000 to
# the relay's trunk side 10.77.2.1:30000.
demo() {
	local packets=250 out_trunk out_pbx
	trap down EXIT
	up
	relay "$XTRUNKCTL" flow add 10.77.1.1:20000 to 10.77.2.2:50000 via 10.77.2.1:30000 from 10.77.1.2:40000
	relay "$XTRUNKCTL" flow add 10.77.2.1:30000 to 10.77.1.2:40000 via 10.77.1.1:20000 from 10.77.2.2:50000
	echo "lab: both ends talk: $packets G.711 packets (one every 20 ms) each way"
	out_trunk=$(mktemp)
	out_pbx=$(mktemp)
	ip netns exec "$NS_TRUNK" "$UDP_PEER" talk 10.77.2.2:50000 10.77.2.1:30000 $packets 20000 1000 >"$out_trunk" &
	local trunk_pid=$!
	ip netns exec "$NS_PBX" "$UDP_PEER" talk 10.77.1.2:40000 10.77.1.1:20000 $packets 20000 1000 >"$out_pbx"
	wait "$trunk_pid"
	echo
	echo "== xtrunkctl flow list"
	relay "$XTRUNKCTL" flow list
	echo
	echo "== xtrunkctl stats (non-zero)"
	relay "$XTRUNKCTL" stats | awk '$2 != 0'
	echo
	echo "== what arrived"
	summarize "trunk" "$out_trunk"
	summarize "PBX" "$out_pbx"
	rm -f "$out_trunk" "$out_pbx"
}

summarize() {
	local who=$1 file=$2 n ok sources tos
	n=$(grep -c '^from' "$file" || true)
	ok=$(grep -c ' payload ok$' "$file" || true)
	sources=$(awk '/^from/ {print $2}' "$file" | sort -u | paste -sd, -)
	tos=$(awk '/^from/ {print $4}' "$file" | sort -u | paste -sd, -)
	echo "$who received $n packets ($ok with intact payload) from $sources, TOS $tos" \
		"(DSCP $((${tos%%,*} >> 2)))"
}

case ${1:-} in
up) up ;;
down) down ;;
demo) demo ;;
*)
	echo "usage: $0 {up|down|demo}" >&2
	exit 2
	;;
esac
