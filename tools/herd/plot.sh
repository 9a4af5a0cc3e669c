#!/bin/bash
# plot.sh - draw one herd run: connects started, admissions (accepts),
# responses on time and wasted responses per 100 ms, and the accept-queue
# peak, from the CSV files herd.sh wrote.
#
#   tools/herd/plot.sh RUN_DIR OUT.png [TITLE]
#
# The two series are aligned on their unix_ms column (both tools stamp it).
set -euo pipefail
dir=${1:?usage: plot.sh RUN_DIR OUT.png [TITLE]}
png=${2:?usage: plot.sh RUN_DIR OUT.png [TITLE]}
title=${3:-$(grep -h '^SUMMARY lab' "$dir/summary.txt" 2>/dev/null | cut -d' ' -f3-7 || true)}
for f in service.csv clients.csv; do
	[ -s "$dir/$f" ] || { echo "plot.sh: $dir/$f missing" >&2; exit 1; }
done
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot not installed" >&2; exit 1; }
t0=$(awk -F, 'NR == 2 { print $2; exit }' "$dir/clients.csv")
# trim the trailing idle part of the service series (drain wait)
last=$(awk -F, 'NR > 1 && ($3 || $4 || $5 || $9) { l = $2 } END { printf "%.0f\n", l }' "$dir/service.csv")
# the first wave of connects dwarfs everything else: clip the y axis at
# 2.5 x the busiest service bucket
ymax=$(awk -F, 'NR > 1 { for (i = 3; i <= 5; i++) if ($i > m) m = $i } END { printf "%.0f\n", m * 2.5 + 10 }' "$dir/service.csv")
gnuplot <<EOF
set terminal pngcairo size 1000,560 font ",10"
set output "$png"
set datafile separator ","
set title "${title//\"/}"
set xlabel "seconds since the herd started"
set ylabel "per 100 ms"
set y2label "accept queue (peak per 100 ms)"
set ytics nomirror
set yrange [0:$ymax]
set y2tics
set key top right
set grid
plot "$dir/clients.csv" every ::1 using ((\$2-$t0)/1000.0):3 with steps lw 1 lc rgb "#999999" title "connects started (clipped)", \
     "$dir/service.csv" every ::1 using ((\$2 <= $last ? \$2-$t0 : 1/0)/1000.0):3 with steps lw 2 lc rgb "#1f77b4" title "admitted (accepts)", \
     "$dir/service.csv" every ::1 using ((\$2 <= $last ? \$2-$t0 : 1/0)/1000.0):4 with steps lw 2 lc rgb "#2ca02c" title "served on time", \
     "$dir/service.csv" every ::1 using ((\$2 <= $last ? \$2-$t0 : 1/0)/1000.0):5 with steps lw 2 lc rgb "#d62728" title "wasted", \
     "$dir/service.csv" every ::1 using ((\$2 <= $last ? \$2-$t0 : 1/0)/1000.0):9 axes x1y2 with lines lw 1 dt 2 lc rgb "#ff7f0e" title "accept queue"
EOF
echo "plot.sh: wrote $png"
