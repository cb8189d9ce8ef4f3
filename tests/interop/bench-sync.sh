#!/bin/sh
# bench-sync.sh - null and delta syncs through a real Prosody at several roster sizes,
# with the server adapter and in privilege-only mode (a benchmark: prints figures).
#   BENCH_SIZES="100 20000" BENCH_RUNS=21 sh tests/interop/bench-sync.sh
# 127.0.0.1 only (ports 17222/17347; LAB_SERVER=ejabberd: ejabberd on
# 27276/27277); every run bounded by timeout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
export SYNCKEYD
. "$here/lab.sh"
lab_trap
c2s=17222 comp=17347
[ "${LAB_SERVER:-prosody}" = ejabberd ] && { c2s=27276 comp=27277; }
for mode in ${BENCH_MODES:-adapter privilege-only}; do
	for n in ${BENCH_SIZES:-100 1000 20000}; do
		LAB_ADAPTER=1
		[ "$mode" = adapter ] || LAB_ADAPTER=0
		lab_init $c2s $comp || exit 1
		lab_user alice pw || exit 1
		lab_user c0001 pw || exit 1
		lab_roster_gen "$n" c | lab_roster alice
		printf 'alice@p.test both Alice\n' | lab_roster c0001
		lab_server_start || exit 1
		lab_synckeyd_start --log-level info || exit 1
		BENCH_N=$n BENCH_MODE=$mode LAB_C2S=$LAB_C2S LAB=$LAB \
			timeout 300 /usr/bin/python3 "$here/bench_sync.py" || echo "bench-sync: mode=$mode contacts=$n FAILED"
		lab_cleanup
	done
done
server=${LAB_SERVER:-prosody}
echo "bench-sync: conditions: $(nproc) cores, $server $(dpkg-query -W -f '${Version}' "$server" 2>/dev/null), synckeyd $SYNCKEYD; both sides TCP_NODELAY"
