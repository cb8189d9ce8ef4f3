#!/bin/sh
# run-fake-c2s.sh - the synckey CLI against a FAKE c2s server (tests/fake/fake_c2s.py)
# that answers with hostile stanzas: forged senders, no type, wrong digests,
# deep nesting, a stranger's roster push; and the checkpoint key kept.
# TAP output; 127.0.0.1 only; every wait bounded.
here=$(cd "$(dirname "$0")" && pwd)
SK=${SYNCKEY:-${top_builddir:-.}/src/synckey}
PORT=${FAKE_C2S_PORT:-26222}
T=$(mktemp -d "${TMPDIR:-/tmp}/skfake.XXXXXX")
trap 'kill "$fpid" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
printf 'pw\n' >"$T/pw"; chmod 600 "$T/pw"
n=0; bad=0
check() {
	n=$((n + 1))
	if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; bad=$((bad + 1)); [ -n "$3" ] && printf '%s\n' "$3" | sed 's/^/# /'; fi
}
fake() {	# fake SCENARIO: (re)start the fake server
	kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null
	: >"$T/log"
	# emptied here, not by the background job's redirection: else the wait
	# below can still see the previous server's "ready"
	: >"$T/fake.out"
	/usr/bin/python3 "$here/fake_c2s.py" "$PORT" "$1" "$T/log" >>"$T/fake.out" 2>&1 &
	fpid=$!
	i=0; while [ $i -lt 300 ] && ! grep -q ready "$T/fake.out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
}
# the fake speaks no TLS: plaintext allowed (checked first without)
sk() { "$SK" --allow-plaintext --jid alice@p.test --password-file "$T/pw" --server 127.0.0.1:$PORT \
	--component sync.p.test --timeout 2 "$@"; }

fake forged-sender
"$SK" --jid alice@p.test --password-file "$T/pw" --server 127.0.0.1:$PORT --component sync.p.test \
	--timeout 2 --db "$T/c0" sync >/dev/null 2>"$T/err"; rc=$?
check "no TLS offered, no --allow-plaintext: exit 7, no password sent" \
	'[ $rc -eq 7 ] && grep -q "offers no TLS" "$T/err" && ! grep -q "^auth" "$T/log"' "rc=$rc $(cat "$T/err") $(cat "$T/log")"
sk --db "$T/c1" sync >/dev/null 2>"$T/err"; rc=$?
check "an answer with our id from a third party is ignored: timeout, exit 6" '[ $rc -eq 6 ]' "rc=$rc $(cat "$T/err")"
sk --db "$T/c1" sync >/dev/null 2>&1
check "... and its key never reached the cache" '[ "$(grep -c "^sync" "$T/log")" -eq 2 ] && ! grep -q "key=EVIL" "$T/log"' "$(cat "$T/log")"

fake no-type
sk --db "$T/c2" sync >/dev/null 2>"$T/err"; rc=$?
check "an answer without a type is ignored, no crash: exit 6" '[ $rc -eq 6 ]' "rc=$rc $(cat "$T/err")"

fake bad-digest
sk --db "$T/c3" sync >/dev/null 2>"$T/err"; rc=$?
check "a digest that matches nothing: exit 5 and a message" '[ $rc -eq 5 ] && grep -q "digest" "$T/err"' "rc=$rc $(cat "$T/err")"
check "... after one retry without the key" '[ "$(grep -c "^sync" "$T/log")" -eq 2 ]' "$(cat "$T/log")"

fake deep
sk --db "$T/c4" sync >/dev/null 2>"$T/err"; rc=$?
check "a presence nested 30 000 deep: no crash (exit 0 or 5)" '[ $rc -eq 0 ] || [ $rc -eq 5 ]' "rc=$rc $(cat "$T/err")"

fake push-checkpoint
sk --db "$T/c5" --stay 1 sync >/dev/null 2>"$T/err"; rc=$?
check "online with a checkpoint: exit 0" '[ $rc -eq 0 ]' "rc=$rc $(cat "$T/err")"
check "a roster push from a stranger is refused with an error" 'grep -q "push-answer error" "$T/log"' "$(cat "$T/log")"
out=$(sk --db "$T/c5" roster 2>&1)
check "... and its item is not in the cache" '! printf "%s" "$out" | grep -q eve@' "$out"
sk --db "$T/c5" sync >/dev/null 2>"$T/err"
check "the next sync carries the checkpoint's key" 'grep -q "^sync key=K2$" "$T/log"' "$(cat "$T/log")"

# Damaged caches (reliability F5-F7): the three found by byte flips (a
# double free, a SIGSEGV and a SIGBUS before), and byte flips of a good one
for z in "$here"/caches/cache-*.mdb.gz; do
	rm -rf "$T/dmg" && mkdir "$T/dmg" && gunzip -c "$z" >"$T/dmg/data.mdb"
	sk --db "$T/dmg" roster >/dev/null 2>"$T/err"; rc=$?
	check "damaged cache $(basename "$z" .mdb.gz): exit 4 and a message" '[ $rc -eq 4 ] && grep -q "cache" "$T/err"' "rc=$rc $(cat "$T/err")"
done
bad_flips=0
for seed in $(seq 1 ${FLIPS:-40}); do
	rm -rf "$T/flip" && cp -r "$T/c5" "$T/flip"
	/usr/bin/python3 -c "
import random, sys
random.seed($seed); p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
for _ in range(random.randint(1, 8)):
    j = random.randrange(len(b)); b[j] ^= 1 << random.randrange(8)
open(p, 'wb').write(b)" "$T/flip/data.mdb"
	sk --db "$T/flip" roster >/dev/null 2>&1; rc=$?
	case $rc in 0|4) ;; *) bad_flips=$((bad_flips + 1)); echo "# seed $seed: exit $rc" ;; esac
done
check "${FLIPS:-40} byte-flipped caches: every run exits 0 or 4, never a signal" '[ $bad_flips -eq 0 ]'

echo "1..$n"
[ "$bad" -eq 0 ]
