#!/usr/bin/env bats
# controller.bats - `corral run` end to end: config errors, metrics,
# reload, fail-safe on a killed controller, restart from pinned state.
#
# Lab: namespaces ctl-v<pid> (victim, corral attached xdp-generic on ctlv0)
# and ctl-g<pid> (clients) joined by one veth pair; client sources
# 10.78.60.1-20 are class 6. Pins live in their own directory, the status
# file in a temporary run directory. Background processes are started with
# nsenter directly (so $! is the process itself) and close bats' fd 3.

CTL_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
CORRAL=${CORRAL:-$CTL_TOP/build/corral}
SVC=$CTL_TOP/${BUILD:-build}/tools/herd_service
CLIENTS=$CTL_TOP/${BUILD:-build}/tools/herd_clients

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	for c in ip jq nsenter ncat timeout promtool; do
		command -v "$c" >/dev/null || skip "needs $c"
	done
	[ -x "$CORRAL" ] || skip "no $CORRAL (run make)"
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	T=$$
	VIC=ctl-v$T
	GEN=ctl-g$T
	export CORRAL_PIN_DIR=/sys/fs/bpf/ctl-e2e-$T
	export CORRAL_RUN_DIR
	CORRAL_RUN_DIR=$(mktemp -d /tmp/ctl-e2e.XXXXXX)
	TMP=$CORRAL_RUN_DIR
	PIDS=()
	ip netns add "$VIC"
	ip netns add "$GEN"
	ip -n "$VIC" link set lo up
	ip -n "$GEN" link set lo up
	ip -n "$VIC" link add ctlv0 type veth peer name ctlg0 netns "$GEN"
	ip -n "$VIC" addr add 10.77.60.1/24 dev ctlv0
	ip -n "$GEN" addr add 10.77.60.2/24 dev ctlg0
	for i in $(seq 1 20); do ip -n "$GEN" addr add "10.78.60.$i/32" dev ctlg0; done
	ip -n "$VIC" link set ctlv0 up
	ip -n "$GEN" link set ctlg0 up
	ip -n "$VIC" route add 10.78.60.0/24 via 10.77.60.2
	vic "$CORRAL" attach dev ctlv0 mode xdp-generic
	vic "$CORRAL" class add 6 src 10.78.60.0/24
	vic "$CORRAL" class add 6 src 10.77.60.0/24
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pkill -f "ncat -l 127.0.0.1 19471" 2>/dev/null
	if [ -n "${VIC:-}" ]; then
		nsenter --net="/run/netns/$VIC" "$CORRAL" detach dev ctlv0 2>/dev/null
		ip netns del "$VIC" 2>/dev/null
		ip netns del "$GEN" 2>/dev/null
	fi
	[ -n "${CORRAL_PIN_DIR:-}" ] && rm -rf "$CORRAL_PIN_DIR"
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
	return 0
}

vic() { nsenter --net="/run/netns/$VIC" "$@"; }
gen() { nsenter --net="/run/netns/$GEN" "$@"; }

# start the controller in the victim namespace; its stderr in $TMP/run.log
run_ctl() {
	# nsenter execs corral: $! is the controller itself, signals reach it
	nsenter --net="/run/netns/$VIC" "$CORRAL" run "$@" >>"$TMP/run.log" 2>&1 3>&- &
	CTL=$!
	PIDS+=("$CTL")
}

