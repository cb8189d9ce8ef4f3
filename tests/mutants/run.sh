#!/bin/sh
# tests/mutants/run.sh - mutation check: every planted bug must make a unit test fail
#
#   sh tests/mutants/run.sh [PATCH...]      (from the top of a tree, or anywhere)
#
# Copies the tree once (git ls-files, tracked and untracked-not-ignored,
# or a tar copy without build folders when there is no git) into a
# mktemp -d folder, runs autoreconf, configure (plain build, no
# sanitizers) and make -j2 there, then for each tests/mutants/NN-*.patch
# (or the patches named): applies it with patch -p1, rebuilds
# incrementally and runs the cmocka unit tests only (make check
# TESTS='...', the *_TESTS lists of Makefile.am), with a 300 s bound per
# mutant.  A mutant is KILLED when the build or a test fails (or the
# bound is hit), SURVIVED when everything passes, ERROR when the patch
# does not apply (an error is not a kill).  The patch is reverted (patch
# -R) before the next one.  Prints one line per mutant and
#   mutants: N killed, N survived, N errors
# and exits 0 only when every mutant was killed.  Writes nothing outside
# its temporary folder, which it removes at the end.
#
# Environment: MUTANT_TIMEOUT (seconds per mutant, default 300),
# MUTANT_TESTS (override the unit test list), KEEP=1 (keep the folder).
set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 2
top=$(cd "$here/../.." && pwd) || exit 2
limit=${MUTANT_TIMEOUT:-300}
start=$(date +%s)

if [ ! -f "$top/configure.ac" ] || [ ! -f "$top/Makefile.am" ]; then
	echo "run.sh: $top is not the top of a synckey tree" >&2
	exit 2
fi
for tool in patch make autoreconf timeout; do
	command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: $tool is needed" >&2; exit 2; }
done

