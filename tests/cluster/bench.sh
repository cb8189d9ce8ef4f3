#!/bin/sh
# bench.sh - what one synckeyd serves, measured beside a real ejabberd (doc/scaling.md)
#
#   sh tests/cluster/bench.sh        (from the top; SYNCKEYD, or build/src/synckeyd)
#
# 1. bench_load.py against one ejabberd node with the adapter (127.0.0.1:45200
#    c2s, 45201 component, 45202 distribution): BENCH_K users per roster size
#    (BENCH_SIZES, default "100 1000 5000" contacts, 30 of them online
#    accounts) sync at once in rounds; synckeyd's and ejabberd's CPU per sync
#    from /proc/PID/task/*/schedstat (ns), then synckeyd's memory and store.
# 2. tests/bench_scale (in-process, no server) at BENCH_SCALE_USERS users
#    x 200 contacts (default "10000 30000 100000"): store bytes and memory
#    by number of users.
# Raw outputs to doc/scaling/ (conditions.txt, load.txt, scale-*.txt), then
# the plots (tests/cluster/plot-scaling.py, python3 only).  Never two
# benchmarks at once; 5-10 minutes on 2 cores.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
SYNCKEYD=${SYNCKEYD:-$top/build/src/synckeyd}
BENCH_SCALE=${BENCH_SCALE:-$top/build/tests/bench_scale}
out=$top/doc/scaling
mkdir -p "$out"
export LAB_TOP=$top
. "$top/tests/interop/lab.sh"
LAB_SERVER=ejabberd
lab_have_server || exit 77
BENCH_SIZES=${BENCH_SIZES:-100 1000 5000}
BENCH_K=${BENCH_K:-10}
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "commit: $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "cores: $(nproc); memory: $(free -m | awk '/^Mem:/ {print $2}') MiB; cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "kernel: $(uname -r); ejabberd $(dpkg-query -W -f '${Version}' ejabberd); erlang $(dpkg-query -W -f '${Version}' erlang-base); libstrophe $(dpkg-query -W -f '${Version}' libstrophe0 2>/dev/null); lmdb $(dpkg-query -W -f '${Version}' liblmdb0 2>/dev/null); gcc $(gcc -dumpfullversion 2>/dev/null)"
	echo "build: $(grep -m1 '^CFLAGS = ' "$(dirname "$SYNCKEYD")/../Makefile" 2>/dev/null | cut -d' ' -f3-)"
} >"$out/conditions.txt"
cat "$out/conditions.txt"

lab_trap
lab_init 45200 45201 || exit 1
{ printf 'o%02d\n' $(seq 1 30); for n in $BENCH_SIZES; do printf "s${n}_%02d\n" $(seq 1 "$BENCH_K"); done; } |
	lab_users pw || exit 1
for n in $BENCH_SIZES; do
	# 30 online accounts, the rest generated (never online)
	{ for i in $(seq 1 30); do printf 'o%02d@p.test\tboth\tO %02d\t\t\n' "$i" "$i"; done
	  lab_roster_gen $((n - 30)) "g${n}_"; } >"$LAB/roster$n.tsv"
	for i in $(seq 1 "$BENCH_K"); do
		lab_roster "$(printf "s${n}_%02d" "$i")" <"$LAB/roster$n.tsv" || exit 1
	done
done
t0=$(date +%s)
lab_server_start || exit 1
echo "# ejabberd up with its users and rosters in $(($(date +%s) - t0)) s"
# online accounts: 30 sessions with presence, kept by a helper until the end
SYNCKEYD=$SYNCKEYD lab_synckeyd_start --log-level info --max-clients 64 || exit 1
"$PY" - "$LAB_C2S" "$LAB_INTEROP_DIR" <<'PY' &
import sys, time
sys.path.insert(0, sys.argv[2])
from xmpp import Client
cs = [Client("o%02d@p.test" % i, "pw", int(sys.argv[1]), resource="on").connect() for i in range(2, 31)]
for c in cs:
    c.presence(status="online")
time.sleep(1800)
PY
LAB_CLEANUP_PIDS=$!
beam=$(lab_pid_from "$LAB/ejabberd/ejabberd.pid")
LAB_C2S=$LAB_C2S SKD_PID=$LAB_SYNCKEYD_PID BEAM_PID=$beam BENCH_SIZES=$BENCH_SIZES BENCH_K=$BENCH_K \
	LAB_INTEROP_DIR=$LAB_INTEROP_DIR timeout 1200 "$PY" "$top/tests/cluster/bench_load.py" | tee "$out/load.txt"
{
	echo "bench-load: store data.mdb $(stat -c %s "$LAB/db/data.mdb") B for $(( $(echo $BENCH_SIZES | wc -w) * BENCH_K )) users with one client each and 30 online contacts"
	echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$out/load.txt"
lab_cleanup
trap - EXIT INT TERM

for u in ${BENCH_SCALE_USERS:-10000 30000 100000}; do
	echo "== bench_scale $u users (load $(cut -d' ' -f1-3 /proc/loadavg))"
	TMPDIR=${TMPDIR:-/tmp} timeout 900 "$BENCH_SCALE" "$u" 200 1000 2>&1 | tee "$out/scale-$u.txt"
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/conditions.txt"
"$PY" "$top/tests/cluster/plot-scaling.py" "$out" "$top/doc"
