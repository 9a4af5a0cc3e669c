#!/usr/bin/env bats
# overload.bats - the controller under 3x overload, end to end.
#
# Lab (tools/lab/overload_lab.sh): namespaces cov<pid>-v (victim) and
# cov<pid>-c (clients), one veth. The victim runs herd_service: capacity
# OV_CAP=200 requests/s (4 workers, a fixed cost per request), listen
# backlog 16, port 8080, corral attached (xdp-generic). Clients run loadgen,
# an open-loop generator, one TCP connection per request, 2 s timeout:
#   class 1 (10.78.1.0/24, 16 sources):    20 requests/s  (10% of capacity)
#   class 6 (10.79.0.0/16, 1024 sources): 600 requests/s  (3x capacity)
# The controller runs with `controller target queue 50%` on port 8080 (the
# CPU signal is host-wide and noisy here). Pins and the status file live in
# directories of this run only.

OV_SECONDS=${OV_SECONDS:-10}

setup_file() {
	export OV_RESULTS="$BATS_FILE_TMPDIR/results"
	: >"$OV_RESULTS"
}

setup() {
	export OV_P=cov$$
	export CORRAL_PIN_DIR=/sys/fs/bpf/cov_$$
	export CORRAL_RUN_DIR="$BATS_TEST_TMPDIR/run"
	export OV_METRICS=$((19480 + $$ % 500))
	# shellcheck source=../../tools/lab/overload_lab.sh
	source "$BATS_TEST_DIRNAME/../../tools/lab/overload_lab.sh"
	local m
	m=$(ov_missing)
	[ -z "$m" ] || skip "needs $m"
	ov_lab_up
}

teardown() {
	ov_lab_down
}

note() { echo "# $*" >&3; }

# run_overload: the service and both client groups for OV_SECONDS at 3x;
# sets C1_SENT C1_OK C6_SENT C6_OK GOODPUT (percent of capacity, from the
# second second on)
run_overload() {
	local start
	ov_svc_start $((OV_SECONDS + 15))
	ov_load c6 "$OV_C6_SRC" "$OV_C6_SRCS" "$((OV_CAP * 3)):${OV_SECONDS}s"
	ov_load c1 "$OV_C1_SRC" "$OV_C1_SRCS" "$((OV_CAP / 10)):${OV_SECONDS}s"
	ov_load_wait c6
	ov_load_wait c1
	C1_SENT=$(ov_field c1 sent) C1_OK=$(ov_field c1 ok)
	C6_SENT=$(ov_field c6 sent) C6_OK=$(ov_field c6 ok)
	ov_svc_stop
	start=$(ov_field c6 start_unix_ms)
	GOODPUT=$(ov_goodput $((start + 1000)) $((start + OV_SECONDS * 1000)))
	cat "$OV_WORK/service.txt"
}

@test "3x overload without the controller: the service saturates, nothing is shed" {
	run_overload
	note "no controller: class 1 $C1_OK/$C1_SENT ok ($(ov_pct "$C1_OK" "$C1_SENT")%)," \
		"class 6 $C6_OK/$C6_SENT ($(ov_pct "$C6_OK" "$C6_SENT")%), goodput $GOODPUT% of capacity"
	echo "nocontroller $C1_OK $C1_SENT $C6_OK $C6_SENT $GOODPUT" >>"$OV_RESULTS"
	# every request was offered, the service was the bottleneck
	[ "$C6_SENT" -eq $((OV_CAP * 3 * OV_SECONDS)) ]
	grep -Eq 'SUMMARY service .*listen_overflows=[1-9]' "$OV_WORK/service.txt"
	[ "$(ov_counter 6 shed)" -eq 0 ]
	[ "$(ov_counter 1 shed)" -eq 0 ]
	# class 6 cannot all be served: at most capacity over offered, plus slack
	[ $((C6_OK * 100)) -le $((C6_SENT * 50)) ]
}

@test "3x overload with corral run: class 1 kept (>= 99%), class 6 absorbs the shedding" {
	ov_ctl_start
	run_overload
	local c1_shed c6_shed
	c1_shed=$(ov_counter 1 shed)
	c6_shed=$(ov_counter 6 shed)
	cat "$OV_WORK/ctl.log"
	note "controller: class 1 $C1_OK/$C1_SENT ok ($(ov_pct "$C1_OK" "$C1_SENT")%)," \
		"class 6 $C6_OK/$C6_SENT ($(ov_pct "$C6_OK" "$C6_SENT")%), goodput $GOODPUT% of capacity;" \
		"shed packets: class 1 $c1_shed, class 6 $c6_shed"
	if read -r _ n1ok n1 _ _ ngp < <(grep '^nocontroller ' "$OV_RESULTS"); then
		note "without it:  class 1 $n1ok/$n1 ok ($(ov_pct "$n1ok" "$n1")%), goodput $ngp%"
	fi
	note "class 1 not ok, by request start (t_ms:timeout/refused/error):" \
		"$(awk -F, 'NR > 1 && $5 + $6 + $7 > 0 { printf "%s:%s/%s/%s ", $1, $5, $6, $7 }' "$OV_WORK/c1.csv")"
	[ "$C1_SENT" -eq $((OV_CAP / 10 * OV_SECONDS)) ]
	[ "$C6_SENT" -eq $((OV_CAP * 3 * OV_SECONDS)) ]
	# the controller saw the overload and shed
	grep -q 'load .* over (worst queue' "$OV_WORK/ctl.log"
	grep -q 'shed none -> 6\.' "$OV_WORK/ctl.log"
	# class 1: kept
	[ $((C1_OK * 100)) -ge $((C1_SENT * 99)) ]
	[ "$c1_shed" -eq 0 ]
	# class 6: shed at the source, and only part of it served
	[ "$c6_shed" -gt 0 ]
	[ $((C6_OK * 100)) -le $((C6_SENT * 50)) ]
	# the service kept working: at least half of its capacity went to goodput
	awk -v g="$GOODPUT" 'BEGIN { exit !(g >= 50) }'
	# a clean stop clears the controller's shed word
	ov_ctl_stop
	[ "$(ov_corral -j shed show | jq -r .shed.word)" = 0 ]
}
