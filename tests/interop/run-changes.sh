#!/bin/sh
# run-changes.sh - roster change lists through a real server (test_changes.py's TAP; automake test driver)
#
# Prosody on 127.0.0.1 (c2s 29400, component 29401), or with
# LAB_SERVER=ejabberd an ejabberd (29410/29411, node sklab29410 on
# 29412), with the server adapter; synckeyd and the server log at debug
# level, which the suite reads to tell a change list from a whole roster.
# LAB_PORTS='C2S COMP' chooses other ports.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
. "$here/lab.sh"
lab_have_server || exit 77
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
[ -x "$SYNCKEYD" ] || { echo "Bail out! no synckeyd at $SYNCKEYD (build it first)"; exit 99; }
case ${LAB_SERVER:-prosody} in
ejabberd) c2s=29410; comp=29411 ;;
*) c2s=29400; comp=29401 ;;
esac
if [ -n "${LAB_PORTS:-}" ]; then
	c2s=${LAB_PORTS% *}
	comp=${LAB_PORTS#* }
fi
LAB_PROSODY_LOG_LEVEL=debug LAB_EJABBERD_LOG_LEVEL=debug
export LAB_PROSODY_LOG_LEVEL LAB_EJABBERD_LOG_LEVEL
lab_trap
lab_init $c2s $comp || exit 99
for u in alice bob carl dave erin frank; do
	lab_user "$u" pw || exit 99
done
lab_roster alice <<ROSTER || exit 99
bob@p.test both Bob Friends
carl@p.test both Carl
dave@p.test to Dave
erin@p.test both Erin Friends
ROSTER
lab_server_start || exit 99
lab_synckeyd_start --log-level debug || exit 99
LAB_SH="$here/lab.sh"
export LAB LAB_C2S LAB_COMP LAB_SERVER LAB_SERVER_LOG SYNCKEYD LAB_SH
timeout -k 5 300 "$PY" "$here/test_changes.py" >"$LAB/tap" 2>&1 &
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
echo "---- $LAB_SERVER_LOG (synckey lines, tail)"; grep -i synckey "$LAB_SERVER_LOG" 2>/dev/null | tail -n 20
exit 1
