#!/bin/bash
# table.sh - one markdown table row per herd run, from the summary.txt
# files herd.sh wrote.
#
#   tools/herd/table.sh RUN_DIR [RUN_DIR...]
#
# An optional file RUN_DIR/label replaces the mode/schedule column.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: table.sh RUN_DIR [RUN_DIR...]" >&2; exit 2; }
echo "| run | served | failed | timed-out requests | wasted | completion (N/C) | p50 / p99 to served | peak accept queue | ListenOverflows | attempts / client | SYNs / client |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for d in "$@"; do
	[ -s "$d/summary.txt" ] || { echo "table.sh: $d/summary.txt missing" >&2; exit 1; }
	label=
	[ -s "$d/label" ] && label=$(head -n 1 "$d/label")
	awk -v label="$label" '
		/^SUMMARY/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[$2 "." kv[1]] = kv[2] } }
		END {
			run = label != "" ? label : v["lab.mode"] (v["lab.mode"] == "kernel" ? " (" v["lab.sched"] ")" : "")
			n = v["clients.n"]
			comp = v["clients.completion_ms"] < 0 ? "not all served" : sprintf("%.1f s", v["clients.completion_ms"] / 1000)
			printf "| %s | %d/%d (%.1f%%) | %d | %d | %d | %s (%.1f s) | %.2f / %.2f s | %d | %d | %.2f | %.2f |\n",
				run, v["clients.served"], n, 100 * v["clients.served"] / n, v["clients.failed"],
				v["clients.req_timeouts"], v["service.wasted"], comp, v["lab.nk_over_c_ms"] / 1000,
				v["clients.p50_ms"] / 1000, v["clients.p99_ms"] / 1000, v["service.peak_queue"],
				v["lab.listen_overflows"], v["clients.attempts_mean"], v["clients.syns_mean"]
		}' "$d/summary.txt"
done
