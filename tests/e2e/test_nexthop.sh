#!/usr/bin/env bash
# End to end: xtrunkd keeps the XDP program's cached next hops current. A
# PBX, the relay and a SIP trunk provider are network namespaces; a SIPp call
# with audio both ways runs through xtrunkd.
# - The trunk's media address is not its SIP address, and the relay has no
#   neighbour entry for it when the call's flows go in: they fall back to the
#   FIB (which passes their packets up, forwarding is off) and userspace
#   relays them; that send resolves the neighbour (ARP), xtrunkd hears of it
#   over rtnetlink and the flows move into XDP.
# - Mid-call the PBX's interface gets a new MAC address and the relay's
#   neighbour entry for it is replaced, as an operator (or ARP) would. xtrunkd
#   rewrites the shared next-hop entry: the media the trunk sends to the PBX
#   must from then on carry the new destination MAC on the wire (tshark on
#   the PBX's link), and still be relayed by XDP (the flow's counters).
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init n nexthop
NEW_MAC=02:86:00:00:0a:99 # the PBX's new address: locally administered

declare -A HOST4=([pbx]=10.86.1.2 [trunk]=10.86.2.2)
declare -A MEDIA4=([pbx]=10.86.1.2 [trunk]=10.86.2.3) # the trunk's media: another address
declare -A RELAY4=([pbx]=10.86.1.1 [trunk]=10.86.2.1)
declare -A MEDIA=([pbx]=40000 [trunk]=50000)

ctl() { in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" "$@"; }
flow_count() { ctl -j flow list | jq length; }
flows_are() { [[ $(flow_count) == "$1" ]]; }
successful_calls() {
	grep -a 'Successful call' "$1" | tail -1 | awk -F'|' '{gsub(/ /, "", $3); print $3}'
}

# The flow that sends RTP to a side's host, as xtrunkctl -j shows it.
flow_to() { ctl -j flow list | jq -c --arg to "${MEDIA4[$1]}:${MEDIA[$1]}" '[.[] | select(.to == $to)][0] // empty'; }
packets_to() { flow_to "$1" | jq -r '.packets // 0'; }
lladdr_to() { flow_to "$1" | jq -r '.nexthop.lladdr // "none"'; }
to_pbx_packets() { packets_to pbx; }
to_pbx_lladdr() { lladdr_to pbx; }
relaying_to_pbx() { [[ $(to_pbx_packets) -gt 20 ]]; }
relaying_to_trunk() { [[ $(packets_to trunk) -gt 20 ]]; }
# xtrunkd logs each next-hop update: nexthop_updates_above N waits for more than N.
nexthop_updates() { grep -cs 'next hops: [0-9]* entries updated' "$XD_LOG"; }
nexthop_updates_above() { [[ $(nexthop_updates) -gt $1 ]]; }
mac_of() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; }

write_config() {
	{
		cat <<-EOF
			# written by $0
			[relay]
			pin_dir = $PIN
			metrics = off

		EOF
		lab_sides
	} >"$CONF"
}

setup() {
	lab_up 86
	write_config
}

setup

if ! start_xtrunkd "$WORK/xtrunkd.log"; then
	fail "xtrunkd starts in the relay namespace and says it is ready"
	sed 's/^/# /' "$XD_LOG"
	finish_tests nexthop
	exit 1
fi
pass "xtrunkd starts in the relay namespace and says it is ready"

OLD_MAC=$(mac_of "$NS_P" eth0)
TRUNK_MAC=$(mac_of "$NS_T" eth0)
ip -n "$NS_T" addr add "${MEDIA4[trunk]}/24" dev eth0
capture_start "$WORK/pbx.pcap" "$NS_P" eth0 "udp and src host ${RELAY4[pbx]}"

sipp_audio_call "${MEDIA4[trunk]}"

check "the call's 4 flows are installed" wait_until 15 flows_are 4
check "the trunk's audio is relayed to the PBX in XDP (more than 20 packets)" \
	wait_until 5 relaying_to_pbx
check_eq "... with the PBX's MAC as the cached next hop" "$OLD_MAC" "$(to_pbx_lladdr)"

