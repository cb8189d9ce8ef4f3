#!/bin/sh
# build.sh - compile mod_synckey.erl for the Debian ejabberd 23.01 package.
# Needs the Debian packages ejabberd (headers in /usr/lib/<arch>/ejabberd-*/include),
# erlang-p1-xmpp (xmpp.hrl; a dependency of ejabberd) and erlang-dev (erlc).
# Output: $OUT (default: ebin/ beside this script)/mod_synckey.beam
set -e
here=$(cd "$(dirname "$0")" && pwd)
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
echo "built $OUT/mod_synckey.beam"
