#!/bin/sh
# check-all.sh - install what synckey needs (Debian 12, as root), build from scratch, run every test
#
# 1. apt-get installs the build and test dependencies (when run as root);
# 2. an ASan+UBSan build runs `make check`: unit tests and the interop
#    suites against a real Prosody;
# 3. a plain build runs the unit tests again under valgrind;
# 4. make distcheck (the tarball builds and passes its unit tests, and
#    its installcheck builds a program against an installed libsynckey);
# 5. the Debian packages (tests/deb/run.sh, at most 900 s): built from a
#    copy of the tree, lintian, and in CI installed, checked and purged;
#    each TAP "ok" counts as a test passed, each "not ok" as a failure;
# 6. the Debian 13 matrix (tests/compat/run.sh, at most SK_COMPAT_TIMEOUT s,
#    default 2700; SK_COMPAT=0 leaves it out): a debootstrap trixie root,
#    the README's install and build, the unit tests, and the interop suites
#    and demos on its Prosody 13 and ejabberd 24.12, adapter on and off;
#    each TAP "ok" counts as a test passed, each "not ok" as a failure;
# 7. the demo (tests/interop/run-demo.sh) on this machine's Prosody and
#    ejabberd (Debian 12's in CI): each one a test;
# 8. the fuzz targets run for FUZZ_SECONDS each (default 20): each clean
#    target counts as a test passed;
# 9. the mutants (tests/mutants/): each killed mutant counts as a test
#    passed, each survivor or patch that no longer applies as a failure;
# 10. the client plugins, each a TAP stage of at most 900 s (tap_stage):
#    slixmpp (clients/slixmpp/ci.sh: pip install from the tree, unit
#    tests, interop on Prosody and ejabberd, its mutants) and converse.js
#    (clients/converse/ci.sh: unit tests, headless Chromium against the
#    real lab, its mutants);
# 11. the soak (tests/soak/run-all.sh, a TAP stage of at most 900 s): the
#    plain build's synckeyd for 200 s on Prosody and on ejabberd with the
#    adapter, and on Prosody privilege-only if its 780 s budget allows;
#    random steps, every sync checked against a fresh login, RSS flat;
# 12. the benchmarks print their figures (not counted as tests);
# 13. the last line sums every test: "N passed, N failed".
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

sh "$top/tests/install-deps.sh"

# The labs listen on fixed loopback ports, and some of them (35xxx, 41xxx
# to 46xxx) lie in the kernel's ephemeral range (32768-60999): a client
# socket of a test running beside them may be given one as its local port,
# and the lab that wants it then fails with EADDRINUSE (CI, 2026-12-07: the
# cluster's node 2 on 45012). As root, keep them out of that pool.
reserved=/proc/sys/net/ipv4/ip_local_reserved_ports
if [ -w "$reserved" ] && echo 35000-35999,41000-46999 >"$reserved" 2>/dev/null; then
	echo "== lab ports reserved from the ephemeral range: $(cat "$reserved")"
fi

echo "== bootstrapping"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

passed=0
failed=0
count_trs() {
	# Every test case counts: cmocka's "[  PASSED  ] N test(s)" and
	# "[  FAILED  ] N test(s)" lines, or TAP "ok"/"not ok" lines, from
	# each program's log; a program that failed without saying how many
	# (a crash) counts as one failure.
	for f in $(find "$1" -name '*.trs'); do
		r=$(sed -n 's/^:test-result: //p' "$f" | head -n 1)
		log=${f%.trs}.log
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
		x=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
		if [ -z "$p$x" ]; then
			p=$(grep -c '^ok ' "$log" || true)
			x=$(grep -c '^not ok ' "$log" || true)
		fi
		p=${p:-0}
		x=${x:-0}
		case "$r" in
		SKIP) continue ;;
		PASS|XFAIL) ;;
		*)
			[ "$x" -gt 0 ] || x=1
			echo "FAILED: $f ($r)"
			# what failed, then the end of its log, so that a CI
			# log alone says why
			grep -E '^(not ok|\[  FAILED  \])' "$log" | head -n 20
			tail -n 40 "$log"
			;;
		esac
		[ "$p" -gt 0 ] || [ "$x" -gt 0 ] || p=1
		passed=$((passed + p))
		failed=$((failed + x))
	done
}

# tap_stage NAME LOG COMMAND...: runs COMMAND (at most 900 s) into LOG and
# counts its TAP lines: each "ok" (not "# SKIP") a test passed, each "not
# ok" a failure; exit 77 is a skipped stage; a timeout or a crash without
# a "not ok" line still fails it.
# (stage_timeout: another limit than 900 s)
tap_stage() {
	name=$1 log=$2
	shift 2
	echo "== $name"
	if timeout -k 120 "${stage_timeout:-900}" "$@" >"$log" 2>&1; then rc=0; else rc=$?; fi
	tail -n 60 "$log"
	tp=$(grep '^ok ' "$log" | grep -vc '# SKIP' || true)
	tx=$(grep -c '^not ok ' "$log" || true)
	passed=$((passed + tp)); failed=$((failed + tx))
	if [ "$rc" = 77 ]; then
		echo "$name: skipped ($(grep -m 1 '^1\.\.0' "$log" || echo no reason given))"
	elif [ "$rc" != 0 ] && [ "$tx" -eq 0 ]; then
		failed=$((failed + 1)); echo "FAILED: $name (exit $rc)"
	fi
}

echo "== ASan+UBSan build and make check"
rm -rf build-asan && mkdir build-asan
if ! (cd build-asan && ../configure -q --enable-sanitizers --enable-werror >/dev/null &&
	make -j2 >/dev/null && make -j2 check); then
	# a failed build or suite: every test it did not report counts as failed
	echo "FAILED: the ASan+UBSan build or make check"
	failed=$((failed + 1))
