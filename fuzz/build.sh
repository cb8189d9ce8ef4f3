#!/bin/sh
# build.sh - builds every libFuzzer target in fuzz/ straight from src/
# (no autotools).  Usage: fuzz/build.sh [BUILD_DIR]   (default fuzz/build)
# Environment: CC (default clang), EXTRA_CFLAGS, SRC (the source folder,
# default src/ next to fuzz/: point it at an export of a commit, e.g.
#   git archive HEAD src | tar -x -C /tmp/sk && SRC=/tmp/sk/src fuzz/build.sh
# to fuzz exactly that commit while src/ is being edited).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
src=$(cd "${SRC:-$top/src}" && pwd)
out=${1:-$here/build}
mkdir -p "$out"
out=$(cd "$out" && pwd)
CC=${CC:-clang}

# expat: nodefer.c (linked by fuzz_xml_capture only) calls it as the programs do
deps=$(pkg-config --cflags --libs libstrophe lmdb libcrypto expat) || {
	echo "build.sh: pkg-config cannot find libstrophe, lmdb, libcrypto and expat" >&2
	echo "build.sh: install libstrophe-dev liblmdb-dev libssl-dev libexpat1-dev" >&2
	exit 1
}
dcflags=$(pkg-config --cflags libstrophe lmdb libcrypto expat)
dlibs=$(pkg-config --libs libstrophe lmdb libcrypto expat)

# conf.c includes autoconf's config.h for PACKAGE_VERSION only.
mkdir -p "$out/include" "$out/obj"
# a different source folder than last time: rebuild everything
if [ "$(cat "$out/src.path" 2>/dev/null)" != "$src" ]; then
	rm -f "$out"/obj/*.o
	echo "$src" > "$out/src.path"
fi
cat > "$out/include/config.h" <<'EOH'
/* config.h - written by fuzz/build.sh in place of autoconf's */
#define PACKAGE_VERSION "fuzz"
#define PACKAGE_STRING "synckey fuzz"
EOH

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
# one -I per unit folder of src/ (src/README)
incs=
for d in "$src"/*/; do incs="$incs -I${d%/}"; done
cflags="-g -O1 -fno-omit-frame-pointer $san -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
 -Wall -Wextra -Wno-unused-parameter -I$out/include $incs $dcflags ${EXTRA_CFLAGS:-}"

# The library: every module of src/'s units but the programs' main files and
# libsynckey.c, the installed API's shells (no parser; it needs
# include/, which a SRC from `git archive HEAD src` lacks) (listed from
# src/, so new modules are picked up).
objs=
for f in "$src"/*/*.c; do
	m=$(basename "$f" .c)
	case $m in synckey|synckeyd|synckeyctl|libsynckey) continue ;; esac
	o="$out/obj/$m.o"
	if [ ! -f "$o" ] || [ "$f" -nt "$o" ] || [ "$out/src.path" -nt "$o" ] || \
	    [ -n "$(find "$src" -name '*.h' -newer "$o" 2>/dev/null)" ]; then
		$CC $cflags -fsanitize=fuzzer-no-link -c "$f" -o "$o"
	fi
	objs="$objs $o"
done
rm -f "$out/libsk_fuzz.a"
ar rcs "$out/libsk_fuzz.a" $objs

# One binary per fuzz_*.c; the archive supplies only what a target lacks
# (a target that includes a src/*.c file itself never pulls in its object).
n=0
for fz in "$here"/fuzz_*.c; do
	t=$(basename "$fz" .c)
	$CC $cflags -fsanitize=fuzzer "$fz" "$out/libsk_fuzz.a" $dlibs -o "$out/$t"
	n=$((n + 1))
done
echo "build.sh: $n targets in $out"
