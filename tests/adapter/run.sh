#!/bin/sh
# run.sh - the server-adapter contract suite (contract.py) on a real Prosody or ejabberd (automake test driver; TAP)
#
# lab.sh's server, LAB_SERVER=prosody (default) or ejabberd, on 127.0.0.1
# with adapters/$LAB_SERVER/mod_synckey.* on p.test, users alice bob carl
# dave erin frank zed (password pw) and their rosters; no synckeyd: the
# suite is the component (raw XEP-0114 on the lab's component port), so it
# sees exactly what the server and its adapter send.  The same checks on
# both servers; what cannot hold on one is skipped there with its reason.
# Ports: Prosody 29100/29101; ejabberd 29110/29111 (node sklab29110,
# distribution 29112).  LAB_PORTS='C2S COMP': another pair.
# SYNCKEYD, or under make check the synckeyd just built: one more check,
# the real synckeyd against the adapter.
# Exit 77 when the server cannot run here (lab_have_server says why).
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
. "$here/../interop/lab.sh"
lab_have_server || exit 77
[ -z "${SYNCKEYD:-}" ] && [ -x "${top_builddir:-.}/src/synckeyd" ] &&
	SYNCKEYD=$(cd "${top_builddir:-.}" && pwd)/src/synckeyd
case ${LAB_SERVER:-prosody} in
ejabberd) c2s=29110; comp=29111 ;;
*) c2s=29100; comp=29101 ;;
esac
if [ -n "${LAB_PORTS:-}" ]; then
	c2s=${LAB_PORTS% *}
	comp=${LAB_PORTS#* }
fi
lab_trap
lab_init "$c2s" "$comp" || exit 99
for u in alice bob carl dave erin frank zed; do
	lab_user "$u" pw || exit 99
done
lab_roster alice <<ROSTER || exit 99
bob@p.test both Bob Friends
carl@p.test both Carl
dave@p.test to Dave
erin@p.test both Erin Friends
frank@p.test both Frank
ROSTER
for u in bob carl erin; do
	printf 'alice@p.test both Alice\n' | lab_roster "$u" || exit 99
done
printf 'alice@p.test from Alice\n' | lab_roster dave || exit 99
# frank's roster changes while he is offline (contract.py)
printf 'alice@p.test both Alice\n' | lab_roster frank || exit 99
lab_server_start || exit 99
LAB_SH="$here/../interop/lab.sh"
export LAB LAB_C2S LAB_COMP LAB_SERVER LAB_SH SYNCKEYD
timeout -k 5 300 "$PY" "$here/contract.py" >"$LAB/tap" 2>&1 &
LAB_CLEANUP_PIDS=$!
wait "$LAB_CLEANUP_PIDS"
rc=$?
LAB_CLEANUP_PIDS=
cat "$LAB/tap"
# contract.py exits 0 only when every case passed (a Bail out!, a
# timeout, 124, or a crash is not 0)
[ "$rc" -eq 0 ] && exit 0
echo "---- $LAB_SERVER_LOG (tail)"; tail -n 30 "$LAB_SERVER_LOG" 2>/dev/null
exit 1
