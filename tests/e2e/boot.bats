#!/usr/bin/env bats
# boot.bats - the boot path: a config file with attach lines brings corral up
# from nothing (batch and `corral run -c`), all or nothing; SIGHUP converges
# the attachments; --check validates without applying; --version.
#
# Lab (lib.bash): two veth pairs, cev0 and cev1 in the victim. Pins in their
# own directory, the controller's status file in a temporary run directory.

load lib

setup() {
	export CORRAL_PIN_DIR=/sys/fs/bpf/ce-boot-$$
	CE_PIN=$CORRAL_PIN_DIR
	ce_lab_up 2
	export CORRAL_RUN_DIR=$CE_TMP
	CTL=
}

teardown() {
	if [ -n "${CTL:-}" ]; then
		kill -9 "$CTL" 2>/dev/null
		wait "$CTL" 2>/dev/null
	fi
	# whatever a test attached, by whichever path
	CE_ATTACHED=(cev0 cev1)
	ce_lab_down
}

xdp_mode_of() { # drv, skb or none
	ip -n "$CE_VIC" -j -d link show "$1" |
		jq -r '.[0].xdp.mode // 0 | if . == 1 then "drv" elif . == 2 then "skb" else "none" end'
}

tc_ingress_of() {
	ip netns exec "$CE_VIC" tc -j filter show dev "$1" ingress 2>/dev/null |
		jq -r '[.[] | .options.bpf_name? // empty] | join(",")'
}

devs() { # "cev0=xdp cev1=tc", sorted; "none" when nothing is loaded
	ce_corral -j dev show 2>/dev/null |
		jq -r '[.. | objects | select(.ifname?) | "\(.ifname)=\(.mode)"] | sort | join(" ")' ||
		echo none
}

nothing_pinned() {
	[ ! -e "$CE_PIN" ] || { echo "pins left: $(ls "$CE_PIN")" >&2; return 1; }
	ce_eq "xdp on cev0" "$(xdp_mode_of cev0)" none
	ce_eq "xdp on cev1" "$(xdp_mode_of cev1)" none
	ce_eq "tc on cev1" "$(tc_ingress_of cev1)" ""
}

# 100 frames each from a denied and a limited source on cevN
send_pair() { # DEV LIMITED_SRC
	{ ce_pkt 10.78.9.1 dev="$1"; ce_pkt "$2" dev="$1"; } >"$CE_TMP/p$1.cfg"
	ce_send "$CE_TMP/p$1.cfg" 200 1000 "$1"
	ce_settle
}

start_run() { # CONF
	nsenter --net="/run/netns/$CE_VIC" "$CORRAL" run -c "$1" >>"$CE_TMP/run.log" 2>&1 3>&- &
	CTL=$!
}

