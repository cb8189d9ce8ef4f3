#!/bin/sh
# demo.sh - install (Debian 12, as root), build, and show synckey on a real Prosody with 1 000 contacts
#   sh tests/demo.sh; LAB_SERVER=ejabberd sh tests/demo.sh: the same on ejabberd (tests/interop/run-demo.sh)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh "$top/tests/install-deps.sh"
echo "== building"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p build-demo
(cd build-demo && ../configure -q >/dev/null && make -j2 >/dev/null)
SYNCKEYD=$top/build-demo/src/synckeyd SYNCKEY=$top/build-demo/src/synckey LAB_TOP=$top \
	exec sh "$top/tests/interop/run-demo.sh"
