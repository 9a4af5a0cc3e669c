#!/usr/bin/env bats
# IPv6 sources (buckets keyed on the /64 by default, lists, classes) and
# VLAN-tagged frames (one tag and two), with real traffic.

load lib

setup() { ce_lab_up 1; }
teardown() { ce_lab_down; }

@test "ipv6: deny, class by prefix, and per-/64 buckets" {
	local rate=100 burst=10 exp a b c
	ce_attach cev0
	ce_corral limit add default rate ${rate}pps burst $burst
	ce_corral deny add fd77:78:0:9::/64
	ce_corral allow add fd77:78:0:8::/64
	{
		ce_pkt fd77:78::1          # /64 shared by ::1 and ::2
		ce_pkt fd77:78::2
		ce_pkt fd77:78:0:1::1      # its own /64
		ce_pkt fd77:78:0:9::1      # denied
		ce_pkt fd77:78:0:8::1      # allowed
	} >"$CE_TMP/v6.cfg"
	# 5 packets per round, 500 rounds/s: each source offers 500 pps
	ce_send "$CE_TMP/v6.cfg" 5000 2500
	ce_settle
	a=$(ce_rx_src fd77:78::1)
	b=$(ce_rx_src fd77:78::2)
	c=$(ce_rx_src fd77:78:0:1::1)
	exp=$(awk -v b=$burst -v r=$rate -v t="$CE_DUR" 'BEGIN { printf "%d", b + r * t }')
	ce_log "ipv6: ${CE_DUR}s, fd77:78::/64 passed $((a + b)), fd77:78:0:1::/64 $c, expected $exp each"
	ce_within $((a + b)) "$exp" 5
	ce_within "$c" "$exp" 5
	ce_eq "denied /64" "$(ce_rx_src fd77:78:0:9::1)" 0
	ce_eq "allowed /64" "$(ce_rx_src fd77:78:0:8::1)" 1000
	ce_eq "status deny" "$(ce_stat deny)" 1000
}

@test "ipv6: aggregate v6 128 gives each address its own bucket" {
	local a b
	ce_attach cev0
	ce_corral aggregate set v6 128
	ce_corral limit add default rate 200pps burst 10
	{
		ce_pkt fd77:78::1
		ce_pkt fd77:78::2
	} >"$CE_TMP/v6.cfg"
	ce_send "$CE_TMP/v6.cfg" 4000 4000
	ce_settle
	a=$(ce_rx_src fd77:78::1)
	b=$(ce_rx_src fd77:78::2)
	exp=$(awk -v t="$CE_DUR" 'BEGIN { printf "%d", 10 + 200 * t }')
	ce_log "ipv6 /128: ${CE_DUR}s, fd77:78::1 passed $a, fd77:78::2 $b, expected $exp each"
	ce_within "$a" "$exp" 5
	ce_within "$b" "$exp" 5
}

@test "ipv6: class by prefix and shed" {
	ce_attach cev0
	ce_corral class add 1 src fd77:78:0:1::/64
	ce_corral class add 6 src fd77:78:0:6::/64
	ce_corral shed set 3
	{
		ce_pkt fd77:78:0:1::1
		ce_pkt fd77:78:0:6::1
	} >"$CE_TMP/v6.cfg"
	ce_send "$CE_TMP/v6.cfg" 200 1000
	ce_settle
	ce_eq "class 1 v6 source" "$(ce_rx_src fd77:78:0:1::1)" 100
	ce_eq "class 6 v6 source" "$(ce_rx_src fd77:78:0:6::1)" 0
	ce_eq "class 6 shed" "$(ce_stat shed 6)" 100
}

@test "vlan: tagged frames are parsed: deny, limits and classes apply" {
	local rate=200 burst=10 got exp
	ce_attach cev0
	ce_corral limit add default rate ${rate}pps burst $burst
	ce_corral deny add 10.78.9.0/24
	ce_corral class add 7 src 10.78.6.0/24
	ce_corral shed set 6
	{
		ce_pkt 10.78.9.1 vlan=100      # denied
		ce_pkt 10.78.7.1 vlan=100      # limited
		ce_pkt 10.78.6.1 vlan=100      # class 7: shed
	} >"$CE_TMP/vlan.cfg"
	ce_send "$CE_TMP/vlan.cfg" 4500 4500
	ce_settle
	got=$(ce_rx_src 10.78.7.1)
	exp=$(awk -v b=$burst -v r=$rate -v t="$CE_DUR" 'BEGIN { printf "%d", b + r * t }')
	ce_log "vlan: ${CE_DUR}s, tagged source passed $got, expected $exp"
	ce_eq "tagged denied source" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "tagged class 7 source" "$(ce_rx_src 10.78.6.1)" 0
	ce_within "$got" "$exp" 5
	ce_eq "status deny" "$(ce_stat deny)" 1500
	ce_eq "status shed class 7" "$(ce_stat shed 7)" 1500
}

@test "vlan: double-tagged (802.1ad + 802.1Q) frames are parsed" {
	ce_attach cev0
	ce_corral deny add 10.78.9.0/24
	{
		ce_pkt 10.78.9.1 vlan=100.200
		ce_pkt 10.78.7.1 vlan=100.200
	} >"$CE_TMP/qinq.cfg"
	ce_send "$CE_TMP/qinq.cfg" 200 1000
	ce_settle
	# the victim only strips the outer tag: what arrives is still tagged
	ce_eq "double-tagged frames received" "$(ce_rx_qinq)" 100
	ce_eq "status deny" "$(ce_stat deny)" 100
	ce_eq "status pass" "$(ce_stat pass)" 100
}
