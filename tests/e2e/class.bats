#!/usr/bin/env bats
# Classes (by protocol/port, by source prefix) and the shed level, with real
# traffic: a shed level drops whole classes, and a fractional level drops a
# fraction of the *sources* of one class, each source all or nothing.

load lib

setup() { ce_lab_up 1; }
teardown() { ce_lab_down; }

@test "class: by protocol and port, checked by counters and by shedding" {
	ce_attach cev0
	ce_corral class add 1 proto udp dport 53
	ce_corral class add 6 proto udp dport 1000-2000
	ce_corral class add 2 proto tcp dport 443
	{
		ce_pkt 10.78.0.1 dport=53
		ce_pkt 10.78.0.1 dport=1500
		ce_pkt 10.78.0.1 dport=9
		ce_pkt 10.78.0.1 proto=ack dport=443
	} >"$CE_TMP/ports.cfg"
	ce_send "$CE_TMP/ports.cfg" 400 2000
	ce_settle
	ce_eq "class 1 pass" "$(ce_stat pass 1)" 100
	ce_eq "class 6 pass" "$(ce_stat pass 6)" 100
	ce_eq "class 2 pass" "$(ce_stat pass 2)" 100
	ce_eq "default class 4 pass" "$(ce_stat pass 4)" 100
	ce_eq "victim total" "$(ce_rx_total)" 400

	# shed level 4: class 6 is dropped, classes 1, 2 and 4 pass
	ce_rx_reset
	ce_corral shed set 4 scope all
	ce_send "$CE_TMP/ports.cfg" 400 2000
	ce_settle
	ce_eq "udp 1500 (class 6) received" "$(ce_rx_port udp 1500)" 0
	ce_eq "udp 53 (class 1) received" "$(ce_rx_port udp 53)" 100
	ce_eq "udp 9 (class 4) received" "$(ce_rx_port udp 9)" 100
	ce_eq "tcp 443 (class 2) received" "$(ce_rx_port tcp 443)" 100
	ce_eq "class 6 shed" "$(ce_stat shed 6)" 100

	# deleting the rule moves port 1500 back to the default class
	ce_rx_reset
	ce_corral class del 6 proto udp dport 1000-2000
	ce_send "$CE_TMP/ports.cfg" 400 2000
	ce_settle
	ce_eq "udp 1500 after class del" "$(ce_rx_port udp 1500)" 100
}

@test "class: by source prefix, and the default class" {
	ce_attach cev0
	ce_corral class add 2 src 10.78.5.0/24
	ce_corral class add 7 src 10.78.6.0/24
	ce_corral class default 5
	{
		ce_pkt 10.78.5.1
		ce_pkt 10.78.6.1
		ce_pkt 10.78.7.1
	} >"$CE_TMP/pfx.cfg"
	ce_send "$CE_TMP/pfx.cfg" 300 2000
	ce_settle
	ce_eq "class 2 pass" "$(ce_stat pass 2)" 100
	ce_eq "class 7 pass" "$(ce_stat pass 7)" 100
	ce_eq "default class 5 pass" "$(ce_stat pass 5)" 100

	ce_rx_reset
	ce_corral shed set 4
	ce_send "$CE_TMP/pfx.cfg" 300 2000
	ce_settle
	ce_eq "10.78.5.1 (class 2)" "$(ce_rx_src 10.78.5.1)" 100
	ce_eq "10.78.6.1 (class 7)" "$(ce_rx_src 10.78.6.1)" 0
	ce_eq "10.78.7.1 (class 5)" "$(ce_rx_src 10.78.7.1)" 0

	ce_rx_reset
	ce_corral shed off
	ce_send "$CE_TMP/pfx.cfg" 300 2000
	ce_settle
	ce_eq "after shed off" "$(ce_rx_total)" 300
}

@test "class: shed L.F drops a fraction F of class-L sources, each whole" {
	local nsrc=1000 per=4 frac=25 dropped mixed share
	ce_attach cev0
	ce_corral class add 3 proto udp dport 53
	ce_corral class add 5 proto udp dport 5000
	ce_corral shed set 4.$frac
	{
		ce_pkts4 0 $nsrc
		ce_pkt 10.79.1.1 dport=53
		ce_pkt 10.79.1.2 dport=5000
	} >"$CE_TMP/shed.cfg"
	# the shed window turns once per epoch (60 s by default), moving 0.3% of
	# the sources in or out each 0.1 s; with a one-day turn it stands
	# still for this run
	ce_corral shed tune epoch 86400s
	ce_send "$CE_TMP/shed.cfg" $(((nsrc + 2) * per)) 20000
	ce_settle
	ce_rx_srcs >"$CE_TMP/srcs"
	# sources that got nothing, and sources that got some but not all
	dropped=$(awk -v n=$nsrc -v p=$per 'BEGIN { for (i = 0; i < n; i++) {
			a[sprintf("10.78.%d.%d", int(i / 256), i % 256)] = 0 } }
		($1 in a) { a[$1] = $2 }
		END { for (k in a) if (a[k] == 0) d++; print d + 0 }' "$CE_TMP/srcs")
	mixed=$(awk -v p=$per '$1 ~ /^10\.78\./ && $2 != p { m++ } END { print m + 0 }' \
		"$CE_TMP/srcs")
	share=$(awk -v d="$dropped" -v n=$nsrc 'BEGIN { printf "%.1f", d * 100 / n }')
	ce_log "shed 4.$frac: $dropped of $nsrc class-4 sources dropped ($share%), $mixed partial"
	ce_eq "sources partly dropped" "$mixed" 0
	# binomial sd for n=1000, p=0.25 is 1.4 points: allow 5 points
	ce_within "$dropped" $((nsrc * frac / 100)) 20
	ce_eq "class 3 source" "$(ce_rx_src 10.79.1.1)" $per
	ce_eq "class 5 source" "$(ce_rx_src 10.79.1.2)" 0
	ce_eq "shed counter" "$(ce_stat shed)" $((dropped * per + per))
}
