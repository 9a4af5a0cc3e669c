#!/bin/bash
# flood_lab.sh - lab and method helpers for the flood benchmark; sourced by
# tools/bench/flood.sh and tests/scripts/flood_smoke.sh.
#
# Lab: namespace cf-g$TAG (generator) --veth--> cf-v$TAG (victim).
#   generator cfg$TAG 10.77.60.1/24 fd77::1/64
#   victim    cfv$TAG 10.77.60.2/24 fd77::2/64, routes 10.78.0.0/15 and
#             fd77::/16 on the veth, rp_filter off, GRO on (gives the veth
#             its NAPI, which receiving XDP frames needs; with TSO off on
#             the generator's end, skbs take that NAPI too), threaded NAPI with
#             the NAPI thread pinned to $CF_VCPU. The generator runs on $CF_GCPU.
# Nothing is routed to the host. lab_down removes everything (idempotent).
#
# Caller sets: TAG (short, unique per caller), ROOT (repo), BUILD.

: "${TAG:=b}"
: "${ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BUILD:=$ROOT/build}"
: "${CF_GCPU:=0}"
: "${CF_VCPU:=1}"
NS_G=cf-g$TAG
NS_V=cf-v$TAG
IF_G=cfg$TAG
IF_V=cfv$TAG
GEN=$BUILD/tools/flood_gen
CORRAL=$BUILD/corral
IP_G=10.77.60.1
IP_V=10.77.60.2
LEGIT_PORT=40001
ECHO_PORT=7
SINK_PORT=9
ECHO_PID=
NAPI_PID=

vns() { nsenter --net="/run/netns/$NS_V" "$@"; }
gns() { nsenter --net="/run/netns/$NS_G" "$@"; }

lab_down() {
	[ -n "$ECHO_PID" ] && kill "$ECHO_PID" 2>/dev/null && wait "$ECHO_PID" 2>/dev/null
	ECHO_PID=
	ip netns del "$NS_G" 2>/dev/null
	ip netns del "$NS_V" 2>/dev/null
	return 0
}

lab_up() {
	lab_down
	ip netns add "$NS_G" && ip netns add "$NS_V" &&
	ip link add "$IF_G" netns "$NS_G" type veth peer name "$IF_V" netns "$NS_V" &&
	ip -n "$NS_G" link set lo up && ip -n "$NS_V" link set lo up &&
	ip -n "$NS_G" addr add $IP_G/24 dev "$IF_G" &&
	ip -n "$NS_V" addr add $IP_V/24 dev "$IF_V" &&
	ip -n "$NS_G" -6 addr add fd77::1/64 dev "$IF_G" nodad &&
	ip -n "$NS_V" -6 addr add fd77::2/64 dev "$IF_V" nodad &&
	ip -n "$NS_G" link set "$IF_G" up && ip -n "$NS_V" link set "$IF_V" up &&
	ip -n "$NS_V" route add 10.78.0.0/15 dev "$IF_V" &&
	ip -n "$NS_V" -6 route add fd77::/16 dev "$IF_V" &&
	ip netns exec "$NS_V" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		"net.ipv4.conf.$IF_V.rp_filter=0" &&
	ip netns exec "$NS_V" ethtool -K "$IF_V" gro on &&
	# without TSO on the sender, veth hands skbs (the af-packet backend)
	# to the victim's NAPI thread too, like XDP frames: every method's
	# receive work then runs on the victim CPU, where it is measured
	ip netns exec "$NS_G" ethtool -K "$IF_G" tso off &&
	ip netns exec "$NS_V" sh -c "echo 1 > /sys/class/net/$IF_V/threaded" || return 1
	NAPI_PID=$(pgrep -x "napi/$IF_V-.*" | head -1)
	if [ -z "$NAPI_PID" ]; then
		NAPI_PID=$(ps -eo pid=,comm= | awk -v n="napi/$IF_V-" 'index($2, n) == 1 {print $1; exit}')
	fi
	[ -n "$NAPI_PID" ] || { echo "flood_lab: no NAPI thread for $IF_V" >&2; return 1; }
	taskset -p -c "$CF_VCPU" "$NAPI_PID" > /dev/null || return 1
	# a real-time NAPI thread keeps other tasks on the victim CPU from
	# stalling it (the ring holds only 256 frames); CF_NAPI_FIFO=0 turns it off
	if [ "${CF_NAPI_FIFO:-1}" = 1 ]; then chrt -f -p 10 "$NAPI_PID" || return 1; fi
	VMAC=$(ip -n "$NS_V" -br link show "$IF_V" | awk '{print $3}')
	[ -n "$VMAC" ]
}

