#!/bin/bash
# flood_report.sh - turn the flood benchmark's raw CSV into the markdown page
# and the two plots.
#
#   flood_report.sh CSV MD SIZE START HZ NOISE DOCSDIR
#
# Per (point, method, target rate) it takes the median over runs of each
# derived measure and shows the spread as [min-max]:
#   offered   frames the generator sent per second
#   victim    frames the victim's veth took per second (the rest were lost
#             in the generator->victim ring: the victim could not keep up)
#   passed    share of the victim's frames that reached IP delivery
#   drop/s    frames the method (or the stack) dropped per second
#   ns/pkt    victim NAPI thread CPU time per frame it took
#   ns/drop   the same time per frame the method dropped (only where it
#             dropped more than half of what it saw)
#   stat      victim CPU system+irq+softirq from /proc/stat per frame (ns;
#             includes anything else the kernel did on that CPU)
#   legit     share of the legit client's requests answered, p99 latency
set -u
CSV=$1 MD=$2 SIZE=$3 START=$4 HZ=$5 NOISE=$6 DOCS=$7
# plots are named after the page: bench-flood.md -> flood-cpu.png, flood-legit.png
PLOT=$(basename "$MD" .md)
PLOT=${PLOT#bench-}
SUMMARY=$(mktemp /tmp/cf-summary.XXXXXX)
trap 'rm -f "$SUMMARY"' EXIT

awk -F, -v hz="$HZ" '
function med(s,   n, v, i, j, t) {
	n = split(s, v, " ")
	for (i = 2; i <= n; i++) { t = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
	lo = v[1]; hi = v[n]
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function add(k, name, x) { val[k, name] = val[k, name] " " x }
NR == 1 { next }
{
	k = $1 SUBSEP $2 SUBSEP $3
	if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
	secs = $6 + 0; vp = $7 + 0; del = $9 + 0; drops = vp - del; if (drops < 0) drops = 0
	add(k, "offered", secs > 0 ? $5 / secs : 0)
	add(k, "victim", secs > 0 ? vp / secs : 0)
	add(k, "passed", vp > 0 ? del / vp : 0)
	add(k, "drops", secs > 0 ? drops / secs : 0)
	add(k, "nspkt", vp > 0 ? $11 / vp : 0)
	# per dropped packet only where the method dropped most of what it saw
	add(k, "nsdrop", drops * 2 > vp ? $11 / drops : -1)
	add(k, "stat", vp > 0 ? $10 * 1e9 / hz / vp : 0)
	add(k, "legit", $12 > 0 ? $13 / $12 : -1)
	add(k, "p99", $15 + 0)
	runs[k]++
}
END {
	nm = split("offered victim passed drops nspkt nsdrop stat legit p99", names, " ")
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, f, SUBSEP)
		line = f[1] "\t" f[2] "\t" f[3] "\t" runs[k]
		for (j = 1; j <= nm; j++) {
			m = med(val[k, names[j]])
			line = line "\t" m "\t" lo "\t" hi
		}
		print line
	}
}' "$CSV" > "$SUMMARY"

# columns: 1 point 2 method 3 target 4 runs, then med lo hi for:
# offered 5-7 victim 8-10 passed 11-13 drops 14-16 nspkt 17-19 nsdrop 20-22
# stat 23-25 legit 26-28 p99 29-31
{
	echo "# Flood benchmark ($SIZE)"
	echo
	echo "Run $START on $(uname -r), $(nproc) CPUs; generator on CPU ${CF_GCPU:-0}, victim NAPI on CPU ${CF_VCPU:-1}."
	echo "Reproduce: \`make bench\` (or \`sudo tools/bench/flood.sh $SIZE\`). Raw runs: \`$(basename "${MD%.md}.csv")\`."
	echo "Method notes: \`docs/flood.md\`."
	echo
	echo "Generator: $(awk -F, 'NR > 1 && $16 != "" && !s[$16]++ { printf "%s%s", n++ ? ", " : "", $16 }' "$CSV")" \
		"(flood_gen backend; the offered column is the rate it reached)."
	echo
	echo "Idle load of each CPU in the second before each point (noise): $NOISE"
	echo
	echo "Values are medians over runs, spread [min-max]. ns/pkt: victim NAPI thread CPU per frame it took;"
	echo "ns/drop: the same CPU per frame the method dropped; stat: /proc/stat system+irq+softirq of the victim CPU per frame."
	echo "victim: frames/s the victim took off the veth ring (the rest of the offered load was lost to a full ring)."
	echo "legit: answered share of the legitimate client's requests (IPv4, within its limit), p99 latency."
	echo
	echo "| point | method | offered | runs | victim Mpps | passed | drop Mpps | ns/pkt | ns/drop | stat ns/pkt | legit | legit p99 ms |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '
	function r(m, lo, hi, d) { return sprintf("%." d "f [%." d "f-%." d "f]", m, lo, hi) }
	{
		off = $3 == "max" ? sprintf("max (%.2f Mpps)", $5 / 1e6) : sprintf("%.2f Mpps", $5 / 1e6)
		nsd = $20 < 0 ? "-" : r($20, $21, $22, 0)
		lg = $26 < 0 ? "-" : r($26, $27, $28, 2)
		p99 = $29 < 0 ? "-" : sprintf("%.2f", $29 / 1000)
		printf "| %s | %s | %s | %d | %s | %.3f | %s | %s | %s | %.0f | %s | %s |\n", $1, $2, off, $4,
			r($8 / 1e6, $9 / 1e6, $10 / 1e6, 2), $11, r($14 / 1e6, $15 / 1e6, $16 / 1e6, 2),
			r($17, $18, $19, 0), nsd, $23, lg, p99
	}' "$SUMMARY"
	echo
	echo "## Ratios: victim CPU per dropped flood packet (unpaced flood)"
	echo
	echo "x = other method's ns/drop divided by this method's ns/drop (bigger: this method is cheaper)."
	echo
	echo "| point | method | ns/drop | vs iptables hashlimit | vs nft meter | vs nft limit |"
	echo "|---|---|---|---|---|---|"
	awk -F'\t' '$3 == "max" { nsd[$1, $2] = $20; if (!($1 in sp)) { sp[$1] = 1; pts[++np] = $1 } ; if (!($2 in sm)) { sm[$2] = 1; ms[++nm] = $2 } }
	function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2fx", b / a) : "-" }
	END {
		for (i = 1; i <= np; i++) for (j = 1; j <= nm; j++) {
			p = pts[i]; m = ms[j]
			if (m !~ /^(corral|xdp-drop)/ || !((p, m) in nsd) || nsd[p, m] <= 0) continue
			printf "| %s | %s | %.0f | %s | %s | %s |\n", p, m, nsd[p, m], ratio(nsd[p, m], nsd[p, "hashlimit"]),
				ratio(nsd[p, m], nsd[p, "nft-meter"]), ratio(nsd[p, m], nsd[p, "nft-limit"])
		}
	}' "$SUMMARY"
	echo
	echo "Target (issue 6): corral XDP at least 5x cheaper per dropped packet than hashlimit and nft meter"
	echo "with few heavy sources and with 64K sources over their limit, and legit at 100% where they are not."
	echo "xdp-drop is the floor (drops everything, legit included)."
	echo
} > "$MD"

if command -v gnuplot > /dev/null; then
	tmp=$(mktemp -d /tmp/cf-plot.XXXXXX)
	# CPU per frame by point (unpaced), one line per method
	awk -F'\t' '$3 == "max" { print $2 "\t" $1 "\t" $17 }' "$SUMMARY" > "$tmp/cpu"
	awk -F'\t' '{ print $1 }' "$tmp/cpu" | awk '!s[$0]++' > "$tmp/methods"
	awk -F'\t' '{ print $2 }' "$tmp/cpu" | awk '!s[$0]++' > "$tmp/points"
	{
		printf 'set terminal pngcairo size 900,500\nset output "%s/%s-cpu.png"\n' "$DOCS" "$PLOT"
		echo 'set title "victim CPU per frame (NAPI thread ns), unpaced flood"'
		echo 'set ylabel "ns per frame"; set logscale y; set key outside right; set grid ytics'
		echo 'set style data linespoints; set xtics rotate by -20'
		printf 'set xtics ('
		awk '{ printf "%s\"%s\" %d", (NR > 1 ? ", " : ""), $0, NR - 1 }' "$tmp/points"
		echo ')'
		printf 'plot '
		n=0
		while read -r m; do
			awk -F'\t' -v m="$m" 'NR == FNR { idx[$0] = FNR - 1; next } $1 == m { print idx[$2], $3 }' \
				"$tmp/points" "$tmp/cpu" > "$tmp/cpu.$m"
			[ $n -gt 0 ] && printf ', '
			printf '"%s" using 1:2 title "%s"' "$tmp/cpu.$m" "$m"
			n=$((n + 1))
		done < "$tmp/methods"
		echo
	} > "$tmp/cpu.gp"
	gnuplot "$tmp/cpu.gp" || echo "flood_report: gnuplot cpu plot failed" >&2
	# legit share against offered rate (first point's sweep)
	first=$(head -1 "$SUMMARY" | cut -f1)
	{
		printf 'set terminal pngcairo size 900,500\nset output "%s/%s-legit.png"\n' "$DOCS" "$PLOT"
		echo "set title \"legitimate client answered share vs offered flood ($first)\""
		echo 'set xlabel "offered flood (Mpps)"; set ylabel "answered share"; set yrange [0:1.05]'
		echo 'set key outside right; set grid; set style data linespoints'
		printf 'plot '
		n=0
		while read -r m; do
			awk -F'\t' -v m="$m" -v p="$first" '$1 == p && $2 == m && $26 >= 0 { print $5 / 1e6, $26 }' \
				"$SUMMARY" | sort -g > "$tmp/legit.$m"
			[ -s "$tmp/legit.$m" ] || continue
			[ $n -gt 0 ] && printf ', '
			printf '"%s" using 1:2 title "%s"' "$tmp/legit.$m" "$m"
			n=$((n + 1))
		done < "$tmp/methods"
		echo
	} > "$tmp/legit.gp"
	gnuplot "$tmp/legit.gp" || echo "flood_report: gnuplot legit plot failed" >&2
	rm -rf "$tmp"
	{
		echo "![victim CPU per frame]($PLOT-cpu.png)"
		echo
		echo "![legit success vs flood rate]($PLOT-legit.png)"
	} >> "$MD"
fi
echo "flood: wrote $MD"