# wait_until SECONDS CMD...: poll CMD every 100 ms, bounded
wait_until() {
	local n=$(($1 * 10)); shift
	while ((n-- > 0)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

log_has() { grep -q -- "$1" "$TMP/run.log"; }
shed_json() { vic "$CORRAL" -j shed show; }
shed_on() { [ "$(shed_json | jq -r .shed.on)" = true ]; }
counter() { # class reason -> packets
	vic "$CORRAL" -j status | jq -r ".counters[\"$1\"][\"$2\"].packets"
}
limit_default() { vic "$CORRAL" -j limit show | jq -c .default; }

scrape() { # port
	vic bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3" |
		tr -d '\r' | sed '1,/^$/d'
}

# one connection attempt (one SYN) from each of the 20 class-6 sources
probe_sources() {
	gen timeout 10 "$CLIENTS" --server 10.77.60.1 --port 8080 -n 20 --src 10.78.60.1 \
		--src-count 20 --mode none --max-attempts 1 --syncnt 1 --timeout 1s \
		--deadline 3s --quiet >/dev/null 2>&1 || true
}

# make install into a scratch root: the unit names the binary it installs
install_check() { # PREFIX
	local root=$TMP/root$1 unit exe
	make -s -C "$CTL_TOP" install BUILD="${BUILD:-build}" DESTDIR="$root" PREFIX="$1" >/dev/null
	unit=$root$1/lib/systemd/system/corral.service
	[ -f "$unit" ] || { echo "no unit at $unit" >&2; return 1; }
	exe=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
	[ "$exe" = "$1/sbin/corral" ] || { echo "ExecStart runs $exe, make install put corral in $1/sbin" >&2; return 1; }
	[ -x "$root$exe" ] || { echo "$root$exe not installed" >&2; return 1; }
	grep -q "^ExecStartPre=$1/sbin/corral run --check -c /etc/corral/corral.conf$" "$unit"
	! grep -q @ "$unit" || { echo "unfilled placeholder in $unit" >&2; return 1; }
	# verify wants the binary at its real path: point the copy at the scratch root
	sed "s|$1/sbin/corral|$root$1/sbin/corral|g" "$unit" >"$TMP/corral.service"
	run systemd-analyze verify "$TMP/corral.service"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "systemd unit: make install fills in the binary path for PREFIX; systemd-analyze verify passes" {
	command -v systemd-analyze >/dev/null || skip "needs systemd-analyze"
	install_check /usr/local
	install_check /usr
	install_check /opt/corral
}

@test "systemd unit: started for real under systemd" {
	# systemd as init is what "systemctl start" needs; systemd-run too
	[ -d /run/systemd/system ] ||
		skip "systemd is not the init system here (PID 1 is $(cat /proc/1/comm)); systemctl and systemd-run cannot start units"
	local root=$TMP/rootu
	make -s -C "$CTL_TOP" install BUILD="${BUILD:-build}" DESTDIR="$root" PREFIX=/usr/local >/dev/null
	sed -e "s|/usr/local/sbin/corral|$root/usr/local/sbin/corral|g" \
		-e "s|/etc/corral/corral.conf|$TMP/unit.conf|g" -e '/^ConditionPathExists/d' \
		-e "s|^ExecStart=\(.*\)|ExecStart=/usr/bin/nsenter --net=/run/netns/$VIC \1|" \
		-e "s|--metrics 127.0.0.1:9477|--metrics 127.0.0.1:19478|" \
		-e "s|^\\[Service\\]|[Service]\\nEnvironment=CORRAL_PIN_DIR=$CORRAL_PIN_DIR|" \
		"$root/usr/local/lib/systemd/system/corral.service" >/run/systemd/system/corral-e2e-$T.service
	printf 'controller target cpu 90%%\n' >"$TMP/unit.conf"
	systemctl daemon-reload
	systemctl start "corral-e2e-$T.service" || { journalctl -u "corral-e2e-$T" -n 30 >&2; false; }
	metrics_up() {
		scrape 19478 2>/dev/null | grep -q '^corral_ticks_total [1-9]'
	}
	wait_until 5 metrics_up || { journalctl -u "corral-e2e-$T" -n 30 >&2; false; }
	systemctl is-active "corral-e2e-$T.service"
	systemctl stop "corral-e2e-$T.service"
	rm -f "/run/systemd/system/corral-e2e-$T.service"
	systemctl daemon-reload
}

@test "bad config line: error names file, line and word; nothing applied" {
	before=$(limit_default)
	printf 'limit add default rate 100pps\ncontroller target disk 50%%\n' >"$TMP/bad.conf"
	run vic "$CORRAL" run -c "$TMP/bad.conf"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"bad.conf:2"* ]]
	[[ "$output" == *'"disk"'* ]]
	[ "$(limit_default)" = "$before" ]
	# whole-file check: a queue target without ports
	printf 'limit add default rate 100pps\ncontroller target queue 50%%\n' >"$TMP/bad2.conf"
	run vic "$CORRAL" run -c "$TMP/bad2.conf"
	[ "$status" -ne 0 ]
	[[ "$output" == *"needs \"controller ports\""* ]]
	[ "$(limit_default)" = "$before" ]
	[ ! -e "$TMP/controller.json" ]
}

@test "metrics port in use: clear error, nothing applied" {
	before=$(limit_default)
	# bounded even if teardown misses it: a leaked listener would keep bats waiting
	timeout 60 nsenter --net="/run/netns/$VIC" ncat -l 127.0.0.1 19471 --keep-open >/dev/null 2>&1 3>&- &
	PIDS+=($!)
	wait_until 5 vic bash -c 'exec 3<>/dev/tcp/127.0.0.1/19471'
	printf 'limit add default rate 100pps\n' >"$TMP/ok.conf"
	run vic "$CORRAL" run -c "$TMP/ok.conf" --metrics 127.0.0.1:19471
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"127.0.0.1:19471"*"in use"* ]]
	[ "$(limit_default)" = "$before" ]
	run vic "$CORRAL" run --metrics 300.1.1.1:80
	[ "$status" -ne 0 ]
	[[ "$output" == *'"300.1.1.1:80"'* ]]
}

