#!/bin/sh
# run-client-tls.sh - the synckey CLI and TLS on a real Prosody (automake test driver)
#
# A throwaway lab CA and server certificates (openssl req/x509, in
# $LAB/tls), Prosody with one of them and c2s_require_encryption (lab.sh's
# LAB_TLS=1).  synckey negotiates STARTTLS and verifies
# the certificate for the JID's domain p.test: with --cafile of the lab CA
# it syncs over TLS; an untrusted issuer, another name or an expired
# certificate ends in exit 7 naming the cause, --allow-plaintext or not;
# and a server that offers no TLS gets no login unless --allow-plaintext.
# Prosody's own log shows which attempts authenticated.
# 127.0.0.1:28222 (c2s) and 28347 (component) only, or LAB_PORTS='C2S COMP';
# Prosody only.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.sh"
LAB_SERVER=prosody	# LAB_TLS is Prosody's
lab_have_server || exit 77
if ! command -v openssl >/dev/null 2>&1; then
	echo "SKIP: no openssl to make the lab CA"
	exit 77
fi
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
SK=${SYNCKEY:-${top_builddir:-.}/src/synckey}
c2s=28222 comp=28347
if [ -n "${LAB_PORTS:-}" ]; then
	c2s=${LAB_PORTS% *} comp=${LAB_PORTS#* }
fi
trap lab_cleanup EXIT INT TERM

n=0
bad=0
# verdict NAME COND [DETAIL]: a TAP line
verdict() {
	n=$((n + 1))
	if eval "$2"; then
		echo "ok $n - $1"
	else
		bad=$((bad + 1))
		echo "not ok $n - $1"
		[ -z "${3:-}" ] || printf '%s\n' "$3" | sed 's/^/# /'
	fi
}
# expect NAME RC PATTERN [OPTIONS...]: one sync of alice with OPTIONS; ok
# when it exits RC and its output (stdout and stderr) matches PATTERN
expect() {
	_name=$1 _rc=$2 _pat=$3
	shift 3
	"$SK" --jid alice@p.test --password-file "$LAB/pw" --db "$LAB/cache" \
	    --server 127.0.0.1:$c2s --json "$@" sync >"$LAB/out" 2>&1
	_got=$?
	verdict "$_name" '[ $_got -eq $_rc ] && grep -q -- "$_pat" "$LAB/out"' \
	    "exit $_got (wanted $_rc): $(cat "$LAB/out")"
}
# how many logins of alice Prosody has seen
logins() {
	grep -c "Authenticated as alice@p.test" "$LAB_SERVER_LOG"
}

# mkca NAME: a self-signed CA, $LAB/tls/NAME.{crt,key}
mkca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=synckey lab $1" \
	    -keyout "$LAB/tls/$1.key" -out "$LAB/tls/$1.crt" >>"$LAB/tls/openssl.out" 2>&1
}
# mkcert DNSNAME DAYS FILE: a server certificate signed by the lab CA,
# valid DAYS days from now (-1: expired yesterday), $LAB/tls/FILE.{crt,key}
# OpenSSL 3.5 (Debian 13) refuses a negative -days ("end date before start
# date") but has -not_before/-not_after; OpenSSL 3.0 (Debian 12) has only -days.
mkcert() {
	_days="-days $2"
	if [ "$2" -lt 0 ] && openssl x509 -help 2>&1 | grep -q -- '-not_after'; then
		_days="-not_before $(date -u -d "$((1 - $2)) days ago" +%Y%m%d%H%M%SZ)"
		_days="$_days -not_after $(date -u -d "$((0 - $2)) days ago" +%Y%m%d%H%M%SZ)"
	fi
	printf 'subjectAltName = DNS:%s\n' "$1" >"$LAB/tls/$3.ext"
	openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$1" \
	    -keyout "$LAB/tls/$3.key" -out "$LAB/tls/$3.csr" >>"$LAB/tls/openssl.out" 2>&1 &&
	# shellcheck disable=SC2086
	openssl x509 -req -in "$LAB/tls/$3.csr" -CA "$LAB/tls/ca.crt" -CAkey "$LAB/tls/ca.key" \
	    -CAcreateserial $_days -extfile "$LAB/tls/$3.ext" \
	    -out "$LAB/tls/$3.crt" >>"$LAB/tls/openssl.out" 2>&1
}
# serve FILE: (re)start Prosody with that certificate
serve() {
	lab_server_stop
	cp "$LAB/tls/$1.crt" "$LAB/tls/server.crt" && cp "$LAB/tls/$1.key" "$LAB/tls/server.key" &&
	    lab_server_start
}

# ---- Prosody with TLS required and a certificate of the lab CA
LAB_TLS=1
lab_init $c2s $comp || exit 1
LAB_TLS=0	# the second lab has none
for u in alice bob; do lab_user $u pw; done
lab_roster alice <<ROSTER
bob@p.test both Bob
ROSTER
(umask 077 && printf 'pw\n' >"$LAB/pw")
if ! { mkca ca && mkca other-ca && mkcert p.test 2 good && mkcert other.test 2 wrongname &&
    mkcert p.test -1 expired; }; then
	echo "Bail out! openssl could not make the lab certificates"
	sed 's/^/# /' "$LAB/tls/openssl.out"
	exit 1
fi
serve good || exit 1
lab_synckeyd_start || exit 1

expect "the lab CA's file: a full sync over TLS" 0 '"mode":"full".*"tls":true' --cafile "$LAB/tls/ca.crt"
expect "... and a null sync, over TLS again" 0 '"mode":"null".*"tls":true' --cafile "$LAB/tls/ca.crt"
expect "no CA file: exit 7, the issuer is not trusted" 7 \
    "certificate is not trusted: unable to get local issuer certificate" 
expect "--allow-plaintext takes no untrusted certificate: exit 7" 7 "certificate is not trusted" \
    --allow-plaintext
expect "another CA's file: exit 7" 7 "certificate is not trusted" --cafile "$LAB/tls/other-ca.crt"
expect "a CA file with no certificate: exit 1" 1 "holds no certificate" --cafile "$LAB/tls/good.ext"
verdict "Prosody saw the two good logins only" '[ "$(logins)" -eq 2 ]' "$(logins) logins"
lab_synckeyd_stop

serve wrongname || exit 1
expect "a certificate for other.test: exit 7, the name does not match" 7 \
    "certificate is not trusted: hostname mismatch" --cafile "$LAB/tls/ca.crt"
serve expired || exit 1
expect "an expired certificate: exit 7, expired" 7 \
    "certificate is not trusted: certificate has expired" --cafile "$LAB/tls/ca.crt"
verdict "... and no login on either (still the first two)" '[ "$(logins)" -eq 2 ]' "$(logins) logins"
lab_cleanup

# ---- the lab's plain Prosody: no certificate, no STARTTLS
lab_init $c2s $comp nosync || exit 1
lab_user alice pw
(umask 077 && printf 'pw\n' >"$LAB/pw")
lab_server_start || exit 1
expect "a server offering no TLS: exit 7, refused" 7 "offers no TLS"
verdict "... before any login (no PLAIN in the clear)" '[ "$(logins)" -eq 0 ]' "$(logins) logins"
expect "--allow-plaintext: synced, not over TLS" 0 '"tls":false' --allow-plaintext
verdict "... with a login" '[ "$(logins)" -eq 1 ]' "$(logins) logins"

echo "1..$n"
[ "$bad" -eq 0 ]
