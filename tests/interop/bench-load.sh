#!/bin/sh
# bench-load.sh - several clients syncing at once through a real Prosody or ejabberd, with the adapter and privilege-only (a benchmark: prints figures)
#   BENCH_LOAD_PLAN="100:8 1000:8 20000:8 1000:8:privilege-only" BENCH_LOAD_ROUNDS=11 sh tests/interop/bench-load.sh
# (the default plan; on ejabberd 20000:4: each user's roster is one import
# there, about 20 s at 20 000 items on 2 loaded cores)
# A plan entry is CONTACTS:USERS[:MODE]: USERS users (u01...) each with a roster of
# CONTACTS contacts (lab_roster_gen: c0001..., both/to/from/none in turn),
# logged in at once and syncing in parallel with chained keys
# (tests/interop/bench_load.py), while 1 % of the contacts (at least one,
# c0001, c0005, ...: subscription both, logged in as accounts holding
# every user) change status between rounds.  MODE: adapter (the default)
# or privilege-only (the whole roster fetched each sync: the baseline).
# 127.0.0.1 only: Prosody on 17232/17357, LAB_SERVER=ejabberd on
# 27386/27387 and node port 27388 (outside the 27222..27299 of the ejabberd
# check suites; bench-sync.sh has 17222/17347 and 27376..27378), or
# BENCH_LOAD_C2S/BENCH_LOAD_COMP.  Every run bounded: BENCH_LOAD_ROUNDS
# rounds (11) and BENCH_LOAD_SECONDS (60) of rounds per entry, the client
# by timeout 600.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
export SYNCKEYD
. "$here/lab.sh"
lab_have_server || exit 0
lab_trap
server=${LAB_SERVER:-prosody}
c2s=${BENCH_LOAD_C2S:-17232} comp=${BENCH_LOAD_COMP:-17357}
[ "$server" = ejabberd ] && { c2s=${BENCH_LOAD_C2S:-27386} comp=${BENCH_LOAD_COMP:-27387}; }
echo "bench-load: conditions: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $server $(dpkg-query -W -f '${Version}' "$server" 2>/dev/null), synckeyd $SYNCKEYD"
plan="100:8 1000:8 20000:8 1000:8:privilege-only"
[ "$server" = ejabberd ] && plan="100:8 1000:8 20000:4 1000:8:privilege-only"
for entry in ${BENCH_LOAD_PLAN:-$plan}; do
	n=${entry%%:*} k=${entry#*:} mode=adapter
	case $k in *:*) mode=${k#*:} k=${k%%:*} ;; esac
	case $n$k in *[!0-9]* | '') echo "bench-load: plan entry '$entry' is not CONTACTS:USERS[:MODE]" >&2; exit 1 ;; esac
	case $mode in adapter | privilege-only) ;; *) echo "bench-load: '$entry': MODE is adapter or privilege-only" >&2; exit 1 ;; esac
	[ "$n" -ge 1 ] && [ "$n" -le 50000 ] && [ "$k" -ge 1 ] && [ "$k" -le 32 ] ||
		{ echo "bench-load: '$entry': contacts 1..50000, users 1..32" >&2; exit 1; }
	m=$((n / 100)); [ "$m" -ge 1 ] || m=1
	LAB_ADAPTER=1
	[ "$mode" = privilege-only ] && LAB_ADAPTER=0
	lab_init "$c2s" "$comp" || exit 1
	users=$(awk -v k="$k" 'BEGIN { for (i = 1; i <= k; i++) printf "u%02d\n", i }')
	changed=$(awk -v m="$m" 'BEGIN { for (j = 0; j < m; j++) printf "c%04d\n", 4 * j + 1 }')
	printf '%s\n%s\n' "$users" "$changed" | lab_users pw || exit 1
	for c in $changed; do
		printf '%s\n' "$users" | awk '{ printf "%s@p.test\tboth\t%s\t\t\n", $1, $1 }' | lab_roster "$c" || exit 1
	done
	# ejabberd: the users' rosters one import each once it runs (one import
	# of them all at start passes ejabberdctl's 60 s at 8 x 20 000 items)
	[ "$server" = ejabberd ] && { lab_server_start || exit 1; }
	for u in $users; do
		lab_roster_gen "$n" c | lab_roster "$u" || exit 1
	done
	[ "$server" = ejabberd ] || { lab_server_start || exit 1; }
	lab_synckeyd_start --log-level info ${BENCH_SYNCKEYD_FLAGS:-} || exit 1
	echo "bench-load: mode=$mode contacts=$n users=$k changed=$m: load $(cut -d' ' -f1-3 /proc/loadavg)"
	BENCH_N=$n BENCH_USERS="$users" BENCH_CHANGED="$changed" BENCH_MODE=$mode LAB_C2S=$LAB_C2S LAB=$LAB \
		LAB_SERVER=$server timeout 600 /usr/bin/python3 "$here/bench_load.py" ||
		echo "bench-load: mode=$mode contacts=$n users=$k FAILED"
	lab_cleanup
done
echo "bench-load: conditions at the end: load $(cut -d' ' -f1-3 /proc/loadavg)"
