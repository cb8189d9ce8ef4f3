#!/bin/sh
# valid.sh - xep/synckey.xml is a XEP the XSF can take, and its rendering
# builds (TAP).
#
#   - valid against the XSF's xep.dtd with xep.ent (vendored in xep/xsf/;
#     xmllint --valid, no network);
#   - xep/render.py renders it (what `make xep` runs), with every section
#     as a heading and every example numbered;
#   - the digest of every sync result in the examples reproduces, computed
#     from the XEP's canonical form (tests/xep/xeptool.py digests);
#   - every RFC 2119 key word in the prose is upper case.
# The examples against the schemas: check-examples.sh.  Needs xmllint
# (Debian: libxml2-utils) and python3.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
XEP=${XEP:-$top/xep/synckey.xml}
. "$here/lib.sh"
need_xmllint
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sk-xepv.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT HUP INT TERM

if xmllint --noout --valid --nonet --path "$top/xep/xsf" "$XEP" >"$TMP/err" 2>&1 && [ ! -s "$TMP/err" ]; then
	ok "xep/synckey.xml is valid against xep/xsf/xep.dtd (xmllint --valid)"
else
	not_ok "xep/synckey.xml is valid against xep/xsf/xep.dtd (xmllint --valid)" "$TMP/err"
fi
if grep -q "^<!DOCTYPE xep SYSTEM 'xep.dtd' \[" "$XEP" && grep -q '^  &LEGALNOTICE;$' "$XEP" &&
    grep -q '<status>ProtoXEP</status>' "$XEP"; then
	ok "the XSF's doctype line, &LEGALNOTICE; and the status ProtoXEP"
else
	not_ok "the XSF's doctype line, &LEGALNOTICE; and the status ProtoXEP"
fi

if python3 "$top/xep/render.py" -o "$TMP/synckey.md" "$XEP" >"$TMP/err" 2>&1 && [ -s "$TMP/synckey.md" ]; then
	ok "xep/render.py renders it ($(wc -l <"$TMP/synckey.md") lines)"
else
	not_ok "xep/render.py renders it" "$TMP/err"
fi
python3 "$here/xeptool.py" titles "$XEP" >"$TMP/titles" 2>"$TMP/err"
while IFS= read -r t; do
	grep -qE "^(#+ )?[0-9.]+\.? $(printf '%s' "$t" | sed 's/[][\.*^$()+?{}|/]/\\&/g')\$" "$TMP/synckey.md" ||
		echo "$t"
done <"$TMP/titles" >"$TMP/missing"
if [ -s "$TMP/titles" ] && [ ! -s "$TMP/missing" ]; then
	ok "every one of $(wc -l <"$TMP/titles") sections is a numbered heading of the rendering"
else
	not_ok "every section is a numbered heading of the rendering" "$TMP/missing"
fi
mkdir "$TMP/bl" && python3 "$here/xeptool.py" blocks "$TMP/bl" "$XEP" >"$TMP/err" 2>&1
nex=$(grep -c '^[0-9]* example' "$TMP/bl/lines" 2>/dev/null || echo 0)
nren=$(grep -c '^\*Example [0-9]*\. ' "$TMP/synckey.md" 2>/dev/null || echo 0)
if [ "$nex" -gt 0 ] && [ "$nex" -eq "$nren" ]; then
	ok "all $nex examples are in the rendering, numbered"
else
	not_ok "all examples are in the rendering ($nex in the XML, $nren rendered)" "$TMP/err"
fi

if python3 "$here/xeptool.py" digests "$XEP" >"$TMP/out" 2>&1; then
	ok "the digests of the examples reproduce ($(grep -c '^ok' "$TMP/out") checks)"
else
	not_ok "the digests of the examples reproduce" "$TMP/out"
fi
if python3 "$here/xeptool.py" keywords "$XEP" >"$TMP/out" 2>&1; then
	ok "RFC 2119 key words in the prose are upper case"
else
	not_ok "RFC 2119 key words in the prose are upper case" "$TMP/out"
fi
tap_end
