#!/bin/bash
# syncookie_smoke.sh - the SYN cookie benchmark end to end, tiny: flood_gen's
# SYN stream, each method on the lab, the report. Every SYN corral receives
# must be answered with a cookie, counted by corral, and the reply must
# reach the generator;
# the kernel with tcp_syncookies=2 must answer too; a trivial XDP_DROP
# answers nothing. Refused flood_gen words exit 2 and name the word.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
GEN=$BUILD/tools/flood_gen
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
tmp=$(mktemp -d /tmp/cookie-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

check "bash -n syncookie.sh" bash -n "$ROOT/tools/bench/syncookie.sh"
if [ "$(id -u)" -ne 0 ] || [ ! -x "$GEN" ] || [ ! -x "$BUILD/corral" ]; then
	n=$((n + 1)); echo "ok $n - tiny cookie bench # SKIP needs root, $GEN and corral"
	echo "1..$n"
	exit 0
fi

refused() { # expected word, flood_gen arguments...
	local w=$1 out rc
	shift
	out=$("$GEN" send dev lo dmac 02:00:00:00:00:01 dst4 10.77.60.2 "$@" 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [[ $out == *"$w"* ]] || { echo "# exit $rc: $out"; return 1; }
}
check "flood_gen proto bogus: refused, names the word" refused '"bogus"' proto bogus
check "flood_gen proto syn family 6: refused" refused "proto syn" proto syn family 6
check "flood_gen proto syn with legit-pps: refused" refused "proto syn" proto syn legit-pps 10 legit-src 10.77.60.1

COUNT=20000
if RUNS=1 COUNT=$COUNT RATES=100000 OUT_MD="$tmp/out.md" BUILD="$BUILD" \
	bash "$ROOT/tools/bench/syncookie.sh" quick >"$tmp/log" 2>&1; then
	ok "syncookie.sh runs"
else
	nok "syncookie.sh runs"
	sed 's/^/# /' "$tmp/log" | tail -20
fi
# rate,method,run,syns_in,replies,napi_ns,ns_per_syn
row() { awk -F, -v m="$1" '$2 == m { print $4, $5, $7 }' "$tmp/out.md"; }
read -r in rep ns < <(row corral-cookies)
sc=$(sed -n 's/^corral (last run): syn_cookie \([0-9]*\),.*/\1/p' "$tmp/out.md")
# the veths also carry the odd ARP exchange: a few frames either way
close() { [ "${1:-0}" -ge "${2:--1}" ] && [ $(( ${1:-0} - ${2:-0} )) -le 5 ]; }
check "corral answered $sc SYNs with cookies, of $COUNT sent" [ "${sc:-0}" -ge $((COUNT * 95 / 100)) ]
check "the victim received them ($in frames)" close "${in:-0}" "${sc:-}"
check "the generator received every reply ($rep frames)" close "${rep:-0}" "${sc:-}"
check "corral: victim CPU measured ($ns ns per SYN)" awk -v x="${ns:-0}" 'BEGIN { exit !(x > 0) }'
read -r in rep ns < <(row kernel-cookies)
check "kernel syncookies: at least 90% answered ($rep of $in)" \
	[ "${rep:-0}" -ge $(( ${in:-1} * 90 / 100 )) ]
read -r in rep ns < <(row xdp-drop)
check "xdp-drop: SYNs arrive ($in), none answered ($rep)" \
	[ "${in:-0}" -ge $((COUNT * 95 / 100)) -a "${rep:-1}" -le 2 ]
check "lab removed" bash -c '! ip netns list | grep -q "^cf-[gv]k\b"'
echo "1..$n"
[ $failed -eq 0 ]
