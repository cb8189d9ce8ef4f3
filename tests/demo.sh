#!/bin/sh
# demo.sh - install (Debian 12, as root), build, and show synckey on a real Prosody with 1 000 contacts
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "== installing dependencies"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		build-essential autoconf automake libtool pkg-config \
		libstrophe-dev liblmdb-dev libssl-dev libexpat1-dev libcmocka-dev \
		prosody prosody-modules lua-unbound python3 iproute2 >/dev/null
fi
echo "== building"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p build-demo
(cd build-demo && ../configure -q >/dev/null && make -j2 >/dev/null)
SYNCKEYD=$top/build-demo/src/synckeyd
SYNCKEY=$top/build-demo/src/synckey
. "$top/tests/interop/lab.sh"
trap lab_cleanup EXIT INT TERM
lab_init 35222 35347
export LAB LAB_C2S LAB_COMP SYNCKEYD SYNCKEY
/usr/bin/python3 "$top/tests/interop/demo.py"
