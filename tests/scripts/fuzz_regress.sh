#!/bin/bash
# Regression inputs for the parser harnesses, as TAP: every file under
# tests/regress/<name>/ is run once through $BUILD/fuzz/fuzz_<name> and
# must run clean. A file is added here when fuzzing found a crash or a
# broken contract with it, so this fails until the parser is fixed and
# keeps it fixed afterwards.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}

files=()
for f in tests/regress/*/*; do
	[ -f "$f" ] && files+=("$f")
done
if [ ${#files[@]} -eq 0 ]; then
	echo "1..1"
	echo "ok 1 # SKIP no regression inputs in tests/regress/"
	exit 0
fi
echo "1..${#files[@]}"
n=0
for f in "${files[@]}"; do
	n=$((n + 1))
	name=$(basename "$(dirname "$f")")
	bin=$BUILD/fuzz/fuzz_$name
	if [ ! -x "$bin" ]; then
		echo "not ok $n - $f: no harness $bin"
		continue
	fi
	out=$("$bin" -runs=1 -timeout=10 "$f" 2>&1)
	if [ $? -eq 0 ]; then
		echo "ok $n - $f"
	else
		echo "not ok $n - $f"
		grep -E 'check failed|ERROR: |SUMMARY|runtime error' <<<"$out" | head -5 | sed 's/^/#   /'
	fi
done
