#!/bin/sh
# run-adapter.sh - what a sync returns against what Prosody itself delivers (automake test driver)
#
# A Prosody of its own on 127.0.0.1 (c2s 16222, component 16347) with the
# server adapter (LAB_ADAPTER=0: privilege-only mode, where the cases that
# mode cannot know are skipped), synckeyd, and test_adapter.py's TAP.
# LAB_SERVER=ejabberd: an ejabberd instead (27242/27243; 27252/27253).
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
. "$here/lab.sh"
lab_have_server || exit 77
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
[ -x "$SYNCKEYD" ] || { echo "Bail out! no synckeyd at $SYNCKEYD (build it first)"; exit 99; }
case ${LAB_SERVER:-prosody}/${LAB_ADAPTER:-1} in
prosody/0) c2s=16223; comp=16348 ;;
ejabberd/0) c2s=27252; comp=27253 ;;
ejabberd/*) c2s=27242; comp=27243 ;;
*) c2s=16222; comp=16347 ;;
esac
# LAB_PORTS='C2S COMP': another pair, e.g. to run the Prosody suite
# beside the one that holds its usual ports
if [ -n "${LAB_PORTS:-}" ]; then
	c2s=${LAB_PORTS% *}
	comp=${LAB_PORTS#* }
fi
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
for u in bob carl erin; do
	printf 'alice@p.test both Alice\n' | lab_roster $u || exit 99
done
printf 'alice@p.test from Alice\n' | lab_roster dave || exit 99
lab_server_start || exit 99
lab_synckeyd_start || exit 99
LAB_SH="$here/lab.sh"
SK_SCHEMA_LOG=$LAB/schema.log
export LAB LAB_C2S LAB_COMP LAB_SERVER SYNCKEYD SK_SCHEMA_LOG LAB_SH LAB_ADAPTER
timeout -k 5 300 "$PY" "$here/test_adapter.py" >"$LAB/tap" 2>&1 &
LAB_CLEANUP_PIDS=$!
wait "$LAB_CLEANUP_PIDS"
rc=$?
LAB_CLEANUP_PIDS=
cat "$LAB/tap"
# every synckey stanza the suite received (and sent, where none is
# malformed on purpose) against xep/'s schema
schema_ok=1
lab_schema_check "$LAB/schema.log" "$LAB/schema.log.sent" || schema_ok=0
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$LAB/tap")
passed=$(grep -c '^ok ' "$LAB/tap")
failed=$(grep -c '^not ok ' "$LAB/tap")
echo "# $passed passed, $failed failed, plan ${plan:-missing}, script exit $rc"
if [ "$rc" -eq 0 ] && [ "$schema_ok" -eq 1 ] && [ "$failed" -eq 0 ] && [ -n "$plan" ] && [ "$passed" -eq "$plan" ]; then
	exit 0
fi
echo "---- synckeyd.log (tail)"; tail -n 30 "$LAB/synckeyd.log" 2>/dev/null
echo "---- $LAB_SERVER_LOG (tail)"; tail -n 20 "$LAB_SERVER_LOG" 2>/dev/null
exit 1
