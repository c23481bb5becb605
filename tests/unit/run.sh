#!/usr/bin/env bash
# Unit tests of the userspace library and of the SDP rewriter (no privileges
# needed); one summary line for both.
set -uo pipefail
build=${XT_BUILD:-$(dirname "$0")/../../build}
passed=0
failed=0
for t in test_unit test_sdp; do
	out=$("$build/$t")
	rc=$?
	grep -E '^(not )?ok - ' <<<"$out"
	p=$(grep -c '^ok - ' <<<"$out")
	f=$(grep -c '^not ok - ' <<<"$out")
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		echo "not ok - $t: exited $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
