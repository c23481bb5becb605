#!/usr/bin/env bash
# End to end: caller, relay and callee hosts in network namespaces joined by
# veth pairs; xtrunk attached natively on the relay's two interfaces with
# xtrunkctl; flows for both directions; real UDP sockets at both ends. The
# relay namespace has no socket and no IP forwarding, so only the XDP program
# can have relayed what arrives.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
source "$XT_ROOT/tools/netns.sh"
require_root
ensure_bpffs

PIN=/sys/fs/bpf/xtrunk
if [[ -e $PIN ]]; then
	echo "$0: $PIN exists: xtrunk is in use on this machine; not touching it" >&2
	exit 1
fi

TAG=$$
NS_C=xt-caller-$TAG
NS_R=xt-relay-$TAG
NS_E=xt-callee-$TAG
COUNT=200
DSCP_EF_TOS=0xb8 # DSCP 46 << 2, ECN 0

ctl() { in_ns "$NS_R" "$XTRUNKCTL" "$@"; }

setup() {
	on_exit "ip netns del $NS_C; ip netns del $NS_R; ip netns del $NS_E"
	# tuned: full checksums from the senders first; the partial ones later
	XT_LAB_OFFLOADS=tuned three_hosts "$NS_C" "$NS_R" "$NS_E" 10.99.1 10.99.2 fd99:1 fd99:2
	on_exit "in_ns $NS_R $XTRUNKCTL iface detach left0; in_ns $NS_R $XTRUNKCTL iface detach right0; rm -rf $PIN"
}

# send_and_receive SRC_NS SRC_EP DST_EP RCV_NS RCV_EP COUNT OUTFILE
send_and_receive() {
	local out=$7 fifo
	ip netns exec "$4" "$UDP_PEER" recv "$5" "$6" 1500 >"$out" &
	local rpid=$!
	for _ in $(seq 50); do grep -q listening "$out" 2>/dev/null && break; sleep 0.05; done
	ip netns exec "$1" "$UDP_PEER" send "$2" "$3" "$6" 500 >/dev/null
	wait "$rpid"
}

received() { awk '/^received/ {print $2}' "$1"; }
# Lines whose source, TOS and payload are all as expected.
good_lines() { grep -cxF "from $2 tos $3 len 172 payload ok" "$1"; }

flow_field() { ctl -j flow show "$1" | jq -r ".$2"; }
stat_field() { ctl -j stats | jq -r ".$1"; }

# relay_direction NAME SRC_NS SRC_EP LOCAL RCV_NS RCV_EP VIA IP_PACKET_BYTES
relay_direction() {
	local name=$1 out
	out=$(mktemp)
	on_exit "rm -f $out"
	send_and_receive "$2" "$3" "$4" "$5" "$6" "$COUNT" "$out"
	check_eq "$name: callee receives every packet" "$COUNT" "$(received "$out")"
	check_eq "$name: every packet comes from the relay's $7 with DSCP 46 and its payload intact" \
		"$COUNT" "$(good_lines "$out" "$7" "$DSCP_EF_TOS")"
	check_eq "$name: the flow counted every packet" "$COUNT" "$(flow_field "$4" packets)"
	check_eq "$name: the flow counted the IP bytes ($8 B each)" "$((COUNT * $8))" \
		"$(flow_field "$4" bytes)"
	[[ $(good_lines "$out" "$7" "$DSCP_EF_TOS") == "$COUNT" ]] || head -3 "$out"
}

setup

# --- maps pinned by another version of xtrunk are refused, not adopted ---
# (xt_rtp_stats had 40-byte entries before it had 32: adopted, both sides
# would read and write it at the wrong offsets)
OLD_PIN=/sys/fs/bpf/xtrunk-old-$TAG
on_exit "rm -rf $OLD_PIN"
mkdir -p "$OLD_PIN"
bpftool map create "$OLD_PIN/xt_rtp_stats" type array key 4 value 40 entries 524288 \
	name xt_rtp_stats flags 0x400
out=$(ctl --pin-dir "$OLD_PIN" iface attach left0 2>&1)
rc=$?
check "attaching over a map pinned by another version fails" test "$rc" -ne 0
check "... with an error naming the map, its size and this build's" grep -qF \
	"$OLD_PIN/xt_rtp_stats was pinned by another version of xtrunk (type 2, key 4, value 40 bytes; this one has type 2, key 4, value 32)" \
	<<<"$out"
