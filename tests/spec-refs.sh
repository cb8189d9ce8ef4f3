#!/bin/sh
# spec-refs.sh - references to the specification name its sections by
# title, and every title named exists in xep/synckey.md (section numbers
# move when the text grows; titles are checked here).  TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top" || exit 99
files=$(ls src/*/*.[ch] include/*.h adapters/*/*.lua adapters/*/*.erl adapters/*/*.md \
	doc/*.[1-8] clients/converse/src/*.js clients/slixmpp/slixmpp_synckey/*.py 2>/dev/null)
T=$(mktemp -d "${TMPDIR:-/tmp}/skrefs.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
# the titles: "N. Title" over a dashed line, and "### N.N Title"
awk '/^---+$/ && prev ~ /^[0-9]+\. / { sub(/^[0-9]+\. /, "", prev); print prev }
	/^### [0-9]+\.[0-9]+ / { t = $0; sub(/^### [0-9.]+ /, "", t); sub(/ \(`.*`\)$/, "", t); print t }
	{ prev = $0 }' xep/synckey.md >"$T/titles"
echo "1..2"
# shellcheck disable=SC2086
grep -noE 'xep/(synckey\.md)?,? ?"[^"]+"' $files | sed 's/^\([^:]*:[0-9]*\):.*"\([^"]*\)"$/\1	\2/' >"$T/refs"
bad=$(while IFS='	' read -r where title; do
	grep -qxF "$title" "$T/titles" || echo "$where \"$title\""
done <"$T/refs")
if [ -z "$bad" ]; then
	echo "ok 1 - $(wc -l <"$T/refs") references name a section of xep/synckey.md by its title"
else
	echo "not ok 1 - references to titles xep/synckey.md does not have:"
	echo "$bad" | sed 's/^/#   /'
fi
# shellcheck disable=SC2086
num=$(grep -nE 'protocol\.md|xep/[a-z.]*,? *([Ss]ection )?[0-9]|§ ?[0-9]' $files)
if [ -z "$num" ]; then
	echo "ok 2 - no reference by section number or to protocol.md"
else
	echo "not ok 2 - references by number (name the section's title):"
	echo "$num" | sed 's/^/#   /'
fi
[ -z "$bad" ] && [ -z "$num" ]
