#!/bin/sh
# bench-sync.sh - null and delta syncs through a real Prosody at several roster sizes,
# with the server adapter and in privilege-only mode (a benchmark: prints figures).
#   BENCH_SIZES="100 20000" BENCH_RUNS=21 sh tests/interop/bench-sync.sh
# 127.0.0.1 only (ports 17222/17347); every run bounded by timeout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
export SYNCKEYD
. "$here/lab.sh"
lab_trap
for mode in ${BENCH_MODES:-adapter privilege-only}; do
	for n in ${BENCH_SIZES:-100 1000 20000}; do
		LAB_ADAPTER=1
		[ "$mode" = adapter ] || LAB_ADAPTER=0
		lab_init 17222 17347 || exit 1
		lab_user alice pw || exit 1
		lab_user c0001 pw || exit 1
		lab_roster_gen "$n" c | lab_roster alice
		printf 'alice@p.test both Alice\n' | lab_roster c0001
		lab_prosody_start || exit 1
		lab_synckeyd_start --log-level info || exit 1
		BENCH_N=$n BENCH_MODE=$mode LAB_C2S=$LAB_C2S LAB=$LAB \
			timeout 300 /usr/bin/python3 "$here/bench_sync.py" || echo "bench-sync: mode=$mode contacts=$n FAILED"
		lab_cleanup
	done
done
echo "bench-sync: conditions: $(nproc) cores, Prosody $(dpkg-query -W -f '${Version}' prosody 2>/dev/null), synckeyd $SYNCKEYD; both sides TCP_NODELAY"
