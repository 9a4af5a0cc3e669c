#!/usr/bin/env bats
# The reject action under real traffic. Class 5 (TCP port 8080) is shed
# (shed set 4) with action reject: a client's connect() to a listening port
# fails with "connection refused" (corral's RST) instead of timing out, on
# every attach mode; under a spoofed SYN flood the replies that reach the
# flooding side, counted there by nftables, stay within the reply budget
# burst + rate x elapsed, and corral's reply counters agree with that count.

load lib

PORT=8080
PY=$(command -v python3)

setup() { ce_lab_up 1; }
teardown() { ce_lab_down; }

# a listener on the victim's PORT, at most 60 s; waits until it listens
re_listen() {
	ip netns exec "$CE_VIC" timeout 60 "$PY" -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", '"$PORT"'))
s.listen(64)
print("up", flush=True)
while True:
    c, _ = s.accept()
    c.close()
' >"$CE_TMP/listen.out" 2>&1 &
	CE_BG_PIDS+=($!)
	ce_wait_up "$CE_TMP/listen.out"
}

# one connect() from the generator's stack: ok | refused | timeout | error ...
re_connect() {
	ip netns exec "$CE_GEN" timeout 20 "$PY" -c '
import socket
s = socket.socket()
s.settimeout('"${1:-5}"')
try:
    s.connect(("10.77.0.1", '"$PORT"'))
    print("ok")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error", e)
'
}

re_global() { ce_status | jq -r ".global.$1"; }

# count TCP RSTs arriving at the generator (what corral sends back)
re_gen_counter() {
	ip netns exec "$CE_GEN" nft -f - <<-XEOF
	table netdev re {
	  counter rst {}
	  chain in {
	    type filter hook ingress device "ceg0" priority 0; policy accept;
	    tcp flags & rst == rst counter name "rst"
	  }
	}
	XEOF
}

re_gen_rst() {
	ip netns exec "$CE_GEN" nft -j list counter netdev re rst |
		jq '[.nftables[] | .counter? // empty | .packets] | add // 0'
}

re_connect_refused() {
	local mode=$1 r
	# a veth delivers XDP_TX frames only to a peer with an XDP program
	# (GRO on the peer is not enough here): a pass program on ceg0
	if [ "$mode" = xdp ]; then
		ip -n "$CE_GEN" link set ceg0 xdpdrv obj "$CE_TOP/${BUILD:-build}/peer_pass.bpf.o" sec xdp
	fi
	ce_attach cev0 mode "$mode"
	ce_corral class add 5 proto tcp dport $PORT
	re_listen
	r=$(re_connect 5)
	ce_eq "connect before shedding" "$r" ok
	ce_corral shed set 4
	ce_corral class set 5 action reject
	r=$(re_connect 5)
	ce_eq "connect to a shed reject class ($mode)" "$r" refused
	ce_eq "replies sent" "$(re_global reply_sent)" 1
	ce_eq "replies suppressed" "$(re_global reply_suppressed)" 0
	# the same with action drop: no answer, the client times out
	ce_corral class set 5 action drop
	r=$(re_connect 1)
	ce_eq "connect to a shed drop class ($mode)" "$r" timeout
	ce_eq "replies sent after drop" "$(re_global reply_sent)" 1
}

@test "reject: connect() to a shed reject class is refused (mode tc)" {
	re_connect_refused tc
}

@test "reject: connect() to a shed reject class is refused (mode xdp)" {
	re_connect_refused xdp
}

@test "reject: connect() to a shed reject class is refused (mode xdp-generic)" {
	re_connect_refused xdp-generic
}

@test "reject: a spoofed SYN flood gets at most burst + rate x elapsed replies" {
	local rate=50 burst=10 n=3000 pps=3000 t0 t1 got bound sent supp
	ce_attach cev0 mode tc
	ce_corral class add 5 proto tcp dport $PORT
	ce_corral class set 5 action reject
	ce_corral class reply rate ${rate}pps burst $burst
	ce_corral shed set 4
	re_gen_counter
	ce_pkts4 0 1000 proto=syn dport=$PORT >"$CE_TMP/flood.cfg"
	t0=$(date +%s.%N)
	ce_send "$CE_TMP/flood.cfg" $n $pps
	ce_settle
	t1=$(date +%s.%N)
	got=$(re_gen_rst)
	sent=$(re_global reply_sent)
	supp=$(re_global reply_suppressed)
	bound=$(awk -v b=$burst -v r=$rate -v a="$t0" -v z="$t1" \
		'BEGIN { printf "%d", b + r * (z - a) + 1 }')
	ce_log "flood: $CE_SENT SYNs in ${CE_DUR}s; RSTs at the generator $got," \
		"corral sent $sent suppressed $supp, bound $bound"
	[ "$got" -ge "$burst" ] || { echo "only $got replies (burst $burst)" >&2; false; }
	[ "$got" -le "$bound" ] || { echo "$got replies > bound $bound" >&2; false; }
	ce_eq "generator count = corral's reply_sent" "$got" "$sent"
	ce_eq "every shed SYN answered or suppressed" $((sent + supp)) "$(ce_stat shed 5)"
	ce_eq "shed SYNs" "$(ce_stat shed 5)" $n
}

@test "reject: save prints action and reply budget back; bad words change nothing" {
	local before
	ce_attach cev0 mode tc
	ce_corral class set 3 action reject
	ce_corral class reply rate 200pps burst 20
	ce_corral save >"$CE_TMP/a"
	grep -qx "class set 3 action reject" "$CE_TMP/a"
	grep -qx "class reply rate 200pps burst 20" "$CE_TMP/a"
	ce_corral -j class show | jq -e '.actions[3] == "reject" and .actions[4] == "drop" and
		.reply.rate == 200 and .reply.burst == 20' >/dev/null
	before=$(ce_state)
	run ce_corral class set 3 action bounce
	[ "$status" -ne 0 ] && [[ $output == *'"bounce"'* ]]
	run ce_corral class set 8 action reject
	[ "$status" -ne 0 ] && [[ $output == *'"8"'* ]]
	run ce_corral class reply rate 0pps
	[ "$status" -ne 0 ] && [[ $output == *'"0pps"'* ]]
	ce_eq "state after refused commands" "$(ce_state)" "$before"
	ce_corral flush
	ce_corral -f "$CE_TMP/a"
	ce_corral save >"$CE_TMP/b"
	diff "$CE_TMP/a" "$CE_TMP/b"
	ce_corral class set 3 action drop
	! ce_corral save | grep -q "action"
}
