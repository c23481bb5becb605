#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Writes BENCHMARKS.md and the plots from what tools/bench.sh kept of a run:
#
#   tools/bench_report.sh RESULTS_DIR REPORT PLOT_DIR
#
# RESULTS_DIR holds one NAME.log per benchmark (its output lines, the first
# "# date" line saying when it ran) and the plot data the benchmarks wrote
# (flows.dat, capacity.dat, rss.dat). Every figure line becomes a table row:
# the figure with its baseline as printed, its ratio, goal and verdict, parsed
# from the line itself, so the table cannot say what the run did not. Plots
# need gnuplot (tools/deps.sh bench installs it); without it the report says so.
set -euo pipefail

RESULTS=${1:?usage: bench_report.sh RESULTS_DIR REPORT PLOT_DIR}
REPORT=${2:?}
PLOTS=${3:?}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# the report links to the plots relative to itself
PLOTS_REL=$(realpath --relative-to="$(dirname "$(realpath -m "$REPORT")")" -m "$PLOTS")

cpu_model() {
	awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo
}

# One markdown row per figure line: | benchmark | figure | ratio | goal | verdict |
rows() {
	local log name
	for name in $("$ROOT/tools/bench.sh" -l); do
		log=$RESULTS/$name.log
		[[ -e $log ]] || continue
		grep -v '^#' "$log" | awk -v name="$name" '
			function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); gsub(/[ \t]+/, " ", s); return s }
			NF == 0 || /^bench(_[a-z]+)?: / { next }
			{
				line = $0; verdict = ""; goal = ""; ratio = ""
				if (match(line, /[ \t](met|MISSED|ok|over 0\.1%)[ \t]*$/)) {
					verdict = trim(substr(line, RSTART, RLENGTH)); line = substr(line, 1, RSTART - 1)
				}
				if (match(line, /\(?goal [^)]*\)?[ \t]*$/)) {
					goal = substr(line, RSTART, RLENGTH); line = substr(line, 1, RSTART - 1)
					gsub(/[()]/, "", goal); sub(/^goal /, "", goal); sub(/:[ \t]*$/, "", goal)
				}
				if (match(line, /(ratio|slowdown) [0-9.]+x?[,]?[ \t]*$/)) {
					ratio = substr(line, RSTART, RLENGTH); line = substr(line, 1, RSTART - 1)
					sub(/^(ratio|slowdown) /, "", ratio); sub(/,$/, "", ratio)
				}
				line = trim(line); sub(/,$/, "", line)
				sub(/^[a-z_]+ +/, "", line) # the line tag repeats the benchmark
				gsub(/\|/, "\\|", line)
				if (verdict == "MISSED") verdict = "**MISSED**"
				printf "| %s | %s | %s | %s | %s |\n", name, line, trim(ratio), trim(goal), verdict
			}'
	done
}

plot() {
	local have=0
	command -v gnuplot >/dev/null || return 1
	mkdir -p "$PLOTS"
	if [[ -s $RESULTS/flows.dat ]]; then
		gnuplot <<-EOF
			set terminal pngcairo size 800,480 font ",10"
			set output "$PLOTS/throughput-flows.png"
			set title "Relay throughput vs flows (traffic spread over all of them), veth, one core"
			set xlabel "flows"
			set ylabel "Mpps relayed"
			set logscale x
			set yrange [0:*]
			set key bottom left
			set grid
			plot "$RESULTS/flows.dat" using 1:(\$2/1e6) with linespoints lw 2 title "xtrunk XDP", \
			     "$RESULTS/flows.dat" using 1:(\$3/1e6) with linespoints dt 2 title "bare XDP redirect (no lookup)"
		EOF
		have=1
	fi
	if [[ -s $RESULTS/capacity.dat ]]; then
		gnuplot <<-EOF
			set terminal pngcairo size 800,480 font ",10"
			set output "$PLOTS/throughput-calls.png"
			set title "Paced G.711 capacity: relayed packets/s and loss vs calls, veth, one core"
			set xlabel "two-way G.711 calls (2 streams x 50 packets/s)"
			set ylabel "packets/s relayed"
			set y2label "loss at the relay (%)"
			set y2tics
			set ytics nomirror
			set yrange [0:*]
			set y2range [0:$(awk '!/^#/ && $4 > m { m = $4 } END { print (m > 1 ? m * 1.1 : 1) }' "$RESULTS/capacity.dat")]
			set key top left
			set grid
			plot "$RESULTS/capacity.dat" using 2:3 with linespoints lw 2 title "xtrunk XDP, relayed", \
			     "$RESULTS/capacity.dat" using 2:(\$1*50) with lines dt 2 title "offered (100 packets/s a call)", \
			     "$RESULTS/capacity.dat" using 2:4 axes x1y2 with linespoints title "loss %"
		EOF
		have=1
	fi
	if [[ -s $RESULTS/rss.dat ]]; then
		gnuplot <<-EOF
			set terminal pngcairo size 800,480 font ",10"
			set output "$PLOTS/rss-calls.png"
			set title "xtrunkd resident memory vs calls up"
			set xlabel "calls up"
			set ylabel "own memory, RssAnon (MiB)"
			set yrange [0:*]
			set key top left
			set grid
			plot "$RESULTS/rss.dat" using 1:(\$2/1024) with linespoints lw 2 title "xtrunkd own memory (RssAnon)"
		EOF
		have=1
	fi
	[[ $have == 1 ]]
}

{
	echo "# xtrunk benchmarks"
	echo
	echo "Written by \`make bench\` (tools/bench.sh, then tools/bench_report.sh): do not edit, rerun."
	echo "Every figure comes with the baseline measured in the same run; read the ratios. The absolute"
	echo "numbers describe this machine: a VM, veth pairs, not a NIC, generator, relay and sink"
	echo "sharing a core unless a line says otherwise."
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
	echo "| commit | $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes') |"
	echo "| CPU | $(cpu_model), $(nproc) CPUs |"
	echo "| kernel | $(uname -r) |"
	for name in $("$ROOT/tools/bench.sh" -l); do
		[[ -e $RESULTS/$name.log ]] || continue
		echo "| $name ran | $(sed -n 's/^# //p;q' "$RESULTS/$name.log") |"
	done
	echo
	echo "## Figures"
	echo
	echo "| benchmark | figure and baseline | ratio | goal | verdict |"
	echo "|---|---|---|---|---|"
	rows
	echo
	echo "## Plots"
	echo
	if plot; then
		for png in throughput-flows throughput-calls rss-calls; do
			[[ -e $PLOTS/$png.png ]] && echo "![$png]($PLOTS_REL/$png.png)" && echo
		done
	else
		echo "No plots: gnuplot is not installed (tools/deps.sh bench installs gnuplot-nox) or no plot data."
		echo
	fi
	echo "## How to read them"
	echo
	cat "$ROOT/tools/bench_notes.md"
} >"$REPORT.$$.tmp"
mv "$REPORT.$$.tmp" "$REPORT"
