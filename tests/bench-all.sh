#!/bin/sh
# bench-all.sh - every benchmark, then doc/benchmarks.md and its plots from their output (one command).
#   sh tests/bench-all.sh            (or: make bench, from the build folder)
# Runs, one after the other (never two at once; about 25-35 minutes on 2 cores):
#   tests/bench_core, tests/bench_engine, tests/bench_engine --throughput (deltas a second per core),
#   tests/bench_parse, tests/bench_scale (BENCH_SCALE=0 skips it),
#   tests/interop/bench-sync.sh on Prosody (127.0.0.1:17222/17347, or BENCH_C2S/BENCH_COMP), then on
#   ejabberd (27376/27377, node 27378, or BENCH_EJ_C2S/BENCH_EJ_COMP; modes BENCH_EJ_MODES, default
#   adapter privilege-only: the standard rows need accounts seeded, Prosody only; where the ejabberd
#   lab cannot run, its reason instead),
#   tests/interop/bench-load.sh (8 clients at once, 4 at 20 000 contacts on ejabberd) on Prosody
#   (17232/17357) and ejabberd (27386/27387, node 27388; BENCH_LOAD_PLAN passes to both),
#   the README demo (tests/interop/run-demo.sh), on Prosody (127.0.0.1:35222/35347), then on
#   ejabberd (35422/35447; where the ejabberd lab cannot run, its reason instead),
#   the real clients: slixmpp standard vs the plugin (clients/slixmpp/run-bench.sh)
#   and plain converse.js vs the plugin in headless Chromium (clients/converse/bench.js).
# Raw outputs go to doc/benchmarks/ (committed with the page: the figures and their
# conditions come from these files only); plots need gnuplot (gnuplot-nox), else the page
# says they were not drawn.  BENCH_SIZES, BENCH_MODES, BENCH_RUNS pass to bench-sync.sh.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${top_builddir:-.}" && pwd)
out=$top/doc/benchmarks
mkdir -p "$out"
for p in tests/bench_core tests/bench_engine tests/bench_parse tests/bench_scale src/synckeyd src/synckey; do
	[ -x "$build/$p" ] || { echo "bench-all: $build/$p missing: build first (make, then make bench)" >&2; exit 1; }
done
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	# this file is open for writing by now: doc/benchmarks/ is this run's own output
	echo "commit: $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet HEAD -- . ':!doc/benchmarks' 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "cores: $(nproc); memory: $(free -m | awk '/^Mem:/ {print $2}') MiB; cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "kernel: $(uname -r); prosody $(dpkg-query -W -f '${Version}' prosody 2>/dev/null); ejabberd $(dpkg-query -W -f '${Version}' ejabberd 2>/dev/null); libstrophe $(dpkg-query -W -f '${Version}' libstrophe0 2>/dev/null); lmdb $(dpkg-query -W -f '${Version}' liblmdb0 2>/dev/null); gcc $(gcc -dumpfullversion 2>/dev/null)"
	echo "build: $(grep -m1 '^CFLAGS = ' "$build/Makefile" | cut -d' ' -f3-)"
} >"$out/conditions.txt"
cat "$out/conditions.txt"
step() {	# NAME COMMAND...: output to $out/NAME.txt and the terminal, bounded
	name=$1; shift
	echo "== $name (load $(cut -d' ' -f1-3 /proc/loadavg))"
	timeout 1800 "$@" 2>&1 | tee "$out/$name.txt"
}
step bench_core "$build/tests/bench_core"
step bench_engine "$build/tests/bench_engine"
step bench_throughput "$build/tests/bench_engine" --throughput
step bench_parse "$build/tests/bench_parse"
if [ "${BENCH_SCALE:-1}" != 0 ]; then
	step bench_scale "$build/tests/bench_scale"
fi
step bench_sync env top_builddir="$build" SYNCKEYD="$build/src/synckeyd" LAB_SERVER=prosody sh "$top/tests/interop/bench-sync.sh"
step bench_sync_ejabberd env top_builddir="$build" SYNCKEYD="$build/src/synckeyd" LAB_SERVER=ejabberd \
	BENCH_C2S="${BENCH_EJ_C2S:-27376}" BENCH_COMP="${BENCH_EJ_COMP:-27377}" \
	BENCH_MODES="${BENCH_EJ_MODES:-adapter privilege-only}" sh "$top/tests/interop/bench-sync.sh"
for server in prosody ejabberd; do
	name=bench_load
	[ $server = prosody ] || name=bench_load_$server
	step $name env top_builddir="$build" SYNCKEYD="$build/src/synckeyd" LAB_SERVER=$server \
		sh "$top/tests/interop/bench-load.sh"
done
for server in prosody ejabberd; do
	name=demo
	[ $server = prosody ] || name=demo_$server
	step $name env SYNCKEYD="$build/src/synckeyd" SYNCKEY="$build/src/synckey" LAB_TOP="$top" \
		LAB_SERVER=$server sh "$top/tests/interop/run-demo.sh"
done
# Real clients, each against a lab of its own (skipped with the reason when
# its stack is missing: python3-slixmpp; node, chromium and npm ci)
step clients_slixmpp env SYNCKEYD="$build/src/synckeyd" LAB_TOP="$top" sh "$top/clients/slixmpp/run-bench.sh"
if command -v node >/dev/null && [ -x /usr/bin/chromium ] && [ -d "$top/clients/converse/node_modules" ]; then
	step clients_converse env SYNCKEYD="$build/src/synckeyd" LAB_TOP="$top" node "$top/clients/converse/bench.js"
else
	echo "bench: converse.js skipped: needs node, /usr/bin/chromium and npm ci in clients/converse" |
	    tee "$out/clients_converse.txt"
fi
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/conditions.txt"
/usr/bin/python3 "$top/tests/bench-report.py" "$out" "$top/doc"
