# ratios.png of a benchmark run (called by tests/bench/report):
#   gnuplot -e "vs_stock='A.dat'; vs_native='B.dat'; outfile='C.png'; n1=3; n2=4; y1=1.3; y2=1.3; ttl='...'" ratios.gp
# Each .dat: a header row of column names, then one row per profile; per ratio
# three columns: the ratio of the medians and the low and high end of its 95%
# interval (drawn as an error bar; equal to the ratio without an interval);
# ? = no number.  n1, n2: the ratios of each; y1, y2: the top of each panel's y axis.
set terminal pngcairo size 1100,760 font "sans,10" noenhanced
set output outfile
set datafile missing "?"
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set grid ytics
set xtics rotate by -20
set multiplot layout 2,1 title ttl font ",12"

# a panel without any configuration to compare says so instead of plotting
set title "ours / stock (stock:stock = 1), error bars: 95% intervals (from 5 rounds); targets: 1.2 on randread, 1.0 elsewhere"
set ylabel "ratio"
set yrange [0:y1]
if (n1 > 0) {
	set arrow 1 from graph 0, first 1.0 to graph 1, first 1.0 nohead dt 2 lw 2 lc rgb "black" front
	plot for [i=0:n1-1] vs_stock using 2+3*i:3+3*i:4+3*i:xtic(1) title columnheader(2+3*i)
} else {
	set label 1 "no ratio with a number (stock:stock or our configurations missing or failed)" at graph 0.5, graph 0.5 center
	plot [0:1] [0:1] NaN notitle
	unset label 1
}

set title "domU / native (same fio in dom0 on null_blk = 1), error bars: 95% intervals (from 5 rounds); target 0.7"
unset arrow 1
set yrange [0:y2]
if (n2 > 0) {
	set arrow 2 from graph 0, first 0.7 to graph 1, first 0.7 nohead dt 2 lw 2 lc rgb "black" front
	plot for [i=0:n2-1] vs_native using 2+3*i:3+3*i:4+3*i:xtic(1) title columnheader(2+3*i)
} else {
	set label 1 "no ratio with a number (native missing or failed)" at graph 0.5, graph 0.5 center
	plot [0:1] [0:1] NaN notitle
}
unset multiplot
