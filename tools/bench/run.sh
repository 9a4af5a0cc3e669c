#!/bin/bash
# make bench: run every benchmark and write the results to docs/benchmarks.md.
#   tools/bench/run.sh [quick|full]     (default: full)
# quick: a short pktcost run (IPv6, 1K and 100K sources), printed only.
# full:  pktcost at 1K, 100K and 1M sources (IPv6; IPv4 up to 100K), written
#        between the pktcost markers of docs/benchmarks.md.
# Then the other benchmarks, tools/bench/<name>.sh for each name in
# $BENCHES (default "flood herd syncookie controller") whose script is present, run
# with the same mode. Exits non-zero when any benchmark failed; the others
# still run.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MODE=${1:-full}
DOC=${DOC:-docs/benchmarks.md}
BENCHES=${BENCHES-flood herd syncookie controller}

case "$MODE" in
quick) pk_args=(-n 1K,100K -f 6 -r 1M -c 64 -k 3) ;;
full)  pk_args=(-n 1K,100K,1M -f 6,4 -r 1M -c 64,1 -k 5 -A -w "$DOC") ;;
-h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "run.sh: unknown mode \"$MODE\" (quick or full)" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: benchmarks load BPF programs and need root" >&2
	exit 1
fi
mkdir -p "$(dirname "$DOC")"

failed=()
echo "== pktcost ($MODE)"
if [ -x "$BUILD/tools/pktcost" ]; then
	"$BUILD/tools/pktcost" "${pk_args[@]}" || failed+=("pktcost (exit $?)")
else
	echo "run.sh: $BUILD/tools/pktcost missing (run make all)" >&2
	failed+=("pktcost (not built)")
fi

for name in $BENCHES; do
	s=tools/bench/$name.sh
	[ -f "$s" ] || { echo "== $name: not present, skipped"; continue; }
	echo "== $name ($MODE)"
	bash "$s" "$MODE" || failed+=("$name (exit $?)")
	# the herd with only the ports given, in every retry mode
	if [ "$name" = herd ] && [ "$MODE" = full ]; then
		echo "== herd (defaults)"
		bash "$s" defaults || failed+=("herd defaults (exit $?)")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	printf 'run.sh: failed: %s\n' "${failed[@]}" >&2
	exit 1
fi
[ "$MODE" = full ] && echo "run.sh: results in $DOC"
exit 0
