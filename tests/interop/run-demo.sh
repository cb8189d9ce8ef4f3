#!/bin/sh
# run-demo.sh - the README demo on a lab of its own (tests/demo.sh and tests/bench-all.sh run it)
#
#   SYNCKEYD=.../synckeyd SYNCKEY=.../synckey [LAB_SERVER=ejabberd] sh tests/interop/run-demo.sh
#
# The lab only through lab.sh: Prosody on 127.0.0.1:35222/35347, or
# ejabberd on 127.0.0.1:35422/35447 (its Erlang distribution on 35424);
# demo@p.test with 1 000 contacts (both), each holding demo (both).
# demo.py adapter drives the synckey CLI with the server adapter; then
# the same lab, server restarted without the adapter (lab_set_adapter 0),
# for demo.py privilege-only, which prints the second table.  Every
# step bounded; everything stopped by PID (lab_trap).
set -u
here=$(cd "$(dirname "$0")" && pwd)
LAB_TOP=${LAB_TOP:-$here/../..}
: "${SYNCKEYD:?set SYNCKEYD to the synckeyd binary}" "${SYNCKEY:?set SYNCKEY to the synckey binary}"
. "$here/lab.sh"
if ! skip=$(lab_have_server); then
	echo "demo: $skip" >&2
	exit 1
fi
case ${LAB_SERVER:=prosody} in
ejabberd) c2s=35422 comp=35447 ;;
*) c2s=35222 comp=35347 ;;
esac
# LAB_PORTS='C2S COMP': another pair (ejabberd's distribution port: C2S+2)
if [ -n "${LAB_PORTS:-}" ]; then
	c2s=${LAB_PORTS% *} comp=${LAB_PORTS#* }
fi
N=1000
lab_trap
lab_init $c2s $comp || exit 1
# the world, before the server starts
awk -v n=$N 'BEGIN { print "demo"; for (i = 0; i < n; i++) print "c" i }' | lab_users pw || exit 1
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) printf "c%d@p.test\tboth\tContact %d\tGroup %d\t\n", i, i, i % 10 }' |
	lab_roster demo || exit 1
i=0
while [ $i -lt $N ]; do
	printf 'demo@p.test\tboth\tDemo\t\t\n' | lab_roster c$i || exit 1
	i=$((i + 1))
done
export LAB LAB_C2S LAB_COMP LAB_SERVER SYNCKEYD SYNCKEY
phase() {	# MODE: the server (adapter as set) and synckeyd, then demo.py MODE
	lab_server_start || exit 1
	lab_synckeyd_start --log-level info || exit 1
	# a job, so that a signal to this shell stops it at once (lab_cleanup)
	timeout -k 5 600 /usr/bin/python3 "$here/demo.py" "$1" &
	LAB_CLEANUP_PIDS=$!
	wait $LAB_CLEANUP_PIDS || exit 1
	LAB_CLEANUP_PIDS=
	lab_synckeyd_stop
	lab_server_stop
}
phase adapter
lab_set_adapter 0 || exit 1
phase privilege-only
