#!/usr/bin/env bats
# SYN cookies from corral for protected ports, under real traffic. With
# "syn set ports 8080 cookies on" every SYN to 8080 is answered by corral
# (XDP_TX, or a redirect in tc mode) with the kernel's own cookie; the
# client's ACK is checked at tc ingress and handed to the listener as its
# connection. The tests count on both ends: the client's connect() and the
# bytes it reads back, the victim's TcpExt counters (the kernel sent no
# cookie and no SYN-ACK of its own, no listen overflow), corral's counters.

load lib

PORT=8080
PY=$(command -v python3)

setup() { ce_lab_up 1; }
teardown() { ce_lab_down; }

# an echo listener on the victim's PORT (backlog $1, default 64), at most 60 s
ck_listen() {
	ip netns exec "$CE_VIC" timeout 60 "$PY" -c '
import socket, threading
s = socket.socket(socket.AF_INET6 if "'"${2:-4}"'" == "6" else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("fd77:0::1" if "'"${2:-4}"'" == "6" else "10.77.0.1", '"$PORT"'))
s.listen('"${1:-64}"')
print("up", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(5)
    try:
        d = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            d += b
        c.sendall(d.upper())
    except OSError:
        pass
    c.close()
' >"$CE_TMP/listen.out" 2>&1 &
	CE_BG_PIDS+=($!)
	ce_wait_up "$CE_TMP/listen.out"
}

# N clients from the generator's stack, one after another, to address $2
# (default 10.77.0.1): prints how many got their 20000 bytes back in upper
# case
ck_clients() {
	ip netns exec "$CE_GEN" timeout 60 "$PY" -c '
import socket
dst = "'"${2:-10.77.0.1}"'"
ok = 0
for i in range('"${1:-1}"'):
    s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET)
    s.settimeout(5)
    try:
        s.connect((dst, '"$PORT"'))
        s.sendall(b"x" * 20000)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
        ok += got == b"X" * 20000
    except OSError as e:
        print("error", e)
    s.close()
print(ok)
' | tail -1
}

# a TcpExt counter of the victim's stack
ck_mib() {
	ip netns exec "$CE_VIC" nstat -az "$1" | awk -v k="$1" '$1 == k { print $2 }'
}

ck_global() { ce_status | jq -r ".global.$1"; }

ck_handshake() {
	local mode=$1 n=20 r
	if [ "$mode" = xdp ]; then
		ip -n "$CE_GEN" link set ceg0 xdpdrv obj "$CE_TOP/${BUILD:-build}/peer_pass.bpf.o" sec xdp
	fi
	ce_attach cev0 mode "$mode"
	ce_corral syn set ports $PORT herd off cookies on
	ck_listen
	r=$(ck_clients $n)
	ce_eq "clients served through cookies ($mode)" "$r" $n
	ce_eq "SYNs answered by corral" "$(ce_stat syn_cookie)" $n
	ce_eq "cookies checked" "$(ck_global cookie_ok)" $n
	ce_eq "cookies refused by the kernel" "$(ck_global cookie_refused)" 0
	ce_eq "the kernel sent no cookie of its own" "$(ck_mib TcpExtSyncookiesSent)" 0
	ce_eq "listen overflows" "$(ck_mib TcpExtListenOverflows)" 0
	ce_eq "admissions counted on checked cookies" "$(ce_stat syn_admit)" $n
}

@test "cookies: real clients connect and exchange data (mode xdp)" {
	ck_handshake xdp
}

@test "cookies: real clients connect and exchange data (mode xdp-generic)" {
	ck_handshake xdp-generic
}

@test "cookies: real clients connect and exchange data (mode tc)" {
	ck_handshake tc
}

@test "cookies: IPv6 clients connect and exchange data (mode xdp)" {
	local n=20 r
	# the generator's stack has IPv6 off in the lab: on for its end only
	ip netns exec "$CE_GEN" sysctl -qw net.ipv6.conf.ceg0.disable_ipv6=0
	ip -n "$CE_GEN" addr add fd77:0::2/64 dev ceg0 nodad
	ip -n "$CE_GEN" link set ceg0 xdpdrv obj "$CE_TOP/${BUILD:-build}/peer_pass.bpf.o" sec xdp
	ce_attach cev0 mode xdp
	ce_corral syn set ports $PORT herd off cookies on
	ck_listen 64 6
	r=$(ck_clients $n fd77:0::1)
	ce_eq "IPv6 clients served through cookies" "$r" $n
	ce_eq "SYNs answered by corral" "$(ce_stat syn_cookie)" $n
	ce_eq "cookies checked" "$(ck_global cookie_ok)" $n
	ce_eq "cookies refused by the kernel" "$(ck_global cookie_refused)" 0
	ce_eq "the kernel sent no cookie of its own" "$(ck_mib TcpExtSyncookiesSent)" 0
}

