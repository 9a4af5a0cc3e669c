#!/bin/bash
# Short libFuzzer runs of the parser harnesses (tools/fuzz/fuzz_*.c, built
# by mk/fuzz_parsers.mk into $BUILD/fuzz/), as TAP. For each harness:
#   1. every seed in tests/fuzz_corpus/<name>/ runs clean (no crash, no
#      failed contract check);
#   2. a mutation run from those seeds, fixed libFuzzer seed, a few seconds
#      (FUZZ_SHORT_SECONDS, default 2; about 15 s in all), finds nothing.
# A crash is copied to $BUILD/fuzz/artifacts/ and printed as hex: add it
# under tests/regress/<name>/ so tests/scripts/fuzz_regress.sh keeps it.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SECS=${FUZZ_SHORT_SECONDS:-2}
NAMES="words cli batch ctrl_conf proc diag"
tmp=$(mktemp -d /tmp/chd-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

n=0
set -- $NAMES
echo "1..$(($# * 2))"

report_crash() { # name log
	local a
	for a in "$tmp/$1"-*; do
		[ -e "$a" ] || continue
		mkdir -p "$BUILD/fuzz/artifacts"
		cp "$a" "$BUILD/fuzz/artifacts/"
		echo "#   reproducer: $BUILD/fuzz/artifacts/$(basename "$a")"
		od -An -c "$a" | head -20 | sed 's/^/#   /'
	done
	grep -E 'check failed|ERROR: |SUMMARY' "$2" | head -5 | sed 's/^/#   /'
}

for name in $NAMES; do
	bin=$BUILD/fuzz/fuzz_$name
	seeds=tests/fuzz_corpus/$name
	dict=
	[ -f "tests/fuzz_corpus/$name.dict" ] && dict=-dict=tests/fuzz_corpus/$name.dict
	n=$((n + 1))
	if [ ! -x "$bin" ]; then
		echo "not ok $n - fuzz_$name: $bin not built (make all)"
		n=$((n + 1))
		echo "not ok $n - fuzz_$name: mutation run not possible"
		continue
	fi
	# 1. seeds as they are (no corpus directory written)
	log=$tmp/$name.seeds.log
	if "$bin" -runs=0 -timeout=10 -artifact_prefix="$tmp/$name-" "$seeds"/* >"$log" 2>&1; then
		echo "ok $n - fuzz_$name: $(ls "$seeds" | wc -l) seeds run clean"
	else
		echo "not ok $n - fuzz_$name: a seed fails"
		report_crash "$name" "$log"
	fi
	# 2. mutations, into a scratch corpus
	n=$((n + 1))
	log=$tmp/$name.fuzz.log
	mkdir -p "$tmp/corpus-$name"
	if "$bin" -seed=1 -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 $dict \
		-artifact_prefix="$tmp/$name-" "$tmp/corpus-$name" "$seeds" >"$log" 2>&1; then
		runs=$(grep -oE '^Done [0-9]+ runs' "$log" | awk '{ print $2 }')
		echo "ok $n - fuzz_$name: ${runs:-?} inputs in ${SECS} s, no crash"
	else
		echo "not ok $n - fuzz_$name: mutation run found a crash"
		report_crash "$name" "$log"
	fi
done
