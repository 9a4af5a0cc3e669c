#!/usr/bin/env bats
# Allow and deny lists, and monitor mode (every verdict computed and
# counted as would-drop, nothing dropped), with real traffic.

load lib

setup() { ce_lab_up 1; }
teardown() { ce_lab_down; }

lists_cfg() {
	{
		ce_pkt 10.78.9.1     # denied
		ce_pkt 10.78.8.1     # allowed: no bucket
		ce_pkt 10.78.7.1     # default limit
	} >"$CE_TMP/lists.cfg"
}

@test "lists: deny drops, allow bypasses the limits, del restores" {
	local lim
	ce_attach cev0
	ce_corral limit add default rate 10pps burst 5
	ce_corral deny add 10.78.9.0/24
	ce_corral allow add 10.78.8.0/24
	lists_cfg
	ce_send "$CE_TMP/lists.cfg" 600 600
	ce_settle
	lim=$(ce_rx_src 10.78.7.1)
	ce_log "lists: denied $(ce_rx_src 10.78.9.1)/200, allowed $(ce_rx_src 10.78.8.1)/200, limited $lim/200 in ${CE_DUR}s"
	ce_eq "denied source received" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "allowed source received" "$(ce_rx_src 10.78.8.1)" 200
	[ "$lim" -ge 5 ] && [ "$lim" -le 40 ] || { echo "limited source passed $lim" >&2; false; }
	ce_eq "status deny" "$(ce_stat deny)" 200
	ce_eq "status allow" "$(ce_stat allow)" 200
	ce_eq "status rate" "$(ce_stat rate)" $((200 - lim))

	ce_corral -j deny show | jq -e '[.. | strings | select(. == "10.78.9.0/24")] | length == 1'
	ce_corral -j allow show | jq -e '[.. | strings | select(. == "10.78.8.0/24")] | length == 1'

	ce_rx_reset
	ce_corral deny del 10.78.9.0/24
	ce_corral allow del 10.78.8.0/24
	ce_corral limit del default
	ce_send "$CE_TMP/lists.cfg" 600 600
	ce_settle
	ce_eq "after del, total" "$(ce_rx_total)" 600
	ce_corral -j deny show | jq -e '[.. | strings | select(. == "10.78.9.0/24")] | length == 0'
}

@test "lists: a longer allow inside a deny wins for its sources" {
	ce_attach cev0
	ce_corral deny add 10.78.0.0/16
	ce_corral allow add 10.78.8.0/24
	lists_cfg
	ce_send "$CE_TMP/lists.cfg" 300 1000
	ce_settle
	ce_eq "10.78.8.1 (allow /24 in deny /16)" "$(ce_rx_src 10.78.8.1)" 100
	ce_eq "10.78.9.1 (deny /16)" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "10.78.7.1 (deny /16)" "$(ce_rx_src 10.78.7.1)" 0
}

@test "lists: monitor mode drops nothing and counts would-drops" {
	local dropped
	ce_attach cev0
	ce_corral limit add default rate 10pps burst 5
	ce_corral deny add 10.78.9.0/24
	ce_corral mode set monitor
	ce_status | jq -e '.mode == "monitor"'
	lists_cfg
	ce_send "$CE_TMP/lists.cfg" 600 600
	ce_settle
	ce_eq "monitor: victim received" "$(ce_rx_total)" 600
	ce_eq "monitor: deny counted" "$(ce_stat deny)" 200
	dropped=$(($(ce_stat deny) + $(ce_stat rate)))
	[ "$(ce_stat rate)" -gt 100 ] || { echo "rate would-drops $(ce_stat rate)" >&2; false; }
	ce_eq "monitor: would_drop = deny + rate" "$(ce_stat would_drop)" "$dropped"

	ce_rx_reset
	ce_corral mode set enforce
	ce_status | jq -e '.mode == "enforce"'
	ce_send "$CE_TMP/lists.cfg" 600 600
	ce_settle
	ce_eq "enforce: denied source" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "enforce: would_drop unchanged" "$(ce_stat would_drop)" "$dropped"
}
