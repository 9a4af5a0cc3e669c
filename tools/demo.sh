#!/bin/bash
# make demo: a service under a spoofed-source flood, without and with corral.
#
# Lab (network namespaces, nothing routed to the host):
#   cd-cli  legitimate clients 10.77.20.2-11 --cdc0==cdv0-- cd-vic 10.77.20.1
#   cd-atk  flood from 10.78.0.0/16        --cda0==cdv1-- cd-vic 10.77.21.1
# cd-vic runs labsvc (UDP/TCP request/response, some CPU per request).
# Each phase runs the same scenario for DEMO_SECONDS and measures: legitimate
# requests answered within their timeout, flood packets sent and dropped,
# and host CPU in system+softirq (/proc/stat).
#
# Phases are functions named phase_<name>, run in the order of $DEMO_PHASES
# (default: baseline corral controller herd nginx): the flood without and with
# corral, a 3x overload with the controller shedding the bulk class, a
# reconnect herd without and with jittered SYN admission, and nginx with
# curl and ab clients under hping3 floods, without and with corral.
#
#   tools/demo.sh              as root, after make
#   DEMO_SECONDS=5 tools/demo.sh
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
BUILD=${BUILD:-build}
CORRAL=${CORRAL:-$TOP/$BUILD/corral}
LABSVC=${LABSVC:-$TOP/$BUILD/tools/labsvc}
DEMO_SECONDS=${DEMO_SECONDS:-8}
DEMO_PHASES=${DEMO_PHASES:-"baseline corral controller herd nginx"}
NCLIENTS=${NCLIENTS:-10}
CLIENT_RATE=${CLIENT_RATE:-50}      # requests per second per client
CLIENT_TIMEOUT_MS=${CLIENT_TIMEOUT_MS:-200}
WORK_US=${WORK_US:-20}              # CPU per request in the service
PORT=7777
VIC=cd-vic CLI=cd-cli ATK=cd-atk
WORK=$(mktemp -d /tmp/corral-demo.XXXXXX)
ATTACHED=()
declare -A RESULT

die() { echo "demo: $*" >&2; exit 1; }

corral_vic() { nsenter --net="/run/netns/$VIC" -- "$CORRAL" "$@"; }

