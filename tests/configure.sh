#!/bin/sh
# configure.sh - a dependency that pkg-config cannot use stops configure
# with pkg-config's own reason and the Debian packages to install: here a
# libstrophe.pc whose Requires.private names a module that is missing, as
# libstrophe 0.14's names zlib (Debian 13, without zlib1g-dev).  TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
[ -x "$top/configure" ] || { echo "1..0 # SKIP no configure in $top"; exit 77; }
pc=$(pkg-config --variable=pcfiledir libstrophe 2>/dev/null) ||
	{ echo "1..0 # SKIP pkg-config does not know libstrophe"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/skcfg.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
mkdir "$T/pc" "$T/b"
sed 's/^Requires.private:.*/Requires.private: sk-missing-zlib expat openssl/' \
	"$pc/libstrophe.pc" >"$T/pc/libstrophe.pc"
echo "1..3"
(cd "$T/b" && PKG_CONFIG_PATH="$T/pc" "$top/configure" -q >"$T/out" 2>&1)
rc=$?
[ "$rc" != 0 ] && echo "ok 1 - configure stops" || echo "not ok 1 - configure stops (exit $rc)"
grep -q "Package 'sk-missing-zlib', required by 'libstrophe', not found" "$T/out" &&
	echo "ok 2 - it prints pkg-config's reason" || { echo "not ok 2 - it prints pkg-config's reason"; sed 's/^/# /' "$T/out"; }
grep -q "install the Debian package(s) libstrophe-dev zlib1g-dev" "$T/out" &&
	echo "ok 3 - it names the packages, zlib1g-dev among them" || echo "not ok 3 - it names the packages"
