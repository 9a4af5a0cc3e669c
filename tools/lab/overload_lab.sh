# shellcheck shell=bash
# shellcheck disable=SC2034  # OV_* settings are read by the scripts that source this
#
# overload_lab.sh - the controller overload lab, sourced by
# tests/e2e/overload.bats, tools/bench/controller.sh and tools/demo.sh.
#
#   clients ns $OV_P-c (dev ${OV_P}c0, 10.77.70.2)  ==veth==  victim ns $OV_P-v
#   (dev ${OV_P}v0, 10.77.70.1)
#
# The victim runs herd_service: a TCP service with a fixed capacity
# (OV_CAP requests/s over OV_WORKERS workers, a fixed cost per request) on
# port $OV_PORT with a small listen backlog (OV_BACKLOG). corral is attached
# to ${OV_P}v0 (xdp-generic). Two client groups run loadgen (open loop, one
# TCP connection per request) from two source prefixes:
#   class 1 (critical) 10.78.1.0/24, $OV_C1_SRCS sources
#   class 6 (bulk)     10.79.0.0/16, $OV_C6_SRCS sources
# The client namespace routes 10.78.0.0/15 to itself (route type local).
#
# Contract:
#   ov_lab_up      builds the lab (fails if a namespace of the prefix exists
#                  and cannot be removed); ov_lab_down removes everything:
#                  background processes, corral attachment, namespaces, pins,
#                  the work directory. Safe to call twice.
#   ov_svc_start SECONDS      service in the background ($OV_WORK/service.csv)
#   ov_ctl_start [ARGS...]    `corral run -c $OV_WORK/ctl.conf --metrics
#                             127.0.0.1:$OV_METRICS ARGS` in the victim ns
#   ov_ctl_stop               SIGTERM, wait
#   ov_load NAME SRC K STEPS  one loadgen group in the background, output
#                             $OV_WORK/NAME.json and NAME.csv; ov_load_wait
#   ov_scrape                 /metrics of the running controller
#   ov_counter CLASS REASON   corral packet counter
# Callers set OV_P (namespace prefix), CORRAL_PIN_DIR and CORRAL_RUN_DIR
# before sourcing, or take the defaults below.

