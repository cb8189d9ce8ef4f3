#!/bin/sh
# run-interop.sh - xep_synckey against a real server and synckeyd, through tests/interop/lab.sh
#
#   SYNCKEYD=.../synckeyd [LAB_SERVER=ejabberd] [LAB_ADAPTER=0] sh clients/slixmpp/tests/run-interop.sh
#
# Ports (only 127.0.0.1): Prosody 41000/41001 (adapter), 41010/41011
# (privilege-only); ejabberd 41020/41021 and 41030/41031 (its Erlang
# distribution on c2s+2).  bot@p.test with c1..c8 (both, to, from), c8
# removed and n1 added while it is away.  TAP from interop.py.
set -u
here=$(cd "$(dirname "$0")" && pwd)
LAB_TOP=$(cd "${LAB_TOP:-$here/../../..}" && pwd)
export LAB_TOP
. "$LAB_TOP/tests/interop/lab.sh"
if ! skip=$(lab_have_server); then
	echo "1..0 # $skip"
	exit 77
fi
: "${SYNCKEYD:?set SYNCKEYD to the synckeyd binary}"
case ${LAB_SERVER:=prosody}/${LAB_ADAPTER:=1} in
prosody/0) c2s=41010 comp=41011 ;;
ejabberd/1) c2s=41020 comp=41021 ;;
ejabberd/0) c2s=41030 comp=41031 ;;
*) c2s=41000 comp=41001 ;;
esac
export LAB_SERVER LAB_ADAPTER
lab_trap
lab_init $c2s $comp || exit 1
printf '%s\n' bot c1 c2 c3 c4 c5 c6 c7 c8 n1 | lab_users pw || exit 1
# 40 more items (subscription none, long names): the full answer exceeds 4 096 bytes
{
	cat <<'ROSTER'
c1@p.test	both	One	Friends	
c2@p.test	both	Two	Friends,Work	
c3@p.test	both	Three		
c4@p.test	both	Four	Work	
c5@p.test	both			
c6@p.test	both	Six	Ünïcödé	
c7@p.test	to	Seven		
c8@p.test	from	Eight		
ROSTER
	awk 'BEGIN { for (i = 10; i < 50; i++) printf "x%d@q.test\tnone\tA contact with a rather long display name number %d\tPaging\t\n", i, i }'
} | lab_roster bot || exit 1
for c in c1 c2 c3 c4 c5 c6; do printf 'bot@p.test\tboth\tBot\t\t\n' | lab_roster $c || exit 1; done
printf 'bot@p.test\tfrom\tBot\t\t\n' | lab_roster c7 || exit 1
printf 'bot@p.test\tto\tBot\t\t\n' | lab_roster c8 || exit 1
lab_server_start || exit 1
# the smallest stanza budget, so that the first (full) answer comes in parts
lab_synckeyd_start --stanza-budget 4096 || exit 1
export LAB LAB_C2S LAB_COMP
timeout -k 5 300 "${PYTHON:-/usr/bin/python3}" "$here/interop.py" &
LAB_CLEANUP_PIDS=$!
wait $LAB_CLEANUP_PIDS
rc=$?
LAB_CLEANUP_PIDS=
exit $rc
