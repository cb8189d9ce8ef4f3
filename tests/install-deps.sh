#!/bin/sh
# install-deps.sh - the Debian 12 packages synckey builds, tests and demos with (as root; a no-op otherwise)
set -eu
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "== installing dependencies"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		build-essential autoconf automake libtool pkg-config \
		libstrophe-dev liblmdb-dev lmdb-utils libssl-dev libexpat1-dev libcmocka-dev \
		prosody prosody-modules lua-unbound python3 python3-yaml valgrind procps iproute2 \
		clang libclang-rt-14-dev patch rsync libxml2-utils \
		debhelper dh-autoreconf fakeroot lintian systemd \
		ejabberd erlang-dev erlang-p1-xmpp >/dev/null
fi
