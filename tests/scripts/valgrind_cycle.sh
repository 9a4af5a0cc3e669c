#!/bin/bash
# A whole corral command cycle under valgrind, as TAP: attach on a veth in
# a namespace of its own, every configuration object (add, del, show, -j),
# a batch file, status, refused commands (their error paths), detach. Each
# command must exit as expected with no valgrind error and no definitely
# lost block (--errors-for-leak-kinds=definite --error-exitcode=3).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
CORRAL=$(pwd)/$BUILD/corral
NS=chd-vg$$
export CORRAL_PIN_DIR=/sys/fs/bpf/chd_vg$$
LOCK=/run/corral/lock${CORRAL_PIN_DIR//\//_}
tmp=$(mktemp -d /tmp/chd-vg.XXXXXX)

cleanup() {
	if [ -e "$CORRAL_PIN_DIR" ]; then
		nsenter --net="/run/netns/$NS" -- "$CORRAL" detach dev chdv0 >/dev/null 2>&1
		rm -rf "$CORRAL_PIN_DIR"
	fi
	ip netns del "$NS" 2>/dev/null
	rm -f "$LOCK"
	rm -rf "$tmp"
}
trap cleanup EXIT

skip_all() {
	echo "1..1"
	echo "ok 1 # SKIP $1"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
command -v valgrind >/dev/null || skip_all "needs valgrind"
[ -x "$CORRAL" ] || skip_all "no $CORRAL (run make)"
# an ASan build (SANITIZE=1) cannot run under valgrind; the sanitizers
# check that build instead
if nm "$CORRAL" 2>/dev/null | grep -q __asan_init; then
	skip_all "$CORRAL is built with ASan"
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || skip_all "no bpffs"

ip netns add "$NS" || skip_all "cannot create namespace $NS"
ip -n "$NS" link add chdv0 type veth peer name chdg0
ip -n "$NS" link set chdv0 up
ip -n "$NS" link set chdg0 up

# valgrind's bpf() wrapper reads attr fields that libbpf leaves out of the
# size it passes (flags of GET_NEXT_KEY, prog_ifindex and
# expected_attach_type of map creation), and a NULL key asks for the first
# key. libbpf's netlink code also branches on bytes of the kernel's error
# reply (a clsact hook that exists on re-attach, a tc hook that is already
# gone on detach) that valgrind does not see recvmsg write. Only those are
# suppressed, and only under libbpf: an uninitialised
# key or value corral hands to the kernel is still an error.
cat >"$tmp/libbpf.supp" <<'EOF'
{
   libbpf-attr-flags
   Memcheck:Param
   bpf(attr->flags)
   fun:syscall
   obj:*/libbpf.so*
}
{
   libbpf-attr-prog_ifindex
   Memcheck:Param
   bpf(attr->prog_ifindex)
   fun:syscall
   obj:*/libbpf.so*
}
{
   libbpf-attr-expected_attach_type
   Memcheck:Param
   bpf(attr->expected_attach_type)
   fun:syscall
   obj:*/libbpf.so*
}
{
   libbpf-netlink-error-reply
   Memcheck:Cond
   obj:*/libbpf.so*
   ...
   fun:bpf_tc_*
}
{
   libbpf-get-next-key-first
   Memcheck:Param
   bpf(attr->key)
   fun:syscall
   fun:bpf_map_get_next_key
}
EOF

cat >"$tmp/batch.conf" <<'EOF'
# a batch applied as one change
limit add 10.80.0.0/16 rate 2kpps burst 20
class add 1 proto tcp dport 22
deny add fd77:dead::/32
allow del 10.77.0.0/24
EOF

# expected-exit command...
steps=(
	"0 attach dev chdv0 mode xdp-generic"
	"0 limit add default rate 10kpps"
	"0 limit add 10.78.0.0/16 rate 5kpps burst 50 bytes 10mbit bburst 64kb"
	"0 limit add fd77:1::/48 rate 1kpps"
	"0 limit add egress rate 100kpps"
	"0 limit show"
	"0 -j limit show"
	"0 class add 3 proto udp dport 1000-2000"
	"0 class add 2 src 10.79.0.0/16"
	"0 class add 5 dscp 46"
	"0 class default 6"
	"0 -p class show"
	"0 allow add 10.77.0.0/24"
	"0 deny add 10.78.9.0/24"
	"0 allow show"
	"0 -j deny show"
	"0 shed set 4.5 scope all"
	"0 -j shed show"
	"0 shed tune epoch 5s timeout 500ms"
	"0 shed off"
	"0 mode set monitor malformed pass"
	"0 mode show"
	"0 aggregate set v4 24 v6 48 class on"
	"0 aggregate show"
	"0 syn set ports 80,443 rate 100pps"
	"0 syn show"
	"0 syn off"
	"0 -f $tmp/batch.conf"
	"0 status"
	"0 -j status"
	"0 status dev chdv0"
	"0 dev show"
	"0 attach dev chdv0 mode xdp-generic"
	"0 limit del 10.78.0.0/16"
	"0 class del 3 proto udp dport 1000-2000"
	"1 limit del 10.99.0.0/16"
	"2 limit add 10.0.0.1/8 rate 5kpps"
	"2 limit add 10.0.0.0/8 rate fast"
	"2 class add 9 dscp 1"
	"1 -f $tmp/missing.conf"
	"2 nosuchobject"
	"1 detach dev nosuchdev"
	"0 detach dev chdv0"
	"1 limit show"
)

echo "1..$((${#steps[@]} + 1))"
n=0
for s in "${steps[@]}"; do
	n=$((n + 1))
	want=${s%% *}
	cmd=${s#* }
	log=$tmp/vg.$n
	# shellcheck disable=SC2086
	nsenter --net="/run/netns/$NS" -- valgrind -q --leak-check=full \
		--suppressions="$tmp/libbpf.supp" --errors-for-leak-kinds=definite --error-exitcode=3 --log-file="$log" \
		"$CORRAL" $cmd >"$tmp/out.$n" 2>&1
	rc=$?
	# valgrind's own notes ("--PID-- WARNING: unhandled eBPF command") are
	# not errors; every error line starts "==PID=="
	if [ "$rc" -eq "$want" ] && ! grep -qE '^==[0-9]+==' "$log"; then
		echo "ok $n - corral $cmd (exit $rc, valgrind clean)"
	else
		echo "not ok $n - corral $cmd (exit $rc, want $want)"
		sed 's/^/#   /' "$tmp/out.$n" | head -5
		grep -vE '^==[0-9]+== *$' "$log" | head -30 | sed 's/^/#   /'
	fi
done
n=$((n + 1))
if [ ! -e "$CORRAL_PIN_DIR" ]; then
	echo "ok $n - nothing left pinned after the cycle"
else
	echo "not ok $n - left pinned: $(ls "$CORRAL_PIN_DIR")"
fi
