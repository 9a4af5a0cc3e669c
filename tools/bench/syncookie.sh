#!/bin/bash
# syncookie.sh - victim CPU per spoofed SYN: corral's XDP SYN cookies
# against the kernel's own syncookies, in one run on one lab.
#
#   tools/bench/syncookie.sh [quick|full]     (root; quick is the default)
#
# Lab: tools/bench/flood_lab.sh (generator namespace -> veth -> victim,
# the victim's threaded NAPI thread pinned to $CF_VCPU, where all of its
# receive and reply work runs and is measured). A listener (backlog 4096)
# on the victim's port 8080; flood_gen (proto syn, AF_PACKET) sends COUNT
# SYNs from 20,000 spoofed sources (10.79.0.0/16) at each of RATES per second, on
# $CF_GCPU. The victim routes the generated range via the generator's
# address (one neighbour entry: the kernel's replies need no ARP per
# source, corral's swap MACs). The generator's
# veth gets a pass-all XDP program and a threaded NAPI thread on $CF_GCPU,
# so the replies (XDP_TX frames and kernel skbs alike) are received there,
# off the victim's CPU.
# Methods:
#   kernel-cookies  net.ipv4.tcp_syncookies=2: the kernel answers every SYN
#                   with a cookie (no request queued)
#   kernel-default  tcp_syncookies=1: the queue fills, then cookies
#   corral-cookies  corral attach mode xdp, syn set ports 8080 herd off
#                   cookies on: XDP_TX
#   xdp-drop        a trivial XDP program that drops every frame: the
#                   lab's floor (the AF_PACKET skb taken into the veth's
#                   NAPI and XDP), which no method goes below; nothing is
#                   answered
# Per run: SYNs that reached the victim, replies that reached the generator
# (every SYN must be answered), victim NAPI CPU ns per SYN. RUNS runs per
# method and rate, methods interleaved; the table gives medians, the ratio
# to corral, and both less the xdp-drop floor.
# Output: docs/bench-syncookie.md (OUT_MD), printed too.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export CORRAL_PIN_DIR=${CORRAL_PIN_DIR:-/sys/fs/bpf/corral_bench_cookie}
SIZE=${1:-quick}
TAG=k
# shellcheck source=flood_lab.sh
. "$ROOT/tools/bench/flood_lab.sh"
PORT=8080
case $SIZE in
quick) : "${RUNS:=3}" "${COUNT:=300000}" "${RATES:=300000}" ;;
full) : "${RUNS:=5}" "${COUNT:=500000}" "${RATES:=100000 300000 1000000}" ;;
*) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
OUT_MD=${OUT_MD:-$ROOT/docs/bench-syncookie.md}
METHODS=${METHODS:-kernel-cookies kernel-default corral-cookies xdp-drop}
[ "$(id -u)" -eq 0 ] || { echo "syncookie: needs root" >&2; exit 1; }
for t in python3 jq; do
	command -v $t >/dev/null || { echo "syncookie: needs $t (make deps)" >&2; exit 1; }
done
[ -x "$CORRAL" ] && [ -x "$GEN" ] || { echo "syncookie: $CORRAL or $GEN missing (make all)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/corral-cookie-bench.XXXXXX)
LISTEN_PID=
cleanup() {
	[ -n "$LISTEN_PID" ] && kill "$LISTEN_PID" 2>/dev/null
	corral_cmd detach dev "$IF_V" >/dev/null 2>&1
	rm -rf "$CORRAL_PIN_DIR" 2>/dev/null
	lab_down
	rm -rf "$tmp"
}
trap cleanup EXIT

lab_up || { echo "syncookie: lab setup failed" >&2; exit 1; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip -n "$NS_G" link set "$IF_G" xdpdrv obj "$BUILD/peer_pass.bpf.o" sec xdp || exit 1
ip netns exec "$NS_G" sh -c "echo 1 > /sys/class/net/$IF_G/threaded" || exit 1
GNAPI=$(ps -eo pid=,comm= | awk -v n="napi/$IF_G-" 'index($2, n) == 1 {print $1; exit}')
[ -n "$GNAPI" ] || { echo "syncookie: no NAPI thread for $IF_G" >&2; exit 1; }
# above the real-time generator on its CPU: replies are taken as they come
taskset -p -c "$CF_GCPU" "$GNAPI" >/dev/null && chrt -f -p 20 "$GNAPI" || exit 1
vns sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096
ip -n "$NS_V" route replace 10.78.0.0/15 via $IP_G dev "$IF_V" || exit 1

# the listener; restarted, it takes its queued requests with it
listener_start() {
	if [ -n "$LISTEN_PID" ]; then
		kill "$LISTEN_PID" 2>/dev/null
		wait "$LISTEN_PID" 2>/dev/null
	fi
	: >"$tmp/listen.out"
	vns timeout 3600 python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'$IP_V'", '$PORT'))
s.listen(4096)
print("up", flush=True)
while True:
    c, _ = s.accept()
    c.close()
' >"$tmp/listen.out" 2>&1 &
	LISTEN_PID=$!
	for _ in $(seq 50); do grep -q up "$tmp/listen.out" && return 0; sleep 0.1; done
	echo "syncookie: listener: $(cat "$tmp/listen.out")" >&2
	return 1
}
listener_start || exit 1

# "rx tx napi_ns": SYNs the victim's veth received, replies the
# generator's veth received (XDP_TX frames are not in the victim's tx
# counters), the victim NAPI thread's run time
vsample() {
	local rx tx napi
	rx=$(ip -n "$NS_V" -s -j link show "$IF_V" | jq -r '.[0].stats64.rx.packets')
	tx=$(ip -n "$NS_G" -s -j link show "$IF_G" | jq -r '.[0].stats64.rx.packets')
	napi=$(awk '{print $1}' "/proc/$NAPI_PID/schedstat")
	echo "$rx $tx $napi"
}

method_up() {
	case $1 in
	kernel-cookies) vns sysctl -qw net.ipv4.tcp_syncookies=2 ;;
	kernel-default) vns sysctl -qw net.ipv4.tcp_syncookies=1 ;;
	xdp-drop) ip -n "$NS_V" link set dev "$IF_V" xdpdrv obj "$BUILD/trivial.bpf.o" sec xdp ;;
	corral-cookies)
		vns sysctl -qw net.ipv4.tcp_syncookies=1
		corral_cmd attach dev "$IF_V" mode xdp &&
			corral_cmd syn set ports $PORT herd off cookies on ;;
	esac
}

