#!/bin/bash
# herd.sh - run one herd experiment in a two-namespace lab.
#
#   tools/herd/herd.sh [options] [-- extra herd_clients options]
#     -n N        clients (default 500)
#     -c C        service capacity, requests/s (default 500)
#     -b B        listen backlog (default 128)
#     -w W        service workers (default 1)
#     -m MODE     kernel|none|expo|full|decorr (default kernel)
#     -s SCHED    SYN retry schedule of the client namespace: linear
#                 (net.ipv4.tcp_syn_linear_timeouts=4, default since 6.5) or
#                 exp (=0, the older exponential schedule). Default linear.
#     -t MS       request timeout (default 2000)
#     -d S        global deadline of the herd, seconds (default 60)
#     -6          IPv6 (fd77::/16) instead of IPv4
#     -o DIR      output directory (default: a new /tmp/herd.XXXXXX)
#     -q          print only the SUMMARY lines
#
# Lab: netns $P-srv (dev $P-srv0, 10.77.0.1, fd77::1) and $P-cli (dev
# $P-cli0, 10.77.0.2, fd77::2), one veth between them and nothing else;
# the client namespace treats 10.78.0.0/15 and fd77:78::/64 as local
# (route type local on lo) so each client binds its own source address.
# P is $HERD_PREFIX (default "ch").
#
# Environment:
#   CORRAL_SETUP   command run in the server namespace (nsenter --net) once
#                  the service listens, e.g. "build/corral attach dev ch-srv0".
#                  It sees HERD_SRV_NS HERD_SRV_DEV HERD_CLI_NS HERD_PORT
#                  HERD_N HERD_C HERD_B HERD_SERVER.
#   CORRAL_TEARDOWN command run in the server namespace before the lab goes.
#   HERD_DRAIN_MAX seconds to let the service drain its accept queue after
#                  the herd ends (default 10); what it still serves then is
#                  wasted work.
#   HERD_PREFIX    namespace/link prefix (default ch)
#   HERD_PORT      service port (default 8080)
#   BUILD          build directory (default build)
#
# Outputs in DIR: service.csv, clients.csv (per 100 ms), clients_per.csv
# (per client), service.txt, clients.txt, summary.txt (SUMMARY lines).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) bin=$BUILD/tools ;; *) bin=$top/$BUILD/tools ;; esac

N=500 C=500 B=128 W=1 MODE=kernel SCHED=linear TIMEOUT=2000 DEADLINE=60 FAM=4 OUT= QUIET=0
while getopts "n:c:b:w:m:s:t:d:6o:qh" o; do
	case $o in
	n) N=$OPTARG ;; c) C=$OPTARG ;; b) B=$OPTARG ;; w) W=$OPTARG ;;
	m) MODE=$OPTARG ;; s) SCHED=$OPTARG ;; t) TIMEOUT=$OPTARG ;; d) DEADLINE=$OPTARG ;;
	6) FAM=6 ;; o) OUT=$OPTARG ;; q) QUIET=1 ;;
	h) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
for v in N C B W TIMEOUT DEADLINE; do
	[[ ${!v} =~ ^[1-9][0-9]{0,8}$ ]] || { echo "herd.sh: $v: not a positive number: ${!v}" >&2; exit 2; }
done
case $MODE in kernel|none|expo|full|decorr) ;; *) echo "herd.sh: bad mode $MODE" >&2; exit 2 ;; esac
case $SCHED in linear) LINEAR=4 ;; exp) LINEAR=0 ;; *) echo "herd.sh: bad schedule $SCHED" >&2; exit 2 ;; esac
for b in herd_service herd_clients; do
	[ -x "$bin/$b" ] || { echo "herd.sh: $bin/$b missing (run make)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "herd.sh: needs root" >&2; exit 1; }

P=${HERD_PREFIX:-ch}
SRV=$P-srv CLI=$P-cli DEV_S=$P-srv0 DEV_C=$P-cli0
PORT=${HERD_PORT:-8080}
if [ "$FAM" = 6 ]; then
	SERVER=fd77::1 SRC=fd77:78::1
else
	SERVER=10.77.0.1 SRC=10.78.0.1
fi
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/herd.XXXXXX)
mkdir -p "$OUT"
in_srv() { nsenter --net=/run/netns/"$SRV" "$@"; }
in_cli() { nsenter --net=/run/netns/"$CLI" "$@"; }
say() { [ "$QUIET" = 1 ] || echo "$@"; }

spid=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
		kill -TERM "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
	fi
	if [ -n "${CORRAL_TEARDOWN:-}" ] && [ -e /run/netns/"$SRV" ]; then
		in_srv sh -c "$CORRAL_TEARDOWN" || echo "herd.sh: CORRAL_TEARDOWN failed" >&2
	fi
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# a leftover lab of ours (same prefix) from an interrupted run
ip netns del "$SRV" 2>/dev/null || true
ip netns del "$CLI" 2>/dev/null || true

