# shellcheck shell=bash
#
# lib.bash - lab library for the corral end-to-end tests.
#
# A lab is two network namespaces, a generator and a victim, joined by one
# or more veth pairs (ceg<N> in the generator, cev<N> in the victim). The
# generator sends real frames with trafgen, bounded by count and rate; the
# victim counts what it receives with nftables in a netdev ingress chain on
# every cev<N>: that hook runs after XDP and after tc ingress, so it sees
# exactly what corral let through, whatever the attach mode.
#
# Contract:
#  - ce_lab_up [NDEV] builds the lab; ce_lab_down removes everything it
#    built (corral detached, namespaces deleted, pins removed) and is safe to
#    call twice or after a partial ce_lab_up. Call it from bats teardown().
#  - corral pins under $CE_PIN, which is global on the host: suites must run
#    one at a time.
#  - Addresses: victim 10.77.N.1/24 and fd77:N::1/64 on cev<N>, generator
#    10.77.N.2 (the generator runs without IPv6); spoofed sources come from 10.78.0.0/15 and
#    fd77:78::/32.
#  - Counting: ce_rx_total, ce_rx_dev, ce_rx_src (per source address),
#    ce_rx_port (per destination port) read the victim's nftables counters.

CE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CORRAL=${CORRAL:-$CE_TOP/build/corral}
CE_PIN=${CORRAL_PIN_DIR:-/sys/fs/bpf/corral}
CE_TAG=${CE_TAG:-$$}
CE_GEN=ce-g$CE_TAG
CE_VIC=ce-v$CE_TAG
CE_TMP=
CE_NDEV=0
CE_BG_PIDS=()
CE_ATTACHED=()
CE_MACS=()

# seconds any single traffic run may take before it is killed
CE_SEND_TIMEOUT=${CE_SEND_TIMEOUT:-30}

ce_log() { echo "# $*" >&3 2>/dev/null || echo "# $*" >&2; }

# Skip the test unless the lab can be built here.
ce_require() {
	local c
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	for c in ip nft trafgen jq nsenter timeout awk; do
		command -v "$c" >/dev/null || skip "needs $c"
	done
	[ -x "$CORRAL" ] || skip "no $CORRAL (run make)"
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf || skip "cannot mount bpffs"
	fi
}

# ---- lab ---------------------------------------------------------------

# ce_lab_up [NDEV]: namespaces, NDEV veth pairs (default 1), addresses,
# victim counters.
ce_lab_up() {
	local n=${1:-1} i
	ce_require
	CE_TMP=$(mktemp -d /tmp/ce-e2e.XXXXXX)
	ip netns add "$CE_GEN"
	ip netns add "$CE_VIC"
	ip -n "$CE_GEN" link set lo up
	ip -n "$CE_VIC" link set lo up
	ip netns exec "$CE_VIC" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 >/dev/null
	# trafgen needs no addresses: a generator without IPv6 sends no
	# neighbour discovery or MLD that would blur the victim's counts
	ip netns exec "$CE_GEN" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	for ((i = 0; i < n; i++)); do
		ip -n "$CE_VIC" link add "cev$i" type veth peer name "ceg$i" netns "$CE_GEN"
		ip -n "$CE_VIC" addr add "10.77.$i.1/24" dev "cev$i"
		ip -n "$CE_GEN" addr add "10.77.$i.2/24" dev "ceg$i"
		ip -n "$CE_VIC" addr add "fd77:$i::1/64" dev "cev$i" nodad
		ip -n "$CE_VIC" link set "cev$i" up
		ip -n "$CE_GEN" link set "ceg$i" up
	done
	CE_NDEV=$n
	for ((i = 0; i < n; i++)); do ce_mac "$i" >/dev/null; done
	# replies to spoofed sources go back to the generator, which drops them
	ip -n "$CE_VIC" route add 10.78.0.0/15 via 10.77.0.2
	ip -n "$CE_VIC" -6 route add fd77:78::/32 via fd77:0::2
	ce_nft_setup
}