check_eq "... and left0 has no XDP program" "" "$(ip -n "$NS_R" -j link show left0 | jq -r '.[0].xdp // empty')"
rm -rf "$OLD_PIN"
# (xt_stats had 18 counters before the checksum ones: adopted, the new ones
# would be counted nowhere and read as an error)
mkdir -p "$OLD_PIN"
bpftool map create "$OLD_PIN/xt_stats" type percpu_array key 4 value 8 entries 18 name xt_stats
out=$(ctl --pin-dir "$OLD_PIN" iface attach left0 2>&1)
rc=$?
check "attaching over a counter table of another length fails" test "$rc" -ne 0
check "... with an error naming the map and both lengths" grep -qF \
	"$OLD_PIN/xt_stats was pinned by another version of xtrunk (18 entries; this one has $(($(grep -c '^	XT_STAT_' "$XT_ROOT/bpf/xtrunk_abi.h") - 1)))" \
	<<<"$out"
check_eq "... and left0 has no XDP program" "" "$(ip -n "$NS_R" -j link show left0 | jq -r '.[0].xdp // empty')"

# --- the relay is attached with xtrunkctl, natively, maps pinned ---
check "iface attach left0 (native)" ctl iface attach left0 mode native
check "iface attach right0 (native)" ctl iface attach right0
check "maps are pinned under $PIN" test -e $PIN/xt_flows -a -e $PIN/xt_relay_addrs -a -e $PIN/xt_stats
check_eq "iface list shows both interfaces in native mode" "left0 native,right0 native" \
	"$(ctl -j iface list | jq -r '[.[] | "\(.ifname) \(.mode)"] | sort | join(",")')"
out=$(ctl -j iface attach left0)
check "attaching twice is an error" test $? -ne 0
check_eq "... reported as JSON" "interface left0: xtrunk is already attached" "$(jq -r .error <<<"$out")"

# --- the relay has no socket and no forwarding ---
check_eq "relay namespace has no UDP socket" "0" \
	"$(ip netns exec "$NS_R" ss -Huan | wc -l)"
check_eq "relay namespace does not forward IPv4" "0" \
	"$(ip netns exec "$NS_R" sysctl -n net.ipv4.conf.left0.forwarding)"

# --- flows for both directions, IPv4 and IPv6 ---
check "flow add caller->callee (IPv4)" ctl flow add 10.99.1.1:20000 to 10.99.2.2:6000 via 10.99.2.1:30000 from 10.99.1.2:5000
check "flow add callee->caller (IPv4)" ctl flow add 10.99.2.1:30000 to 10.99.1.2:5000 via 10.99.1.1:20000 from 10.99.2.2:6000 dscp 46
check "flow add caller->callee (IPv6)" ctl flow add [fd99:1::1]:20002 to [fd99:2::2]:6002 via [fd99:2::1]:30002 from [fd99:1::2]:5002
check "flow add callee->caller (IPv6)" ctl flow add [fd99:2::1]:30002 to [fd99:1::2]:5002 via [fd99:1::1]:20002 from [fd99:2::2]:6002
check_eq "flow list shows the four flows" "4" "$(ctl -j flow list | jq length)"
check_eq "flow list JSON carries local, to, via, from, dscp and counters" \
	"10.99.1.1:20000 10.99.2.2:6000 10.99.2.1:30000 10.99.1.2:5000 46 0 0 0" \
	"$(ctl -j flow list | jq -r '.[] | select(.local == "10.99.1.1:20000") | "\(.local) \(.to) \(.via) \(.from) \(.dscp) \(.packets) \(.bytes) \(.drops)"')"
out=$(ctl -j flow add 10.99.1.1:20000 to 10.99.2.2:6000 via 10.99.2.1:30000)
check "adding a flow twice is an error" test $? -ne 0
check "... reported as a JSON error" json_true .error "$out"

relay_direction "IPv4 caller->callee" "$NS_C" 10.99.1.2:5000 10.99.1.1:20000 "$NS_E" 10.99.2.2:6000 10.99.2.1:30000 200
relay_direction "IPv4 callee->caller" "$NS_E" 10.99.2.2:6000 10.99.2.1:30000 "$NS_C" 10.99.1.2:5000 10.99.1.1:20000 200
relay_direction "IPv6 caller->callee" "$NS_C" [fd99:1::2]:5002 [fd99:1::1]:20002 "$NS_E" [fd99:2::2]:6002 [fd99:2::1]:30002 220
relay_direction "IPv6 callee->caller" "$NS_E" [fd99:2::2]:6002 [fd99:2::1]:30002 "$NS_C" [fd99:1::2]:5002 [fd99:1::1]:20002 220
check_eq "stats: every relayed packet was redirected" "$((COUNT * 4))" "$(stat_field redirect)"
check_eq "stats: the lab's senders compute full checksums: none completed" "0" "$(stat_field csum_completed)"

