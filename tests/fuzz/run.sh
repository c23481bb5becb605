#!/usr/bin/env bash
# Replays the fuzz corpus (tests/fuzz/corpus/TARGET/) through the fuzz targets
# built with the normal compiler (with ASan/UBSan under make check SANITIZE=1):
# every input that make fuzz kept must still run clean. No privileges needed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
build=${XT_BUILD:-build}
passed=0
failed=0
for target in sdp sip; do
	log=$(mktemp)
	# what xtrunkd logs about each bad input goes to the log, shown on failure
	"$build/fuzz_replay_$target" "$target" "tests/fuzz/corpus/$target" 2>"$log" >"$log.out"
	rc=$?
	grep -E '^(not )?ok - ' "$log.out"
	p=$(grep -c '^ok - ' "$log.out")
	f=$(grep -c '^not ok - ' "$log.out")
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		echo "not ok - $target: the replay exited $rc"
		f=1
	fi
	if [[ $f -ne 0 ]]; then
		grep -E 'invariant broken|ERROR|SUMMARY|runtime error' "$log" | head -20 | sed 's/^/# /'
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	rm -f "$log" "$log.out"
done
echo "fuzz-replay: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
