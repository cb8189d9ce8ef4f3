#!/bin/sh
# check-examples.sh - every XML example of the XEP (xep/synckey.xml) and of
# the adapter protocol (doc/adapter-protocol.md) against xep/'s schemas (TAP)
#
# Takes each <example/> and <code/> of the XEP (tests/xep/xeptool.py reads
# it with the vendored xep.dtd) and each ```xml block of the adapter
# document; a block is either a schema (then it must be byte-identical to
# xep/synckey.xsd, in the XEP, or xep/synckey-adapter.xsd, in the adapter
# document), a registry submission (well-formed), or an example (then it
# must be well-formed, and every element in urn:xmpp:synckey:0 or
# urn:xmpp:synckey:adapter:0 in it must validate).  Every example of the
# XEP has a caption.  An element gets the schema type of its place
# (lib.sh element_type: a request by its IQ, a result by its 'type').
# Then a set of must-fail elements proves the schema rejects them, each as
# an element or as the type it names, and a set of error cases proves
# that the elements' own declarations represent them.  Exit 0 only when
# every test passed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
XEP=$top/xep/synckey.xml
ADAPTER=$top/doc/adapter-protocol.md
HARNESS=$here/harness.xsd
. "$here/lib.sh"
need_xmllint
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sk-xep.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT HUP INT TERM

# ---- the schema files compile and the documents carry them verbatim ---------
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

total=0
# check_doc DOC NAME SCHEMA: every block of DOC; SCHEMA the one it must carry
check_doc() {
	rm -rf "$TMP/bl" && mkdir "$TMP/bl"
	if ! python3 "$here/xeptool.py" blocks "$TMP/bl" "$1" >"$TMP/err" 2>&1; then
		not_ok "$2 can be read" "$TMP/err"
		return
	fi
	_nb=$(wc -l <"$TMP/bl/lines")
	_nex=$(grep -c '^[0-9]* example' "$TMP/bl/lines")
	if [ "$_nex" -gt 0 ]; then
		ok "$2 has $_nb XML blocks, $_nex of them examples"
	else
		not_ok "$2 has XML examples"
	fi
	_seen=0 _k=1
	while [ "$_k" -le "$_nb" ]; do
		_b=$TMP/bl/b.$_k
		read -r _line _kind _cap <<-EOL
		$(sed -n "${_k}p" "$TMP/bl/lines")
		EOL
		_k=$((_k + 1))
		if head -n 1 "$_b" | grep -q '^<?xml'; then
			if grep -q "targetNamespace='urn:xmpp:synckey:adapter:0'" "$_b"; then
				_f=synckey-adapter.xsd
			else
				_f=synckey.xsd
			fi
			[ "$_f" = "$3" ] && _seen=$((_seen + 1))
			if cmp -s "$_b" "$top/xep/$_f"; then
				ok "$2: schema at line $_line is identical to xep/$_f"
			else
				diff "$top/xep/$_f" "$_b" >"$TMP/err" 2>&1
				not_ok "$2: schema at line $_line is identical to xep/$_f" "$TMP/err"
			fi
			continue
		fi
		{ echo '<sk-example>'; cat "$_b"; echo '</sk-example>'; } >"$TMP/doc.xml"
		if [ "$_kind" = code ]; then
			if xmllint --noout "$TMP/doc.xml" >"$TMP/err" 2>&1; then
				ok "$2: code at line $_line ($_cap) is well-formed"
			else
				not_ok "$2: code at line $_line ($_cap) is well-formed" "$TMP/err"
			fi
			continue
		fi
		if [ "$1" = "$XEP" ] && [ -z "$_cap" ]; then
			not_ok "$2: example at line $_line has a caption"
		fi
		if xmllint --noout "$TMP/doc.xml" >"$TMP/err" 2>&1; then
			ok "$2: example at line $_line is well-formed"
			validate_doc "$TMP/doc.xml" "$2: example at line $_line"
			total=$((total + doc_count))
		else
			not_ok "$2: example at line $_line is well-formed" "$TMP/err"
		fi
	done
	[ "$_seen" -eq 1 ] && ok "$2 carries xep/$3 once" ||
		not_ok "$2 carries xep/$3 once (found $_seen)"
	# what the examples show: every element of the namespaces, outside the schema
	cat "$TMP"/bl/b.* | grep -v '^<?xml' >"$TMP/all"
	for _ln in $4; do
		if grep -q "<$_ln xmlns=" "$TMP/all"; then
			ok "$2: an example shows <$_ln/>"
		else
			not_ok "$2: an example shows <$_ln/>"
		fi
	done
	if grep -n 'shared/\|/work/\|reports/' "$1" >"$TMP/err"; then
		not_ok "$2 names no file outside the repository" "$TMP/err"
	else
		ok "$2 names no file outside the repository"
	fi
}
check_doc "$XEP" xep/synckey.xml synckey.xsd "sync checkpoint sync-presence"
check_doc "$ADAPTER" doc/adapter-protocol.md synckey-adapter.xsd "view directed"
[ "$total" -gt 0 ] && ok "$total synckey elements found in the examples" ||
	not_ok "synckey elements found in the examples"

