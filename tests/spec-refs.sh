#!/bin/sh
# spec-refs.sh - references to the specification name its sections by
# title, and every title named exists: xep/ "Title" (or xep/synckey.xml,
# "Title") in a <section1..5 topic='Title'> of xep/synckey.xml, compared
# without regard to case; doc/adapter-protocol.md "Title" and
# doc/implementation.md "Title" in that document's headings.  Section
# numbers move when the text grows, and the XML has none; titles are
# checked here.  No reference names xep/synckey.md, which is generated
# now (make xep).  TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top" || exit 99
files=$(ls src/*/*.[ch] include/*.h adapters/*/*.lua adapters/*/*.erl adapters/*/*.md \
	doc/*.[1-8] clients/converse/src/*.js clients/slixmpp/slixmpp_synckey/*.py \
	clients/*/README.md README 2>/dev/null)
T=$(mktemp -d "${TMPDIR:-/tmp}/skrefs.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
# the XEP's titles: topic='...' of every section element
grep -o "<section[1-5] topic='[^']*'" xep/synckey.xml | sed "s/.*topic='//; s/'\$//" >"$T/xep"
# a Markdown document's titles: a line over ---/=== or after #s
md_titles() {
	awk '/^(---+|===+)$/ && prev != "" { print prev } /^#+ / { t = $0; sub(/^#+ /, "", t); print t }
	    { prev = $0 }' "$1"
}
md_titles doc/adapter-protocol.md >"$T/adapter"
md_titles doc/implementation.md >"$T/impl"
echo "1..3"
# shellcheck disable=SC2086
grep -noE '(xep/(synckey\.xml)?|doc/(adapter-protocol|implementation)\.md),? ?"[^"]+"' $files |
	sed 's/^\([^:]*:[0-9]*\):\([a-z/.-]*\).*"\([^"]*\)"$/\1	\2	\3/' >"$T/refs"
bad=$(while IFS='	' read -r where doc title; do
	case $doc in
	doc/adapter-protocol.md*) grep -qxF "$title" "$T/adapter" || echo "$where $doc \"$title\"" ;;
	doc/implementation.md*) grep -qxF "$title" "$T/impl" || echo "$where $doc \"$title\"" ;;
	*) grep -qixF "$title" "$T/xep" || echo "$where $doc \"$title\"" ;;
	esac
done <"$T/refs")
if [ -n "$bad" ] || [ ! -s "$T/xep" ]; then
	echo "not ok 1 - references to titles the documents do not have:"
	echo "$bad" | sed 's/^/#   /'
else
	echo "ok 1 - $(wc -l <"$T/refs") references name a section of xep/synckey.xml ($(wc -l <"$T/xep") titles) or of doc/ by its title"
fi
# tap N FOUND OK-TEXT NOT-OK-TEXT: one TAP line; FOUND (lines) is the failure
tap() {
	if [ -z "$2" ]; then
		echo "ok $1 - $3"
	else
		echo "not ok $1 - $4:"
		echo "$2" | sed 's/^/#   /'
	fi
}
# shellcheck disable=SC2086
num=$(grep -nE '(^|[^-])protocol\.md|xep/[a-z.]*,? *([Ss]ections? )?[0-9]|doc/[a-z-]+\.md,? *([Ss]ections? )?[0-9]|§ ?[0-9]' $files)
tap 2 "$num" "no reference by section number or to protocol.md" \
	"references by number (name the section's title)"
# shellcheck disable=SC2086
md=$(grep -n 'synckey\.md' $files)
tap 3 "$md" "no reference to xep/synckey.md (the source is xep/synckey.xml)" \
	"references to xep/synckey.md, which is generated (name xep/synckey.xml or xep/)"
[ -z "$bad" ] && [ -s "$T/xep" ] && [ -z "$num" ] && [ -z "$md" ]