ce_nft_setup() {
	local i f="$CE_TMP/victim.nft"
	{
		echo "table netdev ce {"
		echo "  counter total {}"
		echo "  counter qinq {}"
		for ((i = 0; i < CE_NDEV; i++)); do echo "  counter dev_cev$i {}"; done
		echo "  set s4 { type ipv4_addr; size 65536; flags dynamic; }"
		echo "  set s6 { type ipv6_addr; size 65536; flags dynamic; }"
		echo "  set pudp { type inet_service; size 65536; flags dynamic; }"
		echo "  set ptcp { type inet_service; size 65536; flags dynamic; }"
		for ((i = 0; i < CE_NDEV; i++)); do
			cat <<-EOF
			  chain in_cev$i {
			    type filter hook ingress device "cev$i" priority 0; policy accept;
			    ip protocol { tcp, udp } counter name "total"
			    ip protocol { tcp, udp } counter name "dev_cev$i"
			    ip protocol { tcp, udp } update @s4 { ip saddr counter }
			    ip6 nexthdr { tcp, udp } counter name "total"
			    ip6 nexthdr { tcp, udp } counter name "dev_cev$i"
			    ip6 nexthdr { tcp, udp } update @s6 { ip6 saddr counter }
			    udp dport != 0 update @pudp { udp dport counter }
			    tcp dport != 0 update @ptcp { tcp dport counter }
			    meta protocol 8021q counter name "qinq"
			  }
			EOF
		done
		echo "}"
	} >"$f"
	ip netns exec "$CE_VIC" nft -f "$f"
}

# Reset every victim counter to zero.
ce_rx_reset() {
	ip netns exec "$CE_VIC" nft reset counters table netdev ce >/dev/null
	ip netns exec "$CE_VIC" nft flush set netdev ce s4
	ip netns exec "$CE_VIC" nft flush set netdev ce s6
	ip netns exec "$CE_VIC" nft flush set netdev ce pudp
	ip netns exec "$CE_VIC" nft flush set netdev ce ptcp
}

ce_lab_down() {
	local i pid
	for pid in "${CE_BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	CE_BG_PIDS=()
	if [ -e "/run/netns/$CE_VIC" ] && [ -x "$CORRAL" ]; then
		for i in "${CE_ATTACHED[@]}"; do
			ce_corral detach dev "$i" >/dev/null 2>&1
		done
	fi
	CE_ATTACHED=()
	ip netns del "$CE_GEN" 2>/dev/null
	ip netns del "$CE_VIC" 2>/dev/null
	# a test that failed half way may have left pins behind
	if [ -e "$CE_PIN" ]; then
		rm -rf "$CE_PIN"
	fi
	[ -n "$CE_TMP" ] && rm -rf "$CE_TMP"
	CE_TMP=
	CE_NDEV=0
	CE_MACS=()
	return 0
}

# ---- corral ------------------------------------------------------------

# Run corral in the victim's network namespace. nsenter (not ip netns
# exec) keeps the host's /sys/fs/bpf visible.
ce_corral() {
	nsenter --net="/run/netns/$CE_VIC" -- "$CORRAL" "$@"
}

# ce_attach DEV [ARGS...]: attach and remember DEV for teardown.
ce_attach() {
	local dev=$1
	shift
	CE_ATTACHED+=("$dev")
	ce_corral attach dev "$dev" "$@"
}

# corral -j status, validated as JSON
ce_status() {
	ce_corral -j status "$@" | jq -c .
}

# ce_stat REASON [CLASS]: packets counted under REASON (pass, rate, shed,
# deny, allow, would_drop, ...) in CLASS (0-7, "none"), or summed over
# every class row when CLASS is omitted.
ce_stat() {
	local reason=$1 class=${2:-}
	ce_status | jq -r --arg r "$reason" --arg c "$class" '
		if $c == "" then .totals[$r].packets // 0
		else .counters[$c][$r].packets // 0 end'
}

# Everything "show" prints, as one JSON line per object: compared before
# and after a failed command to prove nothing changed (hit counters
# without the age of the last hit, which the clock moves).
ce_state() {
	local o
	for o in limit class allow deny shed dev; do
		ce_corral -j "$o" show 2>&1 | jq -cS 'del(.. | .last_ms_ago?)' 2>&1
	done
	ce_status | jq -cS '{mode, aggregate, shed}'
}

# ---- traffic -----------------------------------------------------------

ce_mac() { # victim MAC of cev<N> (cached)
	local i=${1:-0}
	if [ -z "${CE_MACS[$i]:-}" ]; then
		CE_MACS[$i]=$(ip -n "$CE_VIC" -j link show "cev$i" | jq -r '.[0].address')
	fi
	echo "${CE_MACS[$i]}"
}

