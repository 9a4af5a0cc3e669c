#!/bin/bash
# nginx_lab.sh - nginx from Debian behind corral, driven by real clients
# (curl and ab) while hping3 floods it from spoofed sources.
#
#   tools/lab/nginx_lab.sh [SCENARIO...]      as root, after make
#
# SCENARIO is MODE-FLOOD: MODE none (no corral) or corral; FLOOD quiet, udp
# (hping3 --udp --rand-source to port 9) or syn (hping3 -S --rand-source to
# port 80). Default: every combination.
#
# Lab (namespaces, nothing routed to the host):
#   ngx-c<pid>  clients 10.77.40.2   --ngc0==ngv0--  ngx-v<pid> 10.77.40.1 (nginx :80)
#   ngx-a<pid>  hping3  10.77.41.2   --nga0==ngv1--  ngx-v<pid> 10.77.41.1
# The victim has routes to these two /24s only: its replies to spoofed
# sources find no route and die there.
#
# Per scenario: nginx starts with an empty access log; the flood starts
# (hping3 --flood, as fast as it can, killed after NGX_FLOOD_SECS at most:
# --flood takes no packet count) and runs 1 s before the clients; then
# NGX_REQUESTS requests from curl (NGX_PARALLEL at a time, a new connection
# each, NGX_TIMEOUT s per request) and an ab run of the same size; the flood
# stops. Counted by the clients (answered, failed, p50/p99 latency) and by
# nginx (200 lines in its access log from the client's address).
# corral, when on: attach both devices, class 1 for tcp/80, class 7 for
# udp, shed level 6 (class 7 dropped in XDP). SYNs to port 80 pass to the
# kernel's own SYN cookies (no SYN gate: see docs/nginx.md).
#
# Prints one "scenario KEY=VALUE ..." line per scenario, then a table.
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
CORRAL=${CORRAL:-$TOP/$BUILD/corral}
NGX_REQUESTS=${NGX_REQUESTS:-600}
NGX_PARALLEL=${NGX_PARALLEL:-10}
NGX_TIMEOUT=${NGX_TIMEOUT:-2}
NGX_FLOOD_SECS=${NGX_FLOOD_SECS:-15}
T=${NGX_TAG:-$$}
VIC=ngx-v$T CLI=ngx-c$T ATK=ngx-a$T
W=$(mktemp -d /tmp/corral-nginx.XXXXXX)
export CORRAL_PIN_DIR=${CORRAL_PIN_DIR:-/sys/fs/bpf/ngx-$T}
NGINX_PID=

die() { echo "nginx_lab: $*" >&2; exit 1; }
vic() { nsenter --net="/run/netns/$VIC" -- "$@"; }

cleanup() {
	[ -n "$NGINX_PID" ] && nginx_stop
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	if [ -e "/run/netns/$VIC" ]; then
		vic "$CORRAL" detach dev ngv0 >/dev/null 2>&1
		vic "$CORRAL" detach dev ngv1 >/dev/null 2>&1
	fi
	ip netns del "$VIC" 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	ip netns del "$ATK" 2>/dev/null
	rm -rf "$CORRAL_PIN_DIR" "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check() {
	local c
	[ "$(id -u)" -eq 0 ] || die "needs root"
	for c in nginx curl ab hping3 ip nsenter jq timeout; do
		command -v "$c" >/dev/null || die "needs $c (run make deps)"
	done
	[ -x "$CORRAL" ] || die "no $CORRAL (run make)"
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || die "cannot mount bpffs"
}

