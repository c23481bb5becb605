#!/usr/bin/env bash
# End to end: xtrunkctl's call, trunk and port objects over xtrunkd's control
# socket. A PBX, the relay and a SIP trunk provider are network namespaces;
# SIPp plays the PBX and the trunk; xtrunkd runs on the relay with a control
# socket of this test's own. During a call with audio, call list/show (human
# and -j) must show its legs, ports, state and counters equal to what
# xtrunkctl -j flow list reads from the maps; trunk and port list must count
# it; call terminate must hang both SIPp ends up (BYE, or 503 and CANCEL before
# the answer) and free the ports. Malformed requests get an error and xtrunkd
# stays up; a call list of 30000 calls (over 4 MiB) reaches xtrunkctl whole,
# -j and human; with xtrunkd down, call fails clearly while flow and stats work.
# Also: the man page is what xtrunkctl help --man writes, it documents every
# -j field the test sees, and human output fits 80 columns.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init l ctl
SOCK=$WORK/run/xtrunkd.sock
MAN=$XT_ROOT/doc/xtrunkctl.8
LIMIT=5

declare -A NS=([pbx]=$NS_P [trunk]=$NS_T)
declare -A HOST4=([pbx]=10.91.1.2 [trunk]=10.91.2.2)
declare -A RELAY4=([pbx]=10.91.1.1 [trunk]=10.91.2.1)
declare -A MEDIA=([pbx]=40000 [trunk]=50000)