# The patches: the arguments (made absolute), else every NN-*.patch here.
patches=
if [ $# -gt 0 ]; then
	for p in "$@"; do
		case $p in /*) ;; *) p=$(pwd)/$p ;; esac
		patches="$patches $p"
	done
else
	for p in "$here"/[0-9]*.patch; do
		[ -f "$p" ] && patches="$patches $p"
	done
fi
if [ -z "$patches" ]; then
	echo "run.sh: no patches in $here" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/skmutants.XXXXXX") || exit 2
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then
		echo "run.sh: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mkdir "$work/src" "$work/build" "$work/logs" "$work/tmp"
# The unit tests make their folders under $TMPDIR: keep them in ours.
TMPDIR=$work/tmp
export TMPDIR
# The property test also draws a seed from the clock: fix it, so a
# mutant's verdict does not depend on the day.
SK_SEED=${SK_SEED:-20260101}
export SK_SEED

# ---- one clean copy of the tree
if command -v git >/dev/null 2>&1 && git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files --cached --others --exclude-standard |
	    while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done |
	    tar -cf - -T -) | tar -xf - -C "$work/src" || { echo "run.sh: copy failed" >&2; exit 2; }
else
	(cd "$top" && tar -cf - --exclude=.git --exclude='build*' --exclude=autom4te.cache \
	    --exclude='*.o' --exclude='*.lo' --exclude='*.la' --exclude=.libs --exclude=.deps \
	    --exclude=config.status --exclude=config.log --exclude=Makefile \
	    --exclude=libtool --exclude=config.h .) | tar -xf - -C "$work/src" ||
	    { echo "run.sh: copy failed" >&2; exit 2; }
fi

# The unit tests: the *_TESTS lists of Makefile.am (not TESTS itself,
# which also holds the interop suites against a real server).
if [ -n "${MUTANT_TESTS:-}" ]; then
	tests=$MUTANT_TESTS
else
	tests=$(awk '
		{ line = line $0 }
		/\\$/ { sub(/\\$/, "", line); next }
		{ if (line ~ /^[A-Z_]+_TESTS[ \t]*\+?=/) {
			sub(/^[A-Z_]+_TESTS[ \t]*\+?=/, "", line)
			n = split(line, w, /[ \t]+/)
			for (i = 1; i <= n; i++) if (w[i] ~ /^tests\/test_/) printf "%s ", w[i]
		  }
		  line = "" }' "$work/src/Makefile.am")
fi
if [ -z "$tests" ]; then
	echo "run.sh: no unit tests found in Makefile.am" >&2
	exit 2
fi

echo "mutants: building a clean copy in $work"
(cd "$work/src" && autoreconf -fi) >"$work/logs/autoreconf.log" 2>&1 &&
(cd "$work/build" && "$work/src/configure" --disable-silent-rules) >"$work/logs/configure.log" 2>&1 &&
(cd "$work/build" && make -j2) >"$work/logs/build.log" 2>&1
if [ $? -ne 0 ]; then
	echo "run.sh: the clean tree does not build; see the logs:" >&2
	tail -n 30 "$work/logs/"*.log >&2
	exit 2
fi

# make check with the unit tests; or, given a list after the log, with
# only those programs, built alone (check_PROGRAMS: not the others).
unit_check() {
	if [ -n "${2:-}" ]; then
		( cd "$work/build" && timeout -k 10 "$limit" sh -c \
		    'make -j2 check TESTS="$2" check_PROGRAMS="$2" >"$1" 2>&1' sh "$1" "$2" )
	else
		( cd "$work/build" && timeout -k 10 "$limit" sh -c \
		    'make -j2 >"$1" 2>&1 && make -j2 check TESTS="$2" >>"$1" 2>&1' sh "$1" "$tests" )
	fi
}

# The unit test programs a patch's "Killed by:" line names (and that exist).
named_tests() {
	for t in $(sed -n 's/^# Killed by: //p' "$1" | grep -oE 'tests/test_[a-z_]+' | sort -u); do
		case " $tests " in *" $t "*) printf '%s ' "$t" ;; esac
	done
}

# ---- the unmutated tree must pass, or every mutant would look killed
if ! unit_check "$work/logs/baseline.log"; then
	echo "run.sh: the unit tests fail on the clean tree; no verdicts:" >&2
	grep -E '^(FAIL|ERROR):' "$work/logs/baseline.log" >&2
	tail -n 30 "$work/logs/baseline.log" >&2
	exit 2
fi
echo "mutants: clean tree passes: $tests"

killed=0 survived=0 errors=0
for p in $patches; do
	name=$(basename "$p" .patch)
	log=$work/logs/$name.log
	t0=$(date +%s)
	if ! (cd "$work/src" && patch -p1 -s -f --dry-run <"$p") >"$log" 2>&1 ||
	   ! (cd "$work/src" && patch -p1 -s -f --no-backup-if-mismatch <"$p") >>"$log" 2>&1; then
		errors=$((errors + 1))
		printf '%-10s %s: the patch does not apply\n' ERROR "$name"
		sed 's/^/    /' "$log" | head -n 5
		continue
	fi
	# the tests it names first (most mutants die there); all of them
	# when those pass, so a survivor has passed every unit test
	named=$(named_tests "$p")
	rc=0
	[ -n "$named" ] && { unit_check "$log" "$named"; rc=$?; }
	[ $rc -eq 0 ] && { unit_check "$log"; rc=$?; }
	t1=$(date +%s)
	if [ $rc -eq 0 ]; then
		survived=$((survived + 1))
		printf '%-10s %s (%ss)\n' SURVIVED "$name" $((t1 - t0))
	else
		killed=$((killed + 1))
		by=
		for t in $(grep -E '^(FAIL|ERROR):' "$log" | sed 's/^[A-Z]*: //'); do
			# the cmocka tests that failed, from the program's own log
			fns=$(sed -n 's/^\[  FAILED  \] \([A-Za-z_][A-Za-z0-9_]*\)$/\1/p' \
			    "$work/build/$t.log" 2>/dev/null | sort -u | tr '\n' ',' | sed 's/,$//; s/,/, /g')
			by="$by${by:+; }$t${fns:+ ($fns)}"
		done
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			by="timeout after ${limit}s"
		elif [ -z "$by" ]; then
			by="build failed"
		fi
		printf '%-10s %s (%ss) by: %s\n' KILLED "$name" $((t1 - t0)) "$by"
	fi
	if ! (cd "$work/src" && patch -p1 -R -s -f --no-backup-if-mismatch <"$p") >>"$log" 2>&1; then
		echo "run.sh: could not revert $name; stopping" >&2
		exit 2
	fi
done

echo "mutants: run time $(( $(date +%s) - start ))s"
echo "mutants: $killed killed, $survived survived, $errors errors"
[ "$survived" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$killed" -gt 0 ]
