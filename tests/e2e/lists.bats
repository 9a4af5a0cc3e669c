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

scrape() { # port
	nsenter --net="/run/netns/$CE_VIC" bash -c \
		"exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3" |
		tr -d '\r' | sed '1,/^$/d'
}

@test "lists: hit counters per list entry and limit rule, in show and /metrics; delete resets" {
	local lim hits
	ce_attach cev0
	ce_corral deny add 10.78.9.0/24
	ce_corral deny add 10.78.8.0/23 timeout 1h
	ce_corral allow add 10.78.8.0/24
	ce_corral limit add 10.78.7.0/24 rate 10pps burst 5
	ce_corral limit add 10.79.0.0/16 rate 10pps
	lists_cfg
	ce_send "$CE_TMP/lists.cfg" 600 600
	ce_settle
	lim=$(ce_rx_src 10.78.7.1)
	hits=$(ce_corral -j deny show)
	ce_log "hits: deny $(jq -c '.hits["10.78.9.0/24"]' <<<"$hits"), limit received $lim/200"
	# counted by corral per rule, and by the receiver
	ce_eq "denied source received" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "deny /24 packets" "$(jq '.hits["10.78.9.0/24"].packets' <<<"$hits")" 200
	ce_eq "deny /24 dropped" "$(jq '.hits["10.78.9.0/24"].dropped' <<<"$hits")" 200
	ce_eq "deny /24 bytes" "$(jq '.hits["10.78.9.0/24"].bytes' <<<"$hits")" \
		"$(ce_status | jq '.totals.deny.bytes')"
	jq -e '.hits["10.78.9.0/24"].last_ms_ago | numbers' <<<"$hits"
	# the enclosing deny /23 decided nothing: the longer rules did
	ce_eq "deny /23 packets" "$(jq '.hits["10.78.8.0/23"].packets' <<<"$hits")" 0
	jq -e '.hits["10.78.8.0/23"].last_ms_ago == null' <<<"$hits"
	ce_eq "allow /24 packets" "$(ce_corral -j allow show | jq '.hits["10.78.8.0/24"].packets')" \
		"$(ce_rx_src 10.78.8.1)"
	ce_eq "allow source received" "$(ce_rx_src 10.78.8.1)" 200
	ce_corral -j limit show | jq -c '.limits[]' >"$CE_TMP/l.json"
	ce_eq "limit /24 packets" "$(jq -s '.[] | select(.prefix == "10.78.7.0/24") | .hits.packets' "$CE_TMP/l.json")" 200
	ce_eq "limit /24 dropped + received" \
		"$(($(jq -s '.[] | select(.prefix == "10.78.7.0/24") | .hits.dropped' "$CE_TMP/l.json") + lim))" 200
	ce_eq "unused limit" "$(jq -s '.[] | select(.prefix == "10.79.0.0/16") | .hits.packets' "$CE_TMP/l.json")" 0
	# text
	ce_corral deny show | grep -qx '10.78.9.0/24 packets 200 bytes [0-9]*'
	ce_corral limit show | grep -q '^10.78.7.0/24 rate 10pps burst 5 packets 200 bytes [0-9]* dropped [0-9]*$'
	# a counter entry for each rule that was hit, none for the others
	ce_eq "counter entries" "$(bpftool -j map dump pinned "$CE_PIN/corral_hits" | jq length)" 3

	# /metrics
	printf 'controller target cpu 95%%\n' >"$CE_TMP/c.conf"
	export CORRAL_RUN_DIR=$CE_TMP
	nsenter --net="/run/netns/$CE_VIC" "$CORRAL" run -c "$CE_TMP/c.conf" --metrics 127.0.0.1:19481 \
		>"$CE_TMP/run.log" 2>&1 3>&- &
	CE_BG_PIDS+=("$!")
	for _ in $(seq 50); do
		scrape 19481 >"$CE_TMP/m.txt" 2>/dev/null && grep -q '^corral_rules_counted' "$CE_TMP/m.txt" && break
		sleep 0.1
	done
	grep -qx 'corral_rule_packets_total{rule="deny",prefix="10.78.9.0/24"} 200' "$CE_TMP/m.txt"
	grep -qx 'corral_rule_dropped_total{rule="deny",prefix="10.78.9.0/24"} 200' "$CE_TMP/m.txt"
	grep -qx 'corral_rule_packets_total{rule="allow",prefix="10.78.8.0/24"} 200' "$CE_TMP/m.txt"
	grep -qx 'corral_rule_packets_total{rule="limit",prefix="10.78.7.0/24"} 200' "$CE_TMP/m.txt"
	grep -qx 'corral_rules_counted 3' "$CE_TMP/m.txt"
	# rules without hits make no series
	! grep -q 'prefix="10.79.0.0/16"' "$CE_TMP/m.txt"
	if command -v promtool >/dev/null; then
		promtool check metrics <"$CE_TMP/m.txt"
	fi

	# delete and add again: counters start over; deleted rules leave no entry
	ce_corral deny del 10.78.9.0/24
	ce_corral limit del 10.79.0.0/16
	ce_eq "counter entries after del" "$(bpftool -j map dump pinned "$CE_PIN/corral_hits" | jq length)" 2
	ce_corral deny add 10.78.9.0/24
	ce_eq "re-added deny packets" "$(ce_corral -j deny show | jq '.hits["10.78.9.0/24"].packets')" 0
	ce_rx_reset
	{ ce_pkt 10.78.9.1; } >"$CE_TMP/one.cfg"
	ce_send "$CE_TMP/one.cfg" 30 1000
	ce_settle
	ce_eq "re-added deny counts anew" "$(ce_corral -j deny show | jq '.hits["10.78.9.0/24"].packets')" 30
	ce_eq "re-added deny: receiver" "$(ce_rx_src 10.78.9.1)" 0
	# changing a rule keeps its counters
	ce_corral limit add 10.78.7.0/24 rate 20pps
	ce_eq "changed limit keeps counting" \
		"$(ce_corral -j limit show | jq '.limits[] | select(.prefix == "10.78.7.0/24") | .hits.packets')" 200
}
