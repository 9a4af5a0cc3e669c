#!/usr/bin/env bats
# save.bats - "corral save" and "corral flush" through the kernel's maps:
# save > a; flush; -f a; save > b gives a == b and the same -j status apart
# from the counters; flush keeps the devices and clears the policy; random
# policies (from test_save --emit) come back exactly as saved.

load lib

SAVE_EMIT=$CE_TOP/${BUILD:-build}/tests/unit/test_save

setup() {
	export CORRAL_PIN_DIR=/sys/fs/bpf/ce-save-$$
	CE_PIN=$CORRAL_PIN_DIR
	ce_lab_up 2
}

teardown() {
	CE_ATTACHED=(cev0 cev1)
	ce_lab_down
}

# -j status without what traffic and time move
status_static() {
	ce_corral -j status | jq -S 'del(.counters, .totals, .global, .top, .buckets, .heartbeat_age_ms,
		.shed.heartbeat_age_ms, .syn.dynamic, .syn.counters, .controller, .uptime_s) |
		del(.. | .started_ms_ago?)'
}

@test "save: save, flush, restore gives the same file and the same status" {
	ce_attach cev0
	ce_attach cev1 mode tc egress
	cat >"$CE_TMP/policy" <<-'END'
		mode set monitor malformed pass
		aggregate set v4 24 v6 48 class on
		class default 5
		class add 0 proto tcp dport 22
		class add 1 proto udp dport 5000-5100
		class add 6 src 198.51.100.0/24
		class add 2 dscp 46
		limit add default rate 1kpps burst 200 bytes 10mbit
		limit add egress rate 5kpps
		limit add 10.78.0.0/16 rate 100pps burst 20
		limit add fd77:78::/32 bytes 800kbit bburst 64kb
		allow add 10.77.0.2
		deny add 203.0.113.0/24
		deny add fd77:dead::/48
		shed tune epoch 30s timeout 3s
		shed set 5.25 scope all
		syn set ports 80,443,8000-8009 rate 2kpps burst 300 herd on window 5s
	END
	ce_corral -f "$CE_TMP/policy"
	ce_corral save >"$CE_TMP/a"
	cat "$CE_TMP/a" >&3
	status_static >"$CE_TMP/sa"
	# every line of the policy is in the saved text, in some spelling
	grep -qx 'attach dev cev1 mode tc egress' "$CE_TMP/a"
	grep -qx 'syn set ports 80,443,8000-8009 rate 2000pps burst 300 herd on window 5s' "$CE_TMP/a"
	grep -qx 'limit add fd77:78::/32 bytes 800000bit bburst 65536' "$CE_TMP/a"
	[ "$(wc -l <"$CE_TMP/a")" -eq 19 ] || { echo "saved $(wc -l <"$CE_TMP/a") lines" >&2; false; }

	ce_corral flush
	ce_corral save >"$CE_TMP/f"
	# devices stay; everything else is the default
	ce_eq "devices after flush" "$(ce_corral -j dev show | jq -c '[.devices[].ifname] | sort')" '["cev0","cev1"]'
	ce_eq "deny after flush" "$(ce_corral -j deny show | jq -c .deny)" '[]'
	ce_eq "default limit after flush" "$(ce_corral -j limit show | jq -c .default)" '{}'
	ce_eq "syn after flush" "$(ce_corral -j syn show | jq .syn.on)" false
	grep -qx 'shed off' "$CE_TMP/f"
	grep -qx 'mode set enforce malformed drop' "$CE_TMP/f"
	[ "$(wc -l <"$CE_TMP/f")" -eq 8 ] || { cat "$CE_TMP/f" >&2; false; }

	ce_corral -f "$CE_TMP/a"
	ce_corral save >"$CE_TMP/b"
	diff "$CE_TMP/a" "$CE_TMP/b"
	status_static >"$CE_TMP/sb"
	diff "$CE_TMP/sa" "$CE_TMP/sb"
	# JSON save holds the same lines
	ce_eq "JSON lines" "$(ce_corral -j save | jq -r '.lines[]')" "$(cat "$CE_TMP/a")"
}

@test "save: flush keeps traffic flowing and devices attached; restore enforces again" {
	ce_attach cev0
	printf 'deny add 10.78.9.0/24\nlimit add default rate 1pps burst 50\n' >"$CE_TMP/p"
	ce_corral -f "$CE_TMP/p"
	ce_corral save >"$CE_TMP/a"
	{ ce_pkt 10.78.9.1; ce_pkt 10.78.7.1; } >"$CE_TMP/t.cfg"
	ce_corral flush
	ce_send "$CE_TMP/t.cfg" 200 1000
	ce_settle
	ce_eq "after flush: denied source passes" "$(ce_rx_src 10.78.9.1)" 100
	ce_eq "after flush: no limit" "$(ce_rx_src 10.78.7.1)" 100
	ce_corral -f "$CE_TMP/a"
	ce_rx_reset
	{ ce_pkt 10.78.9.1; ce_pkt 10.78.7.2; } >"$CE_TMP/t2.cfg"
	ce_send "$CE_TMP/t2.cfg" 200 1000
	ce_settle
	ce_eq "restored: denied" "$(ce_rx_src 10.78.9.1)" 0
	ce_eq "restored: limited to the burst" "$(ce_rx_src 10.78.7.2)" 50
}

@test "save: 40 random policies come back exactly through the maps" {
	[ -x "$SAVE_EMIT" ] || skip "no $SAVE_EMIT (run make)"
	ce_attach cev0
	mkdir "$CE_TMP/pol"
	"$SAVE_EMIT" --emit 40 "$CE_TMP/pol"
	for f in "$CE_TMP"/pol/p*; do
		ce_corral flush
		ce_corral -f "$f" || { cat "$f" >&2; false; }
		ce_corral save | grep -v '^attach ' >"$f.saved"
		diff "$f" "$f.saved" || { echo "round trip of $f" >&2; false; }
	done
	ce_log "save: 40 random policies applied, saved and compared through the maps"
}

@test "save and flush: --help, bad words, not loaded" {
	run ce_corral save help
	[ "$status" -eq 0 ] && [[ $output == *"Usage: corral save"* ]]
	run ce_corral flush --help
	[ "$status" -eq 0 ] && [[ $output == *"Usage: corral flush"* ]]
	run ce_corral save now
	[ "$status" -eq 2 ] && [[ $output == *'save: unknown argument "now"'* ]]
	run ce_corral flush all
	[ "$status" -eq 2 ] && [[ $output == *'flush: unknown argument "all"'* ]]
	run ce_corral save
	[ "$status" -eq 1 ] && [[ $output == *"not loaded"* ]]
	run ce_corral flush
	[ "$status" -eq 1 ] && [[ $output == *"not loaded"* ]]
}