# gen_probe: "xdp-live=ok|REASON af-packet=ok|REASON" for the lab's veth
gen_probe() { gns "$GEN" probe dev "$IF_G" 2>/dev/null; }

echo_start() {
	local out
	out=$(mktemp /tmp/cf-echo.XXXXXX)
	# nsenter and taskset exec: $! is the responder itself, so lab_down's
	# kill reaches it (a shell function in the background would not)
	nsenter --net="/run/netns/$NS_V" taskset -c "$CF_VCPU" \
		"$GEN" echo port $ECHO_PORT sink-port $SINK_PORT > "$out" &
	ECHO_PID=$!
	for _ in $(seq 50); do
		grep -q ready "$out" && { rm -f "$out"; return 0; }
		sleep 0.05
	done
	rm -f "$out"
	return 1
}

# gen_send ARGS...: one generator run in the generator namespace, output: key=value line
# (SCHED_FIFO unless CF_GEN_FIFO=0); CF_GEN picks the backend: auto (the
# default: live frames where the kernel allows them), xdp-live or af-packet
gen_send() {
	local rt=()
	# real-time generator: a steady offered load on a shared machine
	[ "${CF_GEN_FIFO:-1}" = 1 ] && rt=(chrt -f 10)
	gns "${rt[@]}" "$GEN" send dev "$IF_G" dmac "$VMAC" dst4 $IP_V dst6 fd77::2 cpu "$CF_GCPU" \
		port $SINK_PORT legit-src $IP_G legit-port $LEGIT_PORT echo-port $ECHO_PORT \
		gen "${CF_GEN:-auto}" "$@"
}

# victim_stats: one line of key=value counters of the victim side
#   vpkts  frames the victim's veth received (every frame that reached
#          the victim, filtered or not, whichever way the generator sent it)
#   vdrop  frames lost because the victim's ring was full (overload)
#   udp    packets the IP layers delivered up (v4 + v6 InDelivers): every
#          datagram that passed the filter reached UDP (the sink socket is
#          never read, so UDP's own InDatagrams would miss queued ones)
#   busy   victim CPU system+irq+softirq time, USER_HZ ticks (/proc/stat)
#   user   victim CPU user+nice ticks
#   napi   NAPI thread run time, ns (/proc/PID/schedstat)
victim_stats() {
	local vp vd u4 u6 cpu napi
	read -r vp vd < <(ip -n "$NS_V" -s -j link show "$IF_V" | jq -r '.[0].stats64.rx | "\(.packets) \(.dropped)"')
	u4=$(vns awk '$1 == "Ip:" && !h {for (i = 2; i <= NF; i++) if ($i == "InDelivers") c = i; h = 1; next}
		$1 == "Ip:" {print $c}' /proc/net/snmp)
	u6=$(vns awk '$1 == "Ip6InDelivers" {print $2}' /proc/net/snmp6)
	cpu=$(awk -v c="cpu$CF_VCPU" '$1 == c {print "busy=" $4 + $7 + $8 " user=" $2 + $3}' /proc/stat)
	napi=$(awk '{print $1}' "/proc/$NAPI_PID/schedstat" 2>/dev/null)
	echo "vpkts=$vp vdrop=$vd udp=$((u4 + u6)) $cpu napi=${napi:-0}"
}

# ---- methods ------------------------------------------------------------------
# method_on METHOD RATE BURST TABLE: install a filter in the victim
#   RATE/BURST: per-source limit (packets/s, packets); TABLE: state table size
#   AGG_RATE/AGG_BURST (env): the aggregate limiter's rate
METHODS_ALL="none xdp-drop corral-xdp corral-xdp-generic corral-tc corral-agg corral-shed hashlimit nft-meter nft-limit"

method_available() {
	case $1 in
	corral-*) [ -x "$CORRAL" ] ;;
	xdp-drop) [ -f "$BUILD/trivial.bpf.o" ] ;;
	*) return 0 ;;
	esac
}

