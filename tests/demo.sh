#!/bin/sh
# demo.sh - install (Debian 12, as root), build, and show synckey on a real Prosody with 1 000 contacts
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh "$top/tests/install-deps.sh"
echo "== building"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p build-demo
(cd build-demo && ../configure -q >/dev/null && make -j2 >/dev/null)
SYNCKEYD=$top/build-demo/src/synckeyd
SYNCKEY=$top/build-demo/src/synckey
LAB_TOP=$top
. "$top/tests/interop/lab.sh"
trap lab_cleanup EXIT INT TERM
lab_init 35222 35347
export LAB LAB_C2S LAB_COMP SYNCKEYD SYNCKEY
/usr/bin/python3 "$top/tests/interop/demo.py"
