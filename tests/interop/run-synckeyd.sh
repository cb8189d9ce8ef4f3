#!/bin/sh
# run-synckeyd.sh - the synckeyd interop suite on a real Prosody (automake test driver)
#
# Builds nothing: runs $top_builddir/src/synckeyd (or $SYNCKEYD) against a
# Prosody of its own on 127.0.0.1 (c2s 15222, component 15347; 15232 and 15357
# with LAB_ADAPTER=0, privilege-only mode), or with LAB_SERVER=ejabberd an
# ejabberd (27222/27223, 27232/27233; distribution port c2s+2), and prints
# the TAP lines of test_synckeyd.py.  Exit 77 (SKIP) only when the server is
# not installed; exit 0 only when every scenario passed.  LAB_KEEP=1 keeps
# the lab folder (logs, data) for a look afterwards.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3     # Debian's python3; a python3 on PATH may be another one

. "$here/lab.sh"
lab_have_server || exit 77
[ -x "$PY" ] || { echo "Bail out! $PY is missing (apt-get install python3)"; exit 99; }
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
# the server adapter is on unless LAB_ADAPTER=0 (privilege-only), on ports of its own
case ${LAB_SERVER:-prosody}/${LAB_ADAPTER:-1} in
prosody/0) c2s=15232; comp=15357 ;;
ejabberd/0) c2s=27232; comp=27233 ;;
ejabberd/*) c2s=27222; comp=27223 ;;
*) c2s=15222; comp=15347 ;;
esac
# LAB_PORTS='C2S COMP': another pair, e.g. to run the Prosody suite
# beside the one that holds its usual ports
if [ -n "${LAB_PORTS:-}" ]; then
	c2s=${LAB_PORTS% *}
	comp=${LAB_PORTS#* }
fi
[ -x "$SYNCKEYD" ] || { echo "Bail out! no synckeyd at $SYNCKEYD (build it first)"; exit 99; }
lab_trap
lab_init $c2s $comp || exit 99

# alice's roster: the lab writes it into Prosody's storage and the test
# computes the expected state from the same file.  gus checks escaping,
# several groups and a pending subscription; 150 generated contacts make a
# roster of some size (never online).
{
	printf 'bob@p.test\tboth\tBob\tFriends\t\n'
	printf 'carl@p.test\tto\tCarl\t\t\n'
	printf 'dave@p.test\tfrom\tDave\t\t\n'
	printf 'erin@p.test\tboth\tErin\tFriends,Work\t\n'
	printf 'gus@p.test\tnone\tG & "Gus" <x>'\''s \342\230\225 \\ end\tZeta,Alpha,\303\234n\303\257\tsubscribe\n'
	lab_roster_gen 150 c
	# six contacts of q.test, a domain synckeyd does not serve (remote to
	# it): the cap per remote domain (online in one scenario only)
	for i in 0 1 2 3 4 5; do printf 'r%s@q.test\tboth\tR%s\t\t\n' $i $i; done
} >"$LAB/alice.tsv"
for u in alice bob carl dave erin frank gus zed; do
	lab_user "$u" pw || exit 99
done
lab_user quser pw q.test || exit 99
for i in 0 1 2 3 4 5; do
	lab_user "r$i" pw q.test || exit 99
	echo "alice@p.test both Alice" | lab_roster "r$i" q.test || exit 99
done
lab_roster alice <"$LAB/alice.tsv" || exit 99
lab_roster bob <<ROSTER || exit 99
alice@p.test both Alice
zed@p.test both Zed
ROSTER

SK_SCHEMA_LOG=$LAB/schema.log
LAB_SH="$here/lab.sh"
export LAB LAB_C2S LAB_COMP LAB_SERVER LAB_ADAPTER SYNCKEYD SK_SCHEMA_LOG LAB_SH
# In the background so that the trap can stop it (and then, by their
# pidfiles, the servers it started); its output is shown as it comes.
timeout -k 5 600 "$PY" "$here/test_synckeyd.py" >"$LAB/tap" 2>&1 &
LAB_CLEANUP_PIDS=$!
tail -n +1 -f --pid="$LAB_CLEANUP_PIDS" "$LAB/tap" &
tail_pid=$!
wait "$LAB_CLEANUP_PIDS"
rc=$?
LAB_CLEANUP_PIDS=
wait "$tail_pid"
# every synckey stanza the suite received (and sent, where none is
# malformed on purpose) against xep/'s schema
schema_ok=1
lab_schema_check "$LAB/schema.log" || schema_ok=0
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$LAB/tap")
passed=$(grep -c '^ok ' "$LAB/tap")
failed=$(grep -c '^not ok ' "$LAB/tap")
echo "# $passed passed, $failed failed, plan ${plan:-missing}, script exit $rc"
if [ "$rc" -eq 0 ] && [ "$schema_ok" -eq 1 ] && [ "$failed" -eq 0 ] && [ -n "$plan" ] && [ "$passed" -eq "$plan" ] && [ "$plan" -gt 0 ]; then
	exit 0
fi
echo "---- synckeyd.log (tail)"
tail -n 40 "$LAB/synckeyd.log" 2>/dev/null
echo "---- $LAB_SERVER_LOG (tail)"
tail -n 20 "$LAB_SERVER_LOG" 2>/dev/null
exit 1