# ---- must-fail: the schema rejects these ----------------------------------------
S="xmlns='urn:xmpp:synckey:0'"
A="xmlns='urn:xmpp:synckey:adapter:0'"
K=AQAAAAIbTfWrxAUI3wAAAAAAAAAHAAAAAGkbAYB5i0y6v0gzqJaZ1HRY0Dh2
D=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
Q="<query xmlns='jabber:iq:roster'/>"
P="<presence xmlns='jabber:client' from='a@example.org/r'/>"
# element WHAT TYPE XML: XML in the harness, as TYPE (xsi:type) unless empty
element() {
	_t=
	[ -n "$2" ] && _t=" xsi:type='$2'"
	printf '<skt:sk-element xmlns:skt="urn:x-synckey-test:harness" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:skx="%s" xmlns:ska="%s">%s</skt:sk-element>\n' \
	    "$XEP_NS0" "$XEP_NSA" "$(printf '%s' "$3" | sed "s|^<\([^ />]*\)|<\1$_t|")" >"$TMP/el.xml"
	xmllint --noout --schema "$HARNESS" "$TMP/el.xml" >"$TMP/err" 2>&1
}
while IFS='|' read -r what type xml; do
	[ -n "$what" ] || continue
	if element "$what" "$type" "$xml"; then
		not_ok "rejected: $what"
	else
		ok "rejected: $what"
	fi
