#!/bin/sh
# validate-log.sh FILE - every synckey element of a stanza log against xep/'s schema (TAP)
#
# FILE holds one stanza a line, as tests/interop/xmpp.py writes it when
# SK_SCHEMA_LOG names a file.  Each line must be well-formed XML (a line may
# hold more than one stanza), and each element in urn:xmpp:synckey:0 or
# urn:xmpp:synckey:adapter:0 must validate.  Note that the interop suites
# send malformed requests on purpose (to see the component's errors): those
# lines fail here, which shows the schema rejects what the component does.
# Exit 0 only when every test passed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
HARNESS=$here/harness.xsd
. "$here/lib.sh"
if [ $# -ne 1 ] || [ ! -r "$1" ]; then
	echo "usage: validate-log.sh FILE" >&2
	exit 2
fi
need_xmllint
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sk-log.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT HUP INT TERM

n=0 total=0
while IFS= read -r stanza || [ -n "$stanza" ]; do
	n=$((n + 1))
	[ -n "$stanza" ] || continue
	printf '<sk-log-line>%s</sk-log-line>\n' "$stanza" >"$TMP/doc.xml"
	if ! xmllint --noout "$TMP/doc.xml" >"$TMP/err" 2>&1; then
		not_ok "line $n is well-formed" "$TMP/err"
		continue
	fi
	validate_doc "$TMP/doc.xml" "line $n"
	total=$((total + doc_count))
	if [ "$doc_count" -eq 0 ]; then
		# the namespace is named (the hook's filter) but no element is in it
		ok "line $n: no synckey element (the namespace appears only in text)"
	fi
done <"$1"
[ "$total" -gt 0 ] && ok "$total synckey elements in $n lines" ||
	not_ok "synckey elements found in $1"
tap_end
