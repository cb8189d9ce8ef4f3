#!/bin/sh
# repro/lab.sh SCENARIO.py [ARGS] - a small lab for one reproducer of the soak's findings
#
# LAB_SERVER (prosody or ejabberd) and LAB_ADAPTER as for lab.sh; users a,
# b, c on p.test and qa on q.test (a domain synckeyd does not serve):
# a has b (AB, default both), c (both) and qa@q.test (both); b has a (BA,
# default both); c and qa have a (both).  The server and synckeyd
# (debug log) started, then the scenario, whose exit status is this
# script's: 0 the fault is absent, 1 it shows.  127.0.0.1:29250/29251
# (ejabberd's distribution 29252); LAB_KEEP=1 keeps the lab.
set -u
here=$(cd "$(dirname "$0")" && pwd)
LAB_TOP=${LAB_TOP:-$(cd "$here/../../.." && pwd)}
export LAB_TOP
. "$LAB_TOP/tests/interop/lab.sh"
lab_have_server || exit 77
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
[ -x "$SYNCKEYD" ] || { echo "no synckeyd at $SYNCKEYD (set SYNCKEYD)"; exit 99; }
SYNCKEYD=$(cd "$(dirname "$SYNCKEYD")" && pwd)/$(basename "$SYNCKEYD")
lab_trap
lab_init 29250 29251 || exit 99
printf 'a\nb\nc\n' | lab_users pw || exit 99
echo qa | lab_users pw q.test || exit 99
printf 'b@p.test\t%s\tB\t\t\nc@p.test\tboth\tC\t\t\nqa@q.test\tboth\tQA\t\t\n' "${AB:-both}" | lab_roster a || exit 99
printf 'a@p.test\t%s\tA\t\t\n' "${BA:-both}" | lab_roster b || exit 99
printf 'a@p.test\tboth\tA\t\t\n' | lab_roster c || exit 99
printf 'a@p.test\tboth\tA\t\t\n' | lab_roster qa q.test || exit 99
lab_server_start || exit 99
lab_synckeyd_start || exit 99
LAB_SH=$LAB_TOP/tests/interop/lab.sh
export LAB LAB_C2S LAB_SERVER LAB_ADAPTER SYNCKEYD LAB_SH
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$LAB_TOP/tests/interop /usr/bin/python3 "$@"