ctl() { in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" --socket "$SOCK" "$@"; }
successful_calls() {
	grep -a 'Successful call' "$1" | tail -1 | awk -F'|' '{gsub(/ /, "", $3); print $3}'
}

# Every -j output the test sees, for the man page check at the end.
JSON_SEEN=$WORK/json-seen
jctl() {
	local out
	out=$(ctl -j "$@")
	printf '%s\n' "$out" >>"$JSON_SEEN"
	printf '%s\n' "$out"
}
# Every human output the test sees, for the 80-column check.
HUMAN_SEEN=$WORK/human-seen
hctl() {
	local out
	out=$(ctl "$@")
	printf '%s\n' "$out" >>"$HUMAN_SEEN"
	printf '%s\n' "$out"
}

# write_config TRUNK_KEYS [PBX_KEYS]
write_config() {
	{
		cat <<-EOF
			# written by $0
			[relay]
			pin_dir = $PIN
			metrics = 127.0.0.1:9477
			control = $SOCK

		EOF
		lab_sides "${2:-}" "$1"
	} >"$CONF"
}

setup() {
	lab_up 91
	# the trunk side's channel limit, when this xtrunkd knows the key
	write_config "channels = $LIMIT"
	if ! quiet "$XTRUNKD" --check-config -c "$CONF"; then
		LIMIT=
		write_config ""
	fi
}

# ---- SIPp ----

declare -A PID TRACE OUT
# sipp_start ROLE SIDE SCENARIO: SIPp plays SIDE's host; ROLE uac calls the relay.
sipp_start() {
	local role=$1 side=$2 xml=$3 args=()
	TRACE[$role]=$WORK/$role.$xml.msg
	OUT[$role]=$WORK/$role.$xml.out
	[[ $role == uac ]] && args=("${RELAY4[$side]}:5060" -s 1000)
	ip netns exec "${NS[$side]}" sipp -sf "$SIP_DIR/$xml" "${args[@]}" -i "${HOST4[$side]}" \
		-p 5060 -mi "${HOST4[$side]}" -mp "${MEDIA[$side]}" -m 1 -nostdin -timeout 40 \
		-timeout_error -trace_msg -message_file "${TRACE[$role]}" >"${OUT[$role]}" 2>&1 &
	PID[$role]=$!
	track "${PID[$role]}"
	if [[ $role == uas ]]; then
		wait_until 10 udp_bound "${NS[$side]}" 5060
	fi
}

# sipp_end ROLE: waits for it (in this shell: only it can reap its children);
# RESULT[ROLE] is "EXIT SUCCESSFUL_CALLS".
declare -A RESULT
sipp_end() {
	local rc=0
	reap "${PID[$1]}" 30 || rc=$?
	RESULT[$1]="$rc $(successful_calls "${OUT[$1]}")"
}

# the first value of header HEADER (that matches RE) in the messages ROLE's SIPp received
received_header() {
	tr -d '\r' <"${TRACE[$1]}" | awk -v h="$2" -v re="${3:-}" '/^----------/ { hdr = 1; rx = 0; next }
		hdr { rx = /message received/; hdr = 0; next }
		rx && tolower($0) ~ "^" tolower(h) ":" && $0 ~ re { sub(/^[^:]*: */, ""); print; exit }'
}
# the first m=audio port in an SDP ROLE's SIPp received
received_media_port() {
	tr -d '\r' <"${TRACE[$1]}" | awk '/^----------/ { hdr = 1; rx = 0; next }
		hdr { rx = /message received/; hdr = 0; next }
		rx && /^m=audio / { print $2; exit }'
}
tag_of() { sed -nE 's/.*;tag=([^;> ]+).*/\1/p' <<<"$1"; }

# ---- what the relay holds ----

flow_count() { ctl -j flow list | jq length; }
flows_are() { [[ $(flow_count) == "$1" ]]; }
calls_are() { [[ $(ctl -j call list | jq length) == "$1" ]]; }
ports_used() { ctl -j port list | jq -r 'map("\(.side)=\(.used)") | join(",")'; }
channels() { ctl -j trunk list | jq -r 'map("\(.side)=\(.channels)") | join(",")'; }
flow_packets() { ctl -j flow list | jq '[.[].packets] | add // 0'; }
# the flows' packet counts stay the same for a second: the media has ended
media_settled() {
	local a b
	a=$(flow_packets)
	sleep 1
	b=$(flow_packets)
	[[ $a == "$b" && $a -gt 0 ]]
}

# raw_request: send stdin to the control socket as it is; prints the replies.
raw_request() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
try:
    s.sendall(sys.stdin.buffer.read())
    s.shutdown(socket.SHUT_WR)
except (BrokenPipeError, ConnectionResetError):
    pass
s.settimeout(5)
out = bytearray()
while True:
    try:
        d = s.recv(65536)
    except (socket.timeout, ConnectionResetError):
        break
    if not d:
        break
    out += d
sys.stdout.write(out.decode("utf-8", "replace"))
' "$SOCK"
}

setup

# === the man page and the help, with no daemon ===
check "doc/xtrunkctl.8 is what xtrunkctl help --man writes (regenerate: make man)" \
	diff -u "$MAN" <("$XTRUNKCTL" help --man)
check "man renders the page without warnings" \
	bash -c "! man --warnings -l '$MAN' 2>&1 >/dev/null | grep -q ."
{
	"$XTRUNKCTL" help
	for o in iface flow stats call trunk port; do
		"$XTRUNKCTL" "$o" help
	done
} >>"$HUMAN_SEEN" 2>&1

# === xtrunkd down: call, trunk and port say so ===
err=$(ctl call list 2>&1 >/dev/null)
rc=$?
check_eq "xtrunkd not running: call list exits 1" 1 "$rc"
check "... with 'Error: cannot reach xtrunkd at $SOCK' on stderr" \
	grep -q "^Error: cannot reach xtrunkd at $SOCK: " <<<"$err"
check "... and with -j, {\"error\": ...} on stdout" \
	json_true '.error | test("cannot reach xtrunkd")' "$(ctl -j call list 2>/dev/null)"
check "xtrunkd not running: trunk list and port list fail too (exit 1)" \
	bash -c "! $XTRUNKCTL --socket $SOCK trunk list 2>/dev/null && ! $XTRUNKCTL --socket $SOCK port list 2>/dev/null"