# --- senders at the kernel's default, checksum offload on: partial checksums ---
# (as every container or veth-attached host sends; the receivers' kernels drop
# a datagram whose checksum XDP left partial, so "received" proves completion)
for ns in "$NS_C" "$NS_E"; do ip netns exec "$ns" ethtool -K eth0 tx on >/dev/null; done
ctl flow add 10.99.1.1:20004 to 10.99.2.2:6004 via 10.99.2.1:30004 from 10.99.1.2:5004
ctl flow add [fd99:2::1]:30006 to [fd99:1::2]:5006 via [fd99:1::1]:20006 from [fd99:2::2]:6006
relay_direction "IPv4 caller->callee, partial checksums" "$NS_C" 10.99.1.2:5004 10.99.1.1:20004 "$NS_E" 10.99.2.2:6004 10.99.2.1:30004 200
relay_direction "IPv6 callee->caller, partial checksums" "$NS_E" [fd99:2::2]:6006 [fd99:2::1]:30006 "$NS_C" [fd99:1::2]:5006 [fd99:1::1]:20006 220
ctl flow del 10.99.1.1:20004
ctl flow del [fd99:2::1]:30006
check_eq "stats: XDP completed every partial checksum" "$((COUNT * 2))" "$(stat_field csum_completed)"
for ns in "$NS_C" "$NS_E"; do ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null; done

# --- media injection: a wrong source port is dropped and counted ---
out=$(mktemp)
on_exit "rm -f $out"
drops_before=$(stat_field drop_source_check)
send_and_receive "$NS_C" 10.99.1.2:5999 10.99.1.1:20000 "$NS_E" 10.99.2.2:6000 20 "$out"
check_eq "packets from a wrong source port never reach the callee" "0" "$(received "$out")"
check_eq "the flow counted the 20 source-check drops" "20" "$(flow_field 10.99.1.1:20000 drops)"
check_eq "stats counted the 20 source-check drops" "$((drops_before + 20))" "$(stat_field drop_source_check)"
check_eq "the flow's packet count is unchanged by the drops" "$COUNT" "$(flow_field 10.99.1.1:20000 packets)"

# --- flow del stops the relaying ---
check "flow del caller->callee" ctl flow del 10.99.1.1:20000
check_eq "flow list no longer shows it" "3" "$(ctl -j flow list | jq length)"
no_flow_before=$(stat_field pass_no_flow)
send_and_receive "$NS_C" 10.99.1.2:5000 10.99.1.1:20000 "$NS_E" 10.99.2.2:6000 20 "$out"
check_eq "after flow del nothing reaches the callee" "0" "$(received "$out")"
check_eq "stats counted the 20 packets as passed for no flow" "$((no_flow_before + 20))" "$(stat_field pass_no_flow)"
out2=$(ctl -j flow show 10.99.1.1:20000)
check "flow show of a deleted flow is an error" test $? -ne 0
check_eq "... saying so" "no flow at 10.99.1.1:20000" "$(jq -r .error <<<"$out2")"

# --- batch: a file of commands, like bpftool batch ---
batch=$(mktemp)
on_exit "rm -f $batch"
cat >"$batch" <<'EOB'
# two more flows, then one goes again
flow add 10.99.1.1:20100 to 10.99.2.2:6100 via 10.99.2.1:30100
fl a 10.99.1.1:20102 to 10.99.2.2:6102 via 10.99.2.1:30102 dscp 34
flow del 10.99.1.1:20100
EOB
check "batch file runs every line" ctl batch file "$batch"
check_eq "... and the flows are as the file says" "10.99.1.1:20102 34" \
	"$(ctl -j flow list | jq -r '.[] | select(.local == "10.99.1.1:20102") | "\(.local) \(.dscp)"')"
echo "flow del 10.99.1.1:20100" >"$batch"
out2=$(ctl batch file "$batch" 2>&1)
check "a failing batch line stops it with an error" test $? -ne 0
check_eq "... naming the file and line" "Error: $batch:1: command failed (0 done before it)" \
	"$(tail -1 <<<"$out2")"
ctl flow del 10.99.1.1:20102 >/dev/null

