#!/bin/bash
# Run every test: C unit tests (cmocka, TAP output), BPF_PROG_TEST_RUN tests
# (TAP), end-to-end bats suites in network namespaces, and script checks.
# Prints per-suite TAP, then one summary line "N passed, N failed[, N skipped]"
# and exits non-zero on any failure.
#   tests/run-all.sh [FILTER]   run only suites whose path contains FILTER
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
# the e2e suites run this binary (the sanitizer build when BUILD=build-san)
export CORRAL=${CORRAL:-$PWD/$BUILD/corral}
FILTER=${1:-}
pass=0 fail=0 skip=0
failed_names=()
log=$(mktemp -d /tmp/corral-check.XXXXXX)
trap 'rm -rf "$log"' EXIT

count() { # suite-name, file with TAP lines
	local name=$1 out=$2 p f s
	p=$(grep -cE '^ok ' "$out" | tr -d ' ')
	s=$(grep -cE '^ok .*# (SKIP|skip)' "$out" | tr -d ' ')
	f=$(grep -cE '^not ok ' "$out" | tr -d ' ')
	p=$((p - s))
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	while IFS= read -r l; do failed_names+=("$name: $l"); done < <(grep -E '^not ok ' "$out")
}

run_suite() { # name, command...
	local name=$1; shift
	[ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]] && return 0
	local out="$log/$(echo "$name" | tr '/ ' '__').tap"
	echo "# suite $name"
	"$@" > "$out" 2>&1
	local rc=$?
	cat "$out"
	if ! grep -qE '^(not )?ok ' "$out"; then
		echo "not ok 1 - $name produced no results (exit $rc)" >> "$out"
	elif [ $rc -ne 0 ] && ! grep -qE '^not ok ' "$out"; then
		echo "not ok 1 - $name exited $rc" >> "$out"
	fi
	count "$name" "$out"
}

export CMOCKA_MESSAGE_OUTPUT=TAP
for t in "$BUILD"/tests/unit/test_*; do
	[ -x "$t" ] && run_suite "unit/$(basename "$t")" "$t"
done
for t in "$BUILD"/tests/bpf/test_*; do
	[ -x "$t" ] && run_suite "bpf/$(basename "$t")" "$t"
done
for t in tests/e2e/*.bats; do
	[ -f "$t" ] && run_suite "e2e/$(basename "$t")" bats --tap "$t"
done
for t in tests/scripts/*.sh; do
	[ -f "$t" ] && run_suite "scripts/$(basename "$t")" bash "$t"
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "# failures:"
	printf '#   %s\n' "${failed_names[@]}"
fi
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ $((pass + skip)) -gt 0 ]
