#!/bin/sh
# examples.sh - doc/examples/ are usable: the configuration file passes
# synckeyd -n, and the systemd unit passes systemd-analyze verify (with the
# built synckeyd in place of the installed one, and --man=no: its man pages
# are not installed yet).  TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
SYNCKEYD=$(cd "$(dirname "$SYNCKEYD")" && pwd)/$(basename "$SYNCKEYD")
T=$(mktemp -d "${TMPDIR:-/tmp}/skex.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
n=0; bad=0
check() {
	n=$((n + 1))
	if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; bad=$((bad + 1)); sed 's/^/# /' "$T/out"; fi
}
(umask 077 && echo secret >"$T/secret")
"$SYNCKEYD" -n --config "$top/doc/examples/synckeyd.conf" --secret-file "$T/secret" >"$T/out" 2>&1
check "doc/examples/synckeyd.conf passes synckeyd -n" 'grep -q "configuration OK" "$T/out"'
printf 'server = 127.0.0.1:5347\nbogus = 1\nmax-resources = 0\n' >"$T/bad.conf"
"$SYNCKEYD" -n --config "$T/bad.conf" --jid s.p.test --secret-file "$T/secret" --domain p.test --db "$T" >"$T/out" 2>&1
check "a bad file is refused with file:line for each error" 'grep -q "bad.conf:2: unknown key" "$T/out" && grep -q "bad.conf:3: max-resources" "$T/out"'
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|/usr/local/sbin/synckeyd|$SYNCKEYD|g" "$top/doc/examples/synckeyd.service" >"$T/synckeyd.service"
	systemd-analyze verify --man=no "$T/synckeyd.service" >"$T/out" 2>&1; rc=$?
	check "doc/examples/synckeyd.service passes systemd-analyze verify, silent" '[ $rc -eq 0 ] && [ ! -s "$T/out" ]'
fi
echo "1..$n"
[ "$bad" -eq 0 ]