# --- NAT latching with a reverse flow (symmetric RTP) ---
# The caller signalled port 5200 but its NAT sends from 5299: the first
# packet latches 5299, and the callee's media then goes back to 5299.
check "flow add with latch and reverse" ctl flow add 10.99.1.1:20200 to 10.99.2.2:6200 \
	via 10.99.2.1:30200 from 10.99.1.2:0 latch reverse 10.99.2.1:30200
check "flow add of its reverse flow, to the signalled port" ctl flow add 10.99.2.1:30200 \
	to 10.99.1.2:5200 via 10.99.1.1:20200 from 10.99.2.2:6200
check_eq "flow show names the reverse flow" "10.99.2.1:30200 true 10.99.1.2:*" \
	"$(ctl -j flow show 10.99.1.1:20200 | jq -r '"\(.reverse) \(.latch) \(.from)"')"
relay_direction "latching caller->callee" "$NS_C" 10.99.1.2:5299 10.99.1.1:20200 "$NS_E" \
	10.99.2.2:6200 10.99.2.1:30200 200
check_eq "the flow latched the NAT's port" "10.99.1.2:5299" "$(flow_field 10.99.1.1:20200 from)"
check_eq "... and its reverse flow now sends there" "10.99.1.2:5299" \
	"$(flow_field 10.99.2.1:30200 to)"
relay_direction "reverse callee->caller" "$NS_E" 10.99.2.2:6200 10.99.2.1:30200 "$NS_C" \
	10.99.1.2:5299 10.99.1.1:20200 200
out=$(mktemp)
on_exit "rm -f $out"
send_and_receive "$NS_C" 10.99.1.2:5200 10.99.1.1:20200 "$NS_E" 10.99.2.2:6200 "$COUNT" "$out"
check_eq "after latching, another port of the caller's address is not relayed" 0 \
	"$(received "$out")"
check_eq "... and dropped by the source check, counted in the flow" "$COUNT" \
	"$(flow_field 10.99.1.1:20200 drops)"
human=$(ctl flow show 10.99.1.1:20200)
check_eq "flow show (text): the route and DSCP, then what it checks: source, latched port, reverse" \
	"10.99.1.1:20200 -> 10.99.2.2:6200 via 10.99.2.1:30200 dscp 46|from 10.99.1.2:5299 latched reverse 10.99.2.1:30200" \
	"$(head -2 <<<"$human" | sed 's/^\t//' | paste -sd'|')"
check_eq "... every line within 80 columns (a tab counts 8)" "" \
	"$(ctl flow list | expand | awk 'length > 80')"
out2=$(ctl -j flow add 10.99.1.1:20202 to 10.99.2.2:6202 via 10.99.2.1:30202 from 10.99.1.2:0 \
	reverse 10.99.2.1:30202)
check "reverse without latch is rejected" test $? -ne 0
check "... with the reason" json_true '.error | test("reverse needs latch")' "$out2"
ctl flow del 10.99.1.1:20200 >/dev/null
ctl flow del 10.99.2.1:30200 >/dev/null

# --- bad arguments are explained and exit non-zero ---
out2=$(ctl -j flow add 10.99.1.1:20000 to 10.99.2.2 via 10.99.2.1:30000)
check "a peer without a port is rejected" test $? -ne 0
check_eq "... with the reason" "peer '10.99.2.2': expected IP:PORT (write IPv6 as [ADDR]:PORT)" "$(jq -r .error <<<"$out2")"
out2=$(ctl -j flow add 10.99.1.1:20010 to [fd99:2::2]:6000 via 10.99.2.1:30010)
check "mixing IPv4 and IPv6 in one flow is rejected" test $? -ne 0
check "... with a JSON error naming the family" json_true '.error | test("family")' "$out2"
out2=$(ctl flow add 10.99.1.1:20010 to 10.99.2.2:6000 via 10.99.2.1:30010 dscp 64 2>&1)
check "dscp 64 is rejected" test $? -ne 0
check_eq "... with the reason" "Error: dscp '64': expected a number from 0 to 63" "$out2"

# --- detach: the last interface removes the pins ---
check "iface detach left0" ctl iface detach left0
check "iface detach right0" ctl iface detach right0
check "after the last detach the pins are gone" test ! -e $PIN
check_eq "no XDP program is left on left0" "" "$(ip -n "$NS_R" -j link show left0 | jq -r '.[0].xdp.prog.id // empty')"

finish_tests e2e-relay