ip netns add "$SRV"
ip netns add "$CLI"
ip link add "$DEV_S" netns "$SRV" type veth peer name "$DEV_C" netns "$CLI"
in_srv ip link set lo up
in_srv ip link set "$DEV_S" up
in_srv ip addr add 10.77.0.1/24 dev "$DEV_S"
in_srv ip -6 addr add fd77::1/64 dev "$DEV_S" nodad
in_srv ip route add 10.78.0.0/15 via 10.77.0.2
in_srv ip -6 route add fd77:78::/64 via fd77::2
in_cli ip link set lo up
in_cli ip link set "$DEV_C" up
# A queue on the client side, as a real network has between hosts: with
# veth's default noqueue a full peer ring fails the send locally, TCP
# retries such a SYN after 500 ms instead of on its schedule, and the herd
# de-synchronizes by itself. With a qdisc the veth pushes back instead.
in_cli tc qdisc replace dev "$DEV_C" root pfifo limit 20000
in_cli ip addr add 10.77.0.2/24 dev "$DEV_C"
in_cli ip -6 addr add fd77::2/64 dev "$DEV_C" nodad
in_cli ip route add local 10.78.0.0/15 dev lo
in_cli ip -6 route add local fd77:78::/64 dev lo

# static neighbours both ways, so the herd's first SYNs and SYN-ACKs do not
# wait in (and overflow) the neighbour resolution queue
mac_s=$(in_srv ip -br link show dev "$DEV_S" | awk '{ print $3 }')
mac_c=$(in_cli ip -br link show dev "$DEV_C" | awk '{ print $3 }')
in_cli ip neigh replace 10.77.0.1 lladdr "$mac_s" dev "$DEV_C" nud permanent
in_cli ip -6 neigh replace fd77::1 lladdr "$mac_s" dev "$DEV_C" nud permanent
in_srv ip neigh replace 10.77.0.2 lladdr "$mac_c" dev "$DEV_S" nud permanent
in_srv ip -6 neigh replace fd77::2 lladdr "$mac_c" dev "$DEV_S" nud permanent

in_cli sysctl -qw net.ipv4.tcp_syn_linear_timeouts="$LINEAR"
in_cli sysctl -qw net.ipv4.tcp_syn_retries=10
in_srv sysctl -qw net.core.somaxconn=$((B > 4096 ? B : 4096))

svc_args=(--listen "$SERVER" --port "$PORT" --rate "$C" --workers "$W" --backlog "$B"
	--duration "$((DEADLINE + ${HERD_DRAIN_MAX:-10} + 30))s" --csv "$OUT/service.csv")
# started directly (not through a shell function) so $! is the service itself
nsenter --net=/run/netns/"$SRV" "$bin/herd_service" "${svc_args[@]}" > "$OUT/service.txt" 2>&1 &
spid=$!
listening=0
for _ in $(seq 50); do
	if in_srv ss -Hltn "sport = :$PORT" | grep -q .; then listening=1; break; fi
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.1
done
if [ "$listening" != 1 ]; then
	echo "herd.sh: service did not start:" >&2
	cat "$OUT/service.txt" >&2
	exit 1
fi

if [ -n "${CORRAL_SETUP:-}" ]; then
	say "herd.sh: CORRAL_SETUP: $CORRAL_SETUP"
	HERD_SRV_NS=$SRV HERD_SRV_DEV=$DEV_S HERD_CLI_NS=$CLI HERD_PORT=$PORT HERD_N=$N \
	HERD_C=$C HERD_B=$B HERD_SERVER=$SERVER in_srv sh -c "$CORRAL_SETUP"
fi

netstat_get() { # prints "ListenOverflows ListenDrops" of the server namespace
	in_srv cat /proc/net/netstat | awk '
		/^TcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) n[i] = $i; h = 1 }
			     else { for (i = 2; i <= NF; i++) v[n[i]] = $i } }
		END { print v["ListenOverflows"] + 0, v["ListenDrops"] + 0 }'
}
read -r ov0 dr0 < <(netstat_get)

say "herd.sh: $N clients ($MODE, SYN schedule $SCHED) -> $SERVER:$PORT, capacity $C/s, backlog $B"
rc=0
in_cli timeout "$((DEADLINE + 30))" "$bin/herd_clients" --server "$SERVER" --port "$PORT" \
	-n "$N" --src "$SRC" --mode "$MODE" --timeout "$TIMEOUT" --deadline "${DEADLINE}s" \
	--capacity "$C" --csv "$OUT/clients.csv" --clients-csv "$OUT/clients_per.csv" "$@" \
	> "$OUT/clients.txt" 2>&1 || rc=$?

# let the service finish what is still queued (work for clients that are gone)
drain_end=$((SECONDS + ${HERD_DRAIN_MAX:-10}))
while [ $SECONDS -lt $drain_end ]; do
	q=$(in_srv ss -Hltn "sport = :$PORT" | awk 'NR == 1 { q = $2 } END { print q + 0 }')
	[ "${q:-0}" = 0 ] && break
	sleep 0.2
done
sleep 0.2
kill -TERM "$spid" 2>/dev/null || true
wait "$spid" || rc=$?
spid=

read -r ov1 dr1 < <(netstat_get)
{
	grep '^SUMMARY clients ' "$OUT/clients.txt" || true
	grep '^SUMMARY service ' "$OUT/service.txt" || true
	echo "SUMMARY lab mode=$MODE sched=$SCHED n=$N c=$C b=$B w=$W timeout_ms=$TIMEOUT" \
		"listen_overflows=$((ov1 - ov0)) listen_drops=$((dr1 - dr0))" \
		"nk_over_c_ms=$((N * 1000 / C))"
} > "$OUT/summary.txt"

if [ "$QUIET" = 1 ]; then
	cat "$OUT/summary.txt"
else
	grep -v '^SUMMARY clients ' "$OUT/clients.txt" || true
	grep -v -e '^SUMMARY service ' -e 'listening on' "$OUT/service.txt" || true
	echo "  server netns ListenOverflows +$((ov1 - ov0)), ListenDrops +$((dr1 - dr0))"
	echo "  results in $OUT"
fi
exit "$rc"