@test "metrics pass promtool; dashboard queries only served metrics; status file" {
	printf 'controller target cpu 85%%\ncontroller ports 8080\n' >"$TMP/m.conf"
	run_ctl -c "$TMP/m.conf" --metrics 127.0.0.1:19472
	wait_until 5 test -s "$TMP/controller.json"
	wait_until 5 bash -c "$(declare -f vic scrape); VIC=$VIC CORRAL=$CORRAL; scrape 19472 | grep -q '^corral_ticks_total [2-9]'"
	scrape 19472 >"$TMP/metrics.txt"
	run promtool check metrics <"$TMP/metrics.txt"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^corral_packets_total{class="6",reason="shed"} ' "$TMP/metrics.txt"
	grep -q '^corral_signal_target{name="queue"} 0.5' "$TMP/metrics.txt"
	grep -q '^corral_accept_queue_listeners{port="8080"} 0' "$TMP/metrics.txt"
	age=$(awk '/^corral_heartbeat_age_seconds /{print $2}' "$TMP/metrics.txt")
	awk -v a="$age" 'BEGIN{exit !(a >= 0 && a < 2)}'
	for m in $(jq -r '.panels[].targets[].expr' "$CTL_TOP/docs/grafana-dashboard.json" |
		   grep -o 'corral_[a-z_]*' | sort -u); do
		grep -q "^$m[ {]" "$TMP/metrics.txt" || { echo "dashboard uses missing $m"; false; }
	done
	jq -e '.running == true and .pid > 0 and .targets.cpu == 0.85 and .ports == [8080]' \
		"$TMP/controller.json"
	# a protected port nobody listens on is named in the log
	log_has "port 8080: no TCP listener"
	kill -TERM "$CTL"
	wait "$CTL"
	jq -e '.running == false' "$TMP/controller.json"
}

@test "SIGHUP: a bad file keeps the running config, a good one is applied" {
	printf 'controller target cpu 85%%\n' >"$TMP/r.conf"
	run_ctl -c "$TMP/r.conf"
	wait_until 5 test -s "$TMP/controller.json"
	printf 'limit add default rate 100pps\ncontroller interval fast\n' >"$TMP/r.conf"
	before=$(limit_default)
	kill -HUP "$CTL"
	wait_until 5 log_has "reload .* failed, keeping the running config"
	log_has '"fast"'
	kill -0 "$CTL"
	[ "$(limit_default)" = "$before" ]
	printf 'limit add default rate 100pps\ncontroller target cpu 70%%\n' >"$TMP/r.conf"
	kill -HUP "$CTL"
	wait_until 5 log_has "reloaded"
	[ "$(limit_default)" != "$before" ]
	wait_until 3 jq -e '.targets.cpu == 0.7' "$TMP/controller.json"
	kill -TERM "$CTL"
	wait "$CTL"
}

