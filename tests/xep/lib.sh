# lib.sh - shared by check-examples.sh and validate-log.sh: TAP counters and
# schema validation of every synckey element of one XML document.
# POSIX sh; needs xmllint (Debian: libxml2-utils).

XEP_NS0='urn:xmpp:synckey:0'
XEP_NS1='urn:xmpp:synckey:1'
XEP_NSA='urn:xmpp:synckey:adapter:0'
# the outermost elements of these namespaces (their descendants are
# validated with them)
XEP_IN="namespace-uri()='$XEP_NS0' or namespace-uri()='$XEP_NS1' or namespace-uri()='$XEP_NSA'"
XEP_TOP="//*[($XEP_IN) and not(ancestor::*[$XEP_IN])]"
tap_n=0
tap_fail=0

ok() {	# ok DESCRIPTION
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

not_ok() {	# not_ok DESCRIPTION [DETAIL FILE]
	tap_n=$((tap_n + 1))
	tap_fail=$((tap_fail + 1))
	echo "not ok $tap_n - $1"
	[ -n "${2:-}" ] && [ -s "$2" ] && sed 's/^/# /' "$2"
	return 0
}

tap_end() {	# prints the plan; exits 0 only when every test passed
	echo "1..$tap_n"
	[ "$tap_fail" -eq 0 ] && [ "$tap_n" -gt 0 ] && exit 0
	echo "# $tap_fail of $tap_n failed"
	exit 1
}

need_xmllint() {
	if ! command -v xmllint >/dev/null 2>&1; then
		echo "Bail out! xmllint is missing (apt-get install libxml2-utils)"
		exit 1
	fi
}

# element_type DOC N: the schema type (xep/synckey.xsd "XML Schema") that
# the N-th outermost synckey element of DOC must have, from the IQ that
# carries it: a request in an IQ get or set, a result by its 'type'; empty
# where the element's own declaration applies (an element outside an IQ,
# or the request an IQ error carries back, which may be the malformed one
# the error is about).
element_type() {
	_ctx=$(xmllint --xpath "concat(local-name(($XEP_TOP)[$2]/..), ' ',
	    ($XEP_TOP)[$2]/../@type, ' ', local-name(($XEP_TOP)[$2]), ' ',
	    ($XEP_TOP)[$2]/@type)" "$1" 2>/dev/null)
	case $_ctx in
	"iq get "* | "iq set "*)
		# a request that the same document answers with an error is
		# the error case: its own declaration, which represents it
		_id=$(xmllint --xpath "string(($XEP_TOP)[$2]/../@id)" "$1" 2>/dev/null)
		[ "$(xmllint --xpath "count(//*[local-name()='iq'][@type='error'][@id='$_id'])" \
		    "$1" 2>/dev/null)" = 0 ] || return 0 ;;
	esac
	case $_ctx in
	"iq get sync"*) echo skx:syncRequest ;;
	"iq result sync delta") echo skx:syncDelta ;;
	"iq result sync full") echo skx:syncFull ;;
	"iq result sync more") echo skx:syncPart ;;
	"iq result sync"*) echo skx:syncDelta ;;	# no or an unknown type: refused
	"iq set checkpoint"*) echo skx:checkpointRequest ;;
	"iq result checkpoint"*) echo skx:checkpointResult ;;
	"iq get view"*) echo ska:viewRequest ;;
	"iq result view"*) echo ska:viewResult ;;
	esac
}

# wrap_element DOC N OUT: the N-th outermost synckey element of DOC into
# OUT, inside the harness wrapper that re-declares every namespace in scope
# at that element (xmllint --xpath prints an element without its
# ancestors' declarations), with the xsi:type of element_type.  The
# schema of version 1 is version 0's in the namespace of version 1 (xep/
# "XML Schema"): an element of version 1 is checked as that of version 0.
wrap_element() {
	_ns=$(xmllint --xpath "($XEP_TOP)[$2]/namespace::*" "$1" 2>/dev/null | tr '\n' ' ')
	_type=$(element_type "$1" "$2")
	{
		printf '<skt:sk-element xmlns:skt="urn:x-synckey-test:harness" %s' "$_ns"
		printf ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
		printf ' xmlns:skx="%s" xmlns:ska="%s">' "$XEP_NS0" "$XEP_NSA"
		if [ -n "$_type" ]; then
			xmllint --xpath "($XEP_TOP)[$2]" "$1" |
			    sed "1s/^<\([^ />]*\)/<\1 xsi:type=\"$_type\"/"
		else
			xmllint --xpath "($XEP_TOP)[$2]" "$1"
		fi
		printf '</skt:sk-element>\n'
	} | sed "s|$XEP_NS1|$XEP_NS0|g" >"$3"
}

# count_elements DOC: how many outermost synckey elements DOC holds
count_elements() {
	xmllint --xpath "count($XEP_TOP)" "$1" 2>/dev/null || echo 0
}

# element_name DOC N: its qualified name as written, for the TAP line
element_name() {
	xmllint --xpath "name(($XEP_TOP)[$2])" "$1" 2>/dev/null
}

# validate_doc DOC LABEL: one TAP line per synckey element of DOC; sets
# doc_count to the number of elements found
validate_doc() {
	_cnt=$(count_elements "$1")
	_i=1
	while [ "$_i" -le "$_cnt" ]; do
		_name=$(element_name "$1" "$_i")
		wrap_element "$1" "$_i" "$TMP/el.xml"
		if xmllint --noout --schema "$HARNESS" "$TMP/el.xml" >"$TMP/err" 2>&1; then
			ok "$2: <$_name/> #$_i valid${_type:+ as $_type}"
		else
			not_ok "$2: <$_name/> #$_i valid${_type:+ as $_type}" "$TMP/err"
		fi
		_i=$((_i + 1))
	done
	doc_count=$_cnt
}
