#!/bin/sh
# check-examples.sh - every XML example of xep/synckey.md against xep/'s schema (TAP)
#
# Extracts each ```xml block of the XEP; a block is either a schema (then it
# must be byte-identical to xep/synckey.xsd or xep/synckey-adapter.xsd) or
# an example (then it must be well-formed, and every element in
# urn:xmpp:synckey:0 or urn:xmpp:synckey:adapter:0 in it must validate).
# Then a set of must-fail elements proves the schema rejects them.
# Exit 0 only when every test passed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
XEP=$top/xep/synckey.md
HARNESS=$here/harness.xsd
. "$here/lib.sh"
need_xmllint
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sk-xep.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT HUP INT TERM

# ---- the schema files compile and the XEP carries them verbatim -------------
for f in synckey.xsd synckey-adapter.xsd; do
	# a schema that does not compile makes xmllint say so for any document
	echo '<x/>' >"$TMP/x.xml"
	if xmllint --noout --schema "$top/xep/$f" "$TMP/x.xml" 2>&1 |
	    grep -q 'failed to compile\|parser error\|schemas parser error'; then
		not_ok "xep/$f compiles"
	else
		ok "xep/$f compiles"
	fi
done

# Blocks into $TMP/b.N, their first lines into $TMP/lines.
awk -v dir="$TMP" '
	/^```xml[ \t]*$/ { n++; f = dir "/b." n; printf "" > f; print NR + 1 > (dir "/lines"); inb = 1; next }
	inb && /^```[ \t]*$/ { close(f); inb = 0; next }
	inb { print > f }
' "$XEP"
nblocks=$(wc -l <"$TMP/lines" 2>/dev/null || echo 0)
if [ "$nblocks" -gt 0 ]; then
	ok "xep/synckey.md has $nblocks XML blocks"
else
	not_ok "xep/synckey.md has XML blocks"
fi

seen_main=0 seen_adapter=0 total=0 i=1
while [ "$i" -le "$nblocks" ]; do
	b=$TMP/b.$i
	line=$(sed -n "${i}p" "$TMP/lines")
	if head -n 1 "$b" | grep -q '^<?xml'; then
		case $(cat "$b") in
		*"targetNamespace='urn:xmpp:synckey:adapter:0'"*) f=synckey-adapter.xsd; seen_adapter=$((seen_adapter + 1)) ;;
		*) f=synckey.xsd; seen_main=$((seen_main + 1)) ;;
		esac
		if cmp -s "$b" "$top/xep/$f"; then
			ok "schema at line $line is identical to xep/$f"
		else
			diff "$top/xep/$f" "$b" >"$TMP/err" 2>&1
			not_ok "schema at line $line is identical to xep/$f" "$TMP/err"
		fi
		i=$((i + 1))
		continue
	fi
	{ echo '<sk-example>'; cat "$b"; echo '</sk-example>'; } >"$TMP/doc.xml"
	if xmllint --noout "$TMP/doc.xml" >"$TMP/err" 2>&1; then
		ok "example at line $line is well-formed"
		validate_doc "$TMP/doc.xml" "example at line $line"
		total=$((total + doc_count))
	else
		not_ok "example at line $line is well-formed" "$TMP/err"
	fi
	i=$((i + 1))
done
[ "$seen_main" -eq 1 ] && ok "the XEP carries xep/synckey.xsd once" ||
	not_ok "the XEP carries xep/synckey.xsd once (found $seen_main)"
[ "$seen_adapter" -eq 1 ] && ok "the XEP carries xep/synckey-adapter.xsd once" ||
	not_ok "the XEP carries xep/synckey-adapter.xsd once (found $seen_adapter)"
[ "$total" -gt 0 ] && ok "$total synckey elements found in the examples" ||
	not_ok "synckey elements found in the examples"
