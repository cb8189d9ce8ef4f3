#!/bin/sh
# run.sh - builds and runs every fuzz target for SECONDS each (default 10).
# Usage: fuzz/run.sh [SECONDS]
# Environment:
#   BUILD       build folder (default fuzz/build)
#   TARGETS     space-separated subset, e.g. "key snap" (default: all)
#   RUNS        also stop a target after RUNS executions (-runs=RUNS)
#   FUZZ_FLAGS  extra libFuzzer flags
# Each target runs on a copy of its seed corpus, BUILD/corpus/<target>
# (kept and grown between runs); crash artifacts go to
# BUILD/artifacts/<target>/, logs to BUILD/logs/<target>.log.
# Prints per target the executions, coverage and result, then
#   fuzz: N targets clean, N crashed
# and exits 1 when any target crashed.  Nothing uses the network.
set -u

secs=${1:-10}
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-$here/build}

"$here/build.sh" "$build" >"${TMPDIR:-/tmp}/sk_fuzz_build.$$.log" 2>&1 || {
	cat "${TMPDIR:-/tmp}/sk_fuzz_build.$$.log" >&2
	rm -f "${TMPDIR:-/tmp}/sk_fuzz_build.$$.log"
	echo "run.sh: build failed" >&2
	exit 2
}
rm -f "${TMPDIR:-/tmp}/sk_fuzz_build.$$.log"
build=$(cd "$build" && pwd)
[ -d "$here/corpus/key" ] || "$here/seeds.sh"

if [ -z "${TARGETS:-}" ]; then
	TARGETS=
	for f in "$here"/fuzz_*.c; do
		t=$(basename "$f" .c)
		TARGETS="$TARGETS ${t#fuzz_}"
	done
fi

clean=0
crashed=0
mkdir -p "$build/logs" "$build/tmp"
printf '%-12s %12s %8s %8s %7s %7s  %s\n' target execs seconds exec/s cov corpus result
for t in $TARGETS; do
	bin=$build/fuzz_$t
	work=$build/corpus/$t
	art=$build/artifacts/$t
	log=$build/logs/$t.log
	mkdir -p "$work" "$art"
	[ -d "$here/corpus/$t" ] && cp -p "$here/corpus/$t"/* "$work"/ 2>/dev/null
	# every crash found so far is replayed first: a regression shows at once
	for c in "$here/crashes/$t"-*; do
		[ -f "$c" ] && cp -p "$c" "$work/"
	done
	dict=
	case $t in
	xml_*|client|request|changes) dict=-dict=$here/xml.dict ;;
	esac
	runs=
	[ -n "${RUNS:-}" ] && runs=-runs=$RUNS
	start=$(date +%s)
	TMPDIR=$build/tmp "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=30 \
	    -print_final_stats=1 -artifact_prefix="$art/" $dict $runs ${FUZZ_FLAGS:-} \
	    "$work" >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$log" | tail -n 1)
	secs_run=$((end - start))
	[ "$secs_run" -gt 0 ] || secs_run=1
	rate=$(( ${execs:-0} / secs_run ))
	ncorp=$(ls "$work" | wc -l)
	if [ "$rc" -eq 0 ]; then
		result=clean
		clean=$((clean + 1))
	else
		a=$(ls -t "$art" 2>/dev/null | head -n 1)
		result="CRASHED (rc $rc) $art/$a, log $log"
		crashed=$((crashed + 1))
	fi
	printf '%-12s %12s %8s %8s %7s %7s  %s\n' "$t" "${execs:-?}" "$secs_run" "$rate" \
	    "${cov:-?}" "$ncorp" "$result"
done
echo "fuzz: $clean targets clean, $crashed crashed"
[ "$crashed" -eq 0 ]
