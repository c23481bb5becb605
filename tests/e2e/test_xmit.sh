#!/usr/bin/env bash
# End to end: no silent loss on veth. A veth hands the frames XDP sends into
# it to its peer's NAPI, which the peer has only with GRO on or an XDP program
# (a fresh veth, as containers get, has neither); without it the kernel drops
# every frame after the relay counted it as relayed. Caller, relay and callee
# hosts in namespaces (the end hosts' GRO set by each step, not the lab's):
#   - attaching next to a peer without NAPI warns, naming the device, the
#     peer, its namespace and the fix, and keeps the device out of XDP's
#     redirect map (its packets go to the stack, counted);
#   - with GRO on at the peer there is no warning and XDP relays;
#   - a peer that loses NAPI after the attach (nothing re-checks without
#     xtrunkd): every frame the kernel then drops is counted on the interface,
#     redirected and sent back with XDP_TX alike, in stats, iface show/list;
#   - xtrunkd reports those counters in /metrics, warns about the peer, takes
#     the device out of XDP and puts it back within its re-check period when
#     the peer's GRO goes on, and warns again when it goes off.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init x xmit
NET=85
COUNT=40
TX_COUNT=25
CHECK_S=2 # xtrunkd's re-check period (XT_EGRESS_CHECK_MS)