# PSI hidden by an empty tmpfs over /proc/pressure in a private mount
# namespace: the controller runs on without the signal and says so once
@test "PSI missing: one warning names /proc/pressure/cpu, the other signals keep working" {
	command -v unshare >/dev/null || skip "needs unshare"
	printf 'controller target pressure 50\ncontroller target cpu 85%%\n' >"$TMP/p.conf"
	nsenter --net="/run/netns/$VIC" unshare -m --propagation private \
		sh -c 'mount -t tmpfs none /proc/pressure && exec "$0" run -c "$1"' \
		"$CORRAL" "$TMP/p.conf" >>"$TMP/run.log" 2>&1 3>&- &
	CTL=$!
	PIDS+=("$CTL")
	wait_until 5 test -s "$TMP/controller.json"
	wait_until 5 jq -e '.ticks >= 5' "$TMP/controller.json" || { cat "$TMP/run.log" >&2; false; }
	kill -0 "$CTL"
	jq -e '.targets.pressure == 0.5 and (.signals | has("cpu")) and (.signals | has("pressure") | not)' \
		"$TMP/controller.json" || { cat "$TMP/controller.json" >&2; false; }
	n=$(grep -c '/proc/pressure/cpu: No such file or directory (signal not used until it recovers)' "$TMP/run.log")
	[ "$n" -eq 1 ] || { echo "warnings: $n" >&2; cat "$TMP/run.log" >&2; false; }
	kill -TERM "$CTL"
	wait "$CTL"
}

@test "fail-safe: kill -9 while shedding, class 6 passes after the timeout; restart adopts" {
	[ -x "$SVC" ] && [ -x "$CLIENTS" ] || skip "no $SVC or $CLIENTS"
	# a listener that never accepts: the service, stopped
	nsenter --net="/run/netns/$VIC" "$SVC" --port 8080 --rate 1 --backlog 2 --duration 120s \
		--quiet >/dev/null 2>&1 3>&- &
	SPID=$!
	PIDS+=("$SPID")
	wait_until 5 vic bash -c 'exec 3<>/dev/tcp/10.77.60.1/8080'
	kill -STOP "$SPID"
	cat >"$TMP/f.conf" <<-EOF
	controller target cpu off
	controller ports 8080
	controller target queue 50%
	controller heartbeat-timeout 1s
	EOF
	run_ctl -c "$TMP/f.conf"
	for i in 1 2 3 4; do
		nsenter --net="/run/netns/$GEN" timeout 20 \
			bash -c 'exec 3<>/dev/tcp/10.77.60.1/8080; sleep 15' >/dev/null 2>&1 3>&- &
		PIDS+=($!)
	done
	wait_until 10 shed_on
	log_has "load .* over"
	# shedding: the data plane sheds class-6 sources
	s0=$(counter 6 shed)
	probe_sources
	s1=$(counter 6 shed)
	echo "shed while controlled: $s0 -> $s1"
	[ "$s1" -gt "$s0" ]
	# the controller dies; its word stays pinned but goes stale
	kill -9 "$CTL"
	wait "$CTL" || true
	shed_on
	sleep 1.5
	[ "$(shed_json | jq -r .shed.stale)" = true ]
	s2=$(counter 6 shed)
	p2=$(counter 6 pass)
	probe_sources
	s3=$(counter 6 shed)
	p3=$(counter 6 pass)
	echo "after the timeout: shed $s2 -> $s3, pass $p2 -> $p3"
	[ "$s3" -eq "$s2" ]
	[ "$p3" -ge $((p2 + 20)) ]
	# restart: the pinned level is adopted and fresh again
	w=$(shed_json | jq -r .shed.word)
	run_ctl -c "$TMP/f.conf"
	wait_until 5 log_has "adopting pinned shed level"
	wait_until 5 bash -c "[ \"\$(nsenter --net=/run/netns/$VIC $CORRAL -j shed show | jq -r .shed.stale)\" = false ]"
	shed_on
	echo "word before restart $w"
	# a clean stop clears the controller's word
	kill -TERM "$CTL"
	wait "$CTL"
	[ "$(shed_json | jq -r .shed.word)" = 0 ]
}