check "XTRUNK_SOCKET names the socket when --socket is not given" \
	bash -c "XTRUNK_SOCKET=$SOCK $XTRUNKCTL call list 2>&1 | grep -q 'at $SOCK:'"

# A socket file left by an xtrunkd that is gone: the next one replaces it.
mkdir -p "$(dirname "$SOCK")"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"

# === xtrunkd up ===
if ! start_xtrunkd "$WORK/xtrunkd.log"; then
	fail "xtrunkd starts with its control socket (over a stale one) and says it is ready"
	sed 's/^/# /' "$XD_LOG"
	finish_tests ctl
	exit 1
fi
pass "xtrunkd starts with its control socket (over a stale one) and says it is ready"
check_eq "the control socket is a socket with mode 0660" "socket 660" "$(stat -c '%F %a' "$SOCK")"
check_eq "idle: call list -j is []" "[]" "$(jctl call list | jq -c .)"
check_eq "idle: call list prints nothing" "" "$(hctl call list)"
check_eq "idle: trunk list -j: no channel in use on either side" "pbx=0,trunk=0" "$(channels)"
check_eq "idle: port list -j: no relay port used, 100 free per side" \
	"pbx=0/100/20000-20099,trunk=0/100/30000-30099" \
	"$(jctl port list | jq -r 'map("\(.side)=\(.used)/\(.free)/\(.min)-\(.max)") | join(",")')"
if [[ -n $LIMIT ]]; then
	check_eq "trunk list -j: the trunk side's limit is the configured $LIMIT, the PBX side has none" \
		"pbx=null,trunk=$LIMIT" "$(jctl trunk list | jq -r 'map("\(.side)=\(.limit)") | join(",")')"
	check "trunk list: 'trunk  channels 0/$LIMIT'" grep -q "^trunk  channels 0/$LIMIT " <(hctl trunk list)
else
	echo "# xtrunkd has no 'channels' key yet: the limit is not checked"
fi
check "prefix matching: 'xtrunkctl ca li' is call list" quiet ctl ca li
out=$(ctl call show c99 2>&1)
check_eq "call show of a call that does not exist: exit 1, 'Error: no call c99'" \
	"1|Error: no call c99" "$?|$out"

# === a call with audio: the PBX calls the trunk, both wait for a BYE ===
sipp_start uas trunk uas_audio.xml
sipp_start uac pbx uac_wait_bye.xml
wait_until 15 flows_are 4
check_eq "during the call: call list -j has it, confirmed, pbx -> trunk, 1 stream, 4 flows" \
	"1|confirmed|pbx|trunk|1|4" \
	"$(jctl call list | jq -r '"\(length)|\(.[0].state)|\(.[0].from)|\(.[0].to)|\(.[0].streams)|\(.[0].flows)"')"
ID=$(ctl -j call list | jq -r '.[0].id')
check "call list: '$ID  confirmed  pbx -> trunk'" grep -q "^$ID  confirmed  pbx -> trunk$" <(hctl call list)
check_eq "trunk list -j: 1 channel in use on each side" "pbx=1,trunk=1" "$(channels)"
check_eq "port list -j: an RTP/RTCP pair used on each side" "pbx=2,trunk=2" "$(ports_used)"
wait_until 20 media_settled
SHOW=$(jctl call show "$ID")
FLOWS=$(jctl flow list)

# The PBX's dialog: its Call-ID, its From tag (remote), the relay's To tag (local).
check_eq "call show -j: the PBX leg is the caller's dialog (Call-ID, tags) with the PBX as peer" \
	"pbx|caller|$(received_header uac Call-ID)|$(tag_of "$(received_header uac To ';tag=')")|$(tag_of "$(received_header uac From)")|${HOST4[pbx]}:5060" \
	"$(jq -r '.legs[] | select(.side == "pbx") | "\(.side)|\(.role)|\(.call_id)|\(.local_tag)|\(.remote_tag)|\(.peer)"' <<<"$SHOW")"
