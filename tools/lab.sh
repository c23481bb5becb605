#!/usr/bin/env bash
# The demo lab: a PBX, the relay and a SIP trunk provider as network namespaces.
#
#   xt-pbx (10.77.1.2, fd77:1::2) == xt-relay (10.77.1.1 | 10.77.2.1) == xt-trunk (10.77.2.2, fd77:2::2)
#
#   tools/lab.sh up      create the three hosts (recreates them if they exist)
#   tools/lab.sh down    stop the lab's xtrunkd, remove XDP, pins and namespaces
#   tools/lab.sh demo    up; xtrunkd on the relay; a real SIP call from the PBX to the
#                        trunk with SIPp, G.711 audio both ways and DTMF; show it; down
#
#   XT_LAB_OFFLOADS=gro|kernel|tuned: the PBX's and the trunk's veth offloads
#   (tools/netns.sh, end_host_offloads; gro when unset)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tools/netns.sh"

NS_PBX=xt-pbx
NS_RELAY=xt-relay
NS_TRUNK=xt-trunk
PIN=/sys/fs/bpf/xtrunk
PIDFILE=/run/xtrunk-lab.pid
BUILD=${BUILD:-$ROOT/build}
XTRUNKCTL=$BUILD/xtrunkctl
XTRUNKD=$BUILD/xtrunkd

relay() { nsenter --net="/run/netns/$NS_RELAY" "$@"; }

down() {
	if [[ -f $PIDFILE ]]; then
		local pid
		pid=$(cat "$PIDFILE")
		if kill "$pid" 2>/dev/null; then
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		fi
		rm -f "$PIDFILE"
	fi
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
	echo "lab: up: $NS_PBX 10.77.1.2 | $NS_RELAY left0 10.77.1.1, right0 10.77.2.1 | $NS_TRUNK 10.77.2.2"
}

# xtrunkd in the relay namespace with its built-in configuration (the lab's).
start_xtrunkd() {
	local log=$1
	# nsenter execs xtrunkd: $! is xtrunkd's PID (through the relay function it
	# would be a subshell's, and stopping that would leave xtrunkd running)
	nsenter --net="/run/netns/$NS_RELAY" "$XTRUNKD" -v >"$log" 2>&1 &
	echo $! >"$PIDFILE"
	for _ in $(seq 100); do
		grep -q 'xtrunkd: ready' "$log" && return 0
		kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
		sleep 0.1
	done
	echo "lab: xtrunkd did not start:" >&2
	cat "$log" >&2
	return 1
}

WORK=
demo() {
	WORK=$(mktemp -d)
	local work=$WORK
	trap 'down; rm -rf "$WORK"' EXIT
	up
	start_xtrunkd "$work/xtrunkd.log"
	echo "lab: xtrunkd is up on the relay (SIP 10.77.1.1:5060 for the PBX, 10.77.2.1:5060 for the trunk)"

	# What the trunk receives from the relay: source, ports, DSCP.
	ip netns exec "$NS_TRUNK" tshark -q -i eth0 -f "udp and src host 10.77.2.1 and not port 5060" \
		-T fields -e ip.src -e udp.srcport -e ip.dsfield.dscp -w "$work/trunk.pcap" \
		>/dev/null 2>&1 &
	local tshark_pid=$!

	ip netns exec "$NS_TRUNK" sipp -sf "$ROOT/tests/sip/uas_audio.xml" -i 10.77.2.2 -p 5060 \
		-mi 10.77.2.2 -mp 50000 -m 1 -nostdin -trace_err -error_file "$work/uas.err" \
		>"$work/uas.out" 2>&1 &
	local uas_pid=$!
	sleep 1
	echo "lab: the PBX calls 1000 through the relay: G.711 audio both ways, then DTMF '1'"
	ip netns exec "$NS_PBX" sipp -sf "$ROOT/tests/sip/uac_audio.xml" 10.77.1.1:5060 -s 1000 \
		-i 10.77.1.2 -p 5060 -mi 10.77.1.2 -mp 40000 -m 1 -nostdin -trace_err \
		-error_file "$work/uac.err" >"$work/uac.out" 2>&1 &
	local uac_pid=$!

	sleep 4
	echo
	echo "== during the call: xtrunkctl flow list (on the relay)"
	relay "$XTRUNKCTL" flow list
	wait "$uac_pid" && uac_rc=0 || uac_rc=$?
	wait "$uas_pid" && uas_rc=0 || uas_rc=$?
	sleep 0.5
	kill "$tshark_pid" 2>/dev/null || true
	wait "$tshark_pid" 2>/dev/null || true

	echo
	echo "== after the call: xtrunkctl flow list"
	relay "$XTRUNKCTL" flow list
	echo "(empty: the call's flows are gone)"
	echo
	echo "== summary"
	echo "SIPp PBX (caller): exit $uac_rc ($([[ $uac_rc -eq 0 ]] && echo 'call completed' || echo 'call FAILED'))"
	echo "SIPp trunk (callee): exit $uas_rc ($([[ $uas_rc -eq 0 ]] && echo 'call completed' || echo 'call FAILED'))"
	grep -E 'call c[0-9]+:' "$work/xtrunkd.log" | sed 's/^/xtrunkd: /'
	ip netns exec "$NS_TRUNK" tshark -r "$work/trunk.pcap" -T fields -e ip.src -e udp.srcport \
		-e ip.dsfield.dscp 2>/dev/null | sort | uniq -c |
		awk '{printf "trunk received %d packets from %s:%s with DSCP %s\n", $1, $2, $3, $4}'
	relay "$XTRUNKCTL" stats | awk '$1 == "redirect" || $1 == "drop_source_check" {print "relay XDP " $1 ": " $2}'
	[[ $uac_rc -eq 0 && $uas_rc -eq 0 ]]
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