# ce_pkt SRC [proto=udp|syn|ack] [dport=9] [vlan=ID[.ID2]] [dev=N] [tos=N]
#        [len=N]
# prints one trafgen packet for destination 10.77.N.1 / fd77:N::1; vlan=A.B
# is double tagged (outer 802.1ad tag A, inner 802.1Q tag B).
ce_pkt() {
	local src=$1 proto=udp dport=9 vlan= dev=0 tos=0 len=18 kv l4 l3 vl=
	shift
	for kv in "$@"; do
		case $kv in
		proto=*) proto=${kv#proto=} ;;
		dport=*) dport=${kv#dport=} ;;
		vlan=*) vlan=${kv#vlan=} ;;
		dev=*) dev=${kv#dev=} ;;
		tos=*) tos=${kv#tos=} ;;
		len=*) len=${kv#len=} ;;
		*) echo "ce_pkt: bad argument $kv" >&2; return 1 ;;
		esac
	done
	case $proto in
	udp) l4="udp(sp=40000, dp=$dport)" ;;
	syn) l4="tcp(sp=40000, dp=$dport, syn)" ;;
	ack) l4="tcp(sp=40000, dp=$dport, ack)" ;;
	*) echo "ce_pkt: bad proto $proto" >&2; return 1 ;;
	esac
	if [[ $src == *:* ]]; then
		l3="ipv6(saddr=$src, daddr=fd77:$dev::1, tc=$tos)"
	else
		l3="ipv4(saddr=$src, daddr=10.77.$dev.1, tos=$tos)"
	fi
	if [[ $vlan == *.* ]]; then
		vl="vlan(id=${vlan%.*}, tpid=0x88a8), vlan(id=${vlan#*.}), "
	elif [ -n "$vlan" ]; then
		vl="vlan(id=$vlan), "
	fi
	[ -n "${CE_MACS[$dev]:-}" ] || ce_mac "$dev" >/dev/null
	echo "{ eth(da=${CE_MACS[$dev]}), $vl$l3, $l4, fill(0x61, $len) }"
}

# ce_src4 I: the I-th generated IPv4 source, 10.78.0.0 + I
ce_src4() {
	echo "10.$((78 + $1 / 65536)).$(($1 / 256 % 256)).$(($1 % 256))"
}

# ce_pkts4 FIRST N [ARGS...]: trafgen packets from N consecutive generated
# sources starting at index FIRST (same ARGS as ce_pkt, except len/vlan/tos
# apply to all). Fast: one awk for all lines.
ce_pkts4() {
	local first=$1 n=$2 tmpl
	shift 2
	tmpl=$(ce_pkt 10.255.255.255 "$@") || return 1
	awk -v f="$first" -v n="$n" -v t="$tmpl" 'BEGIN {
		for (i = f; i < f + n; i++) {
			a = sprintf("10.%d.%d.%d", 78 + int(i / 65536), int(i / 256) % 256, i % 256)
			l = t; sub(/10\.255\.255\.255/, a, l); print l
		} }'
}

ce_gap() { # inter-packet gap for PPS, in ns
	echo "$((1000000000 / $1))ns"
}

# ce_send CFG COUNT PPS [DEV]: send COUNT packets of the trafgen config CFG
# (round robin over its packets) from ceg<DEV>, paced by an inter-packet
# gap of 1/PPS. PPS is a ceiling: each gap also costs a sleep, so the real
# rate is lower (about 6 kpps at most here); tests use the measured time.
# (trafgen's own --rate sends once-a-second bursts on this version, which
# would make every bucket see one burst per second: not used.)
# Sets CE_SENT (packets trafgen reports as sent) and CE_DUR (seconds its send
# loop ran, as trafgen reports it). Fails if trafgen fails or sends fewer.
ce_send() {
	local cfg=$1 count=$2 pps=$3 dev=${4:-0} out
	out=$(ip netns exec "$CE_GEN" timeout "$CE_SEND_TIMEOUT" \
		trafgen -i "$cfg" -o "ceg$dev" -n "$count" -P 1 -t "$(ce_gap "$pps")" \
		--no-sock-mem -q 2>&1) || {
		echo "trafgen failed: $out" >&2
		return 1
	}
	out=$(echo "$out" | tr -d '\r')
	CE_SENT=$(echo "$out" | awk '/packets outgoing/ { print $1 }')
	# trafgen's own account of its send loop: "S sec, U usec on CPU0 (N packets)"
	CE_DUR=$(echo "$out" | awk '/ sec, .* usec on CPU/ { printf "%.6f", $1 + $3 / 1e6; exit }')
	if [ "${CE_SENT:-0}" -ne "$count" ] || [ -z "$CE_DUR" ]; then
		echo "trafgen sent ${CE_SENT:-?} of $count: $out" >&2
		return 1
	fi
}

