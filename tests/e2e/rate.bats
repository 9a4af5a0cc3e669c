#!/usr/bin/env bats
# Per-source token buckets under real traffic: one source hammered at 5x its
# limit, 1,000 sources each policed by its own bucket, and /24 aggregation.
# The victim counts what arrives (nftables, netdev ingress); the generator's
# measured run time gives the expected count burst + rate x time.

load lib

setup() { ce_lab_up 1; }
teardown() { ce_lab_down; }

@test "rate: one source at 5x its limit passes burst + rate x time (5%)" {
	local rate=200 burst=20 n=2000 pps=1000 got exp
	ce_attach cev0
	ce_corral limit add default rate ${rate}pps burst $burst
	# a class of its own, so corral's counters hold only this traffic
	ce_corral class add 3 src 10.78.0.0/16
	ce_pkt 10.78.0.1 >"$CE_TMP/one.cfg"
	ce_send "$CE_TMP/one.cfg" $n $pps
	ce_settle
	got=$(ce_rx_src 10.78.0.1)
	exp=$(awk -v b=$burst -v r=$rate -v t="$CE_DUR" 'BEGIN { printf "%d", b + r * t }')
	ce_log "rate: sent $CE_SENT in ${CE_DUR}s, passed $got, expected $exp" \
		"($(awk -v g="$got" -v e="$exp" 'BEGIN { printf "%+.2f%%", (g - e) * 100 / e }'))"
	ce_within "$got" "$exp" 5
	# corral's own counters agree with the victim
	ce_eq "status pass" "$(ce_stat pass 3)" "$got"
	ce_eq "status rate drops" "$(ce_stat rate 3)" $((n - got))
}

@test "rate: 1000 sources over their limit, each policed by its own bucket" {
	local rate=3 burst=5 nsrc=1000 per=40 exp got tracked bad offered
	ce_attach cev0
	ce_corral limit add default rate ${rate}pps burst $burst
	ce_pkts4 0 $nsrc >"$CE_TMP/many.cfg"
	# round robin: each source sends every 1000th packet
	ce_send "$CE_TMP/many.cfg" $((nsrc * per)) 20000
	ce_settle
	offered=$(awk -v n=$per -v t="$CE_DUR" 'BEGIN { printf "%.1f", n / t }')
	awk -v o="$offered" -v r=$rate 'BEGIN { exit !(o > 1.5 * r) }' ||
		skip "generator too slow: $offered pps per source"
	ce_rx_srcs >"$CE_TMP/srcs"
	ce_eq "sources seen" "$(grep -c '^10\.78\.' "$CE_TMP/srcs")" $nsrc
	# a source's packets span (per - 1) of the per rounds of the run; a
	# source passes burst + floor(rate x span): on average half a packet
	# less than burst + rate x span
	exp=$(awk -v b=$burst -v r=$rate -v t="$CE_DUR" -v n=$nsrc -v p=$per \
		'BEGIN { printf "%d", n * (b + r * t * (p - 1) / p - 0.5) }')
	got=$(awk '$1 ~ /^10\.78\./ { s += $2 } END { print s + 0 }' "$CE_TMP/srcs")
	ce_log "1000 sources at $offered pps each (limit $rate): ${CE_DUR}s, passed $got, expected $exp"
	ce_within "$got" "$exp" 5
	# every source individually within 2 packets of its own burst + rate x time
	bad=$(awk -v b=$burst -v r=$rate -v t="$CE_DUR" -v p=$per '$1 ~ /^10\.78\./ {
		e = b + r * t * (p - 1) / p; d = $2 - e; if (d < 0) d = -d; if (d > 2) n++ }
		END { print n + 0 }' "$CE_TMP/srcs")
	ce_eq "sources off their own limit" "$bad" 0
	tracked=$(ce_status | jq '.sources')
	[ "$tracked" -ge $nsrc ] || { echo "tracked sources $tracked < $nsrc" >&2; false; }
}

@test "rate: aggregate v4 24 makes a /24 share one bucket" {
	local rate=100 burst=10 exp g1 g2 g3
	ce_attach cev0
	ce_corral aggregate set v4 24
	ce_corral limit add default rate ${rate}pps burst $burst
	# 10 sources in 10.78.1.0/24, 10 in 10.78.2.0/24, and 10.79.0.1 alone
	{
		ce_pkts4 256 10
		ce_pkts4 512 10
		ce_pkt 10.79.0.1
	} >"$CE_TMP/agg.cfg"
	# 21 packets per round, 100 rounds/s: each /24 offers 1000 pps, the
	# lone source 100 pps (its limit)
	ce_send "$CE_TMP/agg.cfg" 2100 2100
	ce_settle
	ce_rx_srcs >"$CE_TMP/srcs"
	g1=$(awk '$1 ~ /^10\.78\.1\./ { s += $2 } END { print s + 0 }' "$CE_TMP/srcs")
	g2=$(awk '$1 ~ /^10\.78\.2\./ { s += $2 } END { print s + 0 }' "$CE_TMP/srcs")
	g3=$(ce_rx_src 10.79.0.1)
	# a /24's packets span 99 of the 100 rounds
	exp=$(awk -v b=$burst -v r=$rate -v t="$CE_DUR" 'BEGIN { printf "%d", b + r * t * 0.99 }')
	ce_log "aggregate /24: ${CE_DUR}s, 10.78.1.0/24 passed $g1, 10.78.2.0/24 $g2, expected $exp each"
	ce_within "$g1" "$exp" 5
	ce_within "$g2" "$exp" 5
	# the lone source at its limit loses (almost) nothing
	[ "$g3" -ge 95 ] || { echo "10.79.0.1 passed $g3 of 100" >&2; false; }
}
