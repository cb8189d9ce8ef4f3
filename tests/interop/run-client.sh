#!/bin/sh
# run-client.sh - the synckey CLI against a real Prosody, with and without synckeyd (automake test driver)
# LAB_SERVER=ejabberd: against ejabberd (ports 27262/27263, 27272/27273; none listens on 27299)
# LAB_PORTS='C2S COMP': the first lab on C2S/COMP, the second on C2S+10/COMP+10,
# nothing listening on C2S+77 (ejabberd's distribution ports: C2S+2, C2S+12)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.sh"
lab_have_server || exit 77
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
SK=${SYNCKEY:-${top_builddir:-.}/src/synckey}
# with synckeyd: c2s, component; without: c2s2, comp2; nothing listens on far
case ${LAB_SERVER:-prosody} in
ejabberd) c2s=27262 comp=27263 c2s2=27272 comp2=27273 far=27299 ;;
*) c2s=25222 comp=25347 c2s2=25223 comp2=25348 far=25299 ;;
esac
if [ -n "${LAB_PORTS:-}" ]; then
	c2s=${LAB_PORTS% *} comp=${LAB_PORTS#* }
	c2s2=$((c2s + 10)) comp2=$((comp + 10)) far=$((c2s + 77))
fi
trap lab_cleanup EXIT INT TERM
# The lab's servers offer no TLS (no certificate): every login here is
# plaintext by choice, --allow-plaintext; run-client-tls.sh tests TLS.

n=0
bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $1"; [ -z "${2:-}" ] || echo "# $2"; }
check() { if eval "$2"; then ok "$1"; else notok "$1" "${3:-}"; fi; }
# the value of a JSON field in $out
field() { printf '%s' "$out" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# ---- with the sync service
lab_init $c2s $comp
for u in alice bob carl; do lab_user $u pw; done
lab_roster alice <<ROSTER
bob@p.test both Bob Friends
carl@p.test both Carl
ROSTER
lab_server_start || exit 1
lab_synckeyd_start || exit 1
printf 'pw\n' >"$LAB/pw"; chmod 600 "$LAB/pw"
printf 'wrong\n' >"$LAB/wrong"; chmod 600 "$LAB/wrong"
sk() { "$SK" --allow-plaintext --jid alice@p.test --password-file "$LAB/pw" --db "$LAB/cache" --server 127.0.0.1:$c2s "$@"; }

out=$(sk --json sync); rc=$?
check "first sync is full (no-key)" '[ $rc -eq 0 ] && [ "$(field mode)" = full ] && [ "$(field reason)" = no-key ]' "$out"
out=$(sk --json sync); rc=$?
check "second sync is null" '[ $rc -eq 0 ] && [ "$(field mode)" = null ] && [ "$(field items)" = 0 ]' "$out"
# the service lists urn:xmpp:synckey:1 (xep/ "Negotiation"): the CLI asks in it,
# and its digest of version 1 matched (else no null answer)
check "the CLI asks in version 1, which the service lists" '[ "$(field version)" = 1 ]' "$out"
# bob comes online with a status while alice is away
/usr/bin/python3 -c "
import sys, time
sys.path.insert(0, '$here')
from xmpp import Client
b = Client('bob@p.test', 'pw', $c2s, resource='b1').connect()
b.presence(status='bob-online')
time.sleep(30)
" &
bobpid=$!
sleep 1
out=$(sk --json sync); rc=$?
check "a contact came online: delta with one item" '[ $rc -eq 0 ] && [ "$(field mode)" = delta ] && [ "$(field items)" = 1 ]' "$out"
out=$(sk presence)
check "presence shows the cached status, no network" 'printf "%s" "$out" | grep -q "bob@p.test/b1.*bob-online"' "$out"
out=$(sk roster)
check "roster shows the cached items" 'printf "%s" "$out" | grep -q "carl@p.test"' "$out"
out=$(sk forget); rc=$?
out=$(sk --json sync)
check "forget: the next sync is full again" '[ $rc -eq 0 ] && [ "$(field mode)" = full ]' "$out"
out=$(sk --json --stay 1 sync); rc=$?
check "sync with --stay and checkpoint succeeds" '[ $rc -eq 0 ]' "$out"
out=$(sk --json sync); rc=$?
check "after a checkpoint the next sync is null" '[ $rc -eq 0 ] && [ "$(field mode)" = null ]' "$out"
kill "$bobpid" 2>/dev/null; wait "$bobpid" 2>/dev/null

"$SK" --allow-plaintext --jid alice@p.test --password-file "$LAB/wrong" --db "$LAB/c-wrong" --server 127.0.0.1:$c2s sync >/dev/null 2>"$LAB/err"; rc=$?
check "wrong password: exit 2 and a message" '[ $rc -eq 2 ] && grep -q "authentication failed" "$LAB/err"' "rc=$rc $(cat "$LAB/err")"
"$SK" --allow-plaintext --jid alice@p.test --password-file "$LAB/pw" --db "$LAB/c-unreach" --server 127.0.0.1:$far sync >/dev/null 2>"$LAB/err"; rc=$?
check "unreachable server: exit 3 and a message" '[ $rc -eq 3 ] && grep -q "cannot reach" "$LAB/err"' "rc=$rc $(cat "$LAB/err")"
"$SK" --allow-plaintext --jid bob@p.test --password-file "$LAB/pw" --db "$LAB/cache" --server 127.0.0.1:$c2s sync >/dev/null 2>"$LAB/err"; rc=$?
check "another account's cache: exit 4, refused" '[ $rc -eq 4 ] && grep -q "another account" "$LAB/err"' "rc=$rc $(cat "$LAB/err")"
# tamper: change one byte of a stored name; the digest check refuses it
cp "$LAB/cache/data.mdb" "$LAB/before.mdb"
/usr/bin/python3 - "$LAB/cache/data.mdb" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
# every copy: LMDB keeps old page copies beside the live one
open(p, "wb").write(bytes(b).replace(b"Carl", b"Karl"))
PY
cp "$LAB/cache/data.mdb" "$LAB/tampered.mdb"
out=$(sk --json sync 2>"$LAB/err"); rc=$?
check "tampered cache: exit 4 and the file left as it was" '[ $rc -eq 4 ] && cmp -s "$LAB/cache/data.mdb" "$LAB/tampered.mdb"' "rc=$rc $(cat "$LAB/err")"
"$SK" --jid alice@p.test --db "$LAB/cache" sync --bogus >/dev/null 2>&1; rc=$?
check "bad option: exit 1" '[ $rc -eq 1 ]'
lab_cleanup

# ---- a server without the sync service: the standard path
lab_init $c2s2 $comp2 nosync
for u in alice bob carl; do lab_user $u pw; done
lab_roster alice <<ROSTER
bob@p.test both Bob Friends
carl@p.test both Carl
ROSTER
lab_roster bob <<ROSTER
alice@p.test both Alice
ROSTER
lab_server_start || exit 1
printf 'pw\n' >"$LAB/pw"; chmod 600 "$LAB/pw"
/usr/bin/python3 -c "
import sys, time
sys.path.insert(0, '$here')
from xmpp import Client
b = Client('bob@p.test', 'pw', $c2s2, resource='b1').connect()
b.presence(status='bob-online')
time.sleep(20)
" &
bobpid=$!
sleep 1
sk2() { "$SK" --allow-plaintext --jid alice@p.test --password-file "$LAB/pw" --db "$LAB/cache" --server 127.0.0.1:$c2s2 "$@"; }
out=$(sk2 --json sync); rc=$?
check "no sync service: standard path" '[ $rc -eq 0 ] && [ "$(field mode)" = standard ]' "$out"
out=$(sk2 roster)
check "standard path: the same roster" 'printf "%s" "$out" | grep -q "bob@p.test" && printf "%s" "$out" | grep -q "carl@p.test"' "$out"
out=$(sk2 presence)
check "standard path: the same presence" 'printf "%s" "$out" | grep -q "bob@p.test/b1.*bob-online"' "$out"
out=$(sk2 --json sync); rc=$?
check "standard path again: roster versioning keeps the roster" '[ $rc -eq 0 ] && sk2 roster | grep -q carl@p.test' "$out"
kill "$bobpid" 2>/dev/null; wait "$bobpid" 2>/dev/null

echo "1..$n"
[ "$bad" -eq 0 ]