corral_cmd() { vns "$CORRAL" "$@"; }

method_on() {
	local m=$1 rate=$2 burst=$3 table=$4
	case $m in
	none) ;;
	xdp-drop)
		ip -n "$NS_V" link set dev "$IF_V" xdpdrv obj "$BUILD/trivial.bpf.o" sec xdp ;;
	corral-xdp|corral-xdp-generic|corral-tc)
		local mode=${m#corral-}
		mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
		# shellcheck disable=SC2086
		corral_cmd ${CORRAL_ATTACH:-attach dev $IF_V mode $mode} &&
		corral_cmd limit add default rate "$rate" burst "$burst" ;;
	corral-agg)
		# the same per-source limit, but one bucket per /16 (IPv6: /48):
		# spread sources under their own limit share a prefix bucket
		mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
		corral_cmd attach dev "$IF_V" mode xdp &&
		corral_cmd limit add default rate "$rate" burst "$burst" &&
		corral_cmd aggregate set v4 16 v6 48 ;;
	corral-shed)
		# the generated ranges are the bulk class, shed as the controller
		# would under overload; the legitimate client keeps the default class
		mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
		corral_cmd attach dev "$IF_V" mode xdp &&
		corral_cmd limit add default rate "$rate" burst "$burst" &&
		corral_cmd class add 6 src 10.78.0.0/15 &&
		corral_cmd class add 6 src fd77::/16 &&
		corral_cmd shed set 5 scope all ;;
	hashlimit)
		local size=1024
		while [ $size -lt "$table" ]; do size=$((size * 2)); done
		local hl=(-m hashlimit --hashlimit-above "$rate/sec" --hashlimit-burst "$burst"
			--hashlimit-mode srcip --hashlimit-htable-size "$size"
			--hashlimit-htable-max "$table" --hashlimit-htable-expire 10000)
		ip netns exec "$NS_V" iptables -t raw -A PREROUTING -i "$IF_V" -p udp \
			"${hl[@]}" --hashlimit-name cf4 -j DROP &&
		ip netns exec "$NS_V" ip6tables -t raw -A PREROUTING -i "$IF_V" -p udp \
			"${hl[@]}" --hashlimit-srcmask 64 --hashlimit-name cf6 -j DROP ;;
	nft-meter)
		ip netns exec "$NS_V" nft -f - <<-EOF
		table netdev cf_meter {
			set m4 { type ipv4_addr; size $table; flags dynamic,timeout; timeout 10s; }
			set m6 { type ipv6_addr; size $table; flags dynamic,timeout; timeout 10s; }
			chain in {
				type filter hook ingress device "$IF_V" priority 0; policy accept;
				ip protocol udp update @m4 { ip saddr limit rate over $rate/second burst $burst packets } drop
				ip6 nexthdr udp update @m6 { ip6 saddr & ffff:ffff:ffff:ffff:: limit rate over $rate/second burst $burst packets } drop
			}
		}
		EOF
		;;
	nft-limit)
		ip netns exec "$NS_V" nft -f - <<-EOF
		table netdev cf_limit {
			chain in {
				type filter hook ingress device "$IF_V" priority 0; policy accept;
				meta l4proto udp limit rate over ${AGG_RATE:-10000}/second burst ${AGG_BURST:-100} packets drop
			}
		}
		EOF
		;;
	*) echo "flood_lab: unknown method $m" >&2; return 1 ;;
	esac
}

method_off() {
	case $1 in
	none) ;;
	xdp-drop) ip -n "$NS_V" link set dev "$IF_V" xdpdrv off ;;
	corral-*) corral_cmd ${CORRAL_DETACH:-detach dev $IF_V} ;;
	hashlimit)
		ip netns exec "$NS_V" iptables -t raw -F PREROUTING &&
		ip netns exec "$NS_V" ip6tables -t raw -F PREROUTING ;;
	nft-meter) ip netns exec "$NS_V" nft delete table netdev cf_meter ;;
	nft-limit) ip netns exec "$NS_V" nft delete table netdev cf_limit ;;
	esac
}