ctl() { in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" "$@"; }
gro() { ip netns exec "$1" ethtool -K eth0 gro "$2" >/dev/null; }
jfield() { jq -r "$1" <<<"$2"; }

# send_through SRC_NS SRC_EP DST_EP RCV_NS RCV_EP COUNT: what the receiver got
send_through() {
	local out
	out=$(mktemp)
	ip netns exec "$4" "$UDP_PEER" recv "$5" "$6" 1500 >"$out" &
	local rpid=$!
	wait_until 5 grep -q listening "$out"
	ip netns exec "$1" "$UDP_PEER" send "$2" "$3" "$6" 500 >/dev/null
	wait "$rpid"
	awk '/^received/ {print $2}' "$out"
	rm -f "$out"
}
# COUNT packets caller -> relay's left side -> callee, through the flow at 10.N.1.1:20000
to_callee() {
	send_through "$NS_P" "10.$NET.1.2:5000" "10.$NET.1.1:20000" "$NS_T" "10.$NET.2.2:6000" "$1"
}
stat() { ctl -j stats | jq -r "$1"; }
iface_json() { ctl -j iface show "$1"; }
egress_is() { [[ $(iface_json right0 | jq -r .xdp_egress) == "$1" ]]; }

lab_up $NET
gro "$NS_P" on

# === an xt_ifaces pinned by another version of xtrunk is refused, not adopted ===
OLD_PIN=/sys/fs/bpf/xtrunk-xmit-old-$TAG
on_exit "rm -rf $OLD_PIN"
mkdir -p "$OLD_PIN"
bpftool map create "$OLD_PIN/xt_ifaces" type hash key 4 value 16 entries 64 name xt_ifaces
out=$(in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$OLD_PIN" iface attach left0 2>&1)
check_eq "attaching over an xt_ifaces of another layout fails, naming it and both sizes" \
	"1|Error: $OLD_PIN/xt_ifaces was pinned by another version of xtrunk (key 4, value 16 bytes; this one has key 4, value 24): detach that version from every interface (its pins go with the last), then attach this one" \
	"$?|$out"
check_eq "... leaves that pin alone and pins nothing beside it" "xt_ifaces" "$(ls "$OLD_PIN")"
check "... and attaches nothing to left0" bash -c "! ip -n $NS_R link show left0 | grep -q xdp"

# === (a) the callee's veth at the kernel's defaults: GRO off, no XDP program ===
gro "$NS_T" off
check "attach left0 (its peer has GRO on): exit 0, no warning" \
	test -z "$(ctl iface attach left0 2>&1)"
err=$(ctl iface attach right0 2>&1 >/dev/null)
rc=$?
check_eq "attach right0 next to a peer without NAPI still attaches (exit 0)" 0 "$rc"
check_eq "... and warns, naming the device, its peer, the peer's namespace and the fix" \
	"Warning: interface right0: its veth peer eth0 (netns $NS_T) has no XDP program and GRO off, so frames XDP sends to it would be dropped; XDP will not relay media to it (its packets go to the local stack, and xtrunkctl has no userspace relay: run xtrunkd, or fix the peer). Fix: ip netns exec $NS_T ethtool -K eth0 gro on (or attach an XDP program there)" \
	"$err"
check "iface show right0: 'xdp egress:  no: veth peer eth0 has no NAPI (GRO off, no XDP program)'" \
	grep -qxF "  xdp egress:  no: veth peer eth0 has no NAPI (GRO off, no XDP program)" \
	<<<"$(ctl iface show right0)"
j=$(iface_json right0)
check_eq "iface show -j right0: xdp_egress false, peer_napi false, no transmit errors" \
	"false false 0" "$(jfield '"\(.xdp_egress) \(.peer_napi) \(.xmit_errors)"' "$j")"
check_eq "iface show -j left0: xdp_egress true, peer_napi true" "true true" \
	"$(jfield '"\(.xdp_egress) \(.peer_napi)"' "$(iface_json left0)")"
check_eq "iface list -j: both interfaces, right0 without XDP egress" "left0=true right0=false" \
	"$(ctl -j iface list | jq -r 'sort_by(.ifname) | map("\(.ifname)=\(.xdp_egress)") | join(" ")')"
check "iface list: 'right0  mode native  prog_id N  xdp_egress no  xmit_errors 0'" \
	grep -qE '^[0-9]+: right0  mode native  prog_id [0-9]+  xdp_egress no  xmit_errors 0$' \
	<<<"$(ctl iface list)"
check "flow add caller->callee" ctl flow add "10.$NET.1.1:20000" to "10.$NET.2.2:6000" \
	via "10.$NET.2.1:30000" from "10.$NET.1.2:5000"
check_eq "XDP does not send the flow's $COUNT packets into right0: the callee gets none" 0 \
	"$(to_callee $COUNT)"
check_eq "... they are passed to the stack and counted (pass_no_tx_port), not redirected" \
	"$COUNT 0" "$(stat '"\(.pass_no_tx_port) \(.redirect)"')"
check_eq "... and nothing was lost after a verdict (xmit_errors 0)" 0 "$(stat .xmit_errors)"

# === (b) the callee's veth with GRO on: no warning, XDP relays ===
check "detach right0" ctl iface detach right0
gro "$NS_T" on
out=$(ctl iface attach right0 2>&1)
check_eq "attach right0 next to a peer with GRO on: exit 0, no warning" "0|" "$?|$out"
check "iface show right0: 'xdp egress:  yes'" grep -qxF "  xdp egress:  yes" \
	<<<"$(ctl iface show right0)"
check "detach left0 (right0 keeps the pins)" ctl iface detach left0
check_eq "attach -j left0: xdp_egress true, warning null" "true null" \
	"$(ctl -j iface attach left0 | jq -r '"\(.xdp_egress) \(.warning)"')"
redirect0=$(stat .redirect)
check_eq "the callee receives all $COUNT packets" $COUNT "$(to_callee $COUNT)"
check_eq "... redirected by XDP" $COUNT "$(($(stat .redirect) - redirect0))"

# === (c) the peer loses NAPI after the attach; nothing re-checks without xtrunkd ===
gro "$NS_T" off
redirect0=$(stat .redirect)
check_eq "GRO off at the callee after the attach: the callee gets none of $COUNT packets" 0 \
	"$(to_callee $COUNT)"
check_eq "... which XDP counted as redirected" $COUNT "$(($(stat .redirect) - redirect0))"
check_eq "stats -j: xmit_errors and right0's in interfaces count each of them" \
	"$COUNT $COUNT" \
	"$(stat '"\(.xmit_errors) \(.interfaces[] | select(.ifname == "right0") | .xmit_errors)"')"
j=$(iface_json right0)
# (the kernel refuses the redirect itself: xdp_features of right0 follow its peer)
check_eq "iface show -j right0: xdp_egress still true, peer_napi false, redirect_errors $COUNT" \
	"true false $COUNT $COUNT" \
	"$(jfield '"\(.xdp_egress) \(.peer_napi) \(.xmit_errors) \(.xmit.redirect_errors)"' "$j")"
check_eq "stats -j: left0, where they came in, counts none" 0 "$(stat '.interfaces[] | select(.ifname == "left0") | .xmit_errors')"
check "iface show right0 says the peer lost NAPI and the frames are dropped" grep -qxF \
	"  xdp egress:  yes, but veth peer eth0 has no NAPI (GRO off, no XDP program) now: frames XDP sends to it are dropped" \
	<<<"$(ctl iface show right0)"
check "stats: 'xmit_errors $COUNT' and right0's line" bash -c "grep -qE '^xmit_errors +$COUNT\$' <<<\"\$1\" && grep -qE '^  right0 +$COUNT\$' <<<\"\$1\"" _ "$(ctl stats)"
# XDP_TX: a flow that arrives on right0 and leaves by right0 again
check "flow add callee->callee (leaves where it came in: XDP_TX)" ctl flow add \
	"10.$NET.2.1:30500" to "10.$NET.2.2:6500" via "10.$NET.2.1:30501" from "10.$NET.2.2:5500"
tx0=$(stat .tx)
check_eq "the callee's $TX_COUNT packets sent back to it with XDP_TX never arrive" 0 \
	"$(send_through "$NS_T" "10.$NET.2.2:5500" "10.$NET.2.1:30500" "$NS_T" "10.$NET.2.2:6500" $TX_COUNT)"
check_eq "... XDP counted them as tx" $TX_COUNT "$(($(stat .tx) - tx0))"
check_eq "... and iface show -j right0 counts each as an XDP_TX drop" \
	"$TX_COUNT $((COUNT + TX_COUNT))" "$(iface_json right0 | jq -r '"\(.xmit.tx_drops) \(.xmit_errors)"')"
check_eq "iface list -j agrees" "$((COUNT + TX_COUNT))" \
	"$(ctl -j iface list | jq -r '.[] | select(.ifname == "right0") | .xmit_errors')"
check "flow del caller->callee" ctl flow del "10.$NET.1.1:20000"
check "flow del callee->callee" ctl flow del "10.$NET.2.1:30500"

# === (d) xtrunkd: warns, re-checks, exports the counters ===
XD_METRICS=127.0.0.1:9477
{
	printf '[relay]\npin_dir = %s\nmetrics = %s\ncontrol = %s\n\n' "$PIN" "$XD_METRICS" "$WORK/ctl.sock"
	lab_sides
} >"$CONF"
metrics() { in_ns "$NS_R" curl -sS --max-time 5 "http://$XD_METRICS/metrics"; }
metric() { metrics | awk -v m="$1" '$1 == m {print $2}'; }
check "xtrunkd starts on the attached interfaces (the callee's GRO still off)" \
	start_xtrunkd "$WORK/xtrunkd.log"
WARN="interface right0: its veth peer eth0 (netns $NS_T) has no XDP program and GRO off, so frames XDP sends to it would be dropped; media to it goes through xtrunkd's sockets instead. Fix: ip netns exec $NS_T ethtool -K eth0 gro on (or attach an XDP program there)"
check "xtrunkd warns about right0's peer, with the fix" grep -qF "$WARN" "$WORK/xtrunkd.log"
check "... and takes right0 out of XDP's redirect map (iface show -j: xdp_egress false)" \
	wait_until 5 egress_is false
check_eq "/metrics: xtrunk_xdp_egress of right0 is 0, of left0 1" "0 1" \
	"$(metric 'xtrunk_xdp_egress{interface="right0",side="trunk"}') $(metric 'xtrunk_xdp_egress{interface="left0",side="pbx"}')"
check_eq "/metrics: the pinned counters outlived xtrunkctl: right0's XDP_TX drops and refused redirects" \
	"0 $TX_COUNT $COUNT" \
	"$(metric 'xtrunk_xdp_xmit_errors_total{interface="right0",side="trunk",reason="redirect_drop"}') $(metric 'xtrunk_xdp_xmit_errors_total{interface="right0",side="trunk",reason="tx_drop"}') $(metric 'xtrunk_xdp_xmit_errors_total{interface="right0",side="trunk",reason="redirect_error"}')"
check "/metrics documents the families (HELP and TYPE counter/gauge)" bash -c \
	'grep -qx "# TYPE xtrunk_xdp_xmit_errors_total counter" <<<"$1" && grep -qx "# TYPE xtrunk_xdp_egress gauge" <<<"$1" && grep -q "^# HELP xtrunk_xdp_xmit_errors_total " <<<"$1"' \
	_ "$(metrics)"
gro "$NS_T" on
check "GRO on at the peer: xtrunkd puts right0 back within its re-check period ($CHECK_S s)" \
	wait_until $((CHECK_S + 2)) egress_is true
check "... logs it" grep -qF "interface right0: its veth peer can take XDP frames again" \
	"$WORK/xtrunkd.log"
check_eq "... and /metrics says xtrunk_xdp_egress 1" 1 \
	"$(metric 'xtrunk_xdp_egress{interface="right0",side="trunk"}')"
gro "$NS_T" off
check "GRO off again: right0 goes out again" wait_until $((CHECK_S + 2)) egress_is false
check_eq "... with the warning logged once per change (twice in all)" 2 \
	"$(grep -cF "$WARN" "$WORK/xtrunkd.log")"
check "xtrunkd stops cleanly (exit 0)" stop_xtrunkd

finish_tests xmit
