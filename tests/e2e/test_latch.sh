#!/usr/bin/env bash
# End to end: NAT latching against a latch hijack (issue 13 point 8), as an
# operator sees it, in XDP and in the userspace relay (xdp = off).
#   - Relay ports are handed out at random: two calls in a row do not get
#     neighbouring ports every time.
#   - The PBX's media latches to its first source port; another port of the
#     same address is dropped while the stream talks; after 2 s of quiet it
#     takes over (NAT rebinding), counted (xtrunkctl stats relatched, or
#     xtrunk_media_relatched_total in userspace), and the media back to the
#     PBX follows it; the old port is then dropped.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init q latch
SOCK=$WORK/run/xtrunkd.sock
METRICS=127.0.0.1:9477
PBX=10.98.1.2
RELAY_P=10.98.1.1
TRUNK=10.98.2.2

ctl() { in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" --socket "$SOCK" "$@"; }
# the relay port the PBX's RTP arrives at, from call show
pbx_rtp_port() {
	ctl -j call show "$(ctl -j call list | jq -r '.[0].id')" |
		jq -r '.streams[0].flows[] | select(.kind == "rtp" and .from_side == "pbx") | .local' |
		cut -d: -f2
}
# what userspace relayed and dropped of that flow: "PACKETS DROPS"
pbx_rtp_userspace() {
	ctl -j call show "$(ctl -j call list | jq -r '.[0].id')" |
		jq -r '.streams[0].flows[] | select(.kind == "rtp" and .from_side == "pbx") | "\(.userspace_packets) \(.userspace_drops)"'
}
# send N FROM_PORT: N RTP packets from the PBX host's port to the call's relay port, 5 ms apart
send() { ip netns exec "$NS_P" "$UDP_PEER" send "$PBX:$2" "$RELAY_P:$LOCAL_PORT" "$1" 5000 >/dev/null; }
# trunk_heard: RTP packets the trunk host received from the relay so far
trunk_heard() { tshark -r "$1" -Y "udp.dstport == 6000" 2>/dev/null | wc -l; }

write_config() {
	{
		printf '# written by %s\n[relay]\npin_dir = %s\nmetrics = %s\ncontrol = %s\nxdp = %s\n\n' \
			"$0" "$PIN" "$METRICS" "$SOCK" "$1"
		lab_sides "latch = on"
	} >"$CONF"
}

call_up() {
	ip netns exec "$NS_T" sipp -sf "$SIP_DIR/adm_uas.xml" -i "$TRUNK" -p 5060 -mp 6000 -m 1 \
		-nostdin -timeout 60 >"$WORK/uas.out" 2>&1 &
	UAS=$!
	track $UAS
	wait_until 10 udp_bound "$NS_T" 5060
	ip netns exec "$NS_P" sipp -sf "$SIP_DIR/adm_uac_hold.xml" "$RELAY_P:5060" -s 1000 \
		-i "$PBX" -p 5060 -mp 7000 -m 1 -d 30000 -nostdin -timeout 60 >"$WORK/uac.out" 2>&1 &
	UAC=$!
	track $UAC
	wait_until 15 eval '[[ $(ctl -j call list | jq length) == 1 ]]'
}

call_down() {
	kill "$UAC" "$UAS" 2>/dev/null
	reap "$UAC" 10 >/dev/null 2>&1
	reap "$UAS" 10 >/dev/null 2>&1
	ctl call terminate "$(ctl -j call list | jq -r '.[0].id')" >/dev/null 2>&1
	wait_until 10 eval '[[ $(ctl -j call list | jq length) == 0 ]]'
}

lab_up 98

# === random relay ports, and the latch in XDP ===
write_config native
if ! start_xtrunkd "$WORK/xtrunkd.log"; then
	fail "xtrunkd starts with latch = on"
	sed 's/^/# /' "$XD_LOG"
	finish_tests latch
	exit 1
fi
ports=()
for i in 1 2 3; do
	call_up
	ports[i]=$(pbx_rtp_port)
	[[ $i == 3 ]] || call_down
done
LOCAL_PORT=${ports[3]}
echo "# the PBX side's RTP relay port of three calls in a row: ${ports[1]} ${ports[2]} ${ports[3]}"
check "relay ports at random: three calls in a row do not get ports 2 apart each time" \
	test "$((ports[2] - ports[1]))|$((ports[3] - ports[2]))" != "2|2"
echo "# the PBX's RTP arrives at $RELAY_P:$LOCAL_PORT"
capture_start "$WORK/trunk.pcap" "$NS_T" eth0 "udp and src host 10.98.2.1 and not port 5060"
latched=$(ctl -j stats | jq .latched)
relatched=$(ctl -j stats | jq .relatched)
send 10 7100
flow=$(ctl -j flow list | jq -c --arg l "$RELAY_P:$LOCAL_PORT" '.[] | select(.local == $l)')
check_eq "XDP: the first packets latch the flow to port 7100 and are relayed" \
	"$PBX:7100 10 $((latched + 1))" "$(jq -r '"\(.from) \(.packets)"' <<<"$flow") $(ctl -j stats | jq .latched)"
check_eq "... and the media back to the PBX goes to that port" "$PBX:7100" \
	"$(ctl -j flow list | jq -r --arg p "$PBX:7100" '.[] | select(.to == $p) | .to' | head -1)"
send 10 7300
check_eq "XDP: another port of the PBX while the stream talks is dropped (10 drops)" \
	"$PBX:7100 10 10" "$(ctl -j flow list | jq -r --arg l "$RELAY_P:$LOCAL_PORT" '.[] | select(.local == $l) | "\(.from) \(.packets) \(.drops)"')"
sleep 2.5
send 10 7300
check_eq "XDP: after 2.5 s of quiet that port takes over: relayed, the flow latched to 7300" \
	"$PBX:7300 20" "$(ctl -j flow list | jq -r --arg l "$RELAY_P:$LOCAL_PORT" '.[] | select(.local == $l) | "\(.from) \(.packets)"')"
check_eq "... counted: relatched +1" "$((relatched + 1))" "$(ctl -j stats | jq .relatched)"
check_eq "... and the media back to the PBX follows it" "$PBX:7300" \
	"$(ctl -j flow list | jq -r --arg p "$PBX:7300" '.[] | select(.to == $p) | .to' | head -1)"
send 10 7100
check_eq "XDP: the old port is now dropped" "20 20" \
	"$(ctl -j flow list | jq -r --arg l "$RELAY_P:$LOCAL_PORT" '.[] | select(.local == $l) | "\(.packets) \(.drops)"')"
check_eq "... and /metrics says the same: xtrunk_xdp_relatched_total" "$((relatched + 1))" \
	"$(metric xtrunk_xdp_relatched_total)"
sleep 0.5
capture_stop "$WORK/trunk.pcap"
check_eq "the trunk heard the 20 relayed packets, none of the dropped ones" 20 \
	"$(trunk_heard "$WORK/trunk.pcap")"
call_down
check "stopping xtrunkd (SIGTERM) ends it cleanly" stop_xtrunkd

# === the same rule in the userspace relay ===
write_config off
check "xtrunkd starts with xdp = off" start_xtrunkd "$WORK/xtrunkd-off.log"
call_up
LOCAL_PORT=$(pbx_rtp_port)
echo "# userspace: the PBX's RTP arrives at $RELAY_P:$LOCAL_PORT"
capture_start "$WORK/trunk-off.pcap" "$NS_T" eth0 "udp and src host 10.98.2.1 and not port 5060"
send 10 7100
send 10 7300
sleep 2.5
send 10 7300
send 10 7100
sleep 0.5
capture_stop "$WORK/trunk-off.pcap"
check_eq "userspace: 7100 latched, 7300 dropped while it talked, then taken over after the quiet, then 7100 dropped: the trunk heard 20" \
	20 "$(trunk_heard "$WORK/trunk-off.pcap")"
check_eq "... call show: that flow relayed 20 in userspace and dropped 20" "20 20" \
	"$(pbx_rtp_userspace)"
check_eq "... counted: xtrunk_media_relatched_total{path=\"userspace\",side=\"pbx\"} 1" 1 \
	"$(metric 'xtrunk_media_relatched_total{path="userspace",side="pbx"}')"
check "... and logged" grep -q "stream re-latched from port 7100 to $PBX:7300 after" "$XD_LOG"
call_down
check "stopping xtrunkd (SIGTERM) ends it cleanly" stop_xtrunkd
finish_tests latch