cleanup() {
	local d
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	for d in "${ATTACHED[@]}"; do
		corral_vic detach dev "$d" >/dev/null 2>&1
	done
	ip netns del "$VIC" 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	ip netns del "$ATK" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check() {
	local c
	[ "$(id -u)" -eq 0 ] || die "needs root"
	for c in ip trafgen jq nsenter timeout; do
		command -v "$c" >/dev/null || die "needs $c (run make deps)"
	done
	[ -x "$CORRAL" ] || die "no $CORRAL (run make)"
	[ -x "$LABSVC" ] || die "no $LABSVC (run make)"
	for c in "$VIC" "$CLI" "$ATK"; do
		[ ! -e "/run/netns/$c" ] || die "namespace $c exists: another demo running?"
	done
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || die "cannot mount bpffs"
}

lab_up() {
	local i
	ip netns add "$VIC" && ip netns add "$CLI" && ip netns add "$ATK" || die "netns"
	for n in "$VIC" "$CLI" "$ATK"; do ip -n "$n" link set lo up; done
	ip netns exec "$VIC" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
	ip netns exec "$ATK" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	ip -n "$VIC" link add cdv0 type veth peer name cdc0 netns "$CLI" || die "veth"
	ip -n "$VIC" link add cdv1 type veth peer name cda0 netns "$ATK" || die "veth"
	ip -n "$VIC" addr add 10.77.20.1/24 dev cdv0
	ip -n "$VIC" addr add 10.77.21.1/24 dev cdv1
	for ((i = 2; i < 2 + NCLIENTS; i++)); do
		ip -n "$CLI" addr add "10.77.20.$i/24" dev cdc0
	done
	ip -n "$ATK" addr add 10.77.21.2/24 dev cda0
	ip -n "$VIC" link set cdv0 up
	ip -n "$VIC" link set cdv1 up
	ip -n "$CLI" link set cdc0 up
	ip -n "$ATK" link set cda0 up
	# replies to spoofed sources go to the attacker's namespace and die there
	ip -n "$VIC" route add 10.78.0.0/15 via 10.77.21.2
	# the flood: UDP requests to the service from random 10.78.0.0/16 sources
	local mac
	mac=$(ip -n "$VIC" -j link show cdv1 | jq -r '.[0].address' | sed 's/^/0x/; s/:/, 0x/g')
	cat >"$WORK/flood.cfg" <<-EOF
	{
	  $mac, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, c16(0x0800),
	  0x45, 0x00, c16(44), drnd(2), 0x40, 0x00, 64, 17, csumip(14, 33),
	  10, 78, drnd(2), 10, 77, 21, 1,
	  drnd(2), c16($PORT), c16(24), c16(0),
	  0x72, 0x72, 0x6f, 0x63, drnd(4), fill(0x00, 8)
	}
	EOF
}

cpu_sample() { # prints "system+irq+softirq busy total" jiffies, whole host
	awk '$1 == "cpu" { print $4 + $7 + $8, $2 + $3 + $4 + $7 + $8 + $9,
		$2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}

# run_scenario NAME: service + flood + legitimate clients for DEMO_SECONDS
run_scenario() {
	local name=$1 i c0 c1 sent ok late flood fl_svc
	ip netns exec "$VIC" "$LABSVC" serve -p $PORT -w "$WORK_US" -o "$WORK/svc.json" &
	local svc=$! t0
	t0=$(date +%s%N)
	sleep 0.3
	c0=$(cpu_sample)
	ip netns exec "$ATK" timeout -s INT "$DEMO_SECONDS" \
		trafgen -i "$WORK/flood.cfg" -o cda0 -P 1 --no-sock-mem -C -q >"$WORK/flood.out" 2>&1 &
	local flood_pid=$! pids=()
	for ((i = 2; i < 2 + NCLIENTS; i++)); do
		ip netns exec "$CLI" "$LABSVC" client -s 10.77.20.1 -p $PORT -b "10.77.20.$i" \
			-n $((CLIENT_RATE * DEMO_SECONDS)) -r "$CLIENT_RATE" -T "$CLIENT_TIMEOUT_MS" \
			>"$WORK/client.$i" 2>&1 &
		pids+=($!)
	done
	wait "$flood_pid"
	wait "${pids[@]}"
	sleep $((CLIENT_TIMEOUT_MS / 1000 + 1))
	c1=$(cpu_sample)
	# the service's own CPU (user + system), in % of one CPU
	RESULT[$name.svc_cpu]=$(awk -v hz="$(getconf CLK_TCK)" -v t="$(($(date +%s%N) - t0))" \
		'{ sub(/^.*\) /, ""); printf "%.0f", ($12 + $13) * 100 / hz / (t / 1e9) }' "/proc/$svc/stat")
	kill "$svc" 2>/dev/null
	wait "$svc" 2>/dev/null
	sent=0 ok=0 late=0
	for ((i = 2; i < 2 + NCLIENTS; i++)); do
		read -r s o l < <(jq -r '"\(.sent) \(.ok) \(.late)"' "$WORK/client.$i" 2>/dev/null || echo "0 0 0")
		sent=$((sent + s)) ok=$((ok + o)) late=$((late + l))
	done
	flood=$(tr -d '\r' <"$WORK/flood.out" | awk '/packets outgoing/ { print $1 }')
	fl_svc=$(jq -r '.udp_flood // 0' "$WORK/svc.json" 2>/dev/null || echo 0)
	RESULT[$name.sent]=$sent
	RESULT[$name.ok]=$ok
	RESULT[$name.flood]=${flood:-0}
	RESULT[$name.flood_svc]=$fl_svc
	RESULT[$name.cpu]=$(echo "$c0 $c1" | awk '{ d = $6 - $3; printf "%.0f", d ? ($4 - $1) * 100 / d : 0 }')
	RESULT[$name.busy]=$(echo "$c0 $c1" | awk '{ d = $6 - $3; printf "%.0f", d ? ($5 - $2) * 100 / d : 0 }')
}

# ---- phases -------------------------------------------------------------

phase_baseline() {
	echo "demo: phase 1: flood, no corral (${DEMO_SECONDS}s)"
	run_scenario baseline
	RESULT[baseline.dropped]=0
}

corral_setup() {
	local d
	for d in cdv0 cdv1; do
		ATTACHED+=("$d")
		corral_vic attach dev "$d" mode xdp || die "corral attach $d failed"
	done
	# legitimate clients get class 1; unknown sources the default class 6;
	# every source its own bucket; classes above 5 are shed. The shed level
	# is static here; the controller phase sets it from the host's load.
	cat >"$WORK/corral.conf" <<-EOF
	class add 1 src 10.77.20.0/24
	class default 6
	limit add default rate 100pps burst 20
	shed set 5
	EOF
	corral_vic -f "$WORK/corral.conf" || die "corral configuration failed"
}

phase_corral() {
	echo "demo: phase 2: flood, corral attached (${DEMO_SECONDS}s)"
	corral_setup
	run_scenario corral
	RESULT[corral.dropped]=$(corral_vic -j status |
		jq '[.totals.shed.packets, .totals.rate.packets, .totals.deny.packets] | add')
	echo "demo: corral status after the phase:"
	corral_vic status | sed 's/^/    /'
}

# The controller (corral run) sets the shed level from the service's load
# instead of a static "shed set". Its own lab (tools/lab/overload_lab.sh,
# namespaces cdov-v and cdov-c): herd_service with a capacity of 200
# requests/s and a listen backlog of 16; clients offer 3x that, open loop:
# class 1 (critical, 10.78.1.0/24) 20/s, class 6 (bulk, 10.79.0.0/16) 580/s.
# Run once without the controller and once with `corral run` (target: accept
# queue 50% full); prints its before/after table and fills the "controller"
# column of the main table (legitimate = class 1, flood = class 6).
ctl_run() { # NAME: one overload run of DEMO_SECONDS; sets CTL_R[NAME.*]
	local name=$1 t0 c0 c1 sh0 sh1 svc_t
	ov_svc_start $((DEMO_SECONDS + 15)) || return 1
	sh0=$(ov_corral -j status | jq '[.totals.shed.packets, .totals.rate.packets] | add')
	c0=$(cpu_sample)
	t0=$(date +%s%N)
	ov_load c6 "$OV_C6_SRC" "$OV_C6_SRCS" "$((OV_CAP * 3 - OV_CAP / 10)):${DEMO_SECONDS}s"
	ov_load c1 "$OV_C1_SRC" "$OV_C1_SRCS" "$((OV_CAP / 10)):${DEMO_SECONDS}s"
	ov_load_wait c6 && ov_load_wait c1 || return 1
	c1=$(cpu_sample)
	CTL_R[$name.svc_cpu]=$(awk -v hz="$(getconf CLK_TCK)" -v t="$(($(date +%s%N) - t0))" \
		'{ sub(/^.*\) /, ""); printf "%.0f", ($12 + $13) * 100 / hz / (t / 1e9) }' \
		"/proc/$OV_SVC_PID/stat")
	ov_svc_stop
	sh1=$(ov_corral -j status | jq '[.totals.shed.packets, .totals.rate.packets] | add')
	svc_t=$(ov_field c6 start_unix_ms)
	CTL_R[$name.c1]="$(ov_field c1 ok)/$(ov_field c1 sent)"
	CTL_R[$name.c1_pct]=$(ov_pct "$(ov_field c1 ok)" "$(ov_field c1 sent)")
	CTL_R[$name.c6]="$(ov_field c6 ok)/$(ov_field c6 sent)"
	CTL_R[$name.c6_pct]=$(ov_pct "$(ov_field c6 ok)" "$(ov_field c6 sent)")
	CTL_R[$name.goodput]=$(ov_goodput $((svc_t + 1000)) $((svc_t + DEMO_SECONDS * 1000)))
	CTL_R[$name.overflows]=$(grep -o 'listen_overflows=[0-9]*' "$OV_WORK/service.txt" | cut -d= -f2)
	CTL_R[$name.wasted]=$(grep -o ' wasted=[0-9]*' "$OV_WORK/service.txt" | cut -d= -f2)
	CTL_R[$name.shed]=$((sh1 - sh0))
	CTL_R[$name.cpu]=$(echo "$c0 $c1" | awk '{ d = $6 - $3; printf "%.0f", d ? ($4 - $1) * 100 / d : 0 }')
	CTL_R[$name.busy]=$(echo "$c0 $c1" | awk '{ d = $6 - $3; printf "%.0f", d ? ($5 - $2) * 100 / d : 0 }')
	RESULT[controller.sent]=$(ov_field c1 sent)
	RESULT[controller.ok]=$(ov_field c1 ok)
	RESULT[controller.flood]=$(ov_field c6 sent)
	RESULT[controller.flood_svc]=$(ov_field c6 ok)
	RESULT[controller.dropped]=${CTL_R[$name.shed]}
	RESULT[controller.svc_cpu]=${CTL_R[$name.svc_cpu]}
	RESULT[controller.cpu]=${CTL_R[$name.cpu]}
	RESULT[controller.busy]=${CTL_R[$name.busy]}
}

ctl_restore() {
	unset CORRAL_RUN_DIR
	if [ -n "$CTL_SAVED_PIN" ]; then
		export CORRAL_PIN_DIR=$CTL_SAVED_PIN
	else
		unset CORRAL_PIN_DIR
	fi
}

phase_controller() {
	local m r k
	declare -gA CTL_R=()
	echo "demo: controller phase: 3x overload of a 200 req/s service," \
		"without and with corral run (2 x ${DEMO_SECONDS}s)"
	# pins and status of its own: the flood phases keep theirs
	CTL_SAVED_PIN=${CORRAL_PIN_DIR-}
	OV_P=cdov OV_METRICS=19478 CORRAL_RUN_DIR=$WORK/run CORRAL_PIN_DIR=/sys/fs/bpf/cov_demo$$
	export CORRAL_RUN_DIR CORRAL_PIN_DIR
	# shellcheck source=lab/overload_lab.sh
	source "$TOP/tools/lab/overload_lab.sh"
	m=$(ov_missing)
	if [ -n "$m" ]; then
		echo "demo: controller phase skipped: needs $m"
		ctl_restore
		return 0
	fi
	trap 'ov_lab_down; ctl_restore; cleanup' EXIT
	r=0
	ov_lab_up && ctl_run before && ov_ctl_start && ctl_run after || r=1
	if [ "$r" = 0 ]; then
		echo "demo: controller log (first lines):"
		sed 's/^/    /' "$OV_WORK/ctl.log" | head -8
	fi
	ov_lab_down
	ctl_restore
	trap cleanup EXIT
	[ "$r" = 0 ] || { echo "demo: controller phase failed" >&2; return 1; }
	echo
	printf '%-40s%22s%22s\n' "3x overload, capacity 200 req/s" "no controller" "corral run"
	for k in "class 1 (critical) served:c1" "class 6 (bulk) served:c6"; do
		printf '%-40s%22s%22s\n' "${k%%:*}" \
			"${CTL_R[before.${k##*:}]} (${CTL_R[before.${k##*:}_pct]}%)" \
			"${CTL_R[after.${k##*:}]} (${CTL_R[after.${k##*:}_pct]}%)"
	done
	printf '%-40s%21s%%%21s%%\n' "goodput, % of capacity" "${CTL_R[before.goodput]}" \
		"${CTL_R[after.goodput]}"
	printf '%-40s%22s%22s\n' "listen queue overflows" "${CTL_R[before.overflows]}" \
		"${CTL_R[after.overflows]}"
	printf '%-40s%22s%22s\n' "responses too late (wasted work)" "${CTL_R[before.wasted]}" \
		"${CTL_R[after.wasted]}"
	printf '%-40s%22s%22s\n' "packets shed by corral" "${CTL_R[before.shed]}" "${CTL_R[after.shed]}"
	echo "(clients time out after 2 s; class 1 offers 20 req/s, class 6 580 req/s)"
}

# The reconnect herd: HERD_N kernel-retry clients reconnect at once to a
# service of capacity HERD_C/s with backlog HERD_B (tools/herd), without
# corral and with corral run pacing it (SYN gate in herd auto).
HERD_N=${HERD_N:-2000} HERD_C=${HERD_C:-500} HERD_B=${HERD_B:-1024}

herd_sum() { # DIR TOOL KEY: a value from herd.sh's SUMMARY lines
	awk -v t="$2" -v k="$3" '$1 == "SUMMARY" && $2 == t {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' \
		"$1/summary.txt"
}

phase_herd() {
	local d before=$WORK/herd-before after=$WORK/herd-after k r=0
	local pin=/sys/fs/bpf/cdh_demo$$ run=$WORK/herd-run conf=$WORK/herd.conf
	echo "demo: herd phase: $HERD_N clients reconnect at once to a ${HERD_C} req/s service" \
		"(backlog $HERD_B, 2 s timeout), without and with corral"
	printf '%s\n' "syn set ports 8080 rate ${HERD_C}pps burst $((HERD_C * 3 / 2)) herd auto" \
		"controller ports 8080" "controller shed manual" > "$conf"
	HERD_PREFIX=cdh timeout 120 tools/herd/herd.sh -q -n "$HERD_N" -c "$HERD_C" -b "$HERD_B" \
		-m kernel -s linear -d 15 -o "$before" >/dev/null 2>&1 || r=1
	CORRAL_PIN_DIR=$pin CORRAL_RUN_DIR=$run HERD_PREFIX=cdh \
	CORRAL_SETUP="$CORRAL attach dev cdh-srv0 && { $CORRAL run -c $conf > $WORK/herd-ctl.log 2>&1 & echo \$! > $WORK/herd-ctl.pid; } && sleep 2" \
	CORRAL_TEARDOWN="kill \$(cat $WORK/herd-ctl.pid); sleep 0.5; $CORRAL detach dev cdh-srv0" \
		timeout 120 tools/herd/herd.sh -q -n "$HERD_N" -c "$HERD_C" -b "$HERD_B" \
		-m kernel -s linear -d 15 -o "$after" >/dev/null 2>&1 || r=1
	rm -rf "$pin" "/run/corral/lock_$(echo "${pin#/}" | tr / _)"
	for d in "$before" "$after"; do
		[ -s "$d/summary.txt" ] || r=1
	done
	[ "$r" = 0 ] || { echo "demo: herd phase failed (see $WORK)" >&2; return 1; }
	grep -m2 "herd detected\|herd of about" "$WORK/herd-ctl.log" | sed 's/^/    /'
	echo
	printf '%-40s%22s%22s\n' "reconnect herd, N=$HERD_N C=$HERD_C/s" "no corral" "corral (herd auto)"
	printf '%-40s%22s%22s\n' "clients served" \
		"$(herd_sum "$before" clients served)/$HERD_N" "$(herd_sum "$after" clients served)/$HERD_N"
	for k in "completion (ms, -1 = not all):clients:completion_ms" \
		 "requests timed out:clients:req_timeouts" "wasted responses:service:wasted" \
		 "listen queue overflows:lab:listen_overflows" "SYNs per client:clients:syns_mean"; do
		IFS=: read -r label tool key <<<"$k"
		printf '%-40s%22s%22s\n' "$label" "$(herd_sum "$before" "$tool" "$key")" \
			"$(herd_sum "$after" "$tool" "$key")"
	done
	echo "(target: everyone served within 1.5 x N/C + 2 s = $((HERD_N * 3 / HERD_C / 2 + 2)) s," \
		"no timeouts, no waste, no overflow)"
}

# nginx from Debian, curl and ab as clients, hping3 --rand-source floods
# (UDP, then SYN), each without and with corral: its own lab
# (tools/lab/nginx_lab.sh), which prints its own table.
phase_nginx() {
	echo "demo: nginx behind corral under hping3 floods (tools/lab/nginx_lab.sh)"
	local s
	for s in nginx curl ab hping3; do
		command -v "$s" >/dev/null || { echo "demo: nginx phase skipped: needs $s (make deps)"; return 0; }
	done
	NGX_REQUESTS=${NGX_REQUESTS:-600} CORRAL=$CORRAL BUILD=$BUILD tools/lab/nginx_lab.sh |
		sed -n '/^scenario /,$p' | sed 's/^/    /'
}

# ---- report -------------------------------------------------------------

report() {
	local p cols=()
	for p in $DEMO_PHASES; do
		[ -n "${RESULT[$p.sent]:-}" ] && cols+=("$p")
	done
	[ ${#cols[@]} -gt 0 ] || return 0
	echo
	printf '%-34s' ""
	for p in "${cols[@]}"; do printf '%22s' "$p"; done
	echo
	printf '%-34s' "legitimate requests served"
	for p in "${cols[@]}"; do
		printf '%22s' "$(awk -v o="${RESULT[$p.ok]}" -v s="${RESULT[$p.sent]}" \
			'BEGIN { printf "%d/%d (%.1f%%)", o, s, s ? o * 100 / s : 0 }')"
	done
	echo
	printf '%-34s' "flood packets sent"
	for p in "${cols[@]}"; do
		printf '%22s' "$(awk -v f="${RESULT[$p.flood]}" -v t="$DEMO_SECONDS" \
			'BEGIN { printf "%d (%.0f kpps)", f, f / t / 1000 }')"
	done
	echo
	printf '%-34s' "packets dropped by corral"
	for p in "${cols[@]}"; do printf '%22s' "${RESULT[$p.dropped]:-0}"; done
	echo
	printf '%-34s' "flood requests the service handled"
	for p in "${cols[@]}"; do printf '%22s' "${RESULT[$p.flood_svc]}"; done
	echo
	printf '%-34s' "service CPU (% of one CPU)"
	for p in "${cols[@]}"; do printf '%21s%%' "${RESULT[$p.svc_cpu]}"; done
	echo
	printf '%-34s' "host CPU busy, all CPUs"
	for p in "${cols[@]}"; do printf '%21s%%' "${RESULT[$p.busy]}"; done
	echo
	printf '%-34s' "host CPU in system+softirq"
	for p in "${cols[@]}"; do printf '%21s%%' "${RESULT[$p.cpu]}"; done
	echo
	echo "(${NCLIENTS} clients x ${CLIENT_RATE} req/s, timeout ${CLIENT_TIMEOUT_MS} ms," \
		"${WORK_US} us of work per request. Host CPU includes the flood generator:"
	echo " the victim's packet processing runs in the sender's softirq on veth.)"
}

check
lab_up
for p in $DEMO_PHASES; do
	declare -F "phase_$p" >/dev/null || die "no phase $p"
	"phase_$p"
done
report