lab_up() {
	local n
	ip netns add "$VIC" && ip netns add "$CLI" && ip netns add "$ATK" || die "netns"
	for n in "$VIC" "$CLI" "$ATK"; do ip -n "$n" link set lo up; done
	# spoofed sources arrive on ngv1 with no route back: accept them anyway
	ip netns exec "$VIC" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.core.somaxconn=4096 >/dev/null
	ip -n "$VIC" link add ngv0 type veth peer name ngc0 netns "$CLI" || die "veth"
	ip -n "$VIC" link add ngv1 type veth peer name nga0 netns "$ATK" || die "veth"
	ip -n "$VIC" addr add 10.77.40.1/24 dev ngv0
	ip -n "$VIC" addr add 10.77.41.1/24 dev ngv1
	ip -n "$CLI" addr add 10.77.40.2/24 dev ngc0
	ip -n "$ATK" addr add 10.77.41.2/24 dev nga0
	for n in "$VIC:ngv0" "$VIC:ngv1" "$CLI:ngc0" "$ATK:nga0"; do
		ip -n "${n%%:*}" link set "${n#*:}" up
	done
	ip netns exec "$VIC" sysctl -qw net.ipv4.conf.ngv1.rp_filter=0 >/dev/null
	ip -n "$ATK" route add 10.77.40.0/24 via 10.77.41.1
	cat >"$W/nginx.conf" <<-EOF
		daemon off;
		worker_processes 1;
		pid $W/nginx.pid;
		error_log $W/error.log warn;
		events { worker_connections 4096; }
		http {
		    log_format lab '\$remote_addr \$status \$request_time';
		    access_log $W/access.log lab;
		    client_body_temp_path $W/body;
		    server {
		        listen 10.77.40.1:80 backlog=4096;
		        location / { return 200 "corral lab\n"; }
		    }
		}
	EOF
	mkdir -p "$W/body"
	for n in $(seq 1 "$NGX_REQUESTS"); do
		echo "url = \"http://10.77.40.1/r$n\""
	done >"$W/urls"
}

nginx_start() {
	: >"$W/access.log"
	# no inherited descriptors: a caller waiting on its pipes must not wait on nginx
	vic nginx -c "$W/nginx.conf" -p "$W" -e "$W/error.log" </dev/null >"$W/nginx.out" 2>&1 3>&- &
	NGINX_PID=$!
	for _ in $(seq 50); do
		vic curl -s -o /dev/null --max-time 1 http://10.77.40.1/ready && return 0
		sleep 0.1
	done
	die "nginx did not start: $(cat "$W/error.log")"
}

nginx_stop() {
	local m
	# the master by its pid file (nsenter may stand between it and $!)
	m=$(cat "$W/nginx.pid" 2>/dev/null)
	[ -n "$m" ] && kill "$m" 2>/dev/null
	kill "$NGINX_PID" 2>/dev/null
	wait "$NGINX_PID" 2>/dev/null
	for _ in $(seq 50); do
		[ -n "$m" ] && kill -0 "$m" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$m" ] && kill -9 "$m" 2>/dev/null
	NGINX_PID=
}

corral_on() {
	vic "$CORRAL" -f - <<-EOF || die "corral configuration failed"
		attach dev ngv0
		attach dev ngv1
		class add 1 proto tcp dport 80
		class add 7 proto udp
		shed set 6
	EOF
}

corral_off() {
	vic "$CORRAL" detach dev ngv1 >/dev/null 2>&1
	vic "$CORRAL" detach dev ngv0 >/dev/null 2>&1
}

flood_start() { # udp|syn|quiet
	local args
	case $1 in
	quiet) FLOOD_PID= ; return 0 ;;
	udp) args=(--udp -p 9 -d 18) ;;
	syn) args=(-S -p 80) ;;
	esac
	# --flood ignores -c: the bound is the time (timeout), and the lab's
	# veth carries at most a few hundred kpps from one hping3
	ip netns exec "$ATK" timeout -s INT "$NGX_FLOOD_SECS" \
		hping3 "${args[@]}" --rand-source --flood -q 10.77.40.1 >"$W/flood.out" 2>&1 &
	FLOOD_PID=$!
	sleep 1   # the flood is on before the clients start
}

flood_stop() {
	[ -n "$FLOOD_PID" ] || return 0
	kill -INT "$FLOOD_PID" 2>/dev/null
	wait "$FLOOD_PID" 2>/dev/null
	FLOOD_SENT=$(awk '/packets transmitted/ { print $1 }' "$W/flood.out")
}

