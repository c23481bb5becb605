#!/usr/bin/env bash
# Run every test suite and add up their results. Each suite prints lines
# "ok - ..." / "not ok - ..." and closes with "NAME: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

SUITES=(
	"tests/unit/run.sh"
	"tests/pkt/run.sh"
	"tests/fuzz/run.sh"
	"tests/e2e/test_relay.sh"
	"tests/e2e/test_calls.sh"
	"tests/e2e/test_metrics.sh"
	"tests/e2e/test_hostile.sh"
	"tests/e2e/test_nexthop.sh"
	"tests/e2e/test_ctl.sh"
	"tests/e2e/test_admission.sh"
	"tests/e2e/test_caps.sh"
	"tests/e2e/test_endpoints.sh"
	"tests/e2e/test_dialogs.sh"
	"tests/e2e/test_limits.sh"
	"tests/e2e/test_crash.sh"
	"tests/e2e/test_latch.sh"
	"tests/e2e/test_xmit.sh"
	"tests/e2e/test_phones.sh"
)

total_passed=0
total_failed=0
broken=()
for suite in "${SUITES[@]}"; do
	echo "=== $suite"
	log=$(mktemp)
	start=$SECONDS
	bash "$suite" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	summary=$(grep -E '^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	echo "=== $suite: $((SECONDS - start)) s"
	rm -f "$log"
	if [[ -z $summary ]]; then
		broken+=("$suite (exit $rc, no summary)")
		total_failed=$((total_failed + 1))
		continue
	fi
	p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$summary")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$summary")
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		broken+=("$suite (exit $rc)")
		total_failed=$((total_failed + 1))
	fi
done

for b in "${broken[@]}"; do
	echo "broken suite: $b"
done
echo "check: $total_passed passed, $total_failed failed"
[[ $total_failed -eq 0 ]]
