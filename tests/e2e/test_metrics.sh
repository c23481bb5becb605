#!/usr/bin/env bash
# End to end: xtrunkd's Prometheus exporter, scraped by a real Prometheus.
# A PBX, the relay and a SIP trunk provider are network namespaces; xtrunkd
# runs on the relay with its metrics on the relay's loopback, and a Prometheus
# server this test starts in the relay namespace scrapes it every second.
# promtool checks the exposition, plain and gzip; during and after a SIPp call
# with audio the values Prometheus's HTTP API returns must equal what
# xtrunkctl -j, the relay's sockets and xtrunkd's call log say.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
lab_init m metrics
# Both listen on the relay namespace's own loopback: nothing else shares it.
METRICS=127.0.0.1:9477
PROM=127.0.0.1:9090
JOB=xtrunkd

declare -A HOST4=([pbx]=10.89.1.2 [trunk]=10.89.2.2)
declare -A RELAY4=([pbx]=10.89.1.1 [trunk]=10.89.2.1)
declare -A PORT_MIN=([pbx]=20000 [trunk]=30000)
declare -A PORT_MAX=([pbx]=20099 [trunk]=30099)
declare -A MEDIA=([pbx]=40000 [trunk]=50000) # SIPp's media ports (sipp_audio_call)

ctl() { in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" "$@"; }
now() { date +%s.%N; }

write_config() {
	cat >"$CONF" <<-EOF
		# written by $0
		[relay]
		pin_dir = $PIN
		metrics = $METRICS

		[side pbx]
		interface = left0
		address = ${RELAY4[pbx]}
		ports = ${PORT_MIN[pbx]}-${PORT_MAX[pbx]}
		sip = ${RELAY4[pbx]}:5060
		peer = ${HOST4[pbx]}:5060

		[side trunk]
		interface = right0
		address = ${RELAY4[trunk]}
		ports = ${PORT_MIN[trunk]}-${PORT_MAX[trunk]}
		sip = ${RELAY4[trunk]}:5060
		peer = ${HOST4[trunk]}:5060
	EOF
	cat >"$WORK/prometheus.yml" <<-EOF
		# written by $0
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		scrape_configs:
		  - job_name: $JOB
		    static_configs:
		      - targets: ['$METRICS']
	EOF
}

# ---- xtrunkd and Prometheus ----

PROM_PID=
PROM_LOG=$WORK/prometheus.log
prom_ready() { quiet in_ns "$NS_R" curl -sf --max-time 1 "http://$PROM/-/ready"; }
start_prometheus() {
	ip netns exec "$NS_R" prometheus --config.file="$WORK/prometheus.yml" \
		--storage.tsdb.path="$WORK/tsdb" --web.listen-address="$PROM" >"$PROM_LOG" 2>&1 &
	PROM_PID=$!
	track "$PROM_PID"
	wait_until 30 prom_ready
}

# scrape [CURL-ARGS...]: GET /metrics from xtrunkd, on stdout.
scrape() { in_ns "$NS_R" curl -sS --max-time 5 "$@" "http://$METRICS/metrics"; }

# promtool_check FILE: promtool check metrics passes on FILE and says nothing.
promtool_check() {
	local out rc=0
	out=$(promtool check metrics <"$1" 2>&1) || rc=$?
	[[ $rc -eq 0 && -z $out ]] && return 0
	echo "# promtool check metrics: exit $rc" >&2
	printf '#   %s\n' "${out//$'\n'/$'\n'#   }" >&2
	return 1
}

# families FILE: the exposition's HELP and TYPE lines and its series (names
# and labels, without values), in order.
families() { sed -E '/^#/!s/ [^ ]+$//' "$1"; }

# prom_api PATH [CURL-ARGS...]: a GET of Prometheus's HTTP API.
prom_api() {
	local path=$1
	shift
	in_ns "$NS_R" curl -sf --max-time 2 -G "$@" "http://$PROM/api/v1/$path"
}

# prom_value QUERY: the instant query's value; with several series,
# "LABEL=VALUE,..." by the series' label LABEL_BY (sorted); "none" for none.
prom_value() {
	prom_api query --data-urlencode "query=$1" |
		jq -r --arg by "${LABEL_BY:-}" '.data.result
			| if length == 0 then "none"
			  elif $by == "" and length == 1 then .[0].value[1]
			  else map("\(.metric[$by])=\(.value[1])") | sort | join(",") end'
}

# scraped_since T: Prometheus holds a scrape of xtrunkd that started after T.
scraped_since() {
	local ts
	ts=$(LABEL_BY='' prom_value "timestamp(up{job=\"$JOB\"})")
	[[ $ts =~ ^[0-9.]+$ ]] && awk -v a="$ts" -v b="$1" 'BEGIN { exit !(a > b) }'
}

# prom_expect DESCRIPTION EXPECTED QUERY [SINCE]: polls (up to 10 s) until
# Prometheus has scraped xtrunkd after SINCE (default: now) and QUERY's value
# is EXPECTED; the check fails with the last value it saw.
prom_expect() {
	local what=$1 want=$2 query=$3 since=${4:-$(now)} got tries=100
	got="(no scrape after $since)"
	while :; do
		if scraped_since "$since"; then
			got=$(prom_value "$query")
			[[ $got == "$want" ]] && break
		fi
		((tries-- > 0)) || break
		sleep 0.1
	done
	check_eq "$what" "$want" "$got"
}

# ---- what the relay holds ----

flow_count() { ctl -j flow list | jq length; }
flows_are() { [[ $(flow_count) == "$1" ]]; }
# relay_ports: "pbx=N,trunk=M", the UDP ports bound in each side's relay range.
relay_ports() {
	local side n list=()
	for side in pbx trunk; do
		n=$(ip netns exec "$NS_R" ss -Huan "src ${RELAY4[$side]}" |
			awk -v lo="${PORT_MIN[$side]}" -v hi="${PORT_MAX[$side]}" \
				'{ n = split($4, a, ":"); p = a[n] + 0 } p >= lo && p <= hi { c++ } END { print c + 0 }')
		list+=("$side=$n")
	done
	local IFS=,
	echo "${list[*]}"
}

# xtrunkctl -j stats show as "NAME=VALUE,..." without rx (no metric for it) and the
# transmit errors (xtrunk_xdp_xmit_errors_total, checked by test_xmit.sh).
ctl_stats() { ctl -j stats show | jq -r 'del(.rx, .xmit_errors, .interfaces) | to_entries | map("\(.key)=\(.value)") | sort | join(",")'; }
# The same from Prometheus: xtrunk_xdp_packets_total by verdict and reason,
# named as xtrunkctl names them, xtrunk_xdp_latched_total,
# xtrunk_xdp_relatched_total and xtrunk_xdp_csum_completed_total.
prom_stats() {
	# (not "a or b": or matches label sets without the name, and the two
	# unlabelled counters have the same)
	local q='{__name__=~"xtrunk_xdp_packets_total|xtrunk_xdp_(re)?latched_total|xtrunk_xdp_csum_completed_total"}'
	prom_api query --data-urlencode "query=$q" | jq -r '.data.result
		| map((if .metric.__name__ == "xtrunk_xdp_latched_total" then "latched"
		       elif .metric.__name__ == "xtrunk_xdp_relatched_total" then "relatched"
		       elif .metric.__name__ == "xtrunk_xdp_csum_completed_total" then "csum_completed"
		       elif .metric.reason == "relayed" then .metric.verdict
		       else "\(.metric.verdict)_\(.metric.reason)" end) + "=" + .value[1])
		| sort | join(",")'
}
stats_match() {
	STATS_CTL=$(ctl_stats)
	STATS_PROM="(no scrape)"
	local since
	since=$(now)
	wait_until 10 scraped_since "$since" || return 1
	STATS_PROM=$(prom_stats)
	[[ $STATS_CTL == "$STATS_PROM" ]]
}

# "XDP USERSPACE" packet counts xtrunkd logged for its calls, summed.
logged_media() {
	sed -nE 's/^call c[0-9]+: media relayed: ([0-9]+) packets in XDP, ([0-9]+) in userspace$/\1 \2/p' \
		"$XD_LOG" | awk '{ x += $1; u += $2; n++ } END { if (n) print x + 0, u + 0 }'
}
media_logged() { [[ -n $(logged_media) ]]; }

successful_calls() {
	grep -a 'Successful call' "$1" | tail -1 | awk -F'|' '{gsub(/ /, "", $3); print $3}'
}

setup() {
	lab_up 89
	write_config
}

setup

# === xtrunkd and Prometheus start in the relay namespace ===
if ! start_xtrunkd "$WORK/xtrunkd.log"; then
	fail "xtrunkd starts in the relay namespace and says it is ready"
	sed 's/^/# /' "$XD_LOG"
	finish_tests metrics
	exit 1
fi
pass "xtrunkd starts in the relay namespace and says it is ready"
check "... and serves its metrics on http://$METRICS/metrics" \
	grep -q "metrics on http://$METRICS/metrics" "$XD_LOG"
if ! start_prometheus; then
	fail "Prometheus starts in the relay namespace and says it is ready"
	sed 's/^/# /' "$PROM_LOG" | tail -20
	finish_tests metrics
	exit 1
fi
pass "Prometheus starts in the relay namespace and says it is ready"

# === the exposition, idle: promtool, plain and gzip ===
scrape -o "$WORK/idle.txt" -D "$WORK/idle.hdr"
# (The Content-Type compared without white space: xtrunkd's HTTP stack sends
# the parameters without the optional space after each ';'.)
check_eq "GET /metrics: 200 with the text exposition's Content-Type" \
	"HTTP/1.1 200|text/plain;version=0.0.4;charset=utf-8" \
	"$(tr -d '\r' <"$WORK/idle.hdr" | awk 'NR == 1 { s = $1 " " $2 }
		tolower($1) == "content-type:" { sub(/^[^:]*: */, ""); gsub(/[ \t]/, ""); t = $0 }
		END { print s "|" t }')"
check "promtool check metrics passes on the idle exposition (exit 0, no problems)" \
	promtool_check "$WORK/idle.txt"
scrape -H 'Accept-Encoding: gzip' -o "$WORK/idle.gz" -D "$WORK/idle.gz.hdr"
check "with Accept-Encoding: gzip the response says Content-Encoding: gzip" \
	grep -qix 'content-encoding: gzip' <(tr -d '\r' <"$WORK/idle.gz.hdr")
check "... and its body is gzip" gzip -t "$WORK/idle.gz"
gzip -dc "$WORK/idle.gz" >"$WORK/idle.gz.txt" 2>/dev/null
check_eq "... that decodes to the same families and series as the plain response" \
	"$(families "$WORK/idle.txt" | md5sum)" "$(families "$WORK/idle.gz.txt" | md5sum)"
check "promtool check metrics passes on the decoded gzip exposition" \
	promtool_check "$WORK/idle.gz.txt"
check "without Accept-Encoding: gzip the response is not compressed" \
	quiet grep -q '^xtrunk_calls_active ' "$WORK/idle.txt"

# === Prometheus scrapes xtrunkd ===
prom_expect "Prometheus scrapes xtrunkd: up{job=\"$JOB\"} is 1" 1 "up{job=\"$JOB\"}"
check_eq "... and its target is healthy, without a scrape error" "up|" \
	"$(prom_api targets | jq -r --arg j "$JOB" \
		'.data.activeTargets[] | select(.labels.job == $j) | "\(.health)|\(.lastError)"')"
prom_expect "idle: xtrunk_calls_active is 0" 0 xtrunk_calls_active
prom_expect "idle: xtrunk_flows is what xtrunkctl -j flow list counts ($(flow_count))" \
	"$(flow_count)" xtrunk_flows
check_eq "idle: the XDP program's mode per interface, as Prometheus has it, is what ip link shows" \
	"$(ip -n "$NS_R" -j link show | jq -r '[.[] | select(.xdp) | "\(.ifname)=1"] | sort | join(",")')" \
	"$(LABEL_BY=interface prom_value 'xtrunk_xdp_attached == 1')"

# === a call with media: during the call ===
# uac_audio.xml and uas_audio.xml: SIPp's g711a.pcap both ways, dtmf_2833_1.pcap from the PBX
G711_PACKETS=236
DTMF_PACKETS=10
sipp_audio_call "${HOST4[trunk]}"

wait_until 15 flows_are 4
flows=$(flow_count)
ports=$(relay_ports)
since=$(now)
check_eq "during the call xtrunkctl -j flow list shows its 4 flows" 4 "$flows"
prom_expect "during the call Prometheus has xtrunk_calls_active 1" 1 xtrunk_calls_active "$since"
prom_expect "... and xtrunk_flows equal to xtrunkctl's count ($flows)" "$flows" xtrunk_flows "$since"
LABEL_BY=side prom_expect \
	"... and xtrunk_relay_ports{state=\"used\"} per side equal to the relay ports bound ($ports)" \
	"$ports" 'xtrunk_relay_ports{state="used"}' "$since"
check_eq "... which is an RTP/RTCP pair on each side" "pbx=2,trunk=2" "$ports"
LABEL_BY=side prom_expect "... and xtrunk_relay_ports{state=\"free\"} the rest of each side's 100" \
	"pbx=98,trunk=98" 'xtrunk_relay_ports{state="free"}' "$since"
scrape -o "$WORK/call.txt"
check "promtool check metrics passes on the exposition during the call" \
	promtool_check "$WORK/call.txt"
scrape -H 'Accept-Encoding: gzip' -o "$WORK/call.gz"
gzip -dc "$WORK/call.gz" >"$WORK/call.gz.txt" 2>/dev/null
check_eq "... and its gzip form decodes to the same families and series" \
	"$(families "$WORK/call.txt" | md5sum)" "$(families "$WORK/call.gz.txt" | md5sum)"

reap $uac_pid 45
rc_uac=$?
reap $uas_pid 45
rc_uas=$?
check_eq "the caller's SIPp completes its scenario (exit 0, 1 successful call)" \
	"0 1" "$rc_uac $(successful_calls "$WORK/uac.out")"
check_eq "the callee's SIPp completes its scenario (exit 0, 1 successful call)" \
	"0 1" "$rc_uas $(successful_calls "$WORK/uas.out")"

# === after the call ===
wait_until 5 flows_are 0
wait_until 5 media_logged
flows=$(flow_count)
ports=$(relay_ports)
read -r xdp user <<<"$(logged_media)"
since=$(now)
check_eq "after the call xtrunkctl -j flow list is empty" 0 "$flows"
check "xtrunkd logged the call's media: $xdp packets in XDP, $user in userspace (> 400 in XDP)" \
	test "${xdp:-0}" -gt 400
prom_expect "after the call Prometheus has xtrunk_calls_total{result=\"answered\"} 1" 1 \
	'xtrunk_calls_total{result="answered"}' "$since"
prom_expect "... one INVITE and one BYE from the PBX side" 2 \
	'sum(xtrunk_sip_requests_total{side="pbx",method=~"INVITE|BYE"})' "$since"
prom_expect "... the trunk's 2xx, a 200" 1 'xtrunk_sip_responses_total{side="trunk",class="2xx",code="200"}' "$since"
prom_expect "... the call quality of its two RTP streams (MOS and jitter histograms)" 2 \
	'xtrunk_rtp_mos_count + 0 * xtrunk_rtp_jitter_seconds_count' "$since"
prom_expect "... with a G.711 MOS above 4 for both" 2 \
	'xtrunk_rtp_mos_count - ignoring(le) xtrunk_rtp_mos_bucket{le="4"}' "$since"
prom_expect "... and no RTP loss" 0 'xtrunk_rtp_packets_lost_total' "$since"
prom_expect "... and xtrunk_calls_active 0" 0 xtrunk_calls_active "$since"
prom_expect "... and xtrunk_media_packets_total{path=\"xdp\"} equal to what xtrunkd logged ($xdp)" \
	"$xdp" 'sum(xtrunk_media_packets_total{path="xdp"})' "$since"
prom_expect "... and xtrunk_media_packets_total{path=\"userspace\"} too ($user)" \
	"$user" 'sum(xtrunk_media_packets_total{path="userspace"})' "$since"
LABEL_BY=direction prom_expect "... by direction: the PBX's audio and DTMF to the trunk, the trunk's audio back" \
	"pbx_to_trunk=$((G711_PACKETS + DTMF_PACKETS)),trunk_to_pbx=$G711_PACKETS" \
	'sum by (direction) (xtrunk_media_packets_total)' "$since"
prom_expect "... and xtrunk_flows equal to xtrunkctl's count ($flows)" "$flows" xtrunk_flows "$since"
LABEL_BY=side prom_expect "... and xtrunk_relay_ports{state=\"used\"} equal to the relay ports bound ($ports)" \
	"$ports" 'xtrunk_relay_ports{state="used"}' "$since"
# Counters move with any packet the XDP program sees: compare a few times.
for _ in 1 2 3; do stats_match && break; done
check_eq "... and the XDP verdict counters equal xtrunkctl -j stats show" "$STATS_CTL" "$STATS_PROM"
check "... of which the relayed ones (tx + redirect) cover the call's XDP media" \
	test "$(jq -r '.tx + .redirect' <<<"$(ctl -j stats show)")" -ge "${xdp:-1}"
scrape -o "$WORK/after.txt"
check "promtool check metrics passes on the exposition after the call" \
	promtool_check "$WORK/after.txt"

# --- the Grafana dashboard asks only for families xtrunkd exports ---
DASHBOARD=$XT_ROOT/etc/grafana/xtrunk-dashboard.json
check "the Grafana dashboard is valid JSON" quiet jq -e .panels "$DASHBOARD"
dashboard_missing() {
	local name
	for name in $(jq -r '.. | .expr? // empty' "$DASHBOARD" | grep -oE 'xtrunk_[a-z_]+' |
		sed -E 's/_(bucket|sum|count)$//' | sort -u); do
		grep -q "^# TYPE $name " "$WORK/exported.txt" || echo "$name"
	done
}
scrape >"$WORK/exported.txt"
check_eq "every family the dashboard queries is exported" "" "$(dashboard_missing)"

check "stopping xtrunkd (SIGTERM) ends it cleanly" stop_xtrunkd
prom_expect "Prometheus then finds xtrunkd down: up{job=\"$JOB\"} is 0" 0 "up{job=\"$JOB\"}"

finish_tests metrics
