# shellcheck shell=bash
# Shared helpers for xtrunk's shell tests: namespaces that clean themselves up,
# and checks that count what passed and failed.
#
# Source it, then: register cleanups with on_exit "cmd"; run checks with
# check "what the user sees" test-expression...; finish with finish_tests.

XT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
XT_BUILD=${XT_BUILD:-$XT_ROOT/build}
XTRUNKCTL=$XT_BUILD/xtrunkctl
UDP_PEER=$XT_BUILD/udp_peer

TESTS_PASSED=0
TESTS_FAILED=0
CLEANUPS=()

on_exit() {
	CLEANUPS+=("$1")
}

run_cleanups() {
	local i
	for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUPS[i]}" >/dev/null 2>&1 || true
	done
	CLEANUPS=()
}
trap run_cleanups EXIT
trap 'exit 130' INT TERM

pass() {
	TESTS_PASSED=$((TESTS_PASSED + 1))
	echo "ok - $1"
}

fail() {
	TESTS_FAILED=$((TESTS_FAILED + 1))
	echo "not ok - $1"
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@"; then
		pass "$what"
	else
		fail "$what"
	fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [[ "$2" == "$3" ]]; then
		pass "$1"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

finish_tests() {
	local name=${1:-tests}
	echo "$name: $TESTS_PASSED passed, $TESTS_FAILED failed"
	[[ $TESTS_FAILED -eq 0 ]]
}


# Run a command in a namespace's network stack but the host's mounts, so the
# pinned maps under /sys/fs/bpf stay visible (ip netns exec remounts /sys).
# A function: started with &, its $! is a subshell's, not the command's; to
# track a background process by PID, call nsenter directly.
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

ensure_bpffs() {
	if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
		mount -t bpf bpf /sys/fs/bpf
	fi
}



require_root() {
	if [[ $(id -u) -ne 0 ]]; then
		echo "$0: needs root (BPF, network namespaces)" >&2
		exit 1
	fi
}

# json_true FILTER JSON: the jq filter holds (is neither false nor null).
# quiet CMD...: run it, output discarded (for check's exit status alone)
quiet() { "$@" >/dev/null 2>&1; }

# udp_bound NS PORT: something in namespace NS listens on UDP PORT
udp_bound() { [[ -n $(ip netns exec "$1" ss -Huan "sport = :$2") ]]; }

# metric NAME_AND_LABELS: its value in the /metrics of xtrunkd at $METRICS
# (in the relay namespace NS_R), empty when absent; metric_is NAME VALUE
metric() {
	in_ns "$NS_R" curl -sS --max-time 5 "http://$METRICS/metrics" |
		awk -v s="$1" 'index($0, s " ") == 1 { print $2 }'
}
metric_is() { [[ $(metric "$1") == "$2" ]]; }

json_true() {
	jq -e "$1" >/dev/null <<<"$2"
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
# Returns 1 if SECONDS pass first. Tests wait for conditions, not for time.
wait_until() {
	local tries=$(($1 * 10))
	shift
	until "$@"; do
		((tries-- > 0)) || return 1
		sleep 0.1
	done
}

# Background processes a test starts: `cmd & track $!` records one, reap waits
# for it (bounded) and forgets it; stop_tracked (register it with on_exit)
# stops what is still running, by its PID and nothing else.
TRACKED=()
track() {
	TRACKED+=("$1")
}

alive() {
	[[ -r /proc/$1/status ]] && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"
}

gone() {
	! alive "$1"
}

# reap PID SECONDS: its exit status; after SECONDS it is killed (status 124).
reap() {
	local pid=$1 rc=0 i
	if ! wait_until "$2" gone "$pid"; then
		kill "$pid" 2>/dev/null
		wait_until 5 gone "$pid" || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rc=124
	else
		wait "$pid" || rc=$?
	fi
	for i in "${!TRACKED[@]}"; do
		[[ ${TRACKED[i]} == "$pid" ]] && unset 'TRACKED[i]'
	done
	return $rc
}

stop_tracked() {
	local pid
	for pid in "${TRACKED[@]}"; do
		alive "$pid" && kill "$pid" 2>/dev/null
	done
	for pid in "${TRACKED[@]}"; do
		wait_until 5 gone "$pid" || kill -KILL "$pid" 2>/dev/null
	done
	TRACKED=()
}

# capture_start FILE NS DEV FILTER: tshark captures what DEV in namespace NS
# sees (capture filter FILTER) into FILE; returns once it is capturing (tshark
# says "Capture started" when dumpcap has the device open with its filter;
# its earlier "Capturing on" does not mean that).
declare -A CAPTURES=()
capture_start() {
	local file=$1
	ip netns exec "$2" tshark -q -i "$3" -f "$4" -w "$file" >/dev/null 2>"$file.log" &
	track $!
	CAPTURES[$file]=$!
	wait_until 20 grep -qs "Capture started" "$file.log"
}

# capture_stop FILE: stop the capture and let tshark write out what it has.
capture_stop() {
	local pid=${CAPTURES[$1]:-}
	[[ -n $pid ]] || return 1
	unset 'CAPTURES[$1]'
	kill -INT "$pid" 2>/dev/null
	reap "$pid" 10 >/dev/null 2>&1
}

# xtrunkd for a test: NS_R (the relay namespace), XTRUNKD and CONF are the
# caller's. start_xtrunkd LOG [ARGS...]: xtrunkd -v in the relay namespace
# (nsenter: it must see /sys/fs/bpf), up when it says it is ready.
# stop_xtrunkd: SIGTERM to that PID; returns xtrunkd's exit status.
XD_PID=
XD_LOG=

# lab_init LETTER NAME: what every suite with xtrunkd between a PBX and a
# trunk needs: root, bpffs, tools/netns.sh, and its names: the namespaces
# NS_P, NS_R, NS_T (xtLETTER-{pbx,relay,trunk}-PID), PIN (its own pin dir),
# WORK (a fresh directory), CONF (xtrunkd's configuration in it), XTRUNKD,
# SIP_DIR (the SIPp scenarios), TAG (this run's PID).
lab_init() {
	source "$XT_ROOT/tools/netns.sh"
	require_root
	ensure_bpffs
	TAG=$$
	NS_P=xt$1-pbx-$TAG
	NS_R=xt$1-relay-$TAG
	NS_T=xt$1-trunk-$TAG
	PIN=/sys/fs/bpf/xtrunk-$2-$TAG
	XTRUNKD=$XT_BUILD/xtrunkd
	SIP_DIR=$XT_ROOT/tests/sip
	WORK=$(mktemp -d "/tmp/xtrunk-$2.XXXXXX")
	CONF=$WORK/xtrunkd.conf
}

# lab_up N: the PBX, relay and trunk hosts on 10.N.1.0/24 and 10.N.2.0/24
# (fdN:1::/64, fdN:2::/64), and what to undo at exit, last first: the
# processes the suite started, xtrunkd, the XDP program and pins if xtrunkd
# left them, the namespaces, WORK (kept with XT_KEEP=1, for its logs).
lab_up() {
	LAB_NET=$1
	[[ -n ${XT_KEEP:-} ]] || on_exit "rm -rf $WORK"
	on_exit "ip netns del $NS_P; ip netns del $NS_R; ip netns del $NS_T"
	three_hosts "$NS_P" "$NS_R" "$NS_T" "10.$1.1" "10.$1.2" "fd$1:1" "fd$1:2" || exit 1
	on_exit "in_ns $NS_R $XTRUNKCTL --pin-dir $PIN iface detach left0; in_ns $NS_R $XTRUNKCTL --pin-dir $PIN iface detach right0; rm -rf $PIN"
	on_exit stop_xtrunkd
	on_exit stop_tracked
}

# lab_sides [PBX_KEYS [TRUNK_KEYS]]: xtrunkd's [side pbx] and [side trunk]
# for the hosts lab_up made: the relay's address on each side's network,
# 100 relay ports (20000-20099, 30000-30099), SIP on 5060, that side's host
# as the peer; then each side's extra keys, one a line.
lab_sides() {
	[[ -n ${LAB_NET:-} ]] || {
		echo "lab_sides: run lab_up first" >&2
		return 1
	}
	local side net=1 ports=20000-20099 iface=left0 keys=${1:-}
	for side in pbx trunk; do
		printf '[side %s]\ninterface = %s\naddress = 10.%s.%s.1\nports = %s\n' \
			"$side" "$iface" "$LAB_NET" "$net" "$ports"
		printf 'sip = 10.%s.%s.1:5060\npeer = 10.%s.%s.2:5060\n%s\n\n' \
			"$LAB_NET" "$net" "$LAB_NET" "$net" "$keys"
		net=2 ports=30000-30099 iface=right0 keys=${2:-}
	done
}

# sipp_audio_call TRUNK_MEDIA_ADDR: one call, the PBX host's SIPp
# (uac_audio.xml: SIPp's g711a.pcap and an RFC 2833 digit) through the relay
# to the trunk host's (uas_audio.xml, receiving media at TRUNK_MEDIA_ADDR and
# playing g711a.pcap back), with the suite's HOST4, RELAY4 and MEDIA; starts
# both, returns once the trunk's SIPp listens; sets uas_pid and uac_pid.
sipp_audio_call() {
	ip netns exec "$NS_T" sipp -sf "$SIP_DIR/uas_audio.xml" -i "${HOST4[trunk]}" -p 5060 \
		-mi "$1" -mp "${MEDIA[trunk]}" -m 1 -nostdin -timeout 30 -timeout_error \
		-trace_err -error_file "$WORK/uas.err" >"$WORK/uas.out" 2>&1 &
	uas_pid=$!
	track $uas_pid
	wait_until 10 udp_bound "$NS_T" 5060
	ip netns exec "$NS_P" sipp -sf "$SIP_DIR/uac_audio.xml" "${RELAY4[pbx]}:5060" -s 1000 \
		-i "${HOST4[pbx]}" -p 5060 -mi "${HOST4[pbx]}" -mp "${MEDIA[pbx]}" -m 1 -nostdin \
		-timeout 30 -timeout_error -trace_err -error_file "$WORK/uac.err" >"$WORK/uac.out" 2>&1 &
	uac_pid=$!
	track $uac_pid
}

start_xtrunkd() {
	XD_LOG=$1
	shift
	nsenter --net="/run/netns/$NS_R" "$XTRUNKD" -v -c "$CONF" "$@" >"$XD_LOG" 2>&1 &
	XD_PID=$!
	track "$XD_PID"
	wait_until 15 grep -qs 'xtrunkd: ready' "$XD_LOG"
}

stop_xtrunkd() {
	[[ -n $XD_PID ]] || return 0
	kill "$XD_PID" 2>/dev/null
	reap "$XD_PID" 15
	local rc=$?
	XD_PID=
	return $rc
}
