#!/bin/bash
# Smoke test of tools/herd: a herd of 50 clients against a service with room
# for all of them. Every client must be served, and the service and the
# clients must agree on how many responses arrived on time. Prints TAP.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
n=0 failed=0
ok() { # cond-result description
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
field() { # line key
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<< "$1"
}

out=$(mktemp -d /tmp/herd-smoke.XXXXXX)
cleanup() {
	ip netns del cht-srv 2>/dev/null
	ip netns del cht-cli 2>/dev/null
	rm -rf "$out"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ] || [ ! -x "$BUILD/tools/herd_clients" ] || [ ! -x "$BUILD/tools/herd_service" ]; then
	echo "not ok 1 - herd tools built and running as root"
	echo "1..1"
	exit 1
fi

# bad input is refused with a message naming the bad word
msg=$("$BUILD/tools/herd_clients" --server 10.77.0.1 -n 12x 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && [[ $msg == *'"12x"'* ]]; ok $? "herd_clients refuses -n 12x ($msg)"
msg=$("$BUILD/tools/herd_service" --rate 0 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && [[ $msg == *rate* ]]; ok $? "herd_service refuses --rate 0"

for fam in 4 6; do
	flag=; [ $fam = 6 ] && flag=-6
	HERD_PREFIX=cht HERD_DRAIN_MAX=2 BUILD=$BUILD tools/herd/herd.sh -q $flag -n 50 -c 500 \
		-b 128 -m none -d 20 -o "$out/v$fam" > "$out/v$fam.txt" 2>&1
	ok $? "IPv$fam: herd.sh runs to the end"
	cli=$(grep '^SUMMARY clients' "$out/v$fam.txt")
	svc=$(grep '^SUMMARY service' "$out/v$fam.txt")
	lab=$(grep '^SUMMARY lab' "$out/v$fam.txt")
	[ "$(field "$cli" served)" = 50 ] && [ "$(field "$cli" failed)" = 0 ]
	ok $? "IPv$fam: all 50 clients served ($(field "$cli" served) served, $(field "$cli" failed) failed)"
	[ -n "$(field "$svc" served)" ] && [ "$(field "$svc" served)" = "$(field "$cli" served)" ]
	ok $? "IPv$fam: service and clients agree on served ($(field "$svc" served) vs $(field "$cli" served))"
	[ "$(field "$svc" wasted)" = 0 ] && [ "$(field "$cli" req_timeouts)" = 0 ]
	ok $? "IPv$fam: no wasted work, no timed-out request"
	[ "$(field "$lab" listen_overflows)" = 0 ]
	ok $? "IPv$fam: no listen overflow with backlog 128 > 50 clients"
	srcs=$(tail -n +2 "$out/v$fam/clients_per.csv" | cut -d, -f2 | sort -u | wc -l)
	[ "$srcs" = 50 ]; ok $? "IPv$fam: 50 distinct source addresses ($srcs)"
	rows=$(awk -F, 'NR > 1 { s += $4 } END { print s + 0 }' "$out/v$fam/service.csv")
	[ "$rows" = 50 ]; ok $? "IPv$fam: service time series sums to 50 served ($rows)"
	rows=$(awk -F, 'NR > 1 { s += $4 } END { print s + 0 }' "$out/v$fam/clients.csv")
	[ "$rows" = 50 ]; ok $? "IPv$fam: clients time series sums to 50 served ($rows)"
done

# a herd larger than the backlog: SYNs are dropped, the kernel retries them,
# and the SYN count sees the retransmissions
HERD_PREFIX=cht HERD_DRAIN_MAX=2 BUILD=$BUILD tools/herd/herd.sh -q -n 200 -c 1000 -b 16 \
	-m kernel -d 20 -o "$out/over" > "$out/over.txt" 2>&1
ok $? "overflow: herd.sh runs to the end"
cli=$(grep '^SUMMARY clients' "$out/over.txt")
lab=$(grep '^SUMMARY lab' "$out/over.txt")
[ "$(field "$cli" served)" = 200 ]; ok $? "overflow: all 200 served by kernel SYN retries ($(field "$cli" served))"
[ "$(field "$lab" listen_overflows)" -gt 0 ]; ok $? "overflow: ListenOverflows grew ($(field "$lab" listen_overflows))"
[ "$(field "$cli" syns_total)" -gt 200 ]; ok $? "overflow: SYN retransmissions counted ($(field "$cli" syns_total) SYNs)"
bad=$(awk -F, 'NR > 1 && ($5 < 1 || $6 < $5)' "$out/over/clients_per.csv" | wc -l)
[ "$bad" = 0 ]; ok $? "overflow: every client sent at least one SYN per connect attempt ($bad rows not)"

ip netns list | grep -q '^cht-'; [ $? -ne 0 ]; ok $? "lab namespaces removed"
echo "1..$n"
[ $failed -eq 0 ]