# === the trunk's neighbour, unresolved when the call began, resolves ===
check "the PBX's audio to the trunk, first relayed in userspace, moves into XDP" \
	wait_until 5 relaying_to_trunk
check_eq "... once the relay resolved the trunk's MAC, now the cached next hop" "$TRUNK_MAC" \
	"$(lladdr_to trunk)"
check "... which xtrunkd logged as a next-hop update" nexthop_updates_above 0
check "... and until then the FIB passed the packets up (forwarding is off)" \
	test "$(ctl -j stats | jq -r .pass_fib_forwarding_disabled)" -gt 0
passed_before=$(ctl -j stats | jq -r '.pass_no_neighbour + .pass_fib_forwarding_disabled')
updates=$(nexthop_updates)

# === the PBX's MAC changes, and the relay's neighbour entry with it ===
ip -n "$NS_P" link set dev eth0 address "$NEW_MAC"
ip -n "$NS_R" neigh replace "${HOST4[pbx]}" lladdr "$NEW_MAC" dev left0 nud permanent
check "xtrunkd hears of the neighbour change and updates the next hop" \
	wait_until 5 nexthop_updates_above "$updates"
check_eq "the flow to the PBX now caches the new MAC" "$NEW_MAC" "$(to_pbx_lladdr)"
before=$(to_pbx_packets)
sleep 2 # 100 packets of G.711 at 20 ms
after=$(to_pbx_packets)
check "... and XDP keeps relaying it ($before -> $after packets in 2 s, more than 50)" \
	test $((after - before)) -gt 50
passed=$(ctl -j stats | jq -r '.pass_no_neighbour + .pass_fib_forwarding_disabled')
check_eq "no packet was passed up for want of a next hop since" "$passed_before" "$passed"

reap $uac_pid 45
rc_uac=$?
reap $uas_pid 45
rc_uas=$?
check_eq "the caller's SIPp completes its scenario (exit 0, 1 successful call)" \
	"0 1" "$rc_uac $(successful_calls "$WORK/uac.out")"
check_eq "the callee's SIPp completes its scenario (exit 0, 1 successful call)" \
	"0 1" "$rc_uas $(successful_calls "$WORK/uas.out")"
capture_stop "$WORK/pbx.pcap"

# === on the wire: the old MAC, then only the new one ===
tshark -r "$WORK/pbx.pcap" -T fields -e eth.dst -e udp.dstport \
	"udp.dstport == ${MEDIA[pbx]}" 2>/dev/null >"$WORK/macs.txt"
old_n=$(awk -v m="$OLD_MAC" '$1 == m' "$WORK/macs.txt" | wc -l)
new_n=$(awk -v m="$NEW_MAC" '$1 == m' "$WORK/macs.txt" | wc -l)
order=$(awk '{ print $1 }' "$WORK/macs.txt" | uniq | paste -sd,)
check "the PBX's link carried the trunk's audio to the old MAC before the change ($old_n frames)" \
	test "$old_n" -gt 20
check "... and to the new MAC after it ($new_n frames, more than 100)" test "$new_n" -gt 100
check_eq "... never to the old MAC again once the new one appeared" "$OLD_MAC,$NEW_MAC" "$order"

# === a call after the change: xtrunkd resolves next hops through a cache,
# which the neighbour change must have emptied ===
sipp_audio_call "${MEDIA4[trunk]}"
check "a second call's 4 flows are installed" wait_until 15 flows_are 4
check_eq "... and its flow to the PBX caches the new MAC, not the one resolved before" \
	"$NEW_MAC" "$(to_pbx_lladdr)"
check "... which XDP relays to the PBX (more than 20 packets)" wait_until 5 relaying_to_pbx
reap $uac_pid 45
reap $uas_pid 45

stop_xtrunkd
check_eq "xtrunkd exits 0 on SIGTERM" 0 $?
hits=$(sed -n 's/.*next hops: \([0-9]*\) taken from the cache.*/\1/p' "$XD_LOG")
check "xtrunkd took next hops from its cache (${hits:-no} times; RTCP follows RTP)" \
	test "${hits:-0}" -gt 0
finish_tests nexthop