method_down() {
	case $1 in
	xdp-drop) ip -n "$NS_V" link set dev "$IF_V" xdpdrv off ;;
	corral-cookies)
		corral_cmd -j status >"$tmp/status.json" 2>/dev/null
		corral_cmd detach dev "$IF_V" >/dev/null ;;
	kernel-default)
		# its queued requests would retransmit SYN-ACKs into the next
		# method's counts for a minute: a new listener drops them
		listener_start ;;
	esac
	sleep 1
}

echo "rate,method,run,syns_in,replies,napi_ns,ns_per_syn" >"$tmp/runs.csv"
for rate in $RATES; do
	for r in $(seq "$RUNS"); do
		for m in $METHODS; do
			method_up "$m" || { echo "syncookie: $m: setup failed" >&2; exit 1; }
			sleep 0.5
			read -r rx0 tx0 n0 < <(vsample)
			gen_send proto syn sources 20000 base 10.79.0.0 port $PORT count "$COUNT" \
				rate "$rate" time 60 wait 0 >"$tmp/gen.out" 2>&1 ||
				{ echo "syncookie: flood_gen: $(cat "$tmp/gen.out")" >&2; exit 1; }
			sleep 0.5
			read -r rx1 tx1 n1 < <(vsample)
			method_down "$m"
			awk -v q="$rate" -v m="$m" -v r="$r" -v rx=$((rx1 - rx0)) -v tx=$((tx1 - tx0)) \
				-v n=$((n1 - n0)) 'BEGIN {
				printf "%d,%s,%d,%d,%d,%d,%.1f\n", q, m, r, rx, tx, n, rx ? n / rx : 0 }' \
				>>"$tmp/runs.csv"
			tail -1 "$tmp/runs.csv" >&2
		done
	done
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -F, -v q="$1" -v m="$2" -v c="$3" '$1 == q && $2 == m { print $c }' "$tmp/runs.csv"; }
{
	echo "## Victim CPU per spoofed SYN: corral's XDP SYN cookies against kernel syncookies"
	echo
	echo "Generated by \`make bench\` (tools/bench/syncookie.sh $SIZE) on $(date -u +%Y-%m-%d), kernel $(uname -r)."
	echo "$COUNT SYNs per run from 20,000 spoofed sources (10.79.0.0/16), paced at each offered rate"
	echo "(flood_gen proto syn, AF_PACKET, CPU $CF_GCPU). The victim's NAPI thread (CPU $CF_VCPU) does all"
	echo "of the victim's receive and reply work; its run time over the SYNs the victim received is"
	echo "the victim CPU per SYN. A listener with backlog 4096 on port $PORT. $RUNS runs per method"
	echo "and rate, methods interleaved; medians. \"answered\": replies the generator's veth"
	echo "received over SYNs the victim received. \"above floor\": less the xdp-drop floor (the lab's"
	echo "own cost of taking an AF_PACKET skb into a veth's NAPI and XDP), the work each method adds."
	echo
	echo "| offered SYN/s | method | SYNs in | answered | victim ns per SYN | x corral | above floor, ns | above floor, x corral |"
	echo "|---|---|---|---|---|---|---|---|"
	for rate in $RATES; do
		c=$(col "$rate" corral-cookies 7 | median)
		f=$(col "$rate" xdp-drop 7 | median)
		for m in $METHODS; do
			ns=$(col "$rate" "$m" 7 | median)
			rx=$(col "$rate" "$m" 4 | median)
			tx=$(col "$rate" "$m" 5 | median)
			awk -v q="$rate" -v m="$m" -v ns="$ns" -v rx="$rx" -v tx="$tx" -v c="${c:-0}" -v f="${f:-0}" 'BEGIN {
				xa = (f && c - f > 0 && m != "xdp-drop") ? sprintf("%.1f", (ns - f) / (c - f)) : "-"
				af = f ? sprintf("%.0f", ns - f) : "-"
				printf "| %d | %s | %d | %.1f%% | %.0f | %.2f | %s | %s |\n", q, m, rx,
					rx ? 100 * tx / rx : 0, ns, c ? ns / c : 0, af, xa }'
		done
	done
	echo
	if [ -s "$tmp/status.json" ]; then
		jq -r '"corral (last run): syn_cookie \(.totals.syn_cookie.packets // 0), cookie_unanswered \(.global.cookie_unanswered), cookie_ok \(.global.cookie_ok)"' "$tmp/status.json"
		echo
	fi
	echo "Per run:"
	echo
	echo '```'
	cat "$tmp/runs.csv"
	echo '```'
} >"$OUT_MD"
cat "$OUT_MD"