done <<EOT
sync with an unknown type value||<sync $S type='resync' key='$K' digest='$D'/>
sync with an unknown reason value||<sync $S type='full' reason='lost' key='$K' digest='$D'/>
sync with an unknown attribute||<sync $S client='laptop-7f3a' since='2026-11-25'/>
sync with a client ID of 65 characters||<sync $S client='aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'/>
sync with a client ID holding a space||<sync $S client='my laptop'/>
sync with an empty client ID||<sync $S client=''/>
sync with a key outside base64url||<sync $S client='laptop-7f3a' key='AQAA+AAC/xs='/>
sync with a key of 129 characters||<sync $S client='c' key='$K${K}aaaaaaaaa'/>
sync with a digest of 31 bytes||<sync $S type='delta' key='$K' digest='47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuA=='/>
sync with a digest not in base64||<sync $S type='delta' key='$K' digest='BASE64'/>
sync with presence before the roster query||<sync $S type='full' reason='no-key' key='$K' digest='$D'>$P$Q</sync>
sync with two roster queries||<sync $S type='full' reason='no-key' key='$K' digest='$D'>$Q$Q</sync>
sync with a child of another namespace||<sync $S type='delta' key='$K' digest='$D'><delay xmlns='urn:xmpp:delay' stamp='2026-11-25T10:00:00Z'/></sync>
sync with a child in its own namespace||<sync $S type='delta' key='$K' digest='$D'><checkpoint key='$K'/></sync>
sync with a message child||<sync $S type='delta' key='$K' digest='$D'><message xmlns='jabber:client' from='a@example.org/r'/></sync>
sync with a presence of type subscribe||<sync $S type='delta' key='$K' digest='$D'><presence xmlns='jabber:client' from='a@example.org' type='subscribe'/></sync>
sync with a presence without from||<sync $S type='delta' key='$K' digest='$D'><presence xmlns='jabber:client'/></sync>
sync with a presence that keeps its to||<sync $S type='delta' key='$K' digest='$D'><presence xmlns='jabber:client' from='a@example.org/r' to='alice@example.org'/></sync>
sync with text content||<sync $S client='laptop-7f3a'>KEY</sync>
sync request without client|skx:syncRequest|<sync $S key='$K'/>
sync request with a digest|skx:syncRequest|<sync $S client='laptop-7f3a' digest='$D'/>
sync request with a child|skx:syncRequest|<sync $S client='laptop-7f3a'>$Q</sync>
delta result without key|skx:syncDelta|<sync $S type='delta' digest='$D'/>
delta result without digest|skx:syncDelta|<sync $S type='delta' key='$K'/>
delta result with a reason|skx:syncDelta|<sync $S type='delta' reason='reset' key='$K' digest='$D'/>
delta result without type|skx:syncDelta|<sync $S key='$K' digest='$D'/>
delta result with client|skx:syncDelta|<sync $S type='delta' client='laptop-7f3a' key='$K' digest='$D'/>
full result without reason|skx:syncFull|<sync $S type='full' key='$K' digest='$D'/>
full result without digest|skx:syncFull|<sync $S type='full' reason='no-key' key='$K'/>
full result of type delta|skx:syncFull|<sync $S type='delta' reason='no-key' key='$K' digest='$D'/>
later part with a key|skx:syncPart|<sync $S type='more' key='$K'/>
later part with presence='partial'|skx:syncPart|<sync $S type='more' presence='partial'/>
checkpoint with a child||<checkpoint $S key='$K'>$Q</checkpoint>
checkpoint with a digest attribute||<checkpoint $S key='$K' digest='$D'/>
checkpoint request without key|skx:checkpointRequest|<checkpoint $S client='laptop-7f3a'/>
checkpoint request without client|skx:checkpointRequest|<checkpoint $S key='$K'/>
checkpoint result without key|skx:checkpointResult|<checkpoint $S/>
checkpoint result with client|skx:checkpointResult|<checkpoint $S client='laptop-7f3a' key='$K'/>
sync-presence with an attribute||<sync-presence $S client='laptop-7f3a'/>
sync-presence with content||<sync-presence $S>yes</sync-presence>
an element unknown to the namespace||<resync $S client='laptop-7f3a'/>
view with both unchanged and a roster||<view $A ver='42'><unchanged/><query xmlns='jabber:iq:roster'/></view>
view with hidden before the roster||<view $A ver='42'><hidden jid='carl@example.org'/><query xmlns='jabber:iq:roster'/></view>
hidden without jid||<view $A ver='42'><unchanged/><hidden/></view>
view with an unknown child||<view $A ver='42'><removed jid='carl@example.org'/></view>
view with an unknown attribute||<view $A since='41'/>
view request without jid|ska:viewRequest|<view $A ver='41'/>
view request with a roster|ska:viewRequest|<view $A jid='alice@example.org'>$Q</view>
view result without roster or unchanged|ska:viewResult|<view $A ver='42'><hidden jid='carl@example.org'/></view>
view result naming the user|ska:viewResult|<view $A jid='alice@example.org' ver='42'><unchanged/></view>
EOT

# ---- every error case is representable: the elements' own declarations ----------
while IFS='|' read -r what xml; do
	[ -n "$what" ] || continue
	if element "$what" "" "$xml"; then
		ok "representable: $what"
	else
		not_ok "representable: $what" "$TMP/err"
	fi
done <<EOT
a sync without client (bad-request)|<sync $S/>
a sync with a key and no client (bad-request)|<sync $S key='$K'/>
a checkpoint without key (bad-request)|<checkpoint $S client='laptop-7f3a'/>
a checkpoint without client (bad-request)|<checkpoint $S key='$K'/>
a view without jid (bad-request)|<view $A/>
EOT

tap_end
