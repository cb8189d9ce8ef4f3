# lib.sh - shared by check-examples.sh and validate-log.sh: TAP counters and
# schema validation of every synckey element of one XML document.
# POSIX sh; needs xmllint (Debian: libxml2-utils).

XEP_NS0='urn:xmpp:synckey:0'
XEP_NSA='urn:xmpp:synckey:adapter:0'
# the outermost elements of either namespace (their descendants are
# validated with them)
XEP_TOP="//*[(namespace-uri()='$XEP_NS0' or namespace-uri()='$XEP_NSA') and
 not(ancestor::*[namespace-uri()='$XEP_NS0' or namespace-uri()='$XEP_NSA'])]"
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

# wrap_element DOC N OUT: the N-th outermost synckey element of DOC into
# OUT, inside the harness wrapper that re-declares every namespace in scope
# at that element (xmllint --xpath prints an element without its
# ancestors' declarations).
wrap_element() {
	_ns=$(xmllint --xpath "($XEP_TOP)[$2]/namespace::*" "$1" 2>/dev/null | tr '\n' ' ')
	{
		printf '<skt:sk-element xmlns:skt="urn:x-synckey-test:harness" %s>' "$_ns"
		xmllint --xpath "($XEP_TOP)[$2]" "$1"
		printf '</skt:sk-element>\n'
	} >"$3"
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
			ok "$2: <$_name/> #$_i valid"
		else
			not_ok "$2: <$_name/> #$_i valid" "$TMP/err"
		fi
		_i=$((_i + 1))
	done
	doc_count=$_cnt
}
