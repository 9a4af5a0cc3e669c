#!/usr/bin/env bats
# nginx.bats - a real service behind corral: nginx from Debian, curl and ab
# as clients, hping3 --rand-source floods (tools/lab/nginx_lab.sh builds and
# removes the lab). Every request is counted twice: by curl and by nginx's
# access log.

LAB=$BATS_TEST_DIRNAME/../../tools/lab/nginx_lab.sh

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	for c in nginx curl ab hping3; do
		command -v "$c" >/dev/null || skip "needs $c (make deps)"
	done
}

kv() { # KEY LINE
	tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}

@test "nginx: quiet, and under a spoofed UDP flood with corral: every request answered, counted by curl and by nginx" {
	run env NGX_REQUESTS=400 "$LAB" none-quiet corral-quiet corral-udp 3>&-
	echo "$output" >&3
	[ "$status" -eq 0 ]
	for s in none-quiet corral-quiet corral-udp; do
		line=$(grep "^scenario=$s " <<<"$output")
		[ -n "$line" ] || { echo "no result for $s" >&2; false; }
		[ "$(kv curl_ok "$line")" -eq 400 ] || { echo "$s: $line" >&2; false; }
		# nginx saw exactly the requests curl says were answered (ab's own go on top)
		[ "$(kv nginx_200 "$line")" -eq $((400 + $(kv ab_complete "$line") - $(kv ab_failed "$line"))) ] ||
			{ echo "$s counts differ: $line" >&2; false; }
	done
	udp=$(grep '^scenario=corral-udp ' <<<"$output")
	[ "$(kv ab_failed "$udp")" -eq 0 ] || { echo "ab failures under the UDP flood: $udp" >&2; false; }
	# the flood ran and corral dropped it in XDP (class 7 shed)
	sent=$(kv flood_sent "$udp")
	dropped=$(kv corral_dropped "$udp")
	[ "$sent" -ge 10000 ] || { echo "flood too small: $udp" >&2; false; }
	[ "$dropped" -ge $((sent * 9 / 10)) ] || { echo "corral dropped $dropped of $sent: $udp" >&2; false; }
}

@test "nginx: under a spoofed SYN flood, with and without corral, clients and nginx agree on every answer" {
	run env NGX_REQUESTS=300 "$LAB" none-syn corral-syn 3>&-
	echo "$output" >&3
	[ "$status" -eq 0 ]
	for s in none-syn corral-syn; do
		line=$(grep "^scenario=$s " <<<"$output")
		[ -n "$line" ] || { echo "no result for $s" >&2; false; }
		[ "$(kv flood_sent "$line")" -ge 10000 ] || { echo "flood too small: $line" >&2; false; }
		# what curl counts as answered, nginx logged (nothing lost, nothing invented)
		ok=$(kv curl_ok "$line")
		[ "$(kv nginx_200 "$line")" -eq $((ok + $(kv ab_complete "$line") - $(kv ab_failed "$line"))) ] ||
			{ echo "$s counts differ: $line" >&2; false; }
		[ "$ok" -gt 0 ] || { echo "$s: nothing answered: $line" >&2; false; }
	done
}

@test "nginx lab: an unknown scenario is refused before anything is built" {
	run "$LAB" corral-tsunami
	[ "$status" -ne 0 ]
	[[ $output == *'unknown scenario "corral-tsunami"'* ]]
}
