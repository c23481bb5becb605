#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# xtrunkd's memory with many calls up (make bench, section "rss"):
#
#   pbx (eth0 10.92.1.2) == (left0 10.92.1.1) relay (right0 10.92.2.1) == (eth0 10.92.2.2) trunk
#
# SIPp in the PBX namespace places calls (tests/sip/bench_hold_uac.xml: one
# G.711 stream, held, no media) to SIPp in the trunk namespace
# (tests/sip/bench_uas.xml) through xtrunkd with XDP, as many as the relay
# ports allow: a side's range holds at most 32k RTP/RTCP pairs per address
# and xtrunkd has one address per side, so 100,000 calls do not fit (and
# fewer still where the open-file hard limit is lower than 4 per call). The
# figure is xtrunkd's own resident memory (RssAnon) above idle, read as the
# call count passes each step, per call; the 100,000-call figure is that
# slope extrapolated, and labelled so. Then again 65 s later, with the same
# calls held: their set-up transactions are over and xtrunkd has given free
# heap pages back (it does every 30 s), which is what a held call costs.
#
# Everything (namespaces, SIPp, xtrunkd, its pins) is removed on exit, pass or
# fail; only private addresses, nothing leaves the machine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/netns.sh
source "$ROOT/tools/netns.sh"
source "$ROOT/tools/bench_lib.sh"
BUILD=${BUILD:-$ROOT/build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
SIP=$ROOT/tests/sip

TAG=$$
NS_PBX=xtrss$TAG-pbx
NS_RELAY=xtrss$TAG-relay
NS_TRUNK=xtrss$TAG-trunk
PIN=/sys/fs/bpf/xtrunk-rss-$TAG
PORTS_MIN=6000 # above the SIP port: every port from here to 65535 is the relay's
PORTS_MAX=65535
PAIRS=$(((PORTS_MAX - PORTS_MIN + 1) / 2))
CALLS=${RSS_CALLS:-$((PAIRS - 16))}
RATE=${RSS_RATE:-1000}
TARGET=100000
SIPP_CPU=0
XTRUNKD_CPU=$(($(nproc) - 1))

WORK=
PIDS=()

stop_pid() {
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	local pid
	# SIPp first, then xtrunkd: killed, not asked to send 2 x CALLS BYEs
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for ns in "$NS_PBX" "$NS_RELAY" "$NS_TRUNK"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	if [[ -d $PIN ]]; then
		rm -f "$PIN"/* 2>/dev/null || true
		rmdir "$PIN" 2>/dev/null || true
	fi
	[[ -z $WORK ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "bench_rss: $*" >&2
	exit 1
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$XTRUNKD_PID/status"; }
# What calls cost is xtrunkd's own memory (RssAnon): VmRSS also counts the
# per-flow maps' pages, mapped a slot at a time when a call's flows are first
# read, in a step that is not the calls'.
own_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/$XTRUNKD_PID/status"; }
status_kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$XTRUNKD_PID/status"; }

# Calls up: relay ports xtrunkd holds on the PBX side, two a call.
calls_up() {
	ss -N "$NS_RELAY" -Huan "src 10.92.1.1" | awk -v lo="$PORTS_MIN" '
		{ n = split($4, a, ":"); if (a[n] + 0 >= lo) held++ } END { print int(held / 2) }'
}

[[ $(id -u) -eq 0 ]] || die "needs root (BPF, network namespaces)"
command -v sipp >/dev/null || die "sipp is missing (make deps)"
[[ -x $BUILD/xtrunkd ]] || die "$BUILD/xtrunkd is missing: run make first"
# Four sockets a call: raise the open-file limit as far as this host lets us
# (without CAP_SYS_RESOURCE, the hard limit) and fit the calls under it.
ulimit -n $((4 * PAIRS + 1024)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
LIMIT="$PAIRS RTP/RTCP port pairs a side, one address each"
if [[ $(((NOFILE - 256) / 4)) -lt $CALLS ]]; then
	CALLS=$(((NOFILE - 256) / 4))
	LIMIT="open files: hard limit $NOFILE here, 4 sockets a call"
fi

WORK=$(mktemp -d /tmp/xtrss.XXXXXX)
mount | grep -q ' /sys/fs/bpf type bpf' || mount -t bpf bpf /sys/fs/bpf
three_hosts "$NS_PBX" "$NS_RELAY" "$NS_TRUNK" 10.92.1 10.92.2 fd92:1 fd92:2

cat >"$WORK/xtrunkd.conf" <<EOF
[relay]
xdp = native
media_timeout = 3600
slots = 2
pin_dir = $PIN
metrics = 127.0.0.1:9477
control = $WORK/xtrunkd.sock

[side pbx]
interface = left0
address = 10.92.1.1
sip = 10.92.1.1:5060
peer = 10.92.1.2:5060
ports = $PORTS_MIN-$PORTS_MAX
sip_rate = 0
sip_rate_global = 0
sip_rate_peer = 0
setup_calls = 0
setup_calls_per_source = 0
channels = 0

[side trunk]
interface = right0
address = 10.92.2.1
sip = 10.92.2.1:5060
peer = 10.92.2.2:5060
ports = $PORTS_MIN-$PORTS_MAX
sip_rate = 0
sip_rate_global = 0
sip_rate_peer = 0
setup_calls = 0
setup_calls_per_source = 0
channels = 0
EOF
# its own control socket, no admission limits: where this xtrunkd has them
xtrunkd_config_fit "$BUILD/xtrunkd" "$NS_RELAY" "$WORK/xtrunkd.conf" || die "bad configuration"

nsenter --net="/run/netns/$NS_RELAY" taskset -c "$XTRUNKD_CPU" "$BUILD/xtrunkd" \
	-c "$WORK/xtrunkd.conf" >"$WORK/xtrunkd.log" 2>&1 &
XTRUNKD_PID=$!
PIDS+=("$XTRUNKD_PID")
for _ in $(seq 100); do
	grep -q 'xtrunkd: ready' "$WORK/xtrunkd.log" && break
	kill -0 "$XTRUNKD_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q 'xtrunkd: ready' "$WORK/xtrunkd.log" || die "xtrunkd did not start: $(tail -5 "$WORK/xtrunkd.log")"
sleep 1
idle_rss=$(rss_kib)
idle=$(own_kib)
idle_file=$(status_kib RssFile)

ip netns exec "$NS_TRUNK" taskset -c "$SIPP_CPU" sipp -sf "$SIP/bench_uas.xml" -i 10.92.2.2 \
	-p 5060 -mp 20000 -m "$CALLS" -l "$CALLS" -nostdin -buff_size 212992 \
	>"$WORK/uas.out" 2>&1 &
PIDS+=($!)
sleep 0.3
ip netns exec "$NS_PBX" taskset -c "$SIPP_CPU" sipp -sf "$SIP/bench_hold_uac.xml" 10.92.1.1:5060 \
	-i 10.92.1.2 -p 5060 -mp 40000 -r "$RATE" -m "$CALLS" -l "$CALLS" -d 3600000 -nostdin \
	-buff_size 212992 -trace_stat -stf "$WORK/uac.csv" -fd 1 >"$WORK/uac.out" 2>&1 &
PIDS+=($!)

# RSS as the calls come up: a point at every sixth of them, until all are up
# or the count stops growing for 5 s.
points=$WORK/points
step=$((CALLS / 6))
next=$step
last=0 still=0 up=0
while :; do
	sleep 1
	up=$(calls_up)
	kill -0 "$XTRUNKD_PID" 2>/dev/null || die "xtrunkd died with $up calls up: $(tail -5 "$WORK/xtrunkd.log")"
	if [[ $up -ge $next && $up -lt $CALLS ]]; then
		echo "$up $(own_kib)" >>"$points"
		next=$((up + step))
	fi
	[[ $up -lt $CALLS ]] || break
	if [[ $up -le $last ]]; then
		still=$((still + 1))
		[[ $still -lt 5 ]] || break
	else
		still=0
	fi
	last=$up
done
sleep 1
up=$(calls_up)
rss=$(own_kib)
vmrss=$(rss_kib)
[[ $up -ge $CALLS ]] || LIMIT="$LIMIT; but the count stopped at $up of $CALLS placed: see SIPp's and xtrunkd's logs"
echo "$up $rss" >>"$points"
failed=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "FailedCall(C)") c = i }
	{ last = $0 } END { if (c) { split(last, f, ";"); print f[c] } }' "$WORK/uac.csv" 2>/dev/null || true)

# Bytes a call: least squares over the points, RSS grows in steps (heap
# arenas, hash tables doubling) and the slope is steadier than one ratio.
slope_b=$(awk -v idle="$idle" '{ x[NR] = $1; y[NR] = ($2 - idle) * 1024 }
	END { for (i = 1; i <= NR; i++) { sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; sxy += x[i] * y[i] }
	      d = NR * sxx - sx * sx
	      if (NR > 1 && d > 0) printf "%.0f", (NR * sxy - sx * sy) / d
	      else printf "%.0f", (x[NR] ? y[NR] / x[NR] : 0) }' "$points")
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

printf 'rss         xtrunkd idle: VmRSS %s MiB = %s MiB its own memory (RssAnon) + %s MiB file-backed (RssFile: libraries)\n' \
	"$(mib "$idle_rss")" "$(mib "$idle")" "$(mib "$idle_file")"
printf 'rss         xtrunkd %d calls up (%s failed; limit: %s): VmRSS %s MiB (with the per-flow maps'"'"' pages it maps, the kernel'"'"'s, not a copy); own memory %s MiB, idle %s MiB, +%s MiB = %.0f bytes/call\n' \
	"$up" "${failed:-?}" "$LIMIT" "$(mib "$vmrss")" "$(mib "$rss")" "$(mib "$idle")" "$(mib $((rss - idle)))" \
	"$(awk -v a="$rss" -v b="$idle" -v n="$up" 'BEGIN { print n ? (a - b) * 1024 / n : 0 }')"
printf 'rss         xtrunkd own memory slope %s bytes/call (least squares, %d points up to %d calls); EXTRAPOLATED, not measured: %d calls = +%s MiB over idle\n' \
	"$slope_b" "$(wc -l <"$points")" "$up" "$TARGET" \
	"$(awk -v s="$slope_b" -v n="$TARGET" 'BEGIN { printf "%.1f", s * n / 1048576 }')"
# Steady state: the calls' set-up transactions end 32 s after each answer
# (RFC 6026 timers L and M), and xtrunkd gives free heap pages back every
# 30 s; what is left is what a held call costs.
sleep 65
steady_up=$(calls_up)
steady=$(own_kib)
printf 'rss         xtrunkd %d calls held 65 s later (set-up transactions over, free heap returned): own memory %s MiB, +%s MiB = %.0f bytes/call\n' \
	"$steady_up" "$(mib "$steady")" "$(mib $((steady - idle)))" \
	"$(awk -v a="$steady" -v b="$idle" -v n="$steady_up" 'BEGIN { print n ? (a - b) * 1024 / n : 0 }')"
printf 'rss         EXTRAPOLATED from that, not measured: %d held calls = +%s MiB over idle\n' "$TARGET" \
	"$(awk -v a="$steady" -v b="$idle" -v n="$steady_up" -v t="$TARGET" 'BEGIN { printf "%.1f", n ? (a - b) * t / n / 1024 : 0 }')"

if [[ -n ${BENCH_OUT:-} ]]; then
	{
		echo "# calls own_memory_kib (RssAnon)"
		echo "0 $idle"
		cat "$points"
	} >"$BENCH_OUT/rss.dat"
fi
