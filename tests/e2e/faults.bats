#!/usr/bin/env bats
# Faults: bpffs not mounted, a device removed while attached, detach under
# traffic, re-attach (atomic program replacement) under traffic, and
# concurrent corral commands on the same maps. Each case has one defined
# outcome, checked from outside corral where it can be (the receiver's
# counters, the kernel's view of the device, the pins on bpffs).

export CORRAL_PIN_DIR=/sys/fs/bpf/chd_flt$$
load lib
CE_GEN=chd-fg$$
CE_VIC=chd-fv$$
CHD_LOCK=/run/corral/lock${CORRAL_PIN_DIR//\//_}

setup() { ce_lab_up 2; }

teardown() {
	ce_lab_down
	rm -f "$CHD_LOCK"
	[ -z "${CHD_TMPPIN:-}" ] || rm -rf "$CHD_TMPPIN"
}

xdp_prog_id() { # id of the XDP program on cev<N>, empty when none
	ip -n "$CE_VIC" -j -d link show "$1" | jq -r '.[0].xdp.prog.id // empty'
}

tc_ingress_of() {
	ip netns exec "$CE_VIC" tc -j filter show dev "$1" ingress 2>/dev/null |
		jq -r '[.[] | .options.bpf_name? // empty] | join(",")'
}

no_pins() {
	[ ! -e "$CE_PIN" ] || { echo "left pinned: $(ls "$CE_PIN")" >&2; return 1; }
}

# ---- bpffs ----------------------------------------------------------------

# run a shell script in the victim's network namespace and a private mount
# namespace in which /sys/fs/bpf is not mounted
no_bpffs() {
	CORRAL=$CORRAL nsenter --net="/run/netns/$CE_VIC" -- unshare -m --propagation private -- bash -c '
		while mountpoint -q /sys/fs/bpf; do umount -l /sys/fs/bpf || exit 99; done
		'"$1"
}

@test "bpffs not mounted: attach mounts it (owner only), works, detach leaves nothing" {
	run no_bpffs '
		set -e
		"$CORRAL" attach dev cev0 mode xdp-generic
		echo "fstype $(stat -f -c %T /sys/fs/bpf)"
		echo "mode $(stat -c %a /sys/fs/bpf)"
		echo "pins $(ls "$CORRAL_PIN_DIR" | wc -l)"
		"$CORRAL" deny add 10.78.9.0/24
		"$CORRAL" -j deny show
		"$CORRAL" detach dev cev0
		if [ -e "$CORRAL_PIN_DIR" ]; then echo "left: $(ls "$CORRAL_PIN_DIR")"; fi
		echo done'
	echo "exit $status: $output"
	[ "$status" -eq 0 ]
	[[ $output == *"fstype bpf_fs"* ]]
	# bpffs roots carry the sticky bit: 1700
	[[ $output == *"mode 700"* || $output == *"mode 1700"* ]]
	[[ $output == *'"deny":["10.78.9.0\/24"]'* ]]
	[[ $output != *left:* ]]
	[[ $output == *done ]]
	ce_eq "xdp after detach" "$(xdp_prog_id cev0)" ""
	# the host's bpffs never saw these pins
	no_pins
}

@test "bpffs not mounted: readers say 'not loaded' and mount nothing" {
	run no_bpffs '
		"$CORRAL" limit show; echo "exit $?"
		"$CORRAL" dev show; echo "exit $?"
		if mountpoint -q /sys/fs/bpf; then echo mounted; fi'
	echo "$output"
	[[ $output == *"corral: not loaded"*"exit 1"*"corral: not loaded"*"exit 1"* ]]
	[[ $output != *mounted* ]]
}

@test "bpffs not mounted, pin directory elsewhere: attach refuses with a clear message" {
	CHD_TMPPIN=$(mktemp -d /tmp/chd-pin.XXXXXX)
	run env CORRAL_PIN_DIR="$CHD_TMPPIN/corral" nsenter --net="/run/netns/$CE_VIC" -- \
		"$CORRAL" attach dev cev0 mode xdp-generic
	echo "exit $status: $output"
	[ "$status" -eq 1 ]
	[[ $output == "corral: attach cev0: $CHD_TMPPIN: not a bpf filesystem"* ]]
	ce_eq "xdp after refused attach" "$(xdp_prog_id cev0)" ""
	[ -z "$(ls -A "$CHD_TMPPIN")" ]
	rm -f "/run/corral/lock${CHD_TMPPIN//\//_}_corral"
}

@test "commands without a loaded corral say 'not loaded' and exit 1" {
	local c
	for c in "limit show" "limit add 10.0.0.0/8 rate 5" "dev show" "status" "detach dev cev0"; do
		run ce_corral $c
		echo "$c: exit $status: $output"
		[ "$status" -eq 1 ]
		[[ $output == *"not loaded"* ]]
	done
	no_pins
}

# ---- device removed while attached ------------------------------------------

@test "device removed while attached (xdp): dev show marks it gone, detach cleans up" {
	ce_attach cev0 mode xdp-generic
	ip -n "$CE_VIC" link del cev0
	run ce_corral dev show
	echo "dev show: exit $status: $output"
	[ "$status" -eq 0 ]
	[[ $output == *"dev cev0"*"(device gone)"* ]]
	ce_corral -j dev show | jq -e '.devices[0].ifname == "cev0" and .devices[0].present == false'
	run ce_corral detach dev cev0
	echo "detach: exit $status: $output"
	[ "$status" -eq 0 ]
	no_pins
}

@test "device removed while attached (tc, egress): detach cleans up" {
	ce_attach cev0 mode tc egress
	ip -n "$CE_VIC" link del cev0
	run ce_corral detach dev cev0
	echo "detach: exit $status: $output"
	[ "$status" -eq 0 ]
	no_pins
}

@test "one of two devices removed: the other keeps enforcing, detach of both cleans up" {
	ce_attach cev0 mode xdp-generic
	ce_attach cev1 mode tc
	ce_corral deny add 10.78.9.0/24
	ip -n "$CE_VIC" link del cev0
	{
		ce_pkt 10.78.9.1 dev=1
		ce_pkt 10.78.7.1 dev=1
	} >"$CE_TMP/d1.cfg"
	ce_send "$CE_TMP/d1.cfg" 200 2000 1
	ce_settle
	ce_eq "denied source on cev1" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "other source on cev1" "$(ce_rx_src 10.78.7.1)" 100
	run ce_corral detach dev cev0
	echo "detach cev0: exit $status: $output"
	[ "$status" -eq 0 ]
	# cev1 is still attached and still enforcing
	ce_corral -j dev show | jq -e '[.devices[].ifname] == ["cev1"]'
	ce_rx_reset
	ce_send "$CE_TMP/d1.cfg" 200 2000 1
	ce_settle
	ce_eq "denied source on cev1 after detach of cev0" "$(ce_rx_src 10.78.9.1)" 0
	ce_corral detach dev cev1
	ce_eq "tc on cev1 after detach" "$(tc_ingress_of cev1)" ""
	no_pins
}

@test "a device re-created under the same name: attach replaces the defunct link" {
	local mac
	ce_attach cev0 mode xdp-generic
	ce_corral deny add 10.78.9.0/24
	ip -n "$CE_VIC" link del cev0
	ip -n "$CE_VIC" link add cev0 type veth peer name ceg0 netns "$CE_GEN"
	ip -n "$CE_VIC" addr add 10.77.0.1/24 dev cev0
	ip -n "$CE_VIC" link set cev0 up
	ip -n "$CE_GEN" link set ceg0 up
	CE_MACS=()
	ip netns exec "$CE_VIC" nft delete table netdev ce
	ce_nft_setup
	run ce_corral attach dev cev0 mode xdp-generic
	echo "re-attach: exit $status: $output"
	[ "$status" -eq 0 ]
	[ -n "$(xdp_prog_id cev0)" ]
	{
		ce_pkt 10.78.9.1
		ce_pkt 10.78.7.1
	} >"$CE_TMP/r.cfg"
	ce_send "$CE_TMP/r.cfg" 200 2000
	ce_settle
	ce_eq "denied source after re-create" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "other source after re-create" "$(ce_rx_src 10.78.7.1)" 100
	ce_corral detach dev cev0
	no_pins
}

# ---- under traffic --------------------------------------------------------------

# 20 unlimited sources on cev0, COUNT packets at PPS in the background
bg_traffic() {
	ce_pkts4 100 20 >"$CE_TMP/bg.cfg"
	ce_send_bg "$CE_TMP/bg.cfg" "$1" "$2"
}

@test "detach under traffic: no packet of an unlimited source is lost, nothing left" {
	ce_attach cev0 mode xdp-generic
	ce_corral limit add default rate 1mpps burst 100000
	bg_traffic 6000 3000
	sleep 0.5
	ce_corral detach dev cev0
	ce_wait_bg
	ce_settle
	ce_eq "sent" "$CE_SENT" 6000
	ce_eq "received across the detach" "$(ce_rx_total)" 6000
	ce_eq "xdp after detach" "$(xdp_prog_id cev0)" ""
	no_pins
}

@test "re-attach (program replaced) under traffic: zero loss, policy and counters kept" {
	local id0 id1 i
	ce_attach cev0 mode xdp-generic
	ce_corral deny add 10.78.250.0/24
	id0=$(xdp_prog_id cev0)
	bg_traffic 8000 3000
	for i in 1 2 3 4 5; do
		sleep 0.3
		ce_corral attach dev cev0 mode xdp-generic
	done
	ce_wait_bg
	ce_settle
	id1=$(xdp_prog_id cev0)
	[ -n "$id1" ] && [ "$id1" != "$id0" ] || { echo "program not replaced: $id0 -> $id1" >&2; false; }
	ce_eq "sent" "$CE_SENT" 8000
	ce_eq "received across 5 re-attaches" "$(ce_rx_total)" 8000
	# the corral_xdp that ran before and after counted into the same map
	ce_eq "pass counter" "$(ce_stat pass)" 8000
	ce_corral -j deny show | jq -e '.deny == ["10.78.250.0/24"]'
	# and the deny rule still holds on the new program
	ce_rx_reset
	ce_pkt 10.78.250.1 >"$CE_TMP/deny.cfg"
	ce_send "$CE_TMP/deny.cfg" 50 2000
	ce_settle
	ce_eq "denied after re-attach" "$(ce_rx_total)" 0
}

@test "re-attach under traffic in tc mode: zero loss" {
	ce_attach cev0 mode tc
	bg_traffic 6000 3000
	for i in 1 2 3; do
		sleep 0.4
		ce_corral attach dev cev0 mode tc
	done
	ce_wait_bg
	ce_settle
	ce_eq "sent" "$CE_SENT" 6000
	ce_eq "received across 3 tc re-attaches" "$(ce_rx_total)" 6000
}

# ---- address aliasing -------------------------------------------------------------

@test "an IPv6 source inside ::ffff:0:0/96 does not inherit an IPv4 allow rule" {
	ce_attach cev0 mode xdp-generic
	ce_corral limit add default rate 100pps burst 10
	ce_corral allow add 10.78.9.0/24
	# the same 32 bits as 10.78.9.1, as an IPv4-mapped IPv6 source
	ce_pkt ::ffff:a4e:901 >"$CE_TMP/m.cfg"
	ce_send "$CE_TMP/m.cfg" 200 2000
	ce_settle
	echo "allow $(ce_stat allow) rate $(ce_stat rate) pass $(ce_stat pass) malformed $(ce_stat malformed)"
	ce_eq "IPv6 packets counted as allow-listed" "$(ce_stat allow)" 0
	# whatever the verdict (bucket or malformed), the flood is not let through whole
	[ "$(ce_rx_total)" -lt 200 ]
}

# ---- concurrency ----------------------------------------------------------------

@test "two corral processes racing: 2 x 50 'limit add' of distinct prefixes, all 100 kept" {
	local a b pol n_show n_rules
	ce_attach cev0 mode xdp-generic
	(
		for i in $(seq 0 49); do
			ce_corral limit add "10.79.$i.0/24" rate "$((i + 1))kpps" || echo "A $i failed"
		done
	) >"$CE_TMP/a.out" 2>&1 &
	a=$!
	(
		for i in $(seq 0 49); do
			ce_corral limit add "fd77:79:$i::/48" rate "$((i + 1))kpps" || echo "B $i failed"
		done
	) >"$CE_TMP/b.out" 2>&1 &
	b=$!
	CE_BG_PIDS+=("$a" "$b")
	wait "$a"
	wait "$b"
	cat "$CE_TMP/a.out" "$CE_TMP/b.out"
	[ ! -s "$CE_TMP/a.out" ] && [ ! -s "$CE_TMP/b.out" ]
	n_show=$(ce_corral -j limit show | jq '.limits | length')
	ce_eq "limit show" "$n_show" 100
	# the rule map and the compiled trie agree with show
	n_rules=$(bpftool -j map dump pinned "$CE_PIN/corral_prules" | jq 'length')
	ce_eq "corral_prules entries" "$n_rules" 100
	pol=$(bpftool -j map dump pinned "$CE_PIN/corral_policy" | jq 'length')
	ce_eq "corral_policy entries" "$pol" 100
	# each rule is the one its writer asked for
	ce_corral -j limit show | jq -e '[.limits[] | select(.prefix == "10.79.7.0/24")
		| .limit.pkt_rate] == [8000]'
	ce_corral -j limit show | jq -e '[.limits[] | select(.prefix == "fd77:79:31::/48")
		| .limit.pkt_rate] == [32000]'
}