fi
count_trs build-asan
for log in build-asan/tests/*.log build-asan/tests/interop/*.log; do
	[ -f "$log" ] || continue
	case "$log" in */test-suite.log) continue ;; esac
	grep -q '^FAIL\|ERROR' "${log%.log}.trs" 2>/dev/null && { echo "---- $log"; tail -n 40 "$log"; }
done

echo "== plain build, unit tests under valgrind"
rm -rf build-vg && mkdir build-vg
if ! (cd build-vg && ../configure -q --enable-werror >/dev/null && make -j2 >/dev/null &&
	make -j2 check TESTS= >/dev/null); then
	echo "FAILED: the plain build"
	failed=$((failed + 1))
fi
for t in build-vg/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.log|*.trs|*.o) continue ;; esac
	# as make check runs them: tests that run a program find it there
	if top_builddir="$top/build-vg" valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect "$t" >"$t.vg.log" 2>&1; then
		n=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$t.vg.log" | tail -n 1)
		passed=$((passed + ${n:-1}))
	else
		failed=$((failed + 1)); echo "FAILED under valgrind: $t"; tail -n 30 "$t.vg.log"
	fi
done

echo "== make distcheck"
rm -rf build-dist && mkdir build-dist
if (cd build-dist && ../configure -q >/dev/null && make -j2 distcheck \
	DISTCHECK_CONFIGURE_FLAGS=--enable-werror TESTS='$(UNIT_TESTS) $(DAEMON_TESTS) $(CLIENT_TESTS)' \
	>distcheck.log 2>&1); then
	passed=$((passed + 1)); echo "distcheck: ok"
else
	failed=$((failed + 1)); echo "FAILED: make distcheck"; tail -n 40 build-dist/distcheck.log
fi

tap_stage "Debian packages (tests/deb/run.sh)" deb-run.log sh tests/deb/run.sh

if [ "${SK_COMPAT:-1}" = 0 ]; then
	echo "== Debian 13 matrix: left out (SK_COMPAT=0)"
else
	# timeout -k: its trap stops what runs in the root, unmounts and removes it
	rm -rf compat-logs
	t0=$(date +%s)
	stage_timeout=${SK_COMPAT_TIMEOUT:-2700}
	tap_stage "Debian 13 matrix (tests/compat/run.sh)" compat-run.log \
		env SK_COMPAT_LOGS="$top/compat-logs" sh tests/compat/run.sh
	stage_timeout=
	grep '^not ok ' compat-run.log | head -n 40
	echo "Debian 13 matrix: $(($(date +%s) - t0)) s (logs: compat-run.log, compat-logs/)"
fi

echo "== the demo on this machine's Prosody and ejabberd (tests/interop/run-demo.sh)"
# Debian 12's servers in CI, the other half of the matrix (the interop
# suites ran on them in make check above); each demo counts as one test
for srv in prosody ejabberd; do
	if timeout -k 10 900 env LAB_SERVER=$srv LAB_TOP="$top" SYNCKEYD="$top/build-vg/src/synckeyd" \
		SYNCKEY="$top/build-vg/src/synckey" sh tests/interop/run-demo.sh >"demo-$srv.log" 2>&1; then
		passed=$((passed + 1)); echo "demo on $srv: ok"
	elif grep -q '^demo: SKIP' "demo-$srv.log"; then
		echo "demo on $srv: skipped ($(grep -m 1 '^demo: SKIP' "demo-$srv.log"))"
	else
		failed=$((failed + 1)); echo "FAILED: the demo on $srv"; tail -n 30 "demo-$srv.log"
	fi
done

echo "== fuzz targets (${FUZZ_SECONDS:-20} s each)"
if sh fuzz/run.sh "${FUZZ_SECONDS:-20}" >fuzz-run.log 2>&1; then :; fi
tail -n 20 fuzz-run.log
line=$(grep '^fuzz: ' fuzz-run.log | tail -n 1)
fc=$(printf '%s' "$line" | sed -n 's/^fuzz: \([0-9]*\) targets clean, \([0-9]*\) crashed.*/\1 \2/p')
if [ -n "$fc" ]; then
	passed=$((passed + ${fc% *})); failed=$((failed + ${fc#* }))
else
	failed=$((failed + 1)); echo "FAILED: the fuzz targets did not run"
fi

echo "== mutants"
if sh tests/mutants/run.sh >mutants.log 2>&1; then :; fi
tail -n 40 mutants.log
line=$(grep '^mutants: ' mutants.log | tail -n 1)
mc=$(printf '%s' "$line" | sed -n 's/^mutants: \([0-9]*\) killed, \([0-9]*\) survived, \([0-9]*\) errors.*/\1 \2 \3/p')
if [ -n "$mc" ]; then
	set -- $mc
	passed=$((passed + $1)); failed=$((failed + $2 + $3))
else
	failed=$((failed + 1)); echo "FAILED: the mutants did not run"
fi

tap_stage "slixmpp plugin" slixmpp-ci.log env SYNCKEYD="$top/build-vg/src/synckeyd" sh clients/slixmpp/ci.sh
tap_stage "converse.js plugin" converse-ci.log sh clients/converse/ci.sh build-vg
# the plain build: ASan's quarantine would make the RSS figures meaningless
tap_stage "soak (tests/soak)" soak.log env SYNCKEYD="$top/build-vg/src/synckeyd" sh tests/soak/run-all.sh

echo "== benchmarks (figures, not tests)"
(cd build-vg && timeout 600 tests/bench_core) || echo "bench_core did not finish"
(cd build-vg && timeout 600 tests/bench_component src/synckeyd) || echo "bench_component did not finish"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
