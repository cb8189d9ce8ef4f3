#!/bin/sh
# lab-up.sh - a real Prosody 0.12 (with WebSocket) and synckeyd on 127.0.0.1 for the converse.js tests.
#   sh lab-up.sh SCENARIO C2S COMP HTTP [synckeyd flags...]
# SCENARIO: small (alice, 12 contacts and 50 offline fillers f0001.. so that a 4096-byte budget pages) or bench:N (alice and N generated contacts, seeded
# as accounts holding alice).  Prints "LAB <dir>" then "READY" once both run, then waits until
# SIGTERM/SIGINT (or stdin closes), stops everything by PID (lab.sh's lab_cleanup) and
# removes the folder.  SYNCKEYD: the binary (default ../../build/src/synckeyd).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${CV_TOP:-$(cd "$here/../../.." && pwd)}
scenario=$1 c2s=$2 comp=$3 http=$4
shift 4
SYNCKEYD=${SYNCKEYD:-$top/build/src/synckeyd}
export SYNCKEYD LAB_TOP=$top
. "$top/tests/interop/lab.sh"
lab_trap
lab_init "$c2s" "$comp" || exit 1
# WebSocket (mod_websocket over mod_http) on 127.0.0.1 only; the lab's config is appended to,
# never lab.sh changed.  "Host '*'" goes back to the global section.
cat >>"$LAB/prosody.cfg.lua" <<CFG
Host "*"
  http_ports = { $http }
  http_interfaces = { "127.0.0.1" }
  http_default_host = "p.test"
  consider_websocket_secure = true
  cross_domain_websocket = true
VirtualHost "p.test"
  modules_enabled = { "blocklist"; "synckey"; "delegation"; "websocket" }
CFG
case $scenario in
small)
	for u in alice bob carl dave erin fay gus hal ivy jon kim lee mia; do lab_user $u pw || exit 1; done
	tab=$(printf '\t')
	{ lab_roster_gen 50 f; cat <<R
bob@p.test${tab}both${tab}Bob${tab}Friends${tab}
carl@p.test${tab}both${tab}Carl${tab}${tab}
dave@p.test${tab}to${tab}Dave${tab}Work${tab}
erin@p.test${tab}both${tab}Erin${tab}Work,Friends${tab}
fay@p.test${tab}from${tab}Fay${tab}${tab}
gus@p.test${tab}none${tab}Gus${tab}${tab}subscribe
hal@p.test${tab}both${tab}Hål Ünïcode${tab}Família${tab}
ivy@p.test${tab}both${tab}Ivy${tab}Friends${tab}
jon@p.test${tab}both${tab}${tab}${tab}
mia@p.test${tab}both${tab}Mia${tab}Work${tab}
R
	} | lab_roster alice
	for u in bob carl erin hal ivy jon mia kim lee; do printf 'alice@p.test both Alice\n' | lab_roster $u; done
	printf 'alice@p.test from Alice\n' | lab_roster dave
	;;
bench:*)
	n=${scenario#bench:}
	lab_user alice pw || exit 1
	lab_roster_gen "$n" c | lab_roster alice
	timeout 120 /usr/bin/python3 "$top/tests/interop/bench_sync.py" seed "$LAB" "$n" || exit 1
	lab_user c0001 pw || exit 1
	printf 'alice@p.test both Alice\n' | lab_roster c0001
	;;
*) echo "lab-up: unknown scenario $scenario" >&2; exit 2 ;;
esac
lab_server_start || exit 1
lab_synckeyd_start "$@" || exit 1
echo "LAB $LAB"
echo "READY"
# until told to stop: a signal, or our parent closing stdin
exec 3<&0
cat <&3 >/dev/null &
catpid=$!
LAB_CLEANUP_PIDS="$catpid"
wait "$catpid"
