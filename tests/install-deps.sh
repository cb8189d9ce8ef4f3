#!/bin/sh
# install-deps.sh - the Debian packages synckey builds, tests and demos with (as root; a no-op otherwise)
#
# The same names on Debian 12 (bookworm) and 13 (trixie), but for clang's
# sanitizer runtime, which is versioned with clang (libclang-rt-14-dev on
# 12, -19-dev on 13): it is chosen from the clang that was installed.
# zlib1g-dev: libstrophe 0.14's pkg-config file requires zlib, and
# libstrophe-dev 0.14 does not depend on it.
set -eu
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "== installing dependencies"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends \
		build-essential autoconf automake libtool pkg-config \
		libstrophe-dev zlib1g-dev liblmdb-dev lmdb-utils libssl-dev libexpat1-dev libcmocka-dev \
		prosody prosody-modules lua-unbound python3 python3-yaml valgrind procps iproute2 \
		clang patch rsync libxml2-utils \
		debhelper dh-autoreconf fakeroot lintian systemd \
		ejabberd erlang-dev erlang-p1-xmpp >/dev/null
	major=$(clang -dumpversion | cut -d. -f1)
	apt-get install -y -qq --no-install-recommends "libclang-rt-$major-dev" >/dev/null
fi