# curl: one line per request, "CODE SECONDS"; a new connection for each
clients_curl() {
	ip netns exec "$CLI" curl -s --parallel --parallel-max "$NGX_PARALLEL" -K "$W/urls" \
		-H 'Connection: close' --max-time "$NGX_TIMEOUT" -o /dev/null \
		-w '%{http_code} %{time_total}\n' >"$W/curl.out" 2>/dev/null
}

clients_ab() {
	ip netns exec "$CLI" timeout 60 ab -q -r -n "$NGX_REQUESTS" -c "$NGX_PARALLEL" \
		-s "$NGX_TIMEOUT" http://10.77.40.1/ab >"$W/ab.out" 2>&1
}

run() { # MODE-FLOOD
	local mode=${1%-*} flood=${1#*-} ok fail p50 p99 n200 rps dropped
	FLOOD_SENT=0
	[ "$mode" = corral ] && corral_on
	nginx_start
	flood_start "$flood"
	clients_curl
	clients_ab
	flood_stop
	sleep 0.5
	nginx_stop
	ok=$(awk '$1 == 200' "$W/curl.out" | wc -l)
	fail=$((NGX_REQUESTS - ok))
	read -r p50 p99 < <(awk '$1 == 200 { print $2 * 1000 }' "$W/curl.out" | sort -n |
		awk '{ v[NR] = $1 } END { if (!NR) { print "- -"; exit }
			printf "%.1f %.1f\n", v[int((NR + 1) / 2)], v[int(NR * 0.99 + 0.999)] }')
	n200=$(awk '$1 == "10.77.40.2" && $2 == 200' "$W/access.log" | wc -l)
	rps=$(awk -F: '/Requests per second/ { split($2, a, " "); print a[1] }' "$W/ab.out")
	abfail=$(awk -F: '/Failed requests/ { print $2 + 0 }' "$W/ab.out")
	abdone=$(awk -F: '/Complete requests/ { print $2 + 0 }' "$W/ab.out")
	dropped=0
	if [ "$mode" = corral ]; then
		dropped=$(vic "$CORRAL" -j status |
			jq '[.totals.shed.packets, .totals.rate.packets, .totals.deny.packets] | add')
		corral_off
	fi
	echo "scenario=$1 requests=$NGX_REQUESTS curl_ok=$ok curl_failed=$fail p50_ms=$p50" \
		"p99_ms=$p99 nginx_200=$((n200)) ab_complete=${abdone:-0} ab_failed=${abfail:-0}" \
		"ab_rps=${rps:-0} flood_sent=${FLOOD_SENT:-0} corral_dropped=$dropped"
}

SCEN=("$@")
[ ${#SCEN[@]} -gt 0 ] || SCEN=(none-quiet corral-quiet none-udp corral-udp none-syn corral-syn)
for s in "${SCEN[@]}"; do
	case $s in
	none-quiet | none-udp | none-syn | corral-quiet | corral-udp | corral-syn) ;;
	-h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown scenario \"$s\" (MODE-FLOOD: none|corral - quiet|udp|syn)" ;;
	esac
done
check
lab_up
for s in "${SCEN[@]}"; do
	run "$s" | tee -a "$W/results"
done
echo
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (NR == 1) printf "%-14s %12s %8s %8s %10s %10s %10s %12s %14s\n", "scenario", "curl ok",
		"p50 ms", "p99 ms", "nginx 200", "ab req/s", "ab failed", "flood sent", "corral dropped"
	printf "%-14s %12s %8s %8s %10s %10s %10s %12s %14s\n", v["scenario"],
		v["curl_ok"] "/" v["requests"], v["p50_ms"], v["p99_ms"], v["nginx_200"], v["ab_rps"],
		v["ab_failed"], v["flood_sent"], v["corral_dropped"] }' "$W/results"