for ln in sync checkpoint sync-presence view; do
	if grep -v '^<?xml' "$XEP" | grep -q "<$ln xmlns="; then
		ok "an example shows <$ln/>"
	else
		not_ok "an example shows <$ln/>"
	fi
done
if grep -n 'shared/\|/work/\|reports/' "$XEP" >"$TMP/err"; then
	not_ok "xep/synckey.md names no file outside the repository" "$TMP/err"
else
	ok "xep/synckey.md names no file outside the repository"
fi

# ---- must-fail: the schema rejects these ----------------------------------------
S="xmlns='urn:xmpp:synckey:0'"
A="xmlns='urn:xmpp:synckey:adapter:0'"
K=AQAAAAIbTfWrxAUI3wAAAAAAAAAHAAAAAGkbAYB5i0y6v0gzqJaZ1HRY0Dh2
D=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
Q="<query xmlns='jabber:iq:roster'/>"
P="<presence xmlns='jabber:client' from='a@example.org/r'/>"
while IFS='|' read -r what xml; do
	[ -n "$what" ] || continue
	printf '<skt:sk-element xmlns:skt="urn:x-synckey-test:harness">%s</skt:sk-element>\n' \
	    "$xml" >"$TMP/bad.xml"
	if xmllint --noout --schema "$HARNESS" "$TMP/bad.xml" >"$TMP/err" 2>&1; then
		not_ok "rejected: $what"
	else
		ok "rejected: $what"
	fi
done <<EOT
sync with an unknown type value|<sync $S type='resync' key='$K' digest='$D'/>
sync with an unknown reason value|<sync $S type='full' reason='lost' key='$K' digest='$D'/>
sync with an unknown attribute|<sync $S client='laptop-7f3a' since='2026-11-25'/>
sync with a client ID of 65 characters|<sync $S client='aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'/>
sync with a client ID holding a space|<sync $S client='my laptop'/>
sync with an empty client ID|<sync $S client=''/>
sync with a key outside base64url|<sync $S client='laptop-7f3a' key='AQAA+AAC/xs='/>
sync with a key of 129 characters|<sync $S client='c' key='$K${K}aaaaaaaaa'/>
sync with a digest of 31 bytes|<sync $S type='delta' key='$K' digest='47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuA=='/>
sync with a digest not in base64|<sync $S type='delta' key='$K' digest='BASE64'/>
sync with presence before the roster query|<sync $S type='full' reason='no-key' key='$K' digest='$D'>$P$Q</sync>
sync with two roster queries|<sync $S type='full' reason='no-key' key='$K' digest='$D'>$Q$Q</sync>
sync with a child of another namespace|<sync $S type='delta' key='$K' digest='$D'><delay xmlns='urn:xmpp:delay' stamp='2026-11-25T10:00:00Z'/></sync>
sync with a child in its own namespace|<sync $S type='delta' key='$K' digest='$D'><checkpoint key='$K'/></sync>
sync with text content|<sync $S client='laptop-7f3a'>KEY</sync>
checkpoint without key|<checkpoint $S client='laptop-7f3a'/>
checkpoint with a child|<checkpoint $S key='$K'>$Q</checkpoint>
checkpoint with a digest attribute|<checkpoint $S key='$K' digest='$D'/>
sync-presence with an attribute|<sync-presence $S client='laptop-7f3a'/>
sync-presence with content|<sync-presence $S>yes</sync-presence>
an element unknown to the namespace|<resync $S client='laptop-7f3a'/>
view with both unchanged and a roster|<view $A ver='42'><unchanged/><query xmlns='jabber:iq:roster'/></view>
view with hidden before the roster|<view $A ver='42'><hidden jid='carl@example.org'/><query xmlns='jabber:iq:roster'/></view>
hidden without jid|<view $A ver='42'><unchanged/><hidden/></view>
view with an unknown child|<view $A ver='42'><removed jid='carl@example.org'/></view>
view with an unknown attribute|<view $A since='41'/>
EOT

tap_end