# ce_send_bg CFG COUNT PPS [DEV]: same in the background; ce_wait_bg waits.
ce_send_bg() {
	local cfg=$1 count=$2 pps=$3 dev=${4:-0}
	ip netns exec "$CE_GEN" timeout "$CE_SEND_TIMEOUT" \
		trafgen -i "$cfg" -o "ceg$dev" -n "$count" -P 1 -t "$(ce_gap "$pps")" \
		--no-sock-mem -q >"$CE_TMP/bg.out" 2>&1 &
	CE_BG_PID=$!
	CE_BG_PIDS+=("$CE_BG_PID")
}

ce_wait_bg() {
	local rc=0
	wait "$CE_BG_PID" || rc=$?
	CE_SENT=$(tr -d '\r' <"$CE_TMP/bg.out" | awk '/packets outgoing/ { print $1 }')
	[ "$rc" -eq 0 ] || cat "$CE_TMP/bg.out" >&2
	return "$rc"
}

# ce_wait_up FILE: a server started in the background writes "up" to
# FILE when it listens; wait for it (5 s at most), else say what it wrote
ce_wait_up() {
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q up "$1" && return 0
		sleep 0.1
	done
	echo "server did not come up: $(cat "$1")" >&2
	return 1
}

# wait until frames in flight have been processed by the victim
ce_settle() { sleep "${1:-0.3}"; }

# ---- victim counters ---------------------------------------------------

ce_rx_total() {
	ip netns exec "$CE_VIC" nft -j list counter netdev ce total |
		jq '[.nftables[] | .counter? // empty | .packets] | add // 0'
}

ce_rx_qinq() { # frames still tagged after the outer tag was removed
	ip netns exec "$CE_VIC" nft -j list counter netdev ce qinq |
		jq '[.nftables[] | .counter? // empty | .packets] | add // 0'
}

ce_rx_dev() { # packets received on cev<N>
	ip netns exec "$CE_VIC" nft -j list counter netdev ce "dev_cev$1" |
		jq '[.nftables[] | .counter? // empty | .packets] | add // 0'
}

# "ADDR PACKETS" per source seen, IPv4 and IPv6
ce_rx_srcs() {
	local s
	for s in s4 s6; do
		ip netns exec "$CE_VIC" nft -j list set netdev ce "$s" |
			jq -r '.nftables[] | .set? // empty | .elem[]? | .elem | "\(.val) \(.counter.packets)"'
	done
}

ce_rx_src() { # packets from one source address (0 if none)
	ce_rx_srcs | awk -v a="$1" '$1 == a { n = $2 } END { print n + 0 }'
}

ce_rx_port() { # ce_rx_port udp|tcp PORT
	local set=pudp
	[ "$1" = tcp ] && set=ptcp
	ip netns exec "$CE_VIC" nft -j list set netdev ce "$set" |
		jq -r --argjson p "$2" '[.nftables[] | .set? // empty | .elem[]? | .elem
			| select(.val == $p) | .counter.packets] | add // 0'
}

# ---- assertions --------------------------------------------------------

# ce_within ACTUAL EXPECTED PCT: |ACTUAL - EXPECTED| <= PCT% of EXPECTED
ce_within() {
	local a=$1 e=$2 pct=$3
	if awk -v a="$a" -v e="$e" -v p="$pct" 'BEGIN {
		d = a - e; if (d < 0) d = -d; exit !(d <= e * p / 100) }'; then
		return 0
	fi
	echo "expected $e within $pct%, got $a" >&2
	return 1
}

# ce_eq NAME ACTUAL EXPECTED
ce_eq() {
	[ "$2" = "$3" ] && return 0
	echo "$1: expected $3, got $2" >&2
	return 1
}

# ---- clock -------------------------------------------------------------


