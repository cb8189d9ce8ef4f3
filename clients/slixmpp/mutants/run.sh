#!/bin/sh
# mutants/run.sh - each patch here breaks the plugin on purpose; the test it names must then fail
#
#   SYNCKEYD=.../synckeyd sh clients/slixmpp/mutants/run.sh [PATCH...]
#
# Each patch says "# Suite: unit|interop" and "# Killed by: <test name>".
# It is applied to a copy of clients/slixmpp in a temporary folder; the
# suite runs there (interop: Prosody with the adapter, through lab.sh);
# the mutant is killed when a "not ok" line names that test.  TAP, then
# "mutants: K killed, S survived, E errors".
set -u
here=$(cd "$(dirname "$0")" && pwd)
plugin=$(cd "$here/.." && pwd)
LAB_TOP=$(cd "${LAB_TOP:-$plugin/../..}" && pwd)
export LAB_TOP
: "${SYNCKEYD:?set SYNCKEYD to the synckeyd binary}"
[ $# -gt 0 ] || set -- "$here"/*.patch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
echo "1..$#"
n=0 killed=0 survived=0 errors=0
for p in "$@"; do
	n=$((n + 1))
	p=$(cd "$(dirname "$p")" && pwd)/$(basename "$p")
	name=$(basename "$p" .patch)
	suite=$(sed -n 's/^# Suite: //p' "$p")
	killer=$(sed -n 's/^# Killed by: //p' "$p")
	rm -rf "$tmp/copy" && mkdir "$tmp/copy"
	(cd "$plugin" && tar -cf - --exclude=mutants --exclude=__pycache__ --exclude=build --exclude='*.egg-info' .) |
		(cd "$tmp/copy" && tar -xf -)
	if ! (cd "$tmp/copy" && patch -s -p1 <"$p") >"$tmp/patch.log" 2>&1; then
		errors=$((errors + 1)); echo "not ok $n - $name: the patch no longer applies"; sed 's/^/# /' "$tmp/patch.log"
		continue
	fi
	case $suite in
	unit) timeout 120 /usr/bin/python3 "$tmp/copy/tests/test_unit.py" >"$tmp/out" 2>&1 ;;
	interop) timeout 300 sh "$tmp/copy/tests/run-interop.sh" >"$tmp/out" 2>/dev/null ;;
	*) echo "not ok $n - $name: unknown suite '$suite'"; errors=$((errors + 1)); continue ;;
	esac
	if grep '^not ok ' "$tmp/out" | grep -qF "$killer"; then
		killed=$((killed + 1)); echo "ok $n - $name killed by: $killer"
	else
		survived=$((survived + 1)); echo "not ok $n - $name SURVIVED ($killer passed)"
		grep '^not ok ' "$tmp/out" | head -n 5 | sed 's/^/# /'
	fi
done
echo "mutants: $killed killed, $survived survived, $errors errors"
[ $survived -eq 0 ] && [ $errors -eq 0 ]
