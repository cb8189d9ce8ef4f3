#!/bin/sh
# test_libsynckey.sh - libsynckey as another C client sees it: installed
# into a folder of its own (make install DESTDIR=...), a program built with
# `pkg-config --cflags --libs synckey` and run (tests/libsynckey_prog.c: a
# full answer in two parts, a delta and a wrong digest applied, the state
# kept in a cache and read back; no network), and the library's dynamic
# symbols exactly the functions synckey.h declares.
# Run by `make installcheck` (so by `make distcheck`); needs top_builddir,
# top_srcdir and MAKE, CC, CFLAGS, LDFLAGS as the build used them.
# Exit 77 (skipped) without pkg-config or nm.
set -u
: "${top_builddir:?}" "${top_srcdir:?}"
MAKE=${MAKE:-make}
CC=${CC:-cc}

for tool in pkg-config nm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "test_libsynckey: SKIP: no $tool"
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/libsynckey.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "test_libsynckey: FAIL: $*"
	exit 1
}

(cd "$top_builddir" && $MAKE install DESTDIR="$tmp/root") >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "make install DESTDIR=$tmp/root"; }
pc=$(find "$tmp/root" -name synckey.pc | head -n 1)
so=$(find "$tmp/root" -name 'libsynckey.so.0' | head -n 1)
hdr=$(find "$tmp/root" -name synckey.h | head -n 1)
[ -n "$pc" ] && [ -n "$so" ] && [ -n "$hdr" ] ||
	fail "no synckey.pc, libsynckey.so.0 or synckey.h under $tmp/root"
libdir=$(dirname "$so")

# The .pc names the final prefix: the sysroot points it into DESTDIR.
PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
PKG_CONFIG_SYSROOT_DIR="$tmp/root"
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cflags=$(pkg-config --cflags synckey) || fail "pkg-config --cflags synckey"
libs=$(pkg-config --libs synckey) || fail "pkg-config --libs synckey"
# shellcheck disable=SC2086 # flags are lists
$CC ${CFLAGS:-} $cflags -o "$tmp/prog" "$top_srcdir/tests/libsynckey_prog.c" \
    ${LDFLAGS:-} $libs -Wl,-rpath,"$libdir" || fail "building against the installed header"
case $(ldd "$tmp/prog" 2>/dev/null | grep libsynckey) in
*"$tmp/root"*) ;;
*) fail "the program does not load the installed libsynckey.so.0" ;;
esac
"$tmp/prog" "$tmp/cache" || fail "libsynckey_prog"

# Exported: exactly what the header declares, nothing of the core.
nm -D --defined-only "$so" | awk '{ print $NF }' | sort -u >"$tmp/exported"
sed -n 's/.*\(synckey_[a-z_]*\)(.*/\1/p' "$hdr" | sort -u >"$tmp/declared"
if ! cmp -s "$tmp/exported" "$tmp/declared"; then
	echo "exported (<) and declared in synckey.h (>) differ:"
	diff "$tmp/exported" "$tmp/declared"
	fail "libsynckey.so exports other symbols than synckey.h declares"
fi
echo "test_libsynckey: ok: $(wc -l <"$tmp/exported") symbols, all synckey_*, all declared"
