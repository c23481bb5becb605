#!/usr/bin/env bash
# End to end: what an xtrunkd that dies without stopping leaves behind, and
# who may touch whose flows (issue 13 points 7 and 10), as an operator sees it.
#   1. One xtrunkd a pin directory: a second one on the same maps refuses to
#      start, and says why.
#   2. Owners: a call's flows are xtrunkd's (flow list -j "owner"), a flow
#      added with xtrunkctl is "manual"; xtrunkctl cannot delete xtrunkd's.
#   3. xtrunkd killed (SIGKILL) during a call: XDP keeps relaying its flows
#      while its lease (flow_lease = 4 s here) runs, then passes their packets
#      to the stack (pass_lease_expired), and the PBX hears nothing more;
#      the manual flow keeps relaying.
#   4. The next xtrunkd removes the flows the killed one left, says so, and
#      leaves the manual flow alone.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init k crash
SOCK=$WORK/run/xtrunkd.sock
PBX=10.97.1.2
RELAY_P=10.97.1.1
RELAY_T=10.97.2.1
TRUNK=10.97.2.2
LEASE=4

ctl() { in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" --socket "$SOCK" "$@"; }
stat_of() { ctl -j stats | jq -r ".$1"; }
flow_packets() { ctl -j flow list | jq -r --arg l "$1" '.[] | select(.local == $l) | .packets'; }
owners() { ctl -j flow list | jq -r 'map(.owner) | sort | group_by(.) | map("\(.[0])=\(length)") | join(",")'; }
# send N LOCAL: N RTP packets from the trunk host's media address to LOCAL, 5 ms apart
send() { ip netns exec "$NS_T" "$UDP_PEER" send "$TRUNK:6100" "$2" "$1" 5000 >/dev/null; }
# pbx_heard: RTP packets the PBX host's capture saw from the relay so far
pbx_heard() { tshark -r "$WORK/pbx.pcap" -Y "ip.src == $RELAY_P && udp" 2>/dev/null | wc -l; }

lab_up 97
{
	printf '# written by %s\n[relay]\npin_dir = %s\nmetrics = off\ncontrol = %s\nflow_lease = %s\n\n' \
		"$0" "$PIN" "$SOCK" "$LEASE"
	lab_sides
} >"$CONF"

if ! start_xtrunkd "$WORK/xtrunkd.log"; then
	fail "xtrunkd starts with flow_lease = $LEASE"
	sed 's/^/# /' "$XD_LOG"
	finish_tests crash
	exit 1
fi
pass "xtrunkd starts with flow_lease = $LEASE"

# === 1. one xtrunkd a pin directory ===
sed -e "s|^control = .*|control = $WORK/run/second.sock|" \
	-e 's|^sip = \(.*\):5060|sip = \1:5070|' "$CONF" >"$WORK/second.conf"
nsenter --net="/run/netns/$NS_R" "$XTRUNKD" -c "$WORK/second.conf" >"$WORK/second.log" 2>&1 &
second=$!
track $second
reap $second 15
rc=$?
check_eq "a second xtrunkd on the same pin directory exits with an error" 1 "$((rc != 0))"
check "... saying another xtrunkd is running on those maps" \
	grep -q "another xtrunkd is running on the maps under $PIN" "$WORK/second.log"
check "... and the first one still answers" bash -c "kill -0 $XD_PID && $XTRUNKCTL --socket $SOCK -j call list >/dev/null"

# === 2. owners ===
MANUAL=$RELAY_T:31000
check "xtrunkctl flow add: a manual flow beside xtrunkd's ports" \
	quiet ctl flow add "$MANUAL" to "$PBX:7200" via "$RELAY_P:31000"
ip netns exec "$NS_T" sipp -sf "$SIP_DIR/adm_uas.xml" -i "$TRUNK" -p 5060 -mp 6000 -m 1 \
	-nostdin -timeout 60 >"$WORK/uas.out" 2>&1 &
UAS=$!
track $UAS
wait_until 10 udp_bound "$NS_T" 5060
ip netns exec "$NS_P" sipp -sf "$SIP_DIR/adm_uac_hold.xml" "$RELAY_P:5060" -s 1000 -i "$PBX" \
	-p 5060 -mp 7000 -m 1 -d 60000 -nostdin -timeout 60 >"$WORK/uac.out" 2>&1 &
UAC=$!
track $UAC
check "a call is up: 4 flows of xtrunkd's and the manual one" \
	wait_until 15 eval '[[ $(owners) == "manual=1,xtrunkd=4" ]]'
TO_PBX=$(ctl -j flow list | jq -r --arg to "$PBX:7000" '.[] | select(.to == $to) | .local')
echo "# the trunk's RTP to the PBX arrives at $TO_PBX"
err=$(ctl flow del "$TO_PBX" 2>&1 >/dev/null)
check_eq "xtrunkctl flow del on xtrunkd's flow: refused (exit 1)" 1 "$(
	quiet ctl flow del "$TO_PBX"
	echo $?
)"
check "... saying it is xtrunkd's" grep -q "is xtrunkd's: it goes when its call ends" <<<"$err"
check "... and the flow is still there" test -n "$(flow_packets "$TO_PBX")"

# === 3. killed: relaying while the lease runs, then not ===
capture_start "$WORK/pbx.pcap" "$NS_P" eth0 "udp and src host $RELAY_P and not port 5060"
send 20 "$TO_PBX"
check_eq "media relayed by XDP during the call (the flow counts 20)" 20 "$(flow_packets "$TO_PBX")"
kill -KILL "$XD_PID"
reap "$XD_PID" 10 2>/dev/null
XD_PID=
send 10 "$TO_PBX"
check_eq "xtrunkd killed: XDP keeps relaying while the lease runs (30)" 30 "$(flow_packets "$TO_PBX")"
sleep $((LEASE + 1))
expired=$(stat_of pass_lease_expired)
send 20 "$TO_PBX"
check_eq "lease over: the flow relays no more (still 30)" 30 "$(flow_packets "$TO_PBX")"
check_eq "... its packets go to the stack, counted: pass_lease_expired +20" 20 \
	"$(($(stat_of pass_lease_expired) - expired))"
send 5 "$MANUAL"
check_eq "... while the manual flow keeps relaying (5)" 5 "$(flow_packets "$MANUAL")"
sleep 0.5
capture_stop "$WORK/pbx.pcap"
check_eq "the PBX heard the 30 relayed packets and the manual flow's 5, nothing after the lease" \
	35 "$(pbx_heard)"

# === 4. the next xtrunkd sweeps ===
check "xtrunkd starts again on the same maps" start_xtrunkd "$WORK/xtrunkd2.log"
check "... removes the 4 flows the killed one left, and says so" \
	grep -q 'removed 4 flows a previous xtrunkd left behind (it did not stop cleanly)' "$XD_LOG"
check_eq "... and leaves the manual flow alone" "manual=1" "$(owners)"
check "xtrunkctl flow del removes its own flow" quiet ctl flow del "$MANUAL"
check "stopping xtrunkd (SIGTERM) ends it cleanly" stop_xtrunkd
finish_tests crash