# SYN-ACKs that reach the generator's device
ck_gen_counter() {
	ip netns exec "$CE_GEN" nft -f - <<-NFT
	table netdev ck {
	  counter synack {}
	  chain in {
	    type filter hook ingress device "ceg0" priority 0; policy accept;
	    tcp flags & (syn | ack) == syn | ack counter name "synack"
	  }
	}
	NFT
}

ck_gen_synack() {
	ip netns exec "$CE_GEN" nft -j list counter netdev ck synack |
		jq '[.nftables[] | .counter? // empty | .packets] | add // 0'
}

@test "cookies: under a spoofed SYN flood real clients are served and the flood never reaches the listener" {
	local n=3000 pps=3000 clients=20 r
	ip -n "$CE_GEN" link set ceg0 xdpdrv obj "$CE_TOP/${BUILD:-build}/peer_pass.bpf.o" sec xdp
	ce_attach cev0 mode xdp
	# a gate rate a third of the flood's: if spoofed SYNs took its tokens,
	# about two in three SYNs would be capped, clients' retries among them
	ce_corral syn set ports $PORT rate 1000pps burst 100 herd off cookies on
	ck_listen 16
	ck_gen_counter
	ce_pkts4 0 1000 proto=syn dport=$PORT >"$CE_TMP/flood.cfg"
	ce_send_bg "$CE_TMP/flood.cfg" $n $pps
	ck_clients $clients >"$CE_TMP/served" &
	CE_BG_PIDS+=($!)
	wait $!
	ce_wait_bg
	ce_settle
	r=$(cat "$CE_TMP/served")
	ce_log "flood: $CE_SENT spoofed SYNs; $r of $clients clients served;" \
		"SYN-ACKs at the generator $(ck_gen_synack); corral: $(ce_status | jq -c .global)"
	ce_eq "clients served during the flood" "$r" $clients
	ce_eq "spoofed SYNs sent" "$CE_SENT" $n
	ce_eq "every SYN answered with a cookie" "$(ce_stat syn_cookie)" $((n + clients))
	ce_eq "SYN-ACKs the generator received" "$(ck_gen_synack)" $((n + clients))
	ce_eq "cookies checked: the clients only" "$(ck_global cookie_ok)" $clients
	ce_eq "admissions: the clients only" "$(ce_stat syn_admit)" $clients
	ce_eq "SYNs capped by the gate" "$(ce_stat syn_cap)" 0
	ce_eq "the kernel sent no cookie of its own" "$(ck_mib TcpExtSyncookiesSent)" 0
	ce_eq "listen overflows" "$(ck_mib TcpExtListenOverflows)" 0
	ce_eq "listen drops" "$(ck_mib TcpExtListenDrops)" 0
}

@test "cookies: save prints them back; bad words change nothing" {
	local before
	ce_attach cev0 mode tc
	ce_corral syn set ports $PORT rate 100pps cookies on
	ce_corral -j syn show | jq -e '.syn.cookies == "on"' >/dev/null
	ce_corral save >"$CE_TMP/a"
	grep -q "^syn set ports $PORT .*cookies on" "$CE_TMP/a"
	ce_corral flush
	ce_corral -j syn show | jq -e '.syn.on == false' >/dev/null
	ce_corral -f "$CE_TMP/a"
	ce_corral save >"$CE_TMP/b"
	diff "$CE_TMP/a" "$CE_TMP/b"
	before=$(ce_state)
	run ce_corral syn set ports $PORT cookies maybe
	[ "$status" -ne 0 ] && [[ $output == *'"maybe"'* ]]
	run ce_corral syn set ports $PORT cookies
	[ "$status" -ne 0 ] && [[ $output == *cookies* ]]
	run ce_corral syn set ports $PORT cookies on cookies off
	[ "$status" -ne 0 ] && [[ $output == *cookies* ]]
	ce_eq "state after refused commands" "$(ce_state)" "$before"
	ce_corral syn set ports $PORT cookies off
	ce_corral -j syn show | jq -e '.syn.cookies == "off"' >/dev/null
}
