#!/usr/bin/env bats
# bans.bats - deny/allow with timeouts on real traffic: an entry stops
# applying when it expires (data plane), and leaves the maps by itself when
# the controller runs (or at the next write when it does not); bulk bans
# from a batch file; the fail2ban action (tools/fail2ban/corral.conf)
# driven by fail2ban from Debian against a log the test writes.

load lib

setup() {
	export CORRAL_PIN_DIR=/sys/fs/bpf/ce-bans-$$
	CE_PIN=$CORRAL_PIN_DIR
	ce_lab_up 1
	export CORRAL_RUN_DIR=$CE_TMP
	CTL= F2B=
	ce_attach cev0
}

teardown() {
	if [ -n "${CTL:-}" ]; then
		kill -9 "$CTL" 2>/dev/null
		wait "$CTL" 2>/dev/null
	fi
	if [ -n "${F2B:-}" ]; then
		fail2ban-client -c "$CE_TMP/f2b" stop >/dev/null 2>&1
		kill -9 "$F2B" 2>/dev/null
		wait "$F2B" 2>/dev/null
	fi
	ce_lab_down
}

wait_for() { # SECONDS CMD...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# entries in the pinned rule map (what "show" does not hide)
prules_count() {
	bpftool -j map dump pinned "$CE_PIN/corral_prules" | jq length
}
prules_is() { [ "$(prules_count)" -eq "$1" ]; }

# 50 frames from SRC; prints how many the victim received
recv_from() { # SRC
	ce_rx_reset
	ce_pkt "$1" >"$CE_TMP/one.cfg"
	ce_send "$CE_TMP/one.cfg" 50 1000
	ce_settle
	ce_rx_src "$1"
}

denied() { [ "$(recv_from "$1")" -eq 0 ]; }
passes() { [ "$(recv_from "$1")" -eq 50 ]; }

@test "bans: deny timeout drops until it expires, then the controller removes the entry" {
	ce_corral deny add 10.78.5.5 timeout 3s
	ce_corral deny add 10.78.6.0/24
	run ce_corral deny show
	[[ $output == *"10.78.5.5/32 timeout "[1-3]"s left"* ]] || { echo "$output" >&2; false; }
	[[ $output == *"10.78.6.0/24"* && $output != *"10.78.6.0/24 timeout"* ]]
	ce_eq "banned source received" "$(recv_from 10.78.5.5)" 0
	printf 'controller target cpu 95%%\n' >"$CE_TMP/c.conf"
	nsenter --net="/run/netns/$CE_VIC" "$CORRAL" run -c "$CE_TMP/c.conf" >"$CE_TMP/run.log" 2>&1 3>&- &
	CTL=$!
	ce_eq "rules while banned" "$(prules_count)" 2
	# expiry: the data plane lets it through, the controller drops the entry
	wait_for 10 prules_is 1 || { cat "$CE_TMP/run.log" >&2; false; }
	ce_eq "after the timeout: received" "$(recv_from 10.78.5.5)" 50
	ce_eq "permanent deny still holds" "$(recv_from 10.78.6.1)" 0
	run ce_corral -j deny show
	ce_eq "deny list" "$(jq -c .deny <<<"$output")" '["10.78.6.0/24"]'
	ce_eq "expiries" "$(jq -c .expires_ms <<<"$output")" '{}'
}

@test "bans: without a controller the data plane still expires it; the next write removes it" {
	ce_corral allow add 10.78.0.0/16
	ce_corral deny add 10.78.5.0/24 timeout 2s
	ce_eq "banned inside the allow" "$(recv_from 10.78.5.5)" 0
	ce_eq "the rest of the allow" "$(recv_from 10.78.4.4)" 50
	sleep 2.2
	# falls back to the allow around it before anything rewrites the maps
	ce_eq "after the timeout: received" "$(recv_from 10.78.5.5)" 50
	ce_eq "allow counter" "$(ce_stat allow)" 100
	ce_eq "rules before a write" "$(prules_count)" 2
	ce_corral limit add default rate 10kpps
	ce_eq "rules after a write" "$(prules_count)" 1
	# a re-ban with a new timeout replaces the old one; no timeout: permanent
	ce_corral deny add 10.78.5.0/24 timeout 1h
	ce_corral deny add 10.78.5.0/24
	run ce_corral deny show
	[[ $output == *"10.78.5.0/24"* && $output != *timeout* ]] || { echo "$output" >&2; false; }
	# bad words change nothing
	before=$(ce_state)
	for bad in "timeout" "timeout 0" "timeout soon" "timeout 1s extra"; do
		# shellcheck disable=SC2086
		run ce_corral deny add 10.78.7.0/24 $bad
		[ "$status" -eq 2 ] || { echo "deny add ... $bad: $status $output" >&2; false; }
	done
	run ce_corral deny del 10.78.5.0/24 timeout 1s
	[ "$status" -eq 2 ] && [[ $output == *'"timeout"'* ]] || { echo "$output" >&2; false; }
	ce_eq "state after bad words" "$(ce_state)" "$before"
}

@test "bans: 100K timed deny lines from one batch file, applied and counted" {
	local n=100000 t0 t1 ms
	awk -v n=$n 'BEGIN { for (i = 0; i < n; i++)
		printf "deny add 10.%d.%d.%d timeout 10m\n", 80 + int(i / 65536), int(i / 256) % 256, i % 256 }' \
		>"$CE_TMP/bans"
	t0=$(date +%s%N)
	ce_corral -f "$CE_TMP/bans"
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	ce_log "bulk: $n deny add with timeouts in $ms ms: $((n * 1000 / (ms + 1))) bans/s"
	ce_eq "rules in the map" "$(prules_count)" $n
	ce_eq "deny show" "$(ce_corral -j deny show | jq '.deny | length')" $n
	# one more ban on top of 100K: a single command
	t0=$(date +%s%N)
	ce_corral deny add 10.78.5.5 timeout 10m
	t1=$(date +%s%N)
	ce_log "bulk: one more deny add at $n entries: $(((t1 - t0) / 1000000)) ms"
	ce_eq "banned" "$(recv_from 10.78.5.5)" 0
}