# The trunk's: the relay's Call-ID and From tag (local), SIPp's To tag (remote).
check_eq "call show -j: the trunk leg is the relay's own dialog, as the trunk saw it" \
	"trunk|callee|$(received_header uas Call-ID)|$(tag_of "$(received_header uas From)")|true|${HOST4[trunk]}:5060" \
	"$(jq -r '.legs[] | select(.side == "trunk") | "\(.side)|\(.role)|\(.call_id)|\(.local_tag)|\(.remote_tag | test("^[0-9]+SIPpTag01[0-9]+$"))|\(.peer)"' <<<"$SHOW")"
check "... and the two legs' Call-IDs differ (topology hiding)" \
	json_true '.legs[0].call_id != .legs[1].call_id' "$SHOW"
pp=$(received_media_port uac) # the relay port the PBX was told
tp=$(received_media_port uas)
check_eq "call show -j: the stream's relay ports are the ones each side's SDP named, peers are the SDPs'" \
	"pbx ${RELAY4[pbx]}:$pp ${RELAY4[pbx]}:$((pp + 1)) ${HOST4[pbx]}:${MEDIA[pbx]},trunk ${RELAY4[trunk]}:$tp ${RELAY4[trunk]}:$((tp + 1)) ${HOST4[trunk]}:${MEDIA[trunk]}" \
	"$(jq -r '[.streams[0].sides[] | "\(.side) \(.relay_rtp) \(.relay_rtcp) \(.peer_rtp)"] | join(",")' <<<"$SHOW")"
check_eq "call show -j: state confirmed, answered, 4 flows installed in XDP" \
	"confirmed|true|4|true" \
	"$(jq -r '"\(.state)|\(.answered_s != null)|\(.flows)|\([.streams[0].flows[].xdp] | all)"' <<<"$SHOW")"
check_eq "call show -j: each flow's local, to, via and counters are what flow list -j reads from the maps" \
	"$(jq -r '[.[] | "\(.local) \(.to) \(.via) \(.packets) \(.bytes) \(.drops)"] | sort | join(",")' <<<"$FLOWS")" \
	"$(jq -r '[.streams[].flows[] | "\(.local) \(.to) \(.via) \(.packets) \(.bytes) \(.drops)"] | sort | join(",")' <<<"$SHOW")"
check_eq "... and the call's packet total is their sum" \
	"$(jq '[.[].packets] | add' <<<"$FLOWS")" "$(jq '.packets' <<<"$SHOW")"
check_eq "call show -j: the trunk's RTP towards the PBX has its quality: the pcap's 236 packets and a MOS" \
	"236 true" \
	"$(jq -r '.streams[0].flows[] | select(.kind == "rtp" and .from_side == "trunk") | .rtp | "\(.received) \(.mos > 1)"' <<<"$SHOW")"
check "call show -j: the call's MOS is a number from 1 to 4.5" json_true '.mos >= 1 and .mos <= 4.5' "$SHOW"
human=$(hctl call show "$ID")
has_lines() {
	local re
	for re in "${@:2}"; do
		grep -qE -- "$re" <<<"$1" || return 1
	done
}
check "call show: the call, its legs, the stream and MOS in the human output" has_lines "$human" \
	"^$ID  confirmed  pbx -> trunk$" "leg pbx \\(caller\\)" "leg trunk \\(callee\\)" \
	"stream 0  clock 8000 Hz" "MOS [0-9]"
check_eq "call show: its 4 flows, RTP and RTCP each way" 4 "$(grep -cE $'^\t(rtp |rtcp) ' <<<"$human")"
# the human views of everything, for the 80-column check
for cmd in "call list" "trunk list" "trunk show pbx" "trunk show trunk" "port list" "flow list" \
	"stats" "iface list"; do
	# shellcheck disable=SC2086
	hctl $cmd >/dev/null
	# shellcheck disable=SC2086
	jctl $cmd >/dev/null
