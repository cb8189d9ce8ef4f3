#!/bin/sh
# mutants/run.sh - each patch here breaks the plugin on purpose; the unit and browser tests must
# fail on it.  A patched copy of clients/converse in a temp folder (node_modules linked), never
# the tree itself.  TAP: "ok N - mutant X killed" / "not ok N - mutant X survived".
set -u
here=$(cd "$(dirname "$0")" && pwd)
cv=$(cd "$here/.." && pwd)
top=$(cd "$cv/../.." && pwd)
n=0 bad=0
tmp=$(mktemp -d /tmp/cv-mutant.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
for p in "$here"/*.patch; do
	name=$(basename "$p" .patch)
	rm -rf "$tmp/cv"; mkdir -p "$tmp/cv"
	cp -r "$cv/src" "$cv/test" "$cv/index.html" "$cv/serve.js" "$cv/package.json" "$tmp/cv/"
	ln -s "$cv/node_modules" "$tmp/cv/node_modules"
	n=$((n + 1))
	if ! (cd "$tmp/cv" && patch -s -p1 <"$p"); then
		bad=$((bad + 1)); echo "not ok $n - mutant $name: the patch does not apply"; continue
	fi
	failed=""
	(cd "$tmp/cv" && timeout 120 node test/unit.js) >"$tmp/unit.out" 2>&1 || failed="unit($(grep -c '^not ok' "$tmp/unit.out"))"
	(cd "$tmp/cv" && CV_TOP=$top OUT=$tmp/out timeout 300 node test/browser.js) >"$tmp/browser.out" 2>&1 || failed="$failed browser($(grep -c '^not ok' "$tmp/browser.out"))"
	if [ -n "$failed" ]; then
		echo "ok $n - mutant $name killed by: $failed"
		grep '^not ok' "$tmp/unit.out" "$tmp/browser.out" | sed 's/^/# /' | head -5
	else
		bad=$((bad + 1)); echo "not ok $n - mutant $name survived every test"
	fi
done
echo "1..$n"
[ "$bad" -eq 0 ]