@test "fail2ban: the corral action bans a source found in a log and unbans it after bantime" {
	command -v fail2ban-server >/dev/null || skip "needs fail2ban"
	local d=$CE_TMP/f2b
	mkdir -p "$d/action.d" "$d/filter.d" "$d/jail.d"
	cp "$CE_TOP/tools/fail2ban/corral.conf" "$d/action.d/corral.conf"
	cat >"$d/fail2ban.conf" <<-END
		[Definition]
		loglevel = INFO
		logtarget = $d/f2b.log
		socket = $d/f2b.sock
		pidfile = $d/f2b.pid
		dbfile = :memory:
	END
	cat >"$d/filter.d/corral-test.conf" <<-'END'
		[Definition]
		failregex = ^AUTH FAIL from <HOST>$
		datepattern = {NONE}
	END
	cat >"$d/jail.conf" <<-END
		[DEFAULT]
		backend = polling
		findtime = 60
		maxretry = 3
		bantime = 4
		[corral-test]
		enabled = true
		filter = corral-test
		logpath = $d/app.log
		action = corral[corral="$CORRAL"]
	END
	: >"$d/app.log"
	fail2ban-server -c "$d" -f -x >"$d/server.out" 2>&1 3>&- &
	F2B=$!
	wait_for 20 fail2ban-client -c "$d" ping >/dev/null 2>&1 || { cat "$d/server.out" "$d/f2b.log" >&2; false; }
	wait_for 10 fail2ban-client -c "$d" status corral-test >/dev/null 2>&1
	ce_eq "before: received" "$(recv_from 10.78.5.5)" 50
	for i in 1 2 3; do echo "AUTH FAIL from 10.78.5.5" >>"$d/app.log"; done
	echo "AUTH FAIL from 10.78.6.6" >>"$d/app.log"
	banned() { ce_corral deny show | grep -q '^10.78.5.5/32 timeout'; }
	wait_for 15 banned || { cat "$d/f2b.log" >&2; ce_corral deny show >&2; false; }
	ce_eq "banned: received" "$(recv_from 10.78.5.5)" 0
	ce_eq "one failure is not a ban" "$(recv_from 10.78.6.6)" 50
	# unban after bantime: fail2ban's actionunban or corral's own timeout
	unbanned() { ! ce_corral deny show | grep -q '^10.78.5.5/32'; }
	wait_for 15 unbanned || { cat "$d/f2b.log" >&2; false; }
	ce_eq "unbanned: received" "$(recv_from 10.78.5.5)" 50
	grep -q 'Ban 10.78.5.5' "$d/f2b.log"
	! grep -qi 'error' "$d/f2b.log" || { grep -i error "$d/f2b.log" >&2; false; }
}
