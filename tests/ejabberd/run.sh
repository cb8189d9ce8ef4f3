#!/bin/sh
# run.sh - build mod_synckey, start an ejabberd (23.01 on Debian 12, 24.12 on 13) of its own with it
# (127.0.0.1: c2s 5232, component 5348), run check_adapter.py, stop ejabberd.
# LAB_PORTS='C2S COMP': those ports instead, and no epmd: the node's
# distribution port is fixed at C2S+2 (as tests/interop/lab.sh does).
# Debian 12, as root (ejabberdctl runs the node as the user 'ejabberd').
# EJ_DIR: the scratch folder (default /tmp/ejh), wiped first.
# LOAD=pa (default): the .beam in $EJ_DIR/ebin, named by '-pa' in $EJ_DIR/vm.args;
# LOAD=contrib: as an ejabberd contrib module, $EJ_DIR/contrib/mod_synckey/{mod_synckey.spec,ebin/},
#   with CONTRIB_MODULES_PATH=$EJ_DIR/contrib in ejabberdctl.cfg (no vm.args).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
EJ_DIR=${EJ_DIR:-/tmp/ejh}
# under make check, the synckeyd just built runs the end-to-end check
[ -z "${SYNCKEYD:-}" ] && [ -x "${top_builddir:-.}/src/synckeyd" ] && SYNCKEYD=$(cd "${top_builddir:-.}" && pwd)/src/synckeyd && export SYNCKEYD
command -v ejabberdctl >/dev/null 2>&1 || { echo "SKIP: ejabberd is not installed"; exit 77; }
c2s=5232 comp=5348 dist=
if [ -n "${LAB_PORTS:-}" ]; then
	c2s=${LAB_PORTS% *} comp=${LAB_PORTS#* } dist=$((${LAB_PORTS% *} + 2))
fi
for port in $c2s $comp $dist; do
	if ss -ltn | grep -q "127.0.0.1:$port "; then echo "Bail out! 127.0.0.1:$port in use"; exit 99; fi
done
rm -rf "$EJ_DIR"; mkdir -p "$EJ_DIR/spool" "$EJ_DIR/logs"
for f in "$here"/lab/*; do
	sed "s|@EJ_DIR@|$EJ_DIR|g; s|@C2S@|$c2s|g; s|@COMP@|$comp|g" "$f" >"$EJ_DIR/$(basename "$f")"
done
if [ -n "$dist" ]; then
	# a node of its own on a fixed port: ejabberdctl then starts no epmd
	sed -i "s|^ERLANG_NODE=.*|ERLANG_NODE=skejh$c2s@localhost|; /^ERL_EPMD_ADDRESS=/d" "$EJ_DIR/ejabberdctl.cfg"
	echo "ERL_DIST_PORT=$dist" >>"$EJ_DIR/ejabberdctl.cfg"
fi
export EJ_C2S=$c2s EJ_COMP=$comp
case ${LOAD:-pa} in
pa)	OUT=$EJ_DIR/ebin sh "$top/adapters/ejabberd/build.sh" || exit 99 ;;
contrib)
	OUT=$EJ_DIR/contrib/mod_synckey/ebin sh "$top/adapters/ejabberd/build.sh" || exit 99
	cp "$top/adapters/ejabberd/mod_synckey.spec" "$EJ_DIR/contrib/mod_synckey/"
	rm "$EJ_DIR/vm.args"
	echo "CONTRIB_MODULES_PATH=$EJ_DIR/contrib" >>"$EJ_DIR/ejabberdctl.cfg" ;;
*)	echo "Bail out! LOAD=pa or LOAD=contrib"; exit 99 ;;
esac
cat >"$EJ_DIR/ejctl" <<CTL
#!/bin/sh
exec /usr/sbin/ejabberdctl --config-dir "$EJ_DIR" --config "$EJ_DIR/ejabberd.yml" \\
  --ctl-config "$EJ_DIR/ejabberdctl.cfg" --spool "$EJ_DIR/spool" --logs "$EJ_DIR/logs" "\$@"
CTL
chmod +x "$EJ_DIR/ejctl"
chown -R ejabberd:ejabberd "$EJ_DIR"
"$EJ_DIR/ejctl" foreground >>"$EJ_DIR/console.log" 2>&1 &
launcher=$!
echo "$launcher" >"$EJ_DIR/launcher.pid"
stop() {
	"$EJ_DIR/ejctl" stop >/dev/null 2>&1
	timeout 30 "$EJ_DIR/ejctl" stopped >/dev/null 2>&1
	for i in $(seq 1 100); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
	kill "$launcher" 2>/dev/null
	for i in $(seq 1 100); do ss -ltn | grep -q "127.0.0.1:$c2s " || break; sleep 0.1; done
	[ -n "$dist" ] || epmd -names 2>/dev/null | grep -q '^name ' || epmd -kill >/dev/null 2>&1
}
up=0
for i in $(seq 1 300); do
	if ss -ltn | grep -q "127.0.0.1:$c2s " && ss -ltn | grep -q "127.0.0.1:$comp " &&
	    "$EJ_DIR/ejctl" status >/dev/null 2>&1; then up=1; break; fi
	sleep 0.2
done
if [ $up = 0 ]; then echo "Bail out! ejabberd did not start"; tail -30 "$EJ_DIR/console.log"; stop; exit 99; fi
for u in alice bob carl dave erin zed; do "$EJ_DIR/ejctl" register $u e.test pw >/dev/null || { stop; exit 99; }; done
EJ_DIR=$EJ_DIR SYNCKEYD=${SYNCKEYD:-} timeout -k 5 300 /usr/bin/python3 "$here/check_adapter.py"
rc=$?
stop
exit $rc
