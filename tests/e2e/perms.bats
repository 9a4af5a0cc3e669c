#!/usr/bin/env bats
# Permissions: the pins corral leaves (maps, links) and its lock are
# readable and writable by root only, and corral run by a user without
# CAP_BPF/CAP_NET_ADMIN fails with a message that says what it needs,
# leaving the loaded state untouched.

export CORRAL_PIN_DIR=/sys/fs/bpf/chd_perm$$
load lib
CE_GEN=chd-pg$$
CE_VIC=chd-pv$$
CHD_LOCK=/run/corral/lock${CORRAL_PIN_DIR//\//_}

setup() {
	command -v setpriv >/dev/null || skip "needs setpriv"
	ce_lab_up 1
	ce_attach cev0 mode xdp-generic
	ce_corral limit add 10.78.0.0/16 rate 5kpps
}

teardown() {
	ce_lab_down
	rm -f "$CHD_LOCK"
}

# run corral in the victim namespace as nobody, without any capability
as_nobody() {
	nsenter --net="/run/netns/$CE_VIC" -- setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all -- "$CORRAL" "$@"
}

# the message must name what is missing, not only "Permission denied"
says_needs_privilege() {
	grep -Eq 'CAP_BPF|CAP_NET_ADMIN|root' <<<"$1" || {
		echo "message does not say corral needs root/CAP_BPF/CAP_NET_ADMIN: $1" >&2
		return 1
	}
}

@test "pinned maps and links are mode 0600 or stricter, pin directory 0700 or stricter" {
	local f mode n=0 links=0
	mode=$(stat -c %a "$CE_PIN")
	(( (8#$mode & 8#077) == 0 )) || { echo "$CE_PIN is mode $mode" >&2; false; }
	for f in "$CE_PIN"/*; do
		mode=$(stat -c %a "$f")
		(( (8#$mode & 8#177) == 0 )) || { echo "$f is mode $mode" >&2; false; }
		ce_eq "owner of $f" "$(stat -c %u "$f")" 0
		n=$((n + 1))
		[[ $(basename "$f") == link* ]] && links=$((links + 1))
	done
	# every map of the data plane and the link were looked at
	[ "$n" -ge 10 ] || { echo "only $n pins in $CE_PIN: $(ls "$CE_PIN")" >&2; false; }
	[ "$links" -ge 1 ] || { echo "no link pinned in $CE_PIN: $(ls "$CE_PIN")" >&2; false; }
}

@test "the writer lock is mode 0600 or stricter" {
	local mode
	[ -e "$CHD_LOCK" ] || { echo "no lock file $CHD_LOCK" >&2; false; }
	mode=$(stat -c %a "$CHD_LOCK")
	(( (8#$mode & 8#177) == 0 )) || { echo "$CHD_LOCK is mode $mode" >&2; false; }
}

@test "an unprivileged user can neither read nor write the pins" {
	local f
	for f in "$CE_PIN" "$CE_PIN"/corral_cfg "$CE_PIN"/corral_policy "$CE_PIN"/link_cev0; do
		run setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$f"
		[ "$status" -ne 0 ] || { echo "nobody can read $f" >&2; false; }
		run setpriv --reuid=65534 --regid=65534 --clear-groups test -w "$f"
		[ "$status" -ne 0 ] || { echo "nobody can write $f" >&2; false; }
	done
	# and bpftool as nobody cannot open the pinned map either
	if command -v bpftool >/dev/null; then
		run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
			bpftool map dump pinned "$CE_PIN/corral_cfg"
		[ "$status" -ne 0 ]
	fi
}

@test "unprivileged 'limit show' fails and says it needs CAP_BPF/CAP_NET_ADMIN (root)" {
	run as_nobody limit show
	echo "exit $status: $output"
	[ "$status" -ne 0 ]
	says_needs_privilege "$output"
}

@test "unprivileged 'limit add' fails, says why, and changes nothing" {
	local before after
	before=$(ce_state)
	run as_nobody limit add 10.79.0.0/16 rate 1kpps
	echo "exit $status: $output"
	[ "$status" -ne 0 ]
	after=$(ce_state)
	ce_eq "state after refused add" "$after" "$before"
	says_needs_privilege "$output"
}

@test "unprivileged 'attach' and 'detach' fail, say why, and leave the device attached" {
	run as_nobody attach dev cev0 mode xdp-generic
	echo "attach: exit $status: $output"
	[ "$status" -ne 0 ]
	local out_attach=$output
	run as_nobody detach dev cev0
	echo "detach: exit $status: $output"
	[ "$status" -ne 0 ]
	local out_detach=$output
	ce_corral -j dev show | jq -e '[.. | objects | select(.ifname? == "cev0")] | length == 1'
	[ -e "$CE_PIN/link_cev0" ]
	says_needs_privilege "$out_attach"
	says_needs_privilege "$out_detach"
}

@test "unprivileged 'status -j' fails with the message on stderr, nothing on stdout" {
	local out err rc=0
	out=$(as_nobody -j status 2>"$CE_TMP/err") || rc=$?
	err=$(cat "$CE_TMP/err")
	echo "exit $rc: stdout [$out] stderr [$err]"
	[ "$rc" -ne 0 ]
	[ -z "$out" ]
	[[ $err == corral:* ]]
	says_needs_privilege "$err"
}
