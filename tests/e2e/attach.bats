#!/usr/bin/env bats
# Attachment: every attach mode enforces the same policy, two devices share
# one policy and one set of buckets, re-attach under traffic loses nothing,
# and detaching the last device leaves nothing pinned.

load lib

setup() { ce_lab_up 2; }
teardown() { ce_lab_down; }

# attached programs on cev<N> as seen by the kernel, not by corral
xdp_mode_of() { # prints "drv", "skb" or "none"
	ip -n "$CE_VIC" -j -d link show "$1" |
		jq -r '.[0].xdp.mode // 0 | if . == 1 then "drv" elif . == 2 then "skb" else "none" end'
}
tc_ingress_of() {
	ip netns exec "$CE_VIC" tc -j filter show dev "$1" ingress 2>/dev/null |
		jq -r '[.[] | .options.bpf_name? // empty] | join(",")'
}

prog_id_of() { # id of the program corral runs on cev<N> ingress
	{
		ip -n "$CE_VIC" -j -d link show "$1" | jq -r '.[0].xdp.prog.id // empty'
		ip netns exec "$CE_VIC" tc -j filter show dev "$1" ingress 2>/dev/null |
			jq -r '.[] | .options.prog.id? // empty'
	} | head -1
}

mode_check() { # MODE XDP_MODE_EXPECTED
	local mode=$1 want=$2
	ce_attach cev0 mode "$mode"
	ce_corral deny add 10.78.9.0/24
	case $want in
	drv | skb) ce_eq "xdp mode on cev0" "$(xdp_mode_of cev0)" "$want" ;;
	tc)
		ce_eq "xdp mode on cev0" "$(xdp_mode_of cev0)" none
		[[ $(tc_ingress_of cev0) == *corral_tc_in* ]] ||
			{ echo "no corral_tc_in on cev0 ingress: $(tc_ingress_of cev0)" >&2; false; }
		;;
	esac
	ce_corral -j dev show | jq -e --arg m "$mode" \
		'[.. | objects | select(.ifname? == "cev0" and .mode? == $m)] | length == 1'
	{
		ce_pkt 10.78.9.1
		ce_pkt 10.78.7.1
	} >"$CE_TMP/m.cfg"
	ce_send "$CE_TMP/m.cfg" 200 1000
	ce_settle
	ce_eq "$mode: denied source received" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "$mode: other source received" "$(ce_rx_src 10.78.7.1)" 100
	ce_eq "$mode: status deny" "$(ce_stat deny)" 100

	ce_corral detach dev cev0
	ce_eq "xdp after detach" "$(xdp_mode_of cev0)" none
	ce_eq "tc after detach" "$(tc_ingress_of cev0)" ""
	[ ! -e "$CE_PIN" ] || { echo "$CE_PIN left after detach: $(ls "$CE_PIN")" >&2; false; }
	ce_rx_reset
	ce_send "$CE_TMP/m.cfg" 200 1000
	ce_settle
	ce_eq "$mode: after detach everything passes" "$(ce_rx_total)" 200
}

@test "attach: mode xdp (native)" {
	mode_check xdp drv
}

@test "attach: mode xdp-generic" {
	mode_check xdp-generic skb
}

@test "attach: mode tc" {
	mode_check tc tc
}

@test "attach: default mode is xdp" {
	ce_attach cev0
	ce_eq "xdp mode on cev0" "$(xdp_mode_of cev0)" drv
}

# a bridge has no native XDP: the kernel refuses drv mode on it
@test "attach: no native XDP (bridge): mode xdp refuses and attaches nothing; no mode falls back to xdp-generic" {
	ip -n "$CE_VIC" link add cedum0 type bridge
	ip -n "$CE_VIC" link set cedum0 up
	run ce_corral attach dev cedum0 mode xdp
	[ "$status" -ne 0 ]
	[[ $output == *"native XDP not supported (try mode xdp-generic)"* ]] ||
		{ echo "unexpected: $output" >&2; false; }
	ce_eq "xdp on cedum0 after the refusal" "$(xdp_mode_of cedum0)" none
	# the refused attach loaded nothing either
	run ce_corral dev show
	[ "$status" -ne 0 ]
	CE_ATTACHED+=(cedum0)
	run ce_corral attach dev cedum0
	[ "$status" -eq 0 ]
	[[ $output == *"cedum0: no native XDP in its driver; attached in xdp-generic mode"* ]] ||
		{ echo "no fallback notice: $output" >&2; false; }
	ce_eq "xdp on cedum0" "$(xdp_mode_of cedum0)" skb
	ce_corral -j dev show | jq -e '[.. | objects | select(.ifname? == "cedum0" and .mode? == "xdp-generic")] | length == 1'
	# a native device beside it still gets native XDP
	ce_attach cev0
	ce_eq "xdp on cev0" "$(xdp_mode_of cev0)" drv
	# re-attach with no mode keeps xdp-generic and says nothing
	run ce_corral attach dev cedum0
	[ "$status" -eq 0 ] && [ -z "$output" ] || { echo "re-attach: $status $output" >&2; false; }
	ce_eq "xdp on cedum0 after re-attach" "$(xdp_mode_of cedum0)" skb
}

