#!/bin/sh
# tests/cluster/mutants/run.sh - planted bugs tests/cluster/run.sh must catch
#
#   sh tests/cluster/mutants/run.sh [PATCH...]     (default: every *.patch here)
#
# Copies the tree (without build/) into a mktemp -d folder; for each patch:
# applies it (patch -p1), rebuilds synckeyd there when the patch touches
# src/ (else the tree's own build is used: SYNCKEYD or build/src/synckeyd),
# runs tests/cluster/run.sh against the copy (LAB_TOP: its adapter, lab.sh
# and test), and reverts it.  KILLED: run.sh failed and the check named on
# the patch's "Killed by:" line failed; SURVIVED: it passed; WEAK: it failed,
# but not at that check; ERROR: the patch does not apply or the build
# failed.  Exit 0 only when every mutant was killed.  77 without ejabberd.
# Each run takes one cluster run (about 90 s); the ports are run.sh's.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
. "$top/tests/interop/lab.sh"
LAB_SERVER=ejabberd
lab_have_server || exit 77
[ $# -gt 0 ] || set -- "$here"/*.patch
SYNCKEYD=${SYNCKEYD:-$top/build/src/synckeyd}
[ -x "$SYNCKEYD" ] || { echo "Bail out! no synckeyd at $SYNCKEYD (build it first)"; exit 99; }
work=$(mktemp -d "${TMPDIR:-/tmp}/skmut.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
trap 'rm -rf "$work"; exit 130' INT
trap 'rm -rf "$work"; exit 143' TERM
(cd "$top" && tar --exclude=./build --exclude=./.git -cf - .) | (cd "$work" && tar -xf -) || exit 99
built=0
killed=0 other=0
for p in "$@"; do
	name=$(basename "$p" .patch)
	want=$(sed -n 's/^# Killed by: .*(check \([0-9][0-9]*\).*/\1/p' "$p" | head -n 1)
	if ! (cd "$work" && patch -s -p1 <"$p"); then
		echo "ERROR $name: does not apply"
		other=$((other + 1))
		continue
	fi
	exe=$SYNCKEYD
	if grep -q '^+++ b/src/' "$p"; then
		if [ $built = 0 ]; then
			(cd "$work" && autoreconf -fi && mkdir -p build && cd build && ../configure -q) \
				>"$work/build.log" 2>&1 && built=1
		fi
		if ! (cd "$work/build" && make -j2 src/synckeyd) >>"$work/build.log" 2>&1; then
			echo "ERROR $name: the build failed (KILLED by the compiler is not a test)"
			(cd "$work" && patch -s -R -p1 <"$p")
			other=$((other + 1))
			continue
		fi
		exe=$work/build/src/synckeyd
	fi
	out=$(LAB_TOP=$work SYNCKEYD=$exe sh "$work/tests/cluster/run.sh" 2>&1)
	rc=$?
	(cd "$work" && patch -s -R -p1 <"$p")
	fails=$(printf '%s\n' "$out" | sed -n 's/^not ok \([0-9][0-9]*\) - .*/\1/p' | tr '\n' ' ')
	if [ $rc = 0 ]; then
		echo "SURVIVED $name"
		other=$((other + 1))
	elif printf ' %s' "$fails" | grep -q " $want "; then
		echo "KILLED $name (failed: ${fails% }; Killed by: check $want)"
		killed=$((killed + 1))
	else
		echo "WEAK $name (run.sh exit $rc, failed: ${fails:-none}; expected check $want)"
		printf '%s\n' "$out" | grep -E '^(not ok|#|Bail)' | head -n 10 | sed 's/^/    /'
		other=$((other + 1))
	fi
done
echo "cluster mutants: $killed killed, $other not"
[ $other = 0 ]
