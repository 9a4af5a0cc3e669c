#!/usr/bin/env bats
# Error paths of the CLI: each bad command exits non-zero, names the bad
# word on stderr ("corral: ..."), and changes nothing (every "show" and the
# status are compared before and after). A batch file with one bad line
# applies nothing.

load lib

setup() {
	ce_lab_up 1
	ip -n "$CE_VIC" link add cebr0 type bridge
	ip -n "$CE_VIC" link set cebr0 up
}
teardown() { ce_lab_down; }

# a loaded corral with some state, so that "unchanged" means something
populate() {
	ce_attach cev0
	ce_corral limit add default rate 100pps burst 10
	ce_corral limit add 10.78.0.0/16 rate 50pps
	ce_corral class add 2 proto udp dport 53
	ce_corral class add 3 src 10.78.5.0/24
	ce_corral allow add 10.78.8.0/24
	ce_corral deny add 10.78.9.0/24
	ce_corral shed set 6.5
	ce_state >"$CE_TMP/before"
}

# expect_error WORD CORRAL-ARGS...: fails with a "corral: " message naming
# WORD, and the state is what populate() left
expect_error() {
	local word=$1
	shift
	run ce_corral "$@"
	if [ "$status" -eq 0 ]; then
		echo "corral $*: exit 0, expected an error" >&2
		return 1
	fi
	if [[ $output != corral:* ]] || [[ $output != *"$word"* ]]; then
		echo "corral $*: message does not name \"$word\": $output" >&2
		return 1
	fi
	ce_state >"$CE_TMP/after"
	if ! diff -u "$CE_TMP/before" "$CE_TMP/after" >&2; then
		echo "corral $*: state changed" >&2
		return 1
	fi
}

@test "errors: configuration without a loaded corral says so" {
	run ce_corral limit add default rate 10pps
	[ "$status" -ne 0 ]
	[[ $output == *"not loaded"* ]] || { echo "message: $output" >&2; false; }
	run ce_corral status
	[ "$status" -ne 0 ]
	[ ! -e "$CE_PIN" ] || { echo "$CE_PIN created by a failed command" >&2; false; }
}

@test "errors: bad prefixes" {
	populate
	expect_error 300.1.1.1/33 limit add 300.1.1.1/33 rate 10pps
	expect_error 10.0.0.0/33 deny add 10.0.0.0/33
	expect_error 1.2.3 deny add 1.2.3
	expect_error fd77::/129 allow add fd77::/129
	expect_error fd77::zz/64 allow add fd77::zz/64
	expect_error 10.0.0.1/24 class add 3 src 10.0.0.1/24
}

@test "errors: bad rates, sizes and limits" {
	populate
	expect_error 10xps limit add default rate 10xps
	expect_error -5pps limit add default rate -5pps
	expect_error 10furlong limit add default bytes 10furlong
	expect_error 1zb limit add default rate 10pps bburst 1zb
	expect_error abc limit add default rate 10pps burst abc
	expect_error 99999999999999999999pps limit add default rate 99999999999999999999pps
	expect_error frob limit frob
	expect_error sideways limit add default rate 10pps sideways 3
}

@test "errors: bad classes, protocols and ports" {
	populate
	expect_error 8 class add 8 proto tcp
	expect_error sctp class add 3 proto sctp
	expect_error 70000 class add 3 proto tcp dport 70000
	expect_error 90-80 class add 3 proto udp dport 90-80
	expect_error 64 class add 3 dscp 64
	expect_error 9 class default 9
	expect_error nope class add 3 nope 1
}

@test "errors: bad mode, aggregate and shed words" {
	populate
	expect_error turbo mode set turbo
	expect_error 33 aggregate set v4 33
	expect_error 129 aggregate set v6 129
	expect_error 8 shed set 8
	expect_error 5.12345 shed set 5.12345
	expect_error 5x shed set 5x
	expect_error some shed set 5 scope some
	expect_error 86401s shed tune epoch 86401s
	expect_error frob frob show
}

@test "errors: allow and deny of the same prefix conflict" {
	populate
	expect_error 10.78.8.0/24 deny add 10.78.8.0/24
	expect_error 10.78.9.0/24 allow add 10.78.9.0/24
}

@test "errors: attach and detach" {
	populate
	expect_error nosuch0 attach dev nosuch0
	expect_error turbo attach dev cev0 mode turbo
	expect_error nosuch0 detach dev nosuch0
	expect_error nosuch0 status dev nosuch0
	# native XDP asked for by name where the driver has none: a clear error,
	# nothing attached (with no mode named, attach falls back: attach.bats)
	run ce_corral attach dev cebr0 mode xdp
	[ "$status" -ne 0 ]
	[[ $output == *cebr0* && $output == *native* ]] || { echo "message: $output" >&2; false; }
	ce_eq "xdp on cebr0" "$(ip -n "$CE_VIC" -j -d link show cebr0 | jq -r '.[0].xdp.mode // "none"')" none
	ce_state >"$CE_TMP/after"
	diff -u "$CE_TMP/before" "$CE_TMP/after"
	# a device that is not attached
	run ce_corral detach dev cebr0
	[ "$status" -ne 0 ]
	[[ $output == *cebr0* ]] || { echo "message: $output" >&2; false; }
}

@test "errors: a batch file with one bad line applies nothing" {
	populate
	cat >"$CE_TMP/batch" <<-'EOF'
	# a comment, then a blank line

	limit add 10.79.0.0/16 rate 20pps burst 4
	class add 5 proto tcp dport 8000-8080
	deny add 10.79.9.0/24
	class add 4 proto udp dport 99999
	shed off
	mode set monitor
	EOF
	run ce_corral -f "$CE_TMP/batch"
	[ "$status" -ne 0 ]
	[[ $output == *'"99999"'* ]] || { echo "message: $output" >&2; false; }
	ce_state >"$CE_TMP/after"
	diff -u "$CE_TMP/before" "$CE_TMP/after"

	# the same file with the line fixed applies every line
	sed -i 's/dport 99999/dport 9999/' "$CE_TMP/batch"
	ce_corral -f "$CE_TMP/batch"
	ce_status | jq -e '.mode == "monitor" and .shed.on == false'
	ce_corral -j deny show | jq -e '.deny | index("10.79.9.0/24") != null'
	ce_corral -j limit show | jq -e '[.limits[] | select(.prefix == "10.79.0.0/16")] | length == 1'
	ce_corral -j class show | jq -e '[.ports[] | select(.class == 5)] | length == 1'

	# traffic agrees: 10.79.9.0/24 is denied (monitor mode: counted only)
	ce_corral mode set enforce
	ce_pkt 10.79.9.1 >"$CE_TMP/d.cfg"
	ce_send "$CE_TMP/d.cfg" 50 1000
	ce_settle
	ce_eq "batch deny applied" "$(ce_rx_src 10.79.9.1)" 0
}
