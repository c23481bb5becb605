#!/usr/bin/env bash
# Unit tests of the userspace library (no privileges needed).
set -uo pipefail
exec "${XT_BUILD:-$(dirname "$0")/../../build}/test_unit"
