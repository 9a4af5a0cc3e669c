#!/usr/bin/env bats
# CLI housekeeping: the writer lock file goes with the last device, and
# "status" reads the controller's status file from CORRAL_RUN_DIR and
# does not believe a file left by a dead controller.

export CORRAL_PIN_DIR=/sys/fs/bpf/cfx_$$
load lib
CE_GEN=cfx-g$$
CE_VIC=cfx-v$$
CFX_LOCK=/run/corral/lock${CORRAL_PIN_DIR//\//_}

setup() {
	ce_lab_up 2
	export CORRAL_RUN_DIR=$CE_TMP/run
	mkdir -p "$CORRAL_RUN_DIR"
	CFX_PIDS=()
}

teardown() {
	local p
	for p in "${CFX_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ce_lab_down
	rm -f "$CFX_LOCK"
}

# a controller.json as "corral run" writes it, naming PID, updated now
fake_status() {
	printf '{"schema":1,"running":true,"pid":%d,"started":%d,"updated":%d,"shed_mode":"auto","interval_ms":100,"heartbeat_timeout_ms":1000}\n' \
		"$1" "$(date +%s)" "$(date +%s)" >"$CORRAL_RUN_DIR/controller.json"
}

@test "detach of the last device removes the writer lock; attach re-creates it" {
	ce_attach cev0 mode xdp-generic
	ce_attach cev1 mode tc
	[ -e "$CFX_LOCK" ] || { echo "no lock $CFX_LOCK after attach" >&2; false; }
	ce_corral detach dev cev0
	[ -e "$CFX_LOCK" ] || { echo "lock removed while cev1 is attached" >&2; false; }
	ce_corral limit add 10.78.0.0/16 rate 5kpps
	ce_corral detach dev cev1
	[ ! -e "$CE_PIN" ] || { echo "left pinned: $(ls "$CE_PIN")" >&2; false; }
	[ ! -e "$CFX_LOCK" ] || { echo "lock $CFX_LOCK left after the last detach" >&2; false; }
	# the lock comes back with the next writer, and writers still work
	ce_attach cev0 mode xdp-generic
	[ -e "$CFX_LOCK" ]
	ce_eq "lock mode" "$(stat -c %a "$CFX_LOCK")" 600
	ce_corral deny add 10.78.9.0/24
	ce_corral -j deny show | jq -e '.deny == ["10.78.9.0/24"]'
	ce_corral detach dev cev0
	[ ! -e "$CFX_LOCK" ]
}

@test "status reads the controller status from CORRAL_RUN_DIR" {
	ce_attach cev0 mode xdp-generic
	ce_status | jq -e '.controller == null'
	run ce_corral status
	[[ $output == *"controller: not running"* ]]
	[[ $output != *stale* ]]
	# a controller that runs: its status file is shown as it is
	nsenter --net="/run/netns/$CE_VIC" "$CORRAL" run --interval 100ms \
		>"$CE_TMP/run.log" 2>&1 3>&- &
	CFX_PIDS+=("$!")
	local n=50
	while ((n-- > 0)) && [ ! -s "$CORRAL_RUN_DIR/controller.json" ]; do sleep 0.1; done
	[ -s "$CORRAL_RUN_DIR/controller.json" ] || { cat "$CE_TMP/run.log" >&2; false; }
	ce_status | jq -e --argjson p "${CFX_PIDS[0]}" \
		'.controller.running == true and .controller.pid == $p and (.controller.stale | not)'
	run ce_corral status
	echo "$output"
	[[ $output == *"controller:"*"running true"* ]]
	[[ $output != *stale* ]]
}

@test "status after kill -9 of the controller: not running (stale status file)" {
	ce_attach cev0 mode xdp-generic
	nsenter --net="/run/netns/$CE_VIC" "$CORRAL" run --interval 100ms \
		>"$CE_TMP/run.log" 2>&1 3>&- &
	local ctl=$! n=50
	CFX_PIDS+=("$ctl")
	while ((n-- > 0)) && [ ! -s "$CORRAL_RUN_DIR/controller.json" ]; do sleep 0.1; done
	ce_status | jq -e '.controller.running == true'
	kill -9 "$ctl"
	wait "$ctl" || true
	# the file still says running
	jq -e '.running == true' "$CORRAL_RUN_DIR/controller.json"
	ce_status | jq -e '.controller.running == false and .controller.stale == true'
	run ce_corral status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"controller: not running (stale status file)"* ]]
}

@test "status: a live pid that stamps no heartbeat is a stale status file too" {
	ce_attach cev0 mode xdp-generic
	# a pid that exists (not a controller) and a fresh file: only the data
	# plane's heartbeat (never stamped) tells the file is not true
	sleep 60 &
	CFX_PIDS+=("$!")
	fake_status "$!"
	ce_status | jq -e '.controller.running == false and .controller.stale == true'
	run ce_corral status
	[[ $output == *"controller: not running (stale status file)"* ]]
	# a file that says "running": false is shown as it is, not as stale
	sed -i 's/"running":true/"running":false/' "$CORRAL_RUN_DIR/controller.json"
	ce_status | jq -e '.controller.running == false and (.controller.stale | not)'
	# a dead pid
	fake_status 999999
	[ -d /proc/999999 ] || ce_status | jq -e '.controller.stale == true'
}