done
check_eq "trunk show -j pbx: 1 INVITE received from the PBX" 1 \
	"$(ctl -j trunk show pbx | jq '.sip_requests.INVITE')"

# === call terminate: BYE to both legs ===
out=$(hctl call terminate "$ID")
check_eq "call terminate $ID: exit 0, 'call $ID terminated'" "0|call $ID terminated" "$?|$out"
sipp_end uac
check_eq "... the PBX's SIPp gets its BYE and completes its scenario (exit 0, 1 call)" "0 1" \
	"${RESULT[uac]}"
sipp_end uas
check_eq "... the trunk's SIPp gets its BYE and completes its scenario (exit 0, 1 call)" "0 1" \
	"${RESULT[uas]}"
wait_until 5 flows_are 0
check_eq "... the call is gone from call list" "[]" "$(ctl -j call list | jq -c .)"
check_eq "... its flows are gone" 0 "$(flow_count)"
check_eq "... its relay ports are free again" "pbx=0,trunk=0" "$(ports_used)"
check_eq "... no channel in use" "pbx=0,trunk=0" "$(channels)"
check "... xtrunkd logged who hung up" grep -q "call $ID: terminated by the operator" "$XD_LOG"
out=$(ctl call terminate "$ID" 2>&1)
check_eq "call terminate of the gone call: exit 1, 'Error: no call $ID'" "1|Error: no call $ID" \
	"$?|$out"

# === call terminate before the answer: 503 to the caller, CANCEL to the callee ===
sipp_start uas trunk uas_cancel.xml
sipp_start uac pbx ctl_uac_503.xml
wait_until 10 calls_are 1
wait_until 5 bash -c "[[ \$($XTRUNKCTL --socket $SOCK -j call list | jq -r '.[0].state') == early ]]"
ID=$(ctl -j call list | jq -r '.[0].id')
check_eq "ringing: call list -j shows the call early (180), not answered" "early|null" \
	"$(jctl call list | jq -r '"\(.[0].state)|\(.[0].answered_s)"')"
check_eq "ringing: its relay ports are held" "pbx=2,trunk=2" "$(ports_used)"
check "call terminate $ID while ringing: exit 0" quiet ctl call terminate "$ID"
sipp_end uac
check_eq "... the caller gets a 503 and ACKs it (its SIPp completes: exit 0, 1 call)" "0 1" \
	"${RESULT[uac]}"
sipp_end uas
check_eq "... the callee gets a CANCEL, answers 487 and gets the ACK (exit 0, 1 call)" "0 1" \
	"${RESULT[uas]}"
wait_until 5 calls_are 0
check_eq "... the call is gone and its ports are free" "0|pbx=0,trunk=0" \
	"$(ctl -j call list | jq length)|$(ports_used)"

check_eq "the two calls hung up by the operator: xtrunk_calls_total{result=\"terminated\"} 2" 2 \
	"$(in_ns "$NS_R" curl -sS --max-time 5 http://127.0.0.1:9477/metrics |
		awk '$1 == "xtrunk_calls_total{result=\"terminated\"}" { print $2 }')"

# === malformed requests: an error each, and xtrunkd stays up ===
replies=$(printf '%s\n' 'not json' '{"command": 5}' '[1, 2]' '{"command": "call show"}' \
	'{"command": "call show", "id": 7}' '{"command": "reboot"}' '{"command": "call list"} x' \
	'{"command": "call list", "nested": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}' \
	'"\u0000"' '{"command": "call list"}' | raw_request)
check_eq "10 requests on one connection get 10 reply lines" 10 "$(wc -l <<<"$replies")"
check_eq "... the 9 malformed ones an {\"error\": ...} each, the last its result" \
	"error error error error error error error error error result" \
	"$(jq -r 'keys[0]' <<<"$replies" | xargs)"
