#!/bin/bash
# synflood.sh - a spoofed SYN flood from the herd lab's client namespace,
# bounded in count and time, to run while a herd reconnects.
#
#   tools/herd/synflood.sh CLI_NS CLI_DEV SRV_NS SRV_DEV DST PORT SOURCES PPS SECONDS
#
# SOURCES distinct sources 10.79.x.y (the upper half of 10.78.0.0/15, apart
# from the herd's clients in 10.78.0.0/16), round robin, at most PPS per
# second (trafgen inter-packet gap) for SECONDS. Runs in the foreground;
# callers put it in the background. Prints trafgen's summary on stderr.
set -euo pipefail
[ $# -eq 9 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
CLI_NS=$1 CLI_DEV=$2 SRV_NS=$3 SRV_DEV=$4 DST=$5 PORT=$6 SOURCES=$7 PPS=$8 SECS=$9
for v in PORT SOURCES PPS SECS; do
	[[ ${!v} =~ ^[1-9][0-9]{0,6}$ ]] || { echo "synflood.sh: $v: not a positive number" >&2; exit 2; }
done
[ "$SOURCES" -le 65536 ] || { echo "synflood.sh: at most 65536 sources" >&2; exit 2; }
mac=$(ip -n "$SRV_NS" -j link show "$SRV_DEV" | jq -r '.[0].address')
cfg=$(mktemp /tmp/synflood.XXXXXX.cfg)
trap 'rm -f "$cfg"' EXIT
awk -v n="$SOURCES" -v mac="$mac" -v dst="$DST" -v port="$PORT" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "{ eth(da=%s), ipv4(saddr=10.79.%d.%d, daddr=%s), tcp(sp=%d, dp=%d, syn) }\n",
			mac, int(i / 256), i % 256, dst, 1024 + i % 60000, port
}' > "$cfg"
count=$((PPS * SECS))
ip netns exec "$CLI_NS" timeout $((SECS + 10)) trafgen --dev "$CLI_DEV" --conf "$cfg" \
	-n "$count" -t "$((1000000000 / PPS))ns" -q >&2
