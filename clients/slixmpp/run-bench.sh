#!/bin/sh
# run-bench.sh - bench.py on a lab of its own (tests/interop/lab.sh)
#
#   SYNCKEYD=.../synckeyd [LAB_SERVER=ejabberd] [BENCH_RUNS=5] sh clients/slixmpp/run-bench.sh
#
# Prosody on 127.0.0.1:41040/41041, ejabberd on 41050/41051 (Erlang
# distribution on 41052); demo@p.test with 1 000 contacts (both), each
# holding demo (both); synckeyd with the server adapter.  At most 15 min.
set -u
here=$(cd "$(dirname "$0")" && pwd)
LAB_TOP=$(cd "${LAB_TOP:-$here/../..}" && pwd)
export LAB_TOP
. "$LAB_TOP/tests/interop/lab.sh"
if ! skip=$(lab_have_server); then
	echo "bench: $skip" >&2
	exit 77
fi
: "${SYNCKEYD:?set SYNCKEYD to the synckeyd binary}"
case ${LAB_SERVER:=prosody} in
ejabberd) c2s=41050 comp=41051 ;;
*) c2s=41040 comp=41041 ;;
esac
N=${BENCH_N:-1000}
export LAB_SERVER BENCH_N=$N
lab_trap
lab_init $c2s $comp || exit 1
awk -v n=$N 'BEGIN { print "demo"; for (i = 0; i < n; i++) print "c" i }' | lab_users pw || exit 1
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) printf "c%d@p.test\tboth\tContact %d\tGroup %d\t\n", i, i, i % 10 }' |
	lab_roster demo || exit 1
i=0
while [ $i -lt $N ]; do
	printf 'demo@p.test\tboth\tDemo\t\t\n' | lab_roster c$i || exit 1
	i=$((i + 1))
done
lab_server_start || exit 1
lab_synckeyd_start --log-level info || exit 1
export LAB LAB_C2S
timeout -k 5 900 "${PYTHON:-/usr/bin/python3}" "$here/bench.py" &
LAB_CLEANUP_PIDS=$!
wait $LAB_CLEANUP_PIDS
rc=$?
LAB_CLEANUP_PIDS=
exit $rc
