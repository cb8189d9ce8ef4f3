#!/bin/sh
# build.sh - compile mod_synckey.erl for Debian's ejabberd (23.01 on Debian 12,
# 24.12 on Debian 13).
# Needs the Debian packages ejabberd (headers in /usr/lib/<arch>/ejabberd-*/include),
# erlang-p1-xmpp (xmpp.hrl; a dependency of ejabberd) and erlang-dev (erlc).
#
#   sh build.sh                  -> $OUT (default: ebin/ beside this script)/mod_synckey.beam
#   sh build.sh --contrib [DIR]  -> installed as an ejabberd contrib module:
#                                   DIR/mod_synckey/{mod_synckey.spec,ebin/mod_synckey.beam},
#                                   owned by the ejabberd user; DIR defaults to the
#                                   Debian service's CONTRIB_MODULES_PATH,
#                                   /var/lib/ejabberd/.ejabberd-modules
set -e
here=$(cd "$(dirname "$0")" && pwd)
contrib=
if [ "${1:-}" = --contrib ]; then
	contrib=${2:-/var/lib/ejabberd/.ejabberd-modules}
	OUT=$contrib/mod_synckey/ebin
fi
OUT=${OUT:-$here/ebin}
command -v erlc >/dev/null || { echo "erlc not found: apt-get install erlang-dev" >&2; exit 1; }
EJ_INC=${EJ_INC:-$(dpkg -L ejabberd 2>/dev/null | sed -n 's|/logger\.hrl$||p' | head -1)}
XMPP_INC=${XMPP_INC:-$(dpkg -L erlang-p1-xmpp 2>/dev/null | sed -n 's|/xmpp\.hrl$||p' | head -1)}
[ -f "$EJ_INC/logger.hrl" ] || { echo "ejabberd headers not found: apt-get install ejabberd" >&2; exit 1; }
[ -f "$XMPP_INC/xmpp.hrl" ] || { echo "xmpp.hrl not found: apt-get install erlang-p1-xmpp" >&2; exit 1; }
mkdir -p "$OUT"
# -pa ejabberd's ebin: the gen_mod behaviour, checked at compile time
erlc -I "$EJ_INC" -I "$XMPP_INC" -pa "$(dirname "$EJ_INC")/ebin" \
    -o "$OUT" +debug_info "$here/mod_synckey.erl"
if [ -n "$contrib" ]; then
	cp "$here/mod_synckey.spec" "$contrib/mod_synckey/"
	id ejabberd >/dev/null 2>&1 && chown -R ejabberd:ejabberd "$contrib/mod_synckey"
	echo "installed $contrib/mod_synckey (ejabberd loads it at its next start)"
else
	echo "built $OUT/mod_synckey.beam"
fi
