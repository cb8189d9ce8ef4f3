#!/bin/sh
# run.sh - the soak of synckeyd (soak.py) on a real Prosody or ejabberd, as TAP
#
# LAB_SERVER=prosody (default) or ejabberd; LAB_ADAPTER=0 for privilege-only
# mode; SOAK_SECONDS (default 240) or SOAK_STEPS bound the loop; SOAK_SEED
# replays a run's choices (the seed is printed); SYNCKEYD (default
# $top_builddir/src/synckeyd): the daemon, a plain build (an ASan build's
# quarantine makes its RSS meaningless).  Ports 127.0.0.1:
#   prosody 29200/29201, prosody privilege-only 29210/29211,
#   ejabberd 29220/29221 (distribution 29222), ejabberd privilege-only
#   29230/29231 (29232); LAB_PORTS='C2S COMP' for another pair.
# Exit 77 (SKIP) when the server cannot run here; 0 only when every check
# passed.  LAB_KEEP=1 keeps the lab folder (logs, trace of every step).
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
LAB_TOP=${LAB_TOP:-$(cd "$here/../.." && pwd)}
export LAB_TOP
. "$LAB_TOP/tests/interop/lab.sh"
if ! lab_have_server; then
	echo "1..0 # SKIP ${LAB_SERVER:-prosody} cannot run here"
	exit 77
fi
[ -x "$PY" ] || { echo "Bail out! $PY is missing (apt-get install python3)"; exit 99; }
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
[ -x "$SYNCKEYD" ] || { echo "Bail out! no synckeyd at $SYNCKEYD (build it first)"; exit 99; }
SYNCKEYD=$(cd "$(dirname "$SYNCKEYD")" && pwd)/$(basename "$SYNCKEYD")
case ${LAB_SERVER:-prosody}/${LAB_ADAPTER:-1} in
prosody/0) c2s=29210; comp=29211 ;;
ejabberd/0) c2s=29230; comp=29231 ;;
ejabberd/*) c2s=29220; comp=29221 ;;
*) c2s=29200; comp=29201 ;;
esac
if [ -n "${LAB_PORTS:-}" ]; then
	c2s=${LAB_PORTS% *}
	comp=${LAB_PORTS#* }
fi
SOAK_SECONDS=${SOAK_SECONDS:-240}
lab_trap
lab_init $c2s $comp || exit 99

# the world: users, their rosters (soak.py --world writes them)
mkdir -p "$LAB/world"
"$PY" "$here/soak.py" --world "$LAB/world" || exit 99
lab_users pw <"$LAB/world/users.txt" || exit 99
lab_users pw q.test <"$LAB/world/qusers.txt" || exit 99
while read -r u; do
	lab_roster "$u" <"$LAB/world/roster-$u.tsv" || exit 99
done <"$LAB/world/users.txt"
lab_roster qa q.test <"$LAB/world/roster-qa.tsv" || exit 99

LAB_SH="$LAB_TOP/tests/interop/lab.sh"
export LAB LAB_C2S LAB_COMP LAB_SERVER LAB_ADAPTER LAB_SERVER_LOG SYNCKEYD LAB_SH SOAK_SECONDS
# in the background so that the trap can stop it (and, by their pidfiles,
# the server and synckeyd it started); its output shown as it comes
limit=$(printf '%.0f' "$SOAK_SECONDS")
: >"$LAB/tap"		# before tail opens it
timeout -k 5 $((limit + 300)) "$PY" "$here/soak.py" >"$LAB/tap" 2>&1 &
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
echo "# soak on $LAB_SERVER${LAB_ADAPTER:+ (adapter $LAB_ADAPTER)}: $passed passed, $failed failed, plan ${plan:-missing}, script exit $rc"
if [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ -n "$plan" ] && [ "$passed" -eq "$plan" ] && [ "$plan" -gt 0 ]; then
	exit 0
fi
echo "---- synckeyd.log (warnings and errors, tail)"
grep -E ' synckeyd (warn|error): ' "$LAB/synckeyd.log" 2>/dev/null | tail -n 20
echo "---- $LAB_SERVER_LOG (tail)"
tail -n 20 "$LAB_SERVER_LOG" 2>/dev/null
exit 1
