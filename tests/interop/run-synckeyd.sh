#!/bin/sh
# run-synckeyd.sh - the synckeyd interop suite on a real Prosody (automake test driver)
set -u
here=$(cd "$(dirname "$0")" && pwd)
command -v prosody >/dev/null 2>&1 || { echo "SKIP: prosody is not installed"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing"; exit 77; }
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
. "$here/lab.sh"
trap lab_cleanup EXIT INT TERM
lab_init 15222 15347
for u in alice bob carl dave erin frank zed; do lab_user $u pw; done
lab_user quser pw q.test
lab_roster alice <<ROSTER
bob@p.test both Bob Friends
carl@p.test to Carl
dave@p.test from Dave
erin@p.test both Erin
ROSTER
lab_roster bob <<ROSTER
alice@p.test both Alice
zed@p.test both Zed
ROSTER
export LAB LAB_C2S LAB_COMP SYNCKEYD
/usr/bin/python3 "$here/test_synckeyd.py"
rc=$?
[ $rc -eq 0 ] || { echo "---- synckeyd.log (tail)"; tail -n 40 "$LAB/synckeyd.log"; echo "---- prosody.log (tail)"; tail -n 20 "$LAB/prosody.log"; }
exit $rc
