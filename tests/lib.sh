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
json_true() {
	jq -e "$1" >/dev/null <<<"$2"
}
