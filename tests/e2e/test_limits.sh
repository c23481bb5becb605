#!/usr/bin/env bash
# End to end: what one client or a lack of file descriptors can do to xtrunkd
# (issue 13 point 5), as an operator sees it.
#   1. xtrunkd raises its soft open-files limit to the hard one, and says so.
#   2. Run out of descriptors (a hard limit of 80): the next call gets 503 and
#      the log names the cause (not "no free relay port"); control clients
#      queued while no descriptor is free do not make xtrunkd spin; once the
#      calls end, the control socket and /metrics answer again.
#   3. An idle control client is closed (10 s), so a pile of them cannot hold
#      the control socket's 16 client slots.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init o limits
METRICS=127.0.0.1:9477
SOCK=$WORK/run/xtrunkd.sock
PBX=10.96.1.2
RELAY_P=10.96.1.1
TRUNK=10.96.2.2

ctl() { in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" --socket "$SOCK" "$@"; }
# start_limited LOG SOFT:HARD: xtrunkd under that open-files limit
start_limited() {
	XD_LOG=$1
	nsenter --net="/run/netns/$NS_R" prlimit --nofile="$2" "$XTRUNKD" -v -c "$CONF" \
		>"$XD_LOG" 2>&1 &
	XD_PID=$!
	track "$XD_PID"
	wait_until 15 grep -qs 'xtrunkd: ready' "$XD_LOG"
}
# cpu_ticks: xtrunkd's user + system time so far, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$XD_PID/stat"; }

lab_up 96
{
	printf '# written by %s\n[relay]\npin_dir = %s\nmetrics = %s\ncontrol = %s\n\n' \
		"$0" "$PIN" "$METRICS" "$SOCK"
	lab_sides
} >"$CONF"

# === 1. the soft limit goes up to the hard one ===
check "xtrunkd starts with a soft open-files limit of 1024 and a hard one of 4096" \
	start_limited "$WORK/raise.log" 1024:4096
check "... and raises the soft limit to 4096, saying so" \
	grep -q 'open files limit 4096 (about 1024 calls at 4 relay sockets each), raised to the hard limit' "$XD_LOG"
check "... and stops cleanly" stop_xtrunkd

# === 2. out of descriptors ===
if ! start_limited "$WORK/emfile.log" 80:80; then
	fail "xtrunkd starts with 80 descriptors"
	sed 's/^/# /' "$XD_LOG"
	finish_tests limits
	exit 1
fi
ip netns exec "$NS_T" sipp -sf "$SIP_DIR/adm_uas.xml" -i "$TRUNK" -p 5060 -m 40 -nostdin \
	-timeout 60 >"$WORK/uas.out" 2>&1 &
UAS=$!
track $UAS
wait_until 10 udp_bound "$NS_T" 5060
# calls held 12 s, 5 a second: each holds 4 relay sockets, so a few dozen use up 80
ip netns exec "$NS_P" sipp -sf "$SIP_DIR/adm_uac_hold.xml" "$RELAY_P:5060" -s 1000 -i "$PBX" \
	-p 5060 -m 40 -r 5 -d 12000 -nostdin -timeout 60 -trace_msg \
	-message_file "$WORK/uac.msg" >"$WORK/uac.out" 2>&1 &
UAC=$!
track $UAC
check "out of descriptors: a call gets 503 Service Unavailable" \
	wait_until 20 grep -qs '^SIP/2.0 503' "$WORK/uac.msg"
check "out of descriptors: the log says why: too many open files, raise LimitNOFILE" \
	grep -q 'cannot open a relay port on endpoint .*: Too many open files (raise the open files limit, LimitNOFILE)' "$XD_LOG"
# clients the control socket cannot accept while no descriptor is free stay queued
ip netns exec "$NS_R" python3 - "$SOCK" >"$WORK/clients.out" 2>&1 <<-'PY' &
	import socket, sys, time
	held = []
	for _ in range(8):
	    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	    s.connect(sys.argv[1])
	    held.append(s)
	time.sleep(4)
PY
CLIENTS=$!
track $CLIENTS
sleep 0.5
before=$(cpu_ticks)
sleep 3
after=$(cpu_ticks)
echo "# xtrunkd CPU while clients wait for a descriptor: $((after - before)) ticks in 3 s"
check "out of descriptors: xtrunkd does not spin on queued control clients (< 60 of 300 ticks in 3 s)" \
	test $((after - before)) -lt 60
check "out of descriptors: it logs that it cannot accept, once" \
	test "$(grep -c 'control socket: cannot accept a client: Too many open files' "$XD_LOG")" -eq 1
reap $CLIENTS 10 >/dev/null
reap $UAC 60 >/dev/null
reap $UAS 30 >/dev/null
check "out of descriptors: once the calls end, no call is left" \
	wait_until 20 eval '[[ $(metric xtrunk_calls_active) == 0 ]]'
check_eq "out of descriptors: ... and the control socket answers again (call list: [])" "[]" \
	"$(ctl -j call list)"

# === 3. idle connections are closed ===
ip netns exec "$NS_R" python3 - "$SOCK" >"$WORK/idle.out" 2>&1 <<-'PY'
	import socket, sys, time
	c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	c.connect(sys.argv[1])
	start = time.monotonic()
	for name, s in (("control", c),):
	    s.settimeout(max(0.1, 20 - (time.monotonic() - start)))
	    try:
	        data = s.recv(4096)
	        print(name, "closed" if data == b"" else "data", round(time.monotonic() - start))
	    except socket.timeout:
	        print(name, "open", round(time.monotonic() - start))
	    except OSError as e:
	        print(name, "closed", round(time.monotonic() - start))
PY
check_eq "an idle control client is closed within 20 s" \
	"control closed" "$(awk '{ print $1, $2 }' "$WORK/idle.out" | paste -sd' ')"
sed 's/^/# idle: /' "$WORK/idle.out"

check "stopping xtrunkd (SIGTERM) ends it cleanly" stop_xtrunkd
finish_tests limits
