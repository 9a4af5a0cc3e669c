#!/usr/bin/env bats
# herd.bats - a reconnect herd of 500 kernel-retry clients against a
# service of capacity 500/s with a listen backlog of 128, through the herd
# lab (tools/herd/herd.sh). Without corral the backlog overflows; with
# corral's jittered SYN admission every client is served within its 2 s
# request timeout and the kernel drops no SYN that corral admitted
# (ListenOverflows and ListenDrops stay flat). Counted by the service and
# the clients themselves, not by corral.

setup() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	B=${CORRAL:-$ROOT/build/corral}
	export HERD_PREFIX=ceh$$
	export CORRAL_PIN_DIR=/sys/fs/bpf/ceh_$$
	export CORRAL_RUN_DIR=$BATS_TEST_TMPDIR/run
	OUT=$BATS_TEST_TMPDIR/out
}

teardown() {
	pkill -f "corral run -c $BATS_TEST_TMPDIR/" 2>/dev/null || true
	for ns in "$HERD_PREFIX-srv" "$HERD_PREFIX-cli"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$CORRAL_PIN_DIR"
	rm -f "/run/corral/lock_$(echo "${CORRAL_PIN_DIR#/}" | tr / _)"
}

# key=value from the SUMMARY line of one tool
summary() { # tool key
	awk -v t="$1" -v k="$2" '$1 == "SUMMARY" && $2 == t {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$OUT/summary.txt"
}

# all 500 served in time, by the clients' and the service's count, with no
# wasted work and no SYN the kernel dropped
served_all() {
	[ "$(summary clients served)" -eq 500 ]
	[ "$(summary service served)" -eq 500 ]
	[ "$(summary clients req_timeouts)" -eq 0 ]
	[ "$(summary service wasted)" -eq 0 ]
	[ "$(summary lab listen_overflows)" -eq 0 ]
	[ "$(summary lab listen_drops)" -eq 0 ]
}

herd() { # extra env assignments are passed by the caller
	run timeout 120 "$ROOT/tools/herd/herd.sh" -q -n 500 -c 500 -b 128 -m kernel -s linear -d 30 -o "$OUT"
	echo "$output"
	[ -s "$OUT/summary.txt" ]
}

@test "herd: without corral the backlog overflows (control)" {
	herd
	echo "served $(summary clients served) overflows $(summary lab listen_overflows)"
	[ "$(summary lab listen_overflows)" -gt 0 ]
}

@test "herd: jittered admission serves every client in time with no listen overflow" {
	export CORRAL_SETUP="$B attach dev $HERD_PREFIX-srv0 && $B syn set ports 8080 rate 500pps burst 96 herd on window 1s"
	export CORRAL_TEARDOWN="$B -j syn show > $BATS_TEST_TMPDIR/syn.json; $B detach dev $HERD_PREFIX-srv0"
	herd
	served_all
	# corral deferred SYNs (the gate did the work) and admitted each client
	run jq -r '.syn.counters.deferred + .syn.counters.capped' "$BATS_TEST_TMPDIR/syn.json"
	[ "$output" -gt 0 ]
	run jq -r '.syn.counters.admitted' "$BATS_TEST_TMPDIR/syn.json"
	[ "$output" -ge 500 ]
	[ ! -e "$CORRAL_PIN_DIR" ]
}

@test "herd: corral run detects the herd and paces it (herd auto)" {
	printf '%s\n' "syn set ports 8080 rate 500pps burst 96 herd auto" \
		"controller ports 8080" "controller shed manual" > "$BATS_TEST_TMPDIR/corral.conf"
	export CORRAL_SETUP="$B attach dev $HERD_PREFIX-srv0 && { $B run -c $BATS_TEST_TMPDIR/corral.conf > $BATS_TEST_TMPDIR/ctl.log 2>&1 & } && sleep 2"
	export CORRAL_TEARDOWN="pkill -f 'corral run -c $BATS_TEST_TMPDIR/corral.conf'; sleep 0.5; $B detach dev $HERD_PREFIX-srv0"
	herd
	cat "$BATS_TEST_TMPDIR/ctl.log"
	grep -q "herd detected" "$BATS_TEST_TMPDIR/ctl.log"
	served_all
}

@test "herd: herd auto with only the ports given serves the herd (no rate, no burst)" {
	printf '%s\n' "syn set ports 8080 herd auto" "controller ports 8080" > "$BATS_TEST_TMPDIR/corral.conf"
	export CORRAL_SETUP="$B attach dev $HERD_PREFIX-srv0 && { $B run -c $BATS_TEST_TMPDIR/corral.conf > $BATS_TEST_TMPDIR/ctl.log 2>&1 & } && sleep 2"
	export CORRAL_TEARDOWN="$B -j syn show > $BATS_TEST_TMPDIR/syn.json; pkill -f 'corral run -c $BATS_TEST_TMPDIR/corral.conf'; sleep 0.5; $B detach dev $HERD_PREFIX-srv0"
	herd
	cat "$BATS_TEST_TMPDIR/ctl.log"
	# the operator gave no burst: the controller sized one
	run jq -r '.syn.burst' "$BATS_TEST_TMPDIR/syn.json"
	[ "$output" = null ]
	# the control test above overflows the backlog; the defaults must not
	served_all
}
