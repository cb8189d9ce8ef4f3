#!/bin/sh
# run-client-deleg.sh - the synckey CLI on the delegated path (XEP-0355) and off it, on a real server (test_client_deleg.py's TAP; automake test driver)
#
# Prosody on 127.0.0.1 (c2s 29640, component 29641), or with
# LAB_SERVER=ejabberd an ejabberd (29650/29651, node sklab29650 on
# 29652), with the server adapter and synckeyd; the suite stops and
# starts synckeyd, and restarts the server without delegation.
# LAB_PORTS='C2S COMP' chooses other ports.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
. "$here/lab.sh"
lab_have_server || exit 77
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
SYNCKEY=${SYNCKEY:-${top_builddir:-.}/src/synckey}
for _b in "$SYNCKEYD" "$SYNCKEY"; do
	[ -x "$_b" ] || { echo "Bail out! no $_b (build it first)"; exit 99; }
done
case ${LAB_SERVER:-prosody} in
ejabberd) c2s=29650; comp=29651 ;;
*) c2s=29640; comp=29641 ;;
esac
if [ -n "${LAB_PORTS:-}" ]; then
	c2s=${LAB_PORTS% *}
	comp=${LAB_PORTS#* }
fi
lab_trap
lab_init $c2s $comp || exit 99
for u in alice bob carl dave; do
	lab_user "$u" pw || exit 99
done
lab_roster alice <<ROSTER || exit 99
bob@p.test both Bob Friends
carl@p.test both Carl
dave@p.test to Dave
ROSTER
# the contacts' side, so that the server answers alice's probes
for u in bob carl; do
	printf 'alice@p.test both Alice\n' | lab_roster "$u" || exit 99
done
lab_server_start || exit 99
lab_synckeyd_start || exit 99
LAB_SH="$here/lab.sh"
SYNCKEYD=$(cd "$(dirname "$SYNCKEYD")" && pwd)/$(basename "$SYNCKEYD")
SYNCKEY=$(cd "$(dirname "$SYNCKEY")" && pwd)/$(basename "$SYNCKEY")
export LAB LAB_C2S LAB_COMP LAB_SERVER LAB_SERVER_LOG SYNCKEYD SYNCKEY LAB_SH
timeout -k 5 240 "$PY" "$here/test_client_deleg.py" >"$LAB/tap" 2>&1 &
LAB_CLEANUP_PIDS=$!
wait "$LAB_CLEANUP_PIDS"
rc=$?
LAB_CLEANUP_PIDS=
cat "$LAB/tap"
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$LAB/tap")
passed=$(grep -c '^ok ' "$LAB/tap")
failed=$(grep -c '^not ok ' "$LAB/tap")
echo "# $passed passed, $failed failed, plan ${plan:-missing}, script exit $rc"
if [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ -n "$plan" ] && [ "$passed" -eq "$plan" ]; then
	exit 0
fi
echo "---- synckeyd.log (tail)"; tail -n 30 "$LAB/synckeyd.log" 2>/dev/null
echo "---- $LAB_SERVER_LOG (tail)"; tail -n 20 "$LAB_SERVER_LOG" 2>/dev/null
exit 1