check "... saying what is wrong (not JSON, missing \"id\", unknown command, too deep)" has_lines \
	"$(jq -r '.error // empty' <<<"$replies")" "request is not JSON" 'missing "id"' \
	"unknown command 'reboot'" "nested too deep" "must be a JSON object"
long=$( (
	head -c 5000 /dev/zero | tr '\0' 'x'
	echo
) | raw_request)
check "a request line over 4096 bytes: an error reply, then the connection is closed" \
	json_true '.error | test("longer than")' "$long"
check_eq "binary garbage: an error reply" error \
	"$(head -c 300 /dev/urandom | tr '\n' ' ' | { cat; echo; } | raw_request | jq -r 'keys[0]' | head -1)"
# clients that go away mid-request, or never send a thing
for _ in $(seq 20); do
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"{\"command\": \"ca")' "$SOCK"
done
python3 -c 'import socket, sys, time
conns = []
for i in range(20):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); conns.append(s)
open(sys.argv[2], "w").close()
time.sleep(3)' "$SOCK" "$WORK/idle-clients" &
idle=$!
track $idle
wait_until 10 test -e "$WORK/idle-clients"
check "a 21st client while 20 sit idle: an error reply ('too many control clients') or served" \
	bash -c "$XTRUNKCTL --socket $SOCK -j call list 2>/dev/null | grep -qE 'too many control clients|^\\[\\]$'"
reap $idle 10
# utime+stime of a process, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
t0=$(cpu_ticks "$XD_PID")
sleep 1
t1=$(cpu_ticks "$XD_PID")
check "... and then idles (no busy loop on a closed client: under 0.2 s of CPU in 1 s)" \
	test $((t1 - t0)) -lt $(($(getconf CLK_TCK) / 5))
check "after all that xtrunkd is still up and answers call list" \
	bash -c "kill -0 $XD_PID && $XTRUNKCTL --socket $SOCK -j call list | grep -qx '\\[\\]'"

# === what is printed: 80 columns, and the man page documents every -j field ===
long_lines=$(expand "$HUMAN_SEEN" | awk 'length($0) > 80' | head -5)
check_eq "every human-readable output line fits 80 columns" "" "$long_lines"
# (the keys of sip_requests and sip_responses are methods and classes, not fields)
json_doc=$(sed -n '/^\.SH JSON OUTPUT/,/^\.SH [^J]/p' "$MAN" | sed 's/\\-/-/g')
missing=$(jq -r 'walk(if type == "object" then del(.sip_requests, .sip_responses) else . end)
	| .. | objects | keys[]' "$JSON_SEEN" | sort -u | while read -r key; do
	grep -qw -- "$key" <<<"$json_doc" || grep -qF -- "${key%%_*}_*" <<<"$json_doc" || echo "$key"
done | xargs)
check_eq "every field -j printed in this test is documented in the man page's JSON OUTPUT" "" "$missing"

# === a clean stop: exit 0 (in an ASan build: no leak, no error), the socket removed ===
stop_xtrunkd
check_eq "xtrunkd stops on SIGTERM with exit 0" 0 "$?"
check "... and removes its control socket" test ! -e "$SOCK"

# === a call list of any length reaches xtrunkctl whole (issue 13 point 13) ===
# Calls left waiting for their answer cost the relay no media: INVITEs
# without SDP, to which the trunk says 100 Trying and nothing more. Their
# call list is over 4 MiB, where a reply used to make xtrunkd close the
# client without a word.
BIG=30000
# SIPp calls faster than the admission rates let one source, and all of
# them stay in set-up: those caps off for this
write_config "setup_calls = 0" "sip_rate = 0
sip_rate_peer = 0
setup_calls = 0"
if ! start_xtrunkd "$WORK/xtrunkd-big.log"; then
	fail "xtrunkd starts for $BIG calls"
	sed 's/^/# /' "$XD_LOG"
fi
ip netns exec "$NS_T" sipp -sf "$SIP_DIR/ctl_uas_waiting.xml" -i "${HOST4[trunk]}" -p 5060 \
	-nostdin >"$WORK/uas.waiting.out" 2>&1 &
