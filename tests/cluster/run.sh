#!/bin/sh
# run.sh - one synckeyd beside an ejabberd cluster of two nodes (automake test driver)
#
# Two ejabberd nodes on 127.0.0.1 joined into one Mnesia cluster (lab.sh
# lab_cluster_init: node 1 c2s 45000, component 45001, distribution 45002;
# node 2 45010, 45011, 45012; LAB_CLUSTER_PORTS='C2S1 COMP1 C2S2 COMP2' for
# others), the Erlang adapter on both, and the TAP lines of test_cluster.py
# (which starts synckeyd with both nodes in its list).  Exit 77 (SKIP) when
# ejabberd cannot run here; 0 only when every check passed.  LAB_KEEP=1
# keeps the lab folder.  LAB_TOP: the tree whose adapter and tests run
# (tests/cluster/mutants/run.sh points it at a mutated copy).
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
LAB_TOP=${LAB_TOP:-$(cd "$here/../.." && pwd)}
export LAB_TOP
. "$LAB_TOP/tests/interop/lab.sh"
LAB_SERVER=ejabberd
lab_have_server || exit 77
[ -x "$PY" ] || { echo "Bail out! $PY is missing (apt-get install python3)"; exit 99; }
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
[ -x "$SYNCKEYD" ] || { echo "Bail out! no synckeyd at $SYNCKEYD (build it first)"; exit 99; }
SYNCKEYD=$(cd "$(dirname "$SYNCKEYD")" && pwd)/$(basename "$SYNCKEYD")
set -- ${LAB_CLUSTER_PORTS:-45000 45001 45010 45011}
lab_trap
lab_cluster_init "$1" "$2" "$3" "$4" || exit 99
for u in alice bob carol dave; do
	lab_user "$u" pw || exit 99
done
# alice has bob, carol and dave (both); each of them has alice only, so
# that a presence reaches synckeyd by its sender's node alone (no contact
# of theirs on another node receives it and forwards it from there)
for c in bob carol dave; do
	printf '%s@p.test\tboth\t%s\t\t\n' "$c" "$c"
done | lab_roster alice || exit 99
for u in bob carol dave; do
	printf 'alice@p.test\tboth\talice\t\t\n' | lab_roster "$u" || exit 99
done
started=$(date +%s)
lab_server_start || exit 99
lab_server2_start || exit 99
lab_cluster_join || exit 99
echo "# cluster of two nodes up in $(($(date +%s) - started)) s"

LAB_SH="$LAB_TOP/tests/interop/lab.sh"
export LAB LAB_C2S LAB_COMP LAB_C2S2 LAB_COMP2 LAB_SERVER SYNCKEYD LAB_SH LAB_INTEROP_DIR
timeout -k 5 900 "$PY" "$LAB_TOP/tests/cluster/test_cluster.py" >"$LAB/tap" 2>&1 &
LAB_CLEANUP_PIDS=$!
tail -n +1 -f --pid="$LAB_CLEANUP_PIDS" "$LAB/tap" &
tail_pid=$!
wait "$LAB_CLEANUP_PIDS"
rc=$?
LAB_CLEANUP_PIDS=
wait "$tail_pid"
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$LAB/tap")
passed=$(grep -c '^ok ' "$LAB/tap")
failed=$(grep -c '^not ok ' "$LAB/tap")
echo "# $passed passed, $failed failed, plan ${plan:-missing}, script exit $rc, $(($(date +%s) - started)) s"
if [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ -n "$plan" ] && [ "$passed" -eq "$plan" ] && [ "$plan" -gt 0 ]; then
	exit 0
fi
echo "---- synckeyd.log (tail, without libstrophe's debug)"
grep -v 'libstrophe' "$LAB/synckeyd.log" 2>/dev/null | tail -n 30
for n in ejabberd ejabberd2; do
	echo "---- $n warnings and errors (tail)"
	grep -E '\[(warning|error)\]' "$LAB/$n/logs/ejabberd.log" 2>/dev/null | tail -n 10
done
exit 1