OV_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OV_BUILD=${BUILD:-build}
case $OV_BUILD in /*) ;; *) OV_BUILD=$OV_TOP/$OV_BUILD ;; esac
CORRAL=${CORRAL:-$OV_BUILD/corral}
OV_SVC=$OV_BUILD/tools/herd_service
OV_LOADGEN=$OV_BUILD/tools/loadgen
OV_P=${OV_P:-cov}
OV_VIC=$OV_P-v
OV_CLI=$OV_P-c
OV_DEV_V=${OV_P}v0
OV_DEV_C=${OV_P}c0
OV_PORT=${OV_PORT:-8080}
OV_METRICS=${OV_METRICS:-19480}
OV_CAP=${OV_CAP:-200}
OV_WORKERS=${OV_WORKERS:-4}
OV_BACKLOG=${OV_BACKLOG:-16}
OV_C1_SRCS=${OV_C1_SRCS:-16}
OV_C6_SRCS=${OV_C6_SRCS:-1024}
OV_C1_SRC=10.78.1.1
OV_C6_SRC=10.79.0.1
OV_TIMEOUT_MS=${OV_TIMEOUT_MS:-2000}
OV_WORK=
OV_PIDS=()
OV_SVC_PID=
OV_CTL_PID=
OV_ATTACHED=0
declare -gA OV_LOAD_PIDS

ov_vic() { nsenter --net="/run/netns/$OV_VIC" -- "$@"; }
ov_cli() { nsenter --net="/run/netns/$OV_CLI" -- "$@"; }
ov_corral() { ov_vic "$CORRAL" "$@"; }

# prints what is missing to run the lab, nothing when all is there
ov_missing() {
	local c
	[ "$(id -u)" -eq 0 ] || { echo "root"; return; }
	for c in ip nsenter jq curl awk tc; do
		command -v "$c" >/dev/null || { echo "$c"; return; }
	done
	for c in "$CORRAL" "$OV_SVC" "$OV_LOADGEN"; do
		[ -x "$c" ] || { echo "$c (run make)"; return; }
	done
}

ov_lab_up() {
	local mac_v mac_c
	OV_WORK=$(mktemp -d /tmp/corral-ov.XXXXXX) || return 1
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || return 1
	ip netns del "$OV_VIC" 2>/dev/null || true
	ip netns del "$OV_CLI" 2>/dev/null || true
	ip netns add "$OV_VIC" || return 1
	ip netns add "$OV_CLI" || return 1
	ip link add "$OV_DEV_V" netns "$OV_VIC" type veth peer name "$OV_DEV_C" netns "$OV_CLI" ||
		return 1
	ov_vic ip link set lo up
	ov_cli ip link set lo up
	# IPv4 only: no neighbour discovery or MLD in the counted traffic
	ov_vic sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ov_cli sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ov_vic sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.core.somaxconn=4096 >/dev/null
	ov_vic ip addr add 10.77.70.1/24 dev "$OV_DEV_V"
	ov_cli ip addr add 10.77.70.2/24 dev "$OV_DEV_C"
	ov_vic ip link set "$OV_DEV_V" up
	ov_cli ip link set "$OV_DEV_C" up
	# a queue on the client side, as between real hosts (see tools/herd/herd.sh)
	ov_cli tc qdisc replace dev "$OV_DEV_C" root pfifo limit 20000
	ov_vic ip route add 10.78.0.0/15 via 10.77.70.2
	ov_cli ip route add local 10.78.0.0/15 dev lo
	mac_v=$(ov_vic ip -br link show dev "$OV_DEV_V" | awk '{ print $3 }')
	mac_c=$(ov_cli ip -br link show dev "$OV_DEV_C" | awk '{ print $3 }')
	ov_cli ip neigh replace 10.77.70.1 lladdr "$mac_v" dev "$OV_DEV_C" nud permanent
	ov_vic ip neigh replace 10.77.70.2 lladdr "$mac_c" dev "$OV_DEV_V" nud permanent
	# clients: linear SYN retries (1 s apart), many ports per source
	ov_cli sysctl -qw net.ipv4.tcp_syn_linear_timeouts=4 >/dev/null 2>&1 || true
	ov_cli sysctl -qw net.ipv4.ip_local_port_range="10000 60999" >/dev/null
	OV_ATTACHED=1
	ov_corral attach dev "$OV_DEV_V" mode xdp-generic || return 1
	ov_corral class add 1 src 10.78.1.0/24 || return 1
	ov_corral class add 6 src 10.79.0.0/16 || return 1
	cat >"$OV_WORK/ctl.conf" <<-EOF
	controller target cpu off
	controller ports $OV_PORT
	controller target queue 50%
	EOF
}

ov_lab_down() {
	local p
	[ -n "$OV_CTL_PID" ] && OV_PIDS+=("$OV_CTL_PID")
	for p in "${OV_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${OV_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	OV_PIDS=()
	OV_CTL_PID=
	OV_SVC_PID=
	if [ "$OV_ATTACHED" = 1 ] && [ -e "/run/netns/$OV_VIC" ]; then
		ov_corral detach dev "$OV_DEV_V" >/dev/null 2>&1 || true
	fi
	OV_ATTACHED=0
	ip netns del "$OV_CLI" 2>/dev/null || true
	ip netns del "$OV_VIC" 2>/dev/null || true
	if [ -n "${CORRAL_PIN_DIR:-}" ] && [ "$CORRAL_PIN_DIR" != /sys/fs/bpf/corral ]; then
		rm -rf "$CORRAL_PIN_DIR"
		rm -f "/run/corral/lock${CORRAL_PIN_DIR//\//_}"
	fi
	[ -n "$OV_WORK" ] && [ -z "${OV_KEEP:-}" ] && rm -rf "$OV_WORK"
	OV_WORK=
	return 0
}

# ov_svc_start SECONDS: the capacity-bounded service, until SECONDS
ov_svc_start() {
	local i
	# started directly with nsenter (not a function) so $! is the service
	nsenter --net="/run/netns/$OV_VIC" -- "$OV_SVC" --port "$OV_PORT" --rate "$OV_CAP" \
		--workers "$OV_WORKERS" --backlog "$OV_BACKLOG" --duration "${1}s" \
		--csv "$OV_WORK/service.csv" >"$OV_WORK/service.txt" 2>&1 3>&- &
	OV_SVC_PID=$!
	OV_PIDS+=("$OV_SVC_PID")
	for i in $(seq 50); do
		ov_vic ss -Hltn "sport = :$OV_PORT" | grep -q . && return 0
		kill -0 "$OV_SVC_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "overload lab: service did not start: $(cat "$OV_WORK/service.txt")" >&2
	return 1
}

ov_svc_stop() {
	[ -n "$OV_SVC_PID" ] || return 0
	kill -TERM "$OV_SVC_PID" 2>/dev/null || true
	wait "$OV_SVC_PID" 2>/dev/null || true
	OV_SVC_PID=
}

# ov_ctl_start [ARGS...]: the controller; log in $OV_WORK/ctl.log
ov_ctl_start() {
	local i
	nsenter --net="/run/netns/$OV_VIC" -- "$CORRAL" run -c "$OV_WORK/ctl.conf" \
		--metrics "127.0.0.1:$OV_METRICS" "$@" >>"$OV_WORK/ctl.log" 2>&1 3>&- &
	OV_CTL_PID=$!
	for i in $(seq 50); do
		ov_scrape 2>/dev/null | grep -q '^corral_ticks_total [1-9]' && return 0
		kill -0 "$OV_CTL_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "overload lab: controller did not start: $(cat "$OV_WORK/ctl.log")" >&2
	return 1
}

ov_ctl_stop() {
	[ -n "$OV_CTL_PID" ] || return 0
	kill -TERM "$OV_CTL_PID" 2>/dev/null || true
	wait "$OV_CTL_PID" 2>/dev/null || true
	OV_CTL_PID=
}

ov_scrape() {
	ov_vic curl -sf --max-time 2 "http://127.0.0.1:$OV_METRICS/metrics"
}

# ov_load NAME SRC K STEPS [LOADGEN ARGS...]
ov_load() {
	local name=$1 src=$2 k=$3 steps=$4
	shift 4
	nsenter --net="/run/netns/$OV_CLI" -- timeout 600 "$OV_LOADGEN" --server 10.77.70.1 \
		--port "$OV_PORT" --src "$src" --src-count "$k" --steps "$steps" \
		--timeout "$OV_TIMEOUT_MS" --csv "$OV_WORK/$name.csv" "$@" \
		>"$OV_WORK/$name.json" 2>"$OV_WORK/$name.err" 3>&- &
	OV_LOAD_PIDS[$name]=$!
	OV_PIDS+=("$!")
}

# ov_load_wait NAME: wait for the group, fail if loadgen failed
ov_load_wait() {
	local rc=0
	wait "${OV_LOAD_PIDS[$1]}" || rc=$?
	if [ "$rc" -ne 0 ] || ! jq -e .sent "$OV_WORK/$1.json" >/dev/null 2>&1; then
		echo "overload lab: loadgen $1 failed (exit $rc): $(cat "$OV_WORK/$1.err")" >&2
		return 1
	fi
}

# ov_field NAME FIELD: a number from a loadgen group's JSON
ov_field() { jq -r ".$2" "$OV_WORK/$1.json"; }

ov_counter() { # CLASS REASON -> packets
	ov_corral -j status | jq -r ".counters[\"$1\"][\"$2\"].packets // 0"
}

# ov_share OK SENT -> percent with one decimal
ov_pct() { awk -v o="$1" -v s="$2" 'BEGIN { printf "%.1f", s ? o * 100 / s : 0 }'; }

# ov_served FROM_MS TO_MS: responses the service wrote on time in the
# window of its time series (t_ms from its start)
ov_served() {
	awk -F, -v a="$1" -v b="$2" 'NR > 1 && $1 >= a && $1 < b { s += $4 } END { print s + 0 }' \
		"$OV_WORK/service.csv"
}

# ov_goodput FROM_UNIX_MS TO_UNIX_MS: responses written on time in the
# window, as a percentage of capacity x window
ov_goodput() {
	awk -F, -v a="$1" -v b="$2" -v c="$OV_CAP" 'NR > 1 && $2 >= a && $2 < b { s += $4 }
		END { printf "%.1f", (b > a) ? s * 100 / (c * (b - a) / 1000) : 0 }' \
		"$OV_WORK/service.csv"
}
