#!/bin/sh
# ci.sh [BUILD_DIR] - the converse.js plugin's CI stage: as root on a fresh Debian 12 with only the
# repository, it installs chromium, node and npm (apt-get), runs `npm ci`, builds synckeyd (or takes
# BUILD_DIR/src/synckeyd from an existing build), then prints TAP from
#   1. test/unit.js      the digest and client rules against the xep's examples (node, no browser)
#   2. test/browser.js   headless Chromium + converse.js against a real Prosody 0.12 and synckeyd
#   3. mutants/run.sh    each mutant must make 1 or 2 fail
# Exit 0 only when every line is "ok".  127.0.0.1:42000-42003 only; every step bounded by timeout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
start=$(date +%s)
if [ "$(id -u)" = 0 ]; then
	need=""
	[ -x /usr/bin/chromium ] || need="$need chromium"
	command -v node >/dev/null 2>&1 || need="$need nodejs"
	command -v npm >/dev/null 2>&1 || need="$need npm"
	command -v prosody >/dev/null 2>&1 || [ -n "${1:-}" ] || need="$need prosody"
	command -v python3 >/dev/null 2>&1 || need="$need python3"
	command -v patch >/dev/null 2>&1 || need="$need patch"
	if [ -n "$need" ]; then
		echo "# apt-get install$need"
		export DEBIAN_FRONTEND=noninteractive
		timeout 300 apt-get update -q >/dev/null && timeout 600 apt-get install -y -q -o DPkg::Lock::Timeout=300 $need >/dev/null ||
			{ echo "not ok 1 - apt-get install$need"; exit 1; }
	fi
fi
if [ -n "${1:-}" ]; then
	build=$(cd "$1" && pwd)
else
	[ "$(id -u)" = 0 ] && sh "$top/tests/install-deps.sh" >/dev/null
	build=$top/build-converse
	mkdir -p "$build"
	(cd "$top" && { [ -x configure ] || autoreconf -fi >/dev/null 2>&1; } && cd "$build" && "$top/configure" -q >/dev/null && make -j2 >/dev/null) ||
		{ echo "not ok 1 - synckeyd builds"; exit 1; }
fi
SYNCKEYD=$build/src/synckeyd
export SYNCKEYD
[ -x "$SYNCKEYD" ] || { echo "not ok 1 - synckeyd at $SYNCKEYD"; exit 1; }
cd "$here"
timeout 300 npm ci --no-audit --no-fund --ignore-scripts >npm-ci.log 2>&1 || { echo "not ok 1 - npm ci"; tail -n 20 npm-ci.log | sed 's/^/# /'; exit 1; }
rm -f npm-ci.log
rc=0
echo "# unit tests (node $(node --version))"
timeout 120 node test/unit.js || rc=1
echo "# browser tests ($(/usr/bin/chromium --version 2>/dev/null))"
OUT=${OUT:-$here/out} timeout 300 node test/browser.js || rc=1
echo "# mutants"
timeout 900 sh mutants/run.sh || rc=1
echo "# converse ci: $(( $(date +%s) - start )) s"
exit $rc
