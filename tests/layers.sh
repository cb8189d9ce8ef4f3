#!/bin/sh
# layers.sh - every file of src/ includes only headers of its own unit and
# of the units below it (src/README); one TAP line per unit, naming each
# include that crosses a layer.
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../src" && pwd)
# unit: the units it may include besides itself
allowed() {
	case $1 in
	core)	echo "" ;;
	store)	echo "core" ;;
	engine)	echo "store core" ;;
	xmpp)	echo "core" ;;
	conf)	echo "core" ;;
	daemon)	echo "engine store core xmpp conf" ;;
	client)	echo "store core xmpp" ;;
	cli)	echo "client store core xmpp" ;;
	ctl)	echo "engine store core conf" ;;
	*)	echo "?" ;;
	esac
}
n=0 bad=0
units=$(cd "$src" && ls -d */ | tr -d /)
echo "1..$(echo $units | wc -w)"
for u in $units; do
	n=$((n + 1))
	ok=$(allowed "$u")
	wrong=
	for f in "$src/$u"/*.[ch]; do
		for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			case $h in config.h | synckey.h) continue ;; esac
			hu=$(cd "$src" && ls */"$h" 2>/dev/null | head -n 1 | cut -d/ -f1)
			if [ -z "$hu" ]; then
				wrong="$wrong $u/$(basename "$f"):$h(unknown)"
			elif [ "$hu" != "$u" ] && ! echo " $ok " | grep -q " $hu "; then
				wrong="$wrong $u/$(basename "$f"):$hu/$h"
			fi
		done
	done
	if [ "$ok" = "?" ]; then
		echo "not ok $n - src/$u is a unit src/README and this script do not know"; bad=$((bad + 1))
	elif [ -n "$wrong" ]; then
		echo "not ok $n - src/$u includes only ${ok:-itself}:$wrong"; bad=$((bad + 1))
	else
		echo "ok $n - src/$u includes only ${ok:-itself}"
	fi
done
[ "$bad" -eq 0 ]
