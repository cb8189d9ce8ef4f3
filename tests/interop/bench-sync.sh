#!/bin/sh
# bench-sync.sh - reconnects through a real Prosody at several roster sizes (a benchmark: prints figures):
# null, delta and (with the adapter) roster-change syncs with the server adapter and in privilege-only mode, and the standard
# login (roster get + initial presence, to its last probe answer) with and without roster
# versioning (XEP-0237).
#   BENCH_SIZES="100 20000" BENCH_MODES="adapter standard" BENCH_RUNS=21 sh tests/interop/bench-sync.sh
# BENCH_SYNCKEYD_FLAGS: more synckeyd flags (e.g. --roster-timeout 60 on a loaded machine).
# Modes: adapter privilege-only standard versioning (all by default); sizes: 100 1000 5000 20000.
# 127.0.0.1 only (ports 17222/17347, or BENCH_C2S/BENCH_COMP: 35222/35347 when busy; LAB_SERVER=ejabberd: ejabberd on 27376/27377 and node port 27378, outside the 27222..27299 of the ejabberd check suites; the
# contacts are seeded as accounts only on Prosody, so ejabberd's standard login has no
# probe answers to count); every run bounded by timeout, the seeding by BENCH_SEED_SECONDS (120).
set -u
here=$(cd "$(dirname "$0")" && pwd)
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
export SYNCKEYD
. "$here/lab.sh"
lab_have_server || exit 0	# its SKIP line says why (ejabberd: root, erlc)
lab_trap
c2s=${BENCH_C2S:-17222} comp=${BENCH_COMP:-17347}
[ "${LAB_SERVER:-prosody}" = ejabberd ] && { c2s=${BENCH_C2S:-27376} comp=${BENCH_COMP:-27377}; }
server=${LAB_SERVER:-prosody}
echo "bench-sync: conditions: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $server $(dpkg-query -W -f '${Version}' "$server" 2>/dev/null), synckeyd $SYNCKEYD; both sides TCP_NODELAY"
for mode in ${BENCH_MODES:-adapter privilege-only standard versioning}; do
	for n in ${BENCH_SIZES:-100 1000 5000 20000}; do
		LAB_ADAPTER=1
		[ "$mode" = privilege-only ] && LAB_ADAPTER=0
		lab_init $c2s $comp || exit 1
		lab_user alice pw || exit 1
		lab_user c0001 pw || exit 1
		lab_roster_gen "$n" c | lab_roster alice
		printf 'alice@p.test both Alice\n' | lab_roster c0001
		case $mode in standard|versioning)
			if [ "$server" = prosody ] && ! timeout "${BENCH_SEED_SECONDS:-120}" \
			    /usr/bin/python3 "$here/bench_sync.py" seed "$LAB" "$n"; then
				echo "bench-sync: mode=$mode contacts=$n: seeding not done within ${BENCH_SEED_SECONDS:-120} s: skipped"
				lab_cleanup
				continue
			fi
		esac
		# the adapters' change logs keep BENCH_LOG_SAVES saves (default 4, not
		# 256): roster-whole then needs 5 saves a run, not 257
		saves=${BENCH_LOG_SAVES:-4}
		if [ "$mode" = adapter ]; then
			sed -i "s/^\( *\)synckey_component = .*/&\n\1synckey_changes_max = $saves/" "$LAB/prosody.cfg.lua" 2>/dev/null
			[ "$server" = ejabberd ] && sed -i "s/^\( *\)component: \"sync.p.test\"\$/&\n\1changes_max: $saves/" \
				"$LAB/ejabberd/ejabberd.yml" && chown ejabberd:ejabberd "$LAB/ejabberd/ejabberd.yml"
		fi
		lab_server_start || exit 1
		lab_synckeyd_start --log-level info ${BENCH_SYNCKEYD_FLAGS:-} || exit 1
		echo "bench-sync: mode=$mode contacts=$n: load $(cut -d' ' -f1-3 /proc/loadavg)"
		BENCH_N=$n BENCH_MODE=$mode LAB_C2S=$LAB_C2S LAB=$LAB BENCH_LOG_SAVES=$saves \
			timeout 300 /usr/bin/python3 "$here/bench_sync.py" || echo "bench-sync: mode=$mode contacts=$n FAILED"
		lab_cleanup
	done
done
echo "bench-sync: conditions at the end: load $(cut -d' ' -f1-3 /proc/loadavg)"
