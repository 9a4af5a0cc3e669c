#!/bin/bash
# flood_smoke.sh - syntax of the flood benchmark scripts, and a tiny paced run
# through the lab with no filter: every frame the generator sends must reach
# the victim's UDP layer, and every legitimate request must be answered.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TAG=s$$
TAG=${TAG:0:6}
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

for s in "$ROOT"/tools/bench/flood.sh "$ROOT"/tools/bench/flood_*.sh; do
	[ -f "$s" ] && check "bash -n $(basename "$s")" bash -n "$s"
done

# shellcheck source=../../tools/bench/flood_lab.sh
. "$ROOT/tools/bench/flood_lab.sh"
trap lab_down EXIT INT TERM

if [ "$(id -u)" -ne 0 ] || [ ! -x "$GEN" ]; then
	skip "tiny flood run" "needs root and $GEN"
	echo "1..$n"
	exit 0
fi

if ! lab_up; then
	nok "lab up"
	echo "1..$n"
	exit 1
fi
ok "lab up"
check "responder up" echo_start

# which backends run here: af-packet must; live frames may be refused
probe=$(gen_probe)
echo "# generator probe: $probe"
get() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<< "$2"; }
live=$(get xdp-live "$probe")
check "af-packet backend available (probe: $probe)" [ "$(get af-packet "$probe")" = ok ]
check "live-frames probe gave an answer ($live)" [ -n "$live" ]
# auto takes live frames exactly where the probe allows them
[ "$live" = ok ] && want=xdp-live || want=af-packet
out=$(CF_GEN=auto gen_send family 4 sources 10 count 10 rate 1000 time 5)
check "auto picks $want ($out)" [ "$(get gen "$out")" = "$want" ]

COUNT=2000
for g in af-packet xdp-live; do
	if [ "$g" = xdp-live ] && [ "$live" != ok ]; then
		skip "xdp-live tiny flood runs" "live frames refused by this kernel: $live"
		continue
	fi
	for fam in 4 6; do
		before=$(victim_stats)
		out=$(CF_GEN=$g gen_send family $fam sources 1000 count $COUNT rate 5000 time 10 legit-pps 100 wait 500)
		after=$(victim_stats)
		t="$g v$fam"
		echo "# $t gen: $out"
		echo "# $t victim before: $before"
		echo "# $t victim after:  $after"
		sent=$(get sent "$out")
		legit_sent=$(get legit_sent "$out")
		legit_ok=$(get legit_ok "$out")
		udp=$(( $(get udp "$after") - $(get udp "$before") ))
		vpk=$(( $(get vpkts "$after") - $(get vpkts "$before") ))
		vdrop=$(( $(get vdrop "$after") - $(get vdrop "$before") ))
		check "$t generator names itself ($(get gen "$out"))" [ "$(get gen "$out")" = "$g" ]
		check "$t generator sent all $COUNT frames (sent=$sent)" [ "${sent:-0}" -eq $COUNT ]
		# the veth also counts the lab's own ARP and neighbour discovery
		check "$t victim veth took every frame (got $vpk, ring drops $vdrop)" \
			[ "$vpk" -ge "${sent:-1}" ] && [ "$vpk" -le $(( ${sent:-0} + 8 )) ] && [ "$vdrop" -eq 0 ]
		check "$t victim UDP received every frame (got $udp of $sent)" [ "$udp" -eq "${sent:--1}" ]
		check "$t legit requests sent ($legit_sent)" [ "${legit_sent:-0}" -gt 0 ]
		check "$t legit answers $legit_ok == $legit_sent" [ "${legit_ok:-x}" = "${legit_sent:-y}" ]
	done
done

echo "1..$n"
[ $failed -eq 0 ]
