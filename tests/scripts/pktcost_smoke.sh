#!/bin/bash
# pktcost smoke test (TAP): a tiny run (few sources, small repeats) must print
# the full table - every family x size x mode x scenario with its trivial
# baseline and a passing verdict check - and splice it into a document between
# the pktcost markers without touching the other sections. No timing checks.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
PK=$BUILD/tools/pktcost
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }

tmp=$(mktemp -d /tmp/pktcost-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$PK" ]; then
	nok "pktcost is built ($PK)"
	finish
fi
if [ "$(id -u)" -ne 0 ]; then
	n=$((n + 1)); echo "ok $n - pktcost run # SKIP needs root"
	finish
fi

# bad arguments are refused with exit 2 and name the bad value
# (bounded: a wrongly accepted argument must not start a full benchmark)
for bad in "-n 0" "-n 1K,x" "-n 1K," "-k 0" "-k 3x" "-f 5" "-r -1" "-c 64,,1" "-C x" "extra"; do
	# shellcheck disable=SC2086
	timeout 20 "$PK" $bad >"$tmp/bad.out" 2>"$tmp/bad.err"
	rc=$?
	check "refuses \"$bad\" (exit $rc)" bash -c "[ $rc -eq 2 ] && grep -q '^pktcost: ' '$tmp/bad.err'"
done

cat >"$tmp/doc.md" <<'DOC'
# corral benchmarks

## Flood
flood text stays

## Per-packet cost (pktcost)

<!-- pktcost:begin -->
stale pktcost table
<!-- pktcost:end -->

## Herd
herd text stays
DOC

"$PK" -n 8,32 -f 6,4 -r 2000 -c 16,1 -t 256 -k 3 -w "$tmp/doc.md" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "tiny run exits 0 (exit $rc)" test "$rc" -eq 0
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/err"

missing=0
for fam in ipv6 ipv4; do
	for src in 8 32; do
		for mode in hot cycle16 cycle1; do
			for sc in pass rate-drop shed-drop allow; do
				grep -qE "^\| $fam \| $src \| $mode \| $sc \| [0-9.]+ \[[0-9.]+-[0-9.]+\] \| [0-9.]+ \| [0-9.]+ \| -?[0-9.]+ \| [0-9.]+% \|$" "$tmp/out" ||
					{ echo "# missing row: $fam $src $mode $sc"; missing=$((missing + 1)); }
			done
		done
	done
done
check "table has all 48 rows (family x sources x mode x scenario)" test "$missing" -eq 0
rows=$(grep -cE '^\| ipv[46] \| [0-9]+ \| (hot|cycle)' "$tmp/out")
check "table has no extra rows ($rows)" test "$rows" -eq 48
check "every verdict check passed" bash -c "! grep -q FAIL '$tmp/out'"
check "pass and allow rows show 100% of packets under their reason" \
	bash -c "! grep -E '^\| ipv[46] \| [0-9]+ \| [a-z0-9]+ \| (pass|allow) \|' '$tmp/out' | grep -vq '100.00% |\$'"
check "states the clock (coarse, not fake)" grep -q 'clock: coarse' "$tmp/out"
check "names the trivial baseline" grep -q 'trivial_drop' "$tmp/out"
check "growth table covers each family, mode and scenario" \
	test "$(grep -cE '^\| ipv[46] \| (hot|cycle16|cycle1) \| (trivial|pass|rate-drop|shed-drop|allow) \| 8: ' "$tmp/out")" -eq 30
check "targets table has a line per mode" \
	test "$(grep -cE '^\| (hot|cycle16|cycle1) \| [0-9.]+ \| (met|MISSED) \|' "$tmp/out")" -eq 3
check "states date, kernel and CPU" grep -qE '^- date: .*; kernel: Linux .*; CPU: ' "$tmp/out"

check "doc: other sections kept" bash -c "grep -q 'flood text stays' '$tmp/doc.md' && grep -q 'herd text stays' '$tmp/doc.md'"
check "doc: stale table replaced" bash -c "! grep -q 'stale pktcost table' '$tmp/doc.md'"
check "doc: one pair of markers" bash -c "[ \$(grep -c 'pktcost:begin' '$tmp/doc.md') -eq 1 ] && [ \$(grep -c 'pktcost:end' '$tmp/doc.md') -eq 1 ]"
check "doc: table between the markers" bash -c "sed -n '/pktcost:begin/,/pktcost:end/p' '$tmp/doc.md' | grep -q '| ipv4 | 32 | cycle1 | allow |'"
check "doc: herd section still after the markers" bash -c "sed -n '/pktcost:end/,\$p' '$tmp/doc.md' | grep -q '^## Herd'"

# a document without markers gets a section appended
printf '# corral benchmarks\n\nother text\n' >"$tmp/doc2.md"
"$PK" -n 4 -f 6 -r 100 -c 4 -t 16 -k 3 -w "$tmp/doc2.md" >/dev/null 2>&1
rc=$?
check "doc without markers: exit 0 (exit $rc)" test "$rc" -eq 0
check "doc without markers: section appended after the old text" \
	bash -c "head -3 '$tmp/doc2.md' | grep -q 'other text' && grep -q 'pktcost:begin' '$tmp/doc2.md' && grep -q '| ipv6 | 4 | hot | pass |' '$tmp/doc2.md'"

finish