big_uas=$!
track $big_uas
wait_until 10 udp_bound "$NS_T" 5060
ip netns exec "$NS_P" sipp -sf "$SIP_DIR/ctl_uac_waiting.xml" "${RELAY4[pbx]}:5060" -s 1000 \
	-i "${HOST4[pbx]}" -p 5060 -m $BIG -l $BIG -r 3000 -nostdin >"$WORK/uac.waiting.out" 2>&1 &
big_uac=$!
track $big_uac
channels_are() { [[ $(channels) == "pbx=$1,trunk=$1" ]]; }
check "$BIG calls waiting for an answer (INVITE without SDP, 100 Trying): trunk list counts them" \
	wait_until 60 channels_are $BIG
kill "$big_uac" "$big_uas" 2>/dev/null
reap "$big_uac" 10
reap "$big_uas" 10

# A client that asks for the list and reads none of it: the others are
# served meanwhile, and after 10 s it is closed with a log line.
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"{\"command\": \"call list\"}\n"); time.sleep(60)' "$SOCK" &
stalled=$!
track $stalled

big_json=$(ctl -j call list)
check_eq "call list -j with $BIG calls: exit 0, valid JSON, every call once, oldest first" \
	"0|$BIG|$BIG|true" \
	"$?|$(jq -r '"\(length)|\(map(.id) | unique | length)|\([.[].id[1:] | tonumber] | . == sort)"' <<<"$big_json")"
big_human=$(ctl call list)
check_eq "call list with $BIG calls: exit 0, each call's 'ID  inviting  pbx -> trunk'" "0|$BIG" \
	"$?|$(grep -cE '^c[0-9]+  inviting  pbx -> trunk$' <<<"$big_human")"
raw=$(printf '%s\n' '{"command": "call list"}' '{"command": "trunk list"}' '{"command": "call list"}' |
	raw_request)
big_bytes=$(head -1 <<<"$raw" | wc -c)
echo "# the call list reply of $BIG calls: $big_bytes bytes"
check "... the reply itself, one line, is over 4 MiB" test "$big_bytes" -gt $((4 << 20))
check_eq "call list, trunk list, call list on one connection: three whole replies, in order" \
	"3|$BIG,2,$BIG" "$(wc -l <<<"$raw")|$(jq -r '.result | length' <<<"$raw" | paste -sd,)"
check "the client reading nothing is closed after 10 s, xtrunkd saying so" \
	wait_until 20 grep -q 'control: closing a client [0-9]* bytes into its reply: it has read nothing for 10 s' "$XD_LOG"
kill "$stalled"
reap "$stalled" 5
check "xtrunkd with $BIG calls stops on SIGTERM with exit 0" stop_xtrunkd

write_config "${LIMIT:+channels = $LIMIT}"
check "xtrunkd starts again on the same control socket" start_xtrunkd "$WORK/xtrunkd2.log"

# === xtrunkd down without cleaning up: call fails, flow and stats still work ===
kill -KILL "$XD_PID"
reap "$XD_PID" 10 2>/dev/null
XD_PID=
err=$(ctl call list 2>&1 >/dev/null)
check_eq "xtrunkd killed: call list exits 1 ('cannot reach xtrunkd')" "1|yes" \
	"$(
		quiet ctl call list
		echo "$?|$(grep -q 'cannot reach xtrunkd' <<<"$err" && echo yes)"
	)"
check "... flow list -j still reads the pinned maps (exit 0, an array)" \
	bash -c "$XTRUNKCTL --pin-dir $PIN -j flow list | jq -e 'type == \"array\"' >/dev/null"
check "... stats still reads the pinned maps (exit 0, its counters)" \
	bash -c "$XTRUNKCTL --pin-dir $PIN -j stats | jq -e '.rx >= 0 and .drop_source_check >= 0' >/dev/null"

finish_tests ctl
