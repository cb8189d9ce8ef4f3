#!/bin/sh
# ci.sh - the slixmpp plugin's CI stage: install, unit tests, interop on both servers, mutants (TAP)
#
#   [SYNCKEYD=.../synckeyd] sh clients/slixmpp/ci.sh        (as root on Debian 12)
#
# 1. apt-get installs python3-slixmpp, setuptools, pip and venv (as root);
# 2. pip installs the plugin from the tree, offline, into a venv that sees
#    Debian's packages (--system-site-packages); the tests below import
#    that installed copy (SYNCKEY_INSTALLED=1), not the source;
# 3. the unit tests (digest examples of the spec, answers, cache, slixmpp
#    objects);
# 4. the interop test on real Prosody and ejabberd, with the server adapter
#    and privilege-only (tests/run-interop.sh, ports 41000-41039);
# 5. the mutants (mutants/run.sh), each must be killed.
# Without SYNCKEYD, synckeyd is built in build-slix/ (install-deps first).
# Every line "ok"/"not ok" is one test; the last line sums them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
start=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
n=0 bad=0
tap() {	# RESULT NAME [LOG]
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok - $2"; else bad=$((bad + 1)); echo "not ok - $2"; [ -z "${3:-}" ] || tail -n 30 "$3" | sed 's/^/# /'; fi
}
count() {	# a TAP log: its lines pass through, counted
	cat "$1"
	n=$((n + $(grep -c '^ok ' "$1") + $(grep -c '^not ok ' "$1")))
	bad=$((bad + $(grep -c '^not ok ' "$1")))
}

echo "== slixmpp plugin: install"
if [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-slixmpp python3-setuptools python3-pip \
		python3-venv patch >"$tmp/apt.log" 2>&1 && tap ok "apt-get install python3-slixmpp and friends" ||
		tap notok "apt-get install python3-slixmpp and friends" "$tmp/apt.log"
fi
if [ -z "${SYNCKEYD:-}" ]; then
	[ "$(id -u)" != 0 ] || sh "$top/tests/install-deps.sh" >"$tmp/deps.log" 2>&1
	if (cd "$top" && { [ -x configure ] || autoreconf -fi; } && mkdir -p build-slix && cd build-slix &&
		../configure -q && make -j2) >"$tmp/build.log" 2>&1; then
		SYNCKEYD=$top/build-slix/src/synckeyd
	else
		tap notok "build synckeyd" "$tmp/build.log"
		echo "slixmpp: $((n - bad)) passed, $bad failed"
		exit 1
	fi
fi
export SYNCKEYD
/usr/bin/python3 -m venv --system-site-packages "$tmp/venv" >"$tmp/venv.log" 2>&1 &&
	cp -r "$here" "$tmp/src" && rm -rf "$tmp/src/build" "$tmp/src"/*.egg-info &&
	"$tmp/venv/bin/pip" install -q --no-index --no-build-isolation "$tmp/src" >>"$tmp/venv.log" 2>&1
tap $([ $? = 0 ] && echo ok || echo notok) "pip install --no-index --no-build-isolation clients/slixmpp (a venv)" "$tmp/venv.log"
PYTHON=$tmp/venv/bin/python3
(cd "$tmp" && "$PYTHON" -c "
import slixmpp, slixmpp_synckey, os
assert 'site-packages' in slixmpp_synckey.__file__, slixmpp_synckey.__file__
x = slixmpp.ClientXMPP('a@b.test', 'pw')
x.register_plugin('xep_synckey')
assert x['xep_synckey'].name == 'xep_synckey'
") >"$tmp/import.log" 2>&1
tap $([ $? = 0 ] && echo ok || echo notok) "the installed package registers xep_synckey with slixmpp" "$tmp/import.log"
export PYTHON
# the README's example bot: it compiles and builds its client with the plugin
sed -n '/^```python$/,/^```$/p' "$here/README.md" | sed '1d;$d' >"$tmp/syncbot.py"
(cd "$tmp" && "$PYTHON" -c "
import asyncio, runpy
asyncio.set_event_loop(asyncio.new_event_loop())
bot = runpy.run_path('syncbot.py', run_name='syncbot')['SyncBot']('a@b.test', 'pw')
assert bot['xep_synckey'].cache_path == 'syncbot.synckey.json'
") >"$tmp/readme.log" 2>&1
tap $([ $? = 0 ] && echo ok || echo notok) "the README's example bot loads and enables xep_synckey" "$tmp/readme.log"

echo "== slixmpp plugin: unit tests"
SYNCKEY_INSTALLED=1 "$PYTHON" "$here/tests/test_unit.py" >"$tmp/unit.log" 2>"$tmp/unit.err"
count "$tmp/unit.log"

for mode in prosody:1 prosody:0 ejabberd:1 ejabberd:0; do
	echo "== slixmpp plugin: interop ${mode%:*}, adapter ${mode#*:}"
	SYNCKEY_INSTALLED=1 LAB_SERVER=${mode%:*} LAB_ADAPTER=${mode#*:} LAB_TOP=$top \
		timeout 400 sh "$here/tests/run-interop.sh" >"$tmp/interop.log" 2>"$tmp/interop.err"
	rc=$?
	count "$tmp/interop.log"
	if [ $rc = 77 ]; then
		tap ok "interop $mode # SKIP $(sed -n 's/^1\.\.0 # //p' "$tmp/interop.log")"
	elif [ $rc != 0 ] && ! grep -q '^not ok ' "$tmp/interop.log"; then
		tap notok "interop $mode ended with exit $rc" "$tmp/interop.err"
	fi
done

echo "== slixmpp plugin: mutants"
PYTHON=/usr/bin/python3 LAB_TOP=$top timeout 900 sh "$here/mutants/run.sh" >"$tmp/mutants.log" 2>&1
count "$tmp/mutants.log"
echo "slixmpp: $((n - bad)) passed, $bad failed, $(($(date +%s) - start)) s"
[ $bad -eq 0 ]
