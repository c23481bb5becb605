#!/usr/bin/env bash
# make fuzz: run each libFuzzer target for a bounded time, then merge what it
# found that adds coverage into its committed corpus (tests/fuzz/corpus/TARGET),
# kept minimal: the named seeds and regressions, plus one input per new edge.
#
# fuzz.sh BUILD_DIR SECONDS TARGET...
# A crash, a leak or a broken invariant stops with the input saved as
# BUILD_DIR/TARGET-crash-* (replay it: BUILD_DIR/fuzz_TARGET FILE).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

build=$1
seconds=$2
shift 2
failed=0
for target in "$@"; do
	bin=$build/fuzz_$target
	corpus=tests/fuzz/corpus/$target
	work=$build/work-$target
	dict=tests/fuzz/$target.dict
	mkdir -p "$work" "$corpus"
	before=$(find "$corpus" -type f | wc -l)
	# stderr closed (-close_fd_mask=2): xtrunkd's warnings about every bad
	# message; libFuzzer's report and the sanitizers' still print.
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65507 \
		-close_fd_mask=2 -print_final_stats=1 -artifact_prefix="$build/$target-" \
		${dict:+$([[ -r $dict ]] && echo "-dict=$dict")} \
		"$work" "$corpus" >"$build/fuzz-$target.log" 2>&1
	rc=$?
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$build/fuzz-$target.log")
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz-$target.log")
	if [[ $rc -ne 0 ]]; then
		echo "fuzz $target: FAILED after ${runs:-?} runs (exit $rc); see $build/fuzz-$target.log"
		grep -E 'ERROR|SUMMARY|Test unit written' "$build/fuzz-$target.log" | head -5
		# the target's own message went to the closed stderr: replay the input for it
		unit=$(sed -n 's/.*Test unit written to //p' "$build/fuzz-$target.log" | tail -1)
		[[ -n $unit ]] && "$bin" "$unit" 2>&1 | grep -A3 'invariant broken' | head -8
		failed=1
		continue
	fi
	# Minimise: the named inputs (seeds, regressions) stay; of the rest, only
	# what reaches code none of them reaches (edges, not hit counts: small).
	min=$build/min-$target
	rm -rf "$min"
	mkdir -p "$min"
	find "$corpus" -type f -regextype posix-extended ! -regex '.*/[0-9a-f]{40}' -exec cp {} "$min/" \;
	if ! "$bin" -merge=1 -use_counters=0 -close_fd_mask=2 -rss_limit_mb=2048 "$min" \
		"$corpus" "$work" >"$build/merge-$target.log" 2>&1; then
		echo "fuzz $target: merge failed; see $build/merge-$target.log"
		failed=1
		continue
	fi
	find "$corpus" -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -delete
	find "$min" -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -exec cp {} "$corpus/" \;
	after=$(find "$corpus" -type f | wc -l)
	echo "fuzz $target: ${runs:-?} runs in ${seconds}s (${rate:-?} exec/s)," \
		"corpus $before -> $after files ($(cat "$corpus"/* | wc -c) bytes)"
done
exit $failed