@test "racing 'limit add' and 'limit del' on one prefix: the last writer wins, no torn state" {
	local a b
	ce_attach cev0 mode xdp-generic
	(
		for i in $(seq 1 40); do ce_corral limit add 10.79.1.0/24 rate "${i}kpps"; done
	) >"$CE_TMP/a.out" 2>&1 &
	a=$!
	(
		for i in $(seq 1 40); do ce_corral limit del 10.79.1.0/24 2>/dev/null; done
	) >"$CE_TMP/b.out" 2>&1 &
	b=$!
	CE_BG_PIDS+=("$a" "$b")
	wait "$a"
	wait "$b" || true
	# every add succeeded; a del either removed the rule or said "no such"
	[ ! -s "$CE_TMP/a.out" ] || { cat "$CE_TMP/a.out" >&2; false; }
	n_show=$(ce_corral -j limit show | jq '.limits | length')
	[ "$n_show" -le 1 ]
	ce_eq "corral_prules entries" "$(bpftool -j map dump pinned "$CE_PIN/corral_prules" | jq 'length')" "$n_show"
	ce_eq "corral_policy entries" "$(bpftool -j map dump pinned "$CE_PIN/corral_policy" | jq 'length')" "$n_show"
}

@test "two attaches racing on two devices: both attached, one set of maps" {
	local a b
	ce_corral attach dev cev0 mode xdp-generic >"$CE_TMP/a.out" 2>&1 &
	a=$!
	ce_corral attach dev cev1 mode xdp-generic >"$CE_TMP/b.out" 2>&1 &
	b=$!
	CE_ATTACHED+=(cev0 cev1)
	wait "$a" || { cat "$CE_TMP/a.out" >&2; false; }
	wait "$b" || { cat "$CE_TMP/b.out" >&2; false; }
	ce_corral -j dev show | jq -e '[.devices[].ifname] | sort == ["cev0", "cev1"]'
	# both devices run programs that share the pinned maps: a rule added
	# once acts on both
	ce_corral deny add 10.78.9.0/24
	ce_pkt 10.78.9.1 dev=0 >"$CE_TMP/x0.cfg"
	ce_pkt 10.78.9.1 dev=1 >"$CE_TMP/x1.cfg"
	ce_send "$CE_TMP/x0.cfg" 20 2000 0
	ce_send "$CE_TMP/x1.cfg" 20 2000 1
	ce_settle
	ce_eq "denied on both" "$(ce_rx_total)" 0
	ce_eq "deny counter" "$(ce_stat deny)" 40
	ce_corral detach dev cev0
	ce_corral detach dev cev1
	no_pins
}