@test "attach: two devices share one policy and one bucket per source" {
	local d0 d1
	ce_attach cev0 mode xdp
	ce_attach cev1 mode tc
	ce_corral -j dev show | jq -e '[.. | objects | select(.ifname? == "cev0" or .ifname? == "cev1")] | length == 2'
	# one rule, seen on both devices
	ce_corral deny add 10.78.9.0/24
	# 1 pps after a burst of 50: the first device empties the bucket
	ce_corral limit add default rate 1pps burst 50
	{ ce_pkt 10.78.9.1 dev=0; ce_pkt 10.78.7.1 dev=0; } >"$CE_TMP/d0.cfg"
	{ ce_pkt 10.78.9.1 dev=1; ce_pkt 10.78.7.1 dev=1; } >"$CE_TMP/d1.cfg"
	ce_send "$CE_TMP/d0.cfg" 100 1000 0
	ce_send "$CE_TMP/d1.cfg" 100 1000 1
	ce_settle
	d0=$(ce_rx_dev 0)
	d1=$(ce_rx_dev 1)
	ce_log "two devices: 10.78.7.1 passed $d0 on cev0, then $d1 on cev1 (shared bucket, burst 50)"
	ce_eq "cev0: burst of 10.78.7.1" "$d0" 50
	[ "$d1" -le 5 ] || { echo "cev1 passed $d1: bucket not shared" >&2; false; }
	ce_eq "status deny over both devices" "$(ce_stat deny)" 100

	# detaching one device keeps the other working and the pins in place
	ce_corral detach dev cev0
	[ -e "$CE_PIN" ] || { echo "$CE_PIN gone with cev1 still attached" >&2; false; }
	ce_rx_reset
	ce_send "$CE_TMP/d1.cfg" 100 1000 1
	ce_settle
	ce_eq "cev1 still denies" "$(ce_rx_src 10.78.9.1)" 0
}

reattach_check() { # MODE
	# 15 s of traffic: a re-attach loads and verifies the whole program
	# (about 2 s each on this machine since the reply builders)
	local mode=$1 n=150000 i rx id0 id1
	ce_attach cev0 mode "$mode"
	id0=$(prog_id_of cev0)
	ce_corral class add 0 src 10.78.0.0/16
	ce_pkts4 0 16 >"$CE_TMP/re.cfg"
	ce_send_bg "$CE_TMP/re.cfg" $n 10000
	sleep 0.3
	for i in 1 2 3 4 5; do
		ce_corral attach dev cev0 mode "$mode" || { echo "re-attach $i failed" >&2; false; }
		sleep 0.1
	done
	# the re-attaches happened while traffic flowed
	kill -0 "$CE_BG_PID" 2>/dev/null || { echo "traffic ended before the last re-attach" >&2; false; }
	ce_wait_bg
	ce_settle 0.5
	id1=$(prog_id_of cev0)
	[ -n "$id0" ] && [ -n "$id1" ] && [ "$id0" != "$id1" ] ||
		{ echo "program not replaced: id $id0 -> $id1" >&2; false; }
	rx=$(ce_rx_total)
	ce_log "re-attach $mode x5 under traffic: sent $CE_SENT, received $rx"
	ce_eq "sent" "$CE_SENT" $n
	ce_eq "received after 5 re-attaches under traffic" "$rx" $n
	ce_eq "corral pass counters kept across re-attach" "$(ce_stat pass 0)" $n
}

@test "attach: re-attach xdp under traffic loses no packet" {
	reattach_check xdp
}

@test "attach: re-attach tc under traffic loses no packet" {
	reattach_check tc
}

@test "attach: detach of the last device leaves nothing pinned" {
	ce_attach cev0
	ce_attach cev1 mode xdp-generic
	ce_corral limit add default rate 100pps
	[ -d "$CE_PIN" ] && [ -n "$(ls "$CE_PIN")" ]
	ce_corral detach dev cev1
	[ -d "$CE_PIN" ]
	ce_corral detach dev cev0
	if [ -e "$CE_PIN" ]; then
		echo "left in $CE_PIN: $(ls -A "$CE_PIN")" >&2
		false
	fi
	ce_eq "xdp on cev0" "$(xdp_mode_of cev0)" none
	ce_eq "xdp on cev1" "$(xdp_mode_of cev1)" none
	# configuration now says corral is not loaded
	run ce_corral limit show
	[ "$status" -ne 0 ]
	# attaching again starts from a clean state
	ce_attach cev0
	ce_corral -j limit show | jq -e '[.. | numbers | select(. == 100)] | length == 0'
}