wait_for() { # SECONDS CMD...: poll every 0.1 s
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

devs_are() { [ "$(devs)" = "$1" ]; }
log_has() { grep -q -- "$1" "$CE_TMP/run.log"; }

@test "boot: run -c with attach lines from nothing enforces on real traffic; SIGHUP converges; SIGTERM keeps the static policy" {
	nothing_pinned
	cat >"$CE_TMP/corral.conf" <<-EOF
		# a host at boot: nothing attached yet
		attach dev cev0
		attach dev cev1 mode tc
		deny add 10.78.9.0/24
		limit add default rate 1pps burst 50
		controller target cpu 95%
	EOF
	start_run "$CE_TMP/corral.conf"
	wait_for 10 devs_are "cev0=xdp cev1=tc" || { cat "$CE_TMP/run.log" >&2; false; }
	wait_for 10 test -s "$CE_TMP/controller.json"
	ce_eq "xdp on cev0" "$(xdp_mode_of cev0)" drv
	[[ $(tc_ingress_of cev1) == *corral_tc_in* ]]

	# the limits hold on real traffic, on both devices, one bucket per source
	send_pair 0 10.78.7.1
	ce_eq "cev0: denied source received" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "cev0: limited source received (burst 50)" "$(ce_rx_src 10.78.7.1)" 50
	ce_rx_reset
	send_pair 1 10.78.7.2
	ce_eq "cev1: denied source received" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "cev1: limited source received (burst 50)" "$(ce_rx_src 10.78.7.2)" 50

	# SIGHUP: the file now names cev0 alone, in xdp-generic: cev1 is detached
	sed -i -e 's/^attach dev cev0$/attach dev cev0 mode xdp-generic/' -e '/cev1/d' \
		"$CE_TMP/corral.conf"
	kill -HUP "$CTL"
	wait_for 10 log_has "reloaded $CE_TMP/corral.conf" || { cat "$CE_TMP/run.log" >&2; false; }
	ce_eq "devices after SIGHUP" "$(devs)" "cev0=xdp-generic"
	ce_eq "xdp on cev0 after SIGHUP" "$(xdp_mode_of cev0)" skb
	ce_eq "tc on cev1 after SIGHUP" "$(tc_ingress_of cev1)" ""

	# a reload naming a missing device changes nothing
	echo "attach dev cenone0" >>"$CE_TMP/corral.conf"
	kill -HUP "$CTL"
	wait_for 10 log_has 'reload .* failed, keeping the running config: .*corral.conf:[0-9]*: attach: no device "cenone0"' ||
		{ cat "$CE_TMP/run.log" >&2; false; }
	ce_eq "devices after the failed reload" "$(devs)" "cev0=xdp-generic"

	# SIGTERM: the controller goes, the static policy stays and protects
	kill -TERM "$CTL"
	wait "$CTL"
	CTL=
	ce_eq "devices after SIGTERM" "$(devs)" "cev0=xdp-generic"
	ce_rx_reset
	send_pair 0 10.78.7.3
	ce_eq "after SIGTERM: denied source received" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "after SIGTERM: limited source received (burst 50)" "$(ce_rx_src 10.78.7.3)" 50
}

@test "batch: attach lines are checked with the whole file and applied all or nothing" {
	nothing_pinned
	# a bad word on the last line: nothing attached, nothing pinned
	printf 'attach dev cev0\nattach dev cev1\nlimit add default rate fast\n' >"$CE_TMP/bad1"
	run ce_corral -f "$CE_TMP/bad1"
	[ "$status" -eq 2 ] && [[ $output == *"bad1:3:"*'"fast"'* ]] || { echo "$status $output" >&2; false; }
	nothing_pinned
	# a missing device
	printf 'attach dev cev0\nattach dev cenone0 mode tc\n' >"$CE_TMP/bad2"
	run ce_corral -f "$CE_TMP/bad2"
	[[ $output == *'bad2:2: attach: no device "cenone0"'* ]] || { echo "$output" >&2; false; }
	nothing_pinned
	# a bad attach word
	printf 'attach dev cev0 mode turbo\n' >"$CE_TMP/bad3"
	run ce_corral -f "$CE_TMP/bad3"
	[[ $output == *'bad3:1: attach: invalid mode "turbo"'* ]] || { echo "$output" >&2; false; }
	nothing_pinned
	# valid lines, but the policy fails when applied (no such rule): the
	# devices the file attached are detached again
	printf 'attach dev cev0\nattach dev cev1 mode tc\nlimit del 10.9.9.0/24\n' >"$CE_TMP/bad4"
	run ce_corral -f "$CE_TMP/bad4"
	[ "$status" -ne 0 ] && [[ $output == *"bad4:3:"* ]] || { echo "$status $output" >&2; false; }
	nothing_pinned

	# the good file
	printf 'attach dev cev0\nattach dev cev1 mode tc\ndeny add 10.78.9.0/24\n' >"$CE_TMP/good"
	ce_corral -f "$CE_TMP/good"
	ce_eq "devices" "$(devs)" "cev0=xdp cev1=tc"
	before=$(ce_state)
	# a later failure restores the changed and the detached device too
	printf 'attach dev cev0 mode xdp-generic\ndetach dev cev1\nlimit del 10.9.9.0/24\n' >"$CE_TMP/bad5"
	run ce_corral -f "$CE_TMP/bad5"
	[ "$status" -ne 0 ] || { echo "bad5 applied" >&2; false; }
	ce_eq "state after bad5" "$(ce_state)" "$before"
	ce_eq "xdp on cev0 after bad5" "$(xdp_mode_of cev0)" drv
	[[ $(tc_ingress_of cev1) == *corral_tc_in* ]]
	# detaching every device while policy lines follow is refused up front
	printf 'detach dev cev0\ndetach dev cev1\ndeny add 10.78.8.0/24\n' >"$CE_TMP/bad6"
	run ce_corral -f "$CE_TMP/bad6"
	[[ $output == *"bad6:2: detach cev1: it is the last device"* ]] || { echo "$output" >&2; false; }
	ce_eq "state after bad6" "$(ce_state)" "$before"
	# a detach of a device that is not attached names it
	printf 'detach dev cev0\ndetach dev cev0\n' >"$CE_TMP/bad7"
	run ce_corral -f "$CE_TMP/bad7"
	[[ $output == *"bad7:2: detach cev0: not attached"* ]] || { echo "$output" >&2; false; }
	ce_eq "state after bad7" "$(ce_state)" "$before"
	# and the traffic still meets the policy
	send_pair 1 10.78.7.1
	ce_eq "denied source received on cev1" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "other source received on cev1" "$(ce_rx_src 10.78.7.1)" 100
}

@test "check: corral -c and run --check validate a file and apply nothing" {
	printf 'attach dev cev0\ndeny add 10.78.9.0/24\ncontroller target cpu 90%%\n' >"$CE_TMP/run.conf"
	printf 'attach dev cev0\ndeny add 10.78.9.0/24\n' >"$CE_TMP/batch.conf"
	ce_corral -c "$CE_TMP/batch.conf"
	nsenter --net="/run/netns/$CE_VIC" "$CORRAL" run --check -c "$CE_TMP/run.conf"
	nothing_pinned
	# a controller line is not a batch line; a bad controller word; no device
	run ce_corral -c "$CE_TMP/run.conf"
	[ "$status" -ne 0 ] && [[ $output == *"run.conf:3: controller: not accepted here"* ]] ||
		{ echo "$status $output" >&2; false; }
	printf 'attach dev cev0\ncontroller target cpu lots\n' >"$CE_TMP/bad.conf"
	run nsenter --net="/run/netns/$CE_VIC" "$CORRAL" run --check -c "$CE_TMP/bad.conf"
	[ "$status" -ne 0 ] && [[ $output == *"bad.conf:2:"*lots* ]] || { echo "$status $output" >&2; false; }
	# policy alone, with nothing attached: the real run would fail, so does the check
	printf 'deny add 10.78.9.0/24\n' >"$CE_TMP/nodev.conf"
	run nsenter --net="/run/netns/$CE_VIC" "$CORRAL" run --check -c "$CE_TMP/nodev.conf"
	[ "$status" -ne 0 ] && [[ $output == *"not loaded (attach a device first)"* ]] ||
		{ echo "$status $output" >&2; false; }
	printf 'controller target cpu 90%%\n' >"$CE_TMP/noatt.conf"
	run nsenter --net="/run/netns/$CE_VIC" "$CORRAL" run --check -c "$CE_TMP/noatt.conf"
	[ "$status" -ne 0 ] && [[ $output == *'nothing attached and the file attaches nothing'* ]] ||
		{ echo "$status $output" >&2; false; }
	nothing_pinned
	# a conflict with the running state is found too
	ce_corral -f "$CE_TMP/batch.conf"
	printf 'limit del 10.9.9.0/24\n' >"$CE_TMP/del.conf"
	before=$(ce_state)
	run ce_corral -c "$CE_TMP/del.conf"
	[ "$status" -ne 0 ] && [[ $output == *"del.conf:1:"* ]] || { echo "$status $output" >&2; false; }
	ce_eq "state after the check" "$(ce_state)" "$before"
}

@test "--version prints the version in VERSION" {
	run "$CORRAL" --version
	[ "$status" -eq 0 ]
	[[ $output == "corral $(cat "$CE_TOP/VERSION") (libbpf "*")" ]] || { echo "$output" >&2; false; }
}
