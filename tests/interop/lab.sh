# lab.sh - a real Prosody (and synckeyd) on 127.0.0.1 in a temporary folder, for tests and the demo
#
# A library for POSIX sh: source it, then call the functions.
#
#   . tests/interop/lab.sh
#   lab_init C2S_PORT COMPONENT_PORT [nosync]
#                 new $LAB (mktemp -d) with prosody.cfg.lua and the component
#                 secret (mode 0600).  nosync: a plain Prosody with no
#                 component and no privileges (client fall-back tests).
#   lab_trap      on EXIT/INT/TERM stop everything by PID and remove $LAB
#                 (keep it with LAB_KEEP=1)
#   lab_user NAME PASSWORD [HOST]      register NAME@HOST (default p.test)
#   lab_roster USER [HOST] < LINES     write USER's roster as Prosody's own Lua
#                 data file; only while Prosody is stopped or USER is offline.
#                 A line is "jid sub name group" (space separated, as before)
#                 or, when it holds a TAB, "jid TAB sub TAB name TAB g1,g2 TAB ask"
#                 (name and groups may hold spaces and any UTF-8).
#   lab_roster_gen COUNT [PREFIX] [HOST]  print COUNT generated TAB lines
#                 (PREFIX0001@HOST ..., subscriptions both/to/from/none in
#                 turn) to pipe into lab_roster: large rosters in a second.
#   lab_prosody_start / lab_prosody_stop
#                 foreground Prosody as a background job; start waits (10 s
#                 at most) for the ports; stop sends SIGTERM to the PID from
#                 its pidfile, waits 10 s at most, then SIGKILL.
#   lab_synckeyd_start [FLAGS] / lab_synckeyd_stop
#                 $SYNCKEYD against the lab; start waits (10 s at most) until
#                 it logs its privileges; the PID goes to $LAB/synckeyd.pid.
#   lab_cleanup   what lab_trap runs; first stops the PIDs the caller put in
#                 LAB_CLEANUP_PIDS (e.g. a test script that starts servers)
#
# The server adapter (adapters/prosody/mod_synckey.lua) is on by default;
# LAB_ADAPTER=0 before lab_init gives privilege-only mode.  It is found
# through $top_srcdir (automake sets it), $LAB_TOP, or the caller's $here
# (tests/interop).
#
# Files in $LAB: prosody.cfg.lua prosody.pid prosody.log prosody.out data/
# certs/ hosts secret db/ synckeyd.log synckeyd.pid.  A helper that starts
# Prosody or synckeyd itself (test_synckeyd.py, demo.py) gets them stopped
# by lab_cleanup too, through these pidfiles.
# Names: users on p.test, the component sync.p.test, and q.test, a second
# host synckeyd does not serve.  s2s is off, so no name is ever resolved
# (and the lab's own hosts file is the only place unbound would look).
# Every wait is bounded; every process is stopped by PID; only 127.0.0.1.

LAB_DOMAIN=p.test
LAB_COMPONENT=sync.p.test
LAB_SECRET=lab-component-secret

lab_init() {
	for _lab_p in "$1" "$2"; do	# a port in use would be another lab's
		if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$_lab_p "; then
			echo "Bail out! 127.0.0.1:$_lab_p is already in use" >&2
			return 1
		fi
	done
	LAB=$(mktemp -d "${TMPDIR:-/tmp}/sklab.XXXXXX") || return 1
	LAB_C2S=$1
	LAB_COMP=$2
	LAB_MODE=${3:-sync}
	LAB_ADAPTER=${LAB_ADAPTER:-1}
	_lab_top=${LAB_TOP:-${top_srcdir:-${here:+$here/../..}}}
	LAB_ADAPTER_DIR=$(cd "${_lab_top:-.}/adapters/prosody" 2>/dev/null && pwd)
	if [ "$LAB_ADAPTER" != 0 ] && [ ! -f "$LAB_ADAPTER_DIR/mod_synckey.lua" ]; then
		echo "lab: adapters/prosody/mod_synckey.lua not found (set LAB_TOP)" >&2
		return 1
	fi
	LAB_PROSODY_PID=
	LAB_SYNCKEYD_PID=
	mkdir -p "$LAB/data" "$LAB/certs" "$LAB/db"
	printf '127.0.0.1 localhost %s %s q.test\n' "$LAB_DOMAIN" "$LAB_COMPONENT" >"$LAB/hosts"
	(umask 077 && printf '%s\n' "$LAB_SECRET" >"$LAB/secret")
	chmod 600 "$LAB/secret"
	{
		cat <<CFG
-- written by lab.sh for one test run; everything stays in $LAB
run_as_root = true
pidfile = "$LAB/prosody.pid"
data_path = "$LAB/data"
certificates = "$LAB/certs"
log = { { levels = { min = "${LAB_PROSODY_LOG_LEVEL:-info}" }, to = "file", filename = "$LAB/prosody.log" } }
interfaces = { "127.0.0.1" }
c2s_ports = { $LAB_C2S }
component_ports = { $LAB_COMP }
component_interfaces = { "127.0.0.1" }
s2s_ports = { }
http_ports = { }
https_ports = { }
c2s_direct_tls_ports = { }
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
-- no smacks: a dropped client must go unavailable at once
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "privilege" }
modules_disabled = { "offline" }
unbound = { resolvconf = false; hoststxt = "$LAB/hosts"; forward = "127.0.0.1" }
limits = { c2s = { rate = "10mb/s" } }
-- small answers go out at once (synckeyd sets TCP_NODELAY on its side)
network_settings = { nagle = false }
CFG
		if [ "$LAB_MODE" = sync ]; then
			if [ "$LAB_ADAPTER" != 0 ]; then
				cat <<CFG
plugin_paths = { "$LAB_ADAPTER_DIR" }
VirtualHost "$LAB_DOMAIN"
  modules_enabled = { "blocklist"; "synckey"; "delegation" }
  synckey_component = "$LAB_COMPONENT"
CFG
			else
				cat <<CFG
VirtualHost "$LAB_DOMAIN"
  modules_enabled = { "blocklist"; "delegation" }
CFG
			fi
			cat <<CFG
  disco_items = { { "$LAB_COMPONENT", "synckey" } }
  privileged_entities = { ["$LAB_COMPONENT"] = { roster = "get"; presence = "roster" } }
  delegations = { ["urn:xmpp:synckey:0"] = { jid = "$LAB_COMPONENT" } }
VirtualHost "q.test"
  privileged_entities = { ["$LAB_COMPONENT"] = { roster = "get"; presence = "roster" } }
Component "$LAB_COMPONENT"
  component_secret = "$LAB_SECRET"
  modules_enabled = { "privilege"; "delegation" }
CFG
		else
			printf 'VirtualHost "%s"\n' "$LAB_DOMAIN"
		fi
	} >"$LAB/prosody.cfg.lua"
}

lab_trap() {
	trap 'lab_cleanup' EXIT
	trap 'lab_cleanup; trap - EXIT; exit 130' INT
	trap 'lab_cleanup; trap - EXIT; exit 143' TERM
}

lab_user() {
	if ! prosodyctl --config "$LAB/prosody.cfg.lua" register "$1" "${3:-$LAB_DOMAIN}" "$2" \
	    >>"$LAB/prosodyctl.out" 2>&1; then
		echo "lab: cannot register $1@${3:-$LAB_DOMAIN} (see $LAB/prosodyctl.out)" >&2
		return 1
	fi
}

# Lua data file in Prosody's "internal" storage; strings escaped for Lua.
lab_roster() {
	# a new roster version each time, as Prosody's own saves give
	_lab_seq=$((${_lab_seq:-0} + 1))
	_lab_ver=$(( $(date +%s) * 1000 + _lab_seq % 1000 ))
	_lab_dir="$LAB/data/$(printf '%s' "${2:-$LAB_DOMAIN}" | sed 's/\./%2e/g')/roster"
	mkdir -p "$_lab_dir" || return 1
	awk -v ver="$_lab_ver" '
	function lua(s,   o, i, c) {
		o = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			o = o ((c == "\\" || c == "\"") ? "\\" c : c)
		}
		return "\"" o "\""
	}
	BEGIN { print "return {"; printf "  [false] = { version = %s; pending = {} };\n", ver }
	/^[ \t]*$/ { next }
	{
		if (index($0, "\t") > 0) {
			n = split($0, f, "\t"); jid = f[1]; sub_ = f[2]; name = f[3]; groups = f[4]; ask = f[5]
		} else {
			jid = $1; sub_ = $2; name = $3; groups = $4; ask = ""
		}
		g = ""
		if (groups != "") {
			n = split(groups, gs, ",")
			for (i = 1; i <= n; i++) g = g "[" lua(gs[i]) "] = true; "
		}
		printf "  [%s] = { subscription = %s; ", lua(jid), lua(sub_ == "" ? "none" : sub_)
		if (name != "") printf "name = %s; ", lua(name)
		if (ask != "") printf "ask = %s; ", lua(ask)
		printf "groups = { %s} };\n", g
	}
	END { print "}" }' >"$_lab_dir/$1.dat"
}

lab_roster_gen() {
	awk -v n="$1" -v p="${2:-c}" -v h="${3:-$LAB_DOMAIN}" 'BEGIN {
		split("both to from none", subs, " ")
		for (i = 1; i <= n; i++)
			printf "%s%04d@%s\t%s\tContact %04d\tg%02d\t\n", p, i, h, subs[(i - 1) % 4 + 1], i, i % 10
	}'
}

lab_wait_port() {
	_lab_i=0
	while [ $_lab_i -lt 100 ]; do
		if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$1 "; then
			return 0
		fi
		sleep 0.1
		_lab_i=$((_lab_i + 1))
	done
	echo "lab: nothing listens on 127.0.0.1:$1 after 10 s" >&2
	return 1
}

# The PID in FILE, if that process is still one of this lab's (its command
# line names $LAB): a stale pidfile never gets another process killed.
lab_pid_from() {
	[ -s "$1" ] || return 1
	_lab_p=$(tr -cd '0-9' <"$1")
	[ -n "$_lab_p" ] && [ -r "/proc/$_lab_p/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$_lab_p/cmdline" | grep -qF "$LAB" || return 1
	printf '%s\n' "$_lab_p"
}

lab_prosody_start() {
	rm -f "$LAB/prosody.pid"
	prosody --config "$LAB/prosody.cfg.lua" -F >>"$LAB/prosody.out" 2>&1 &
	LAB_PROSODY_PID=$!
	lab_wait_port "$LAB_C2S" || return 1
	if [ "$LAB_MODE" = sync ]; then
		lab_wait_port "$LAB_COMP" || return 1
	fi
	# mod_posix writes the pidfile in the foreground too; prefer it
	_lab_i=0
	while [ $_lab_i -lt 50 ] && ! lab_pid_from "$LAB/prosody.pid" >/dev/null; do
		sleep 0.1
		_lab_i=$((_lab_i + 1))
	done
	_lab_p=$(lab_pid_from "$LAB/prosody.pid") && LAB_PROSODY_PID=$_lab_p
	return 0
}

lab_stop_pid() {
	[ -n "${1:-}" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	_lab_i=0
	while kill -0 "$1" 2>/dev/null && [ $_lab_i -lt 100 ]; do
		sleep 0.1
		_lab_i=$((_lab_i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "lab: PID $1 ignored SIGTERM for 10 s: SIGKILL" >&2
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
}

lab_prosody_stop() {
	_lab_p=$(lab_pid_from "$LAB/prosody.pid") || _lab_p=${LAB_PROSODY_PID:-}
	lab_stop_pid "$_lab_p"
	LAB_PROSODY_PID=
}

lab_synckeyd_start() {
	_lab_mark=$( (wc -c <"$LAB/synckeyd.log") 2>/dev/null || echo 0)
	"${SYNCKEYD:?set SYNCKEYD to the synckeyd binary}" --server "127.0.0.1:$LAB_COMP" \
		--jid "$LAB_COMPONENT" --secret-file "$LAB/secret" --domain "$LAB_DOMAIN" \
		--db "$LAB/db" --log-level debug "$@" >>"$LAB/synckeyd.log" 2>&1 &
	LAB_SYNCKEYD_PID=$!
	echo "$LAB_SYNCKEYD_PID" >"$LAB/synckeyd.pid"
	# ready when it has logged its mode (adapter or privilege-only), which
	# follows the privileges (in this run's part of the log)
	_lab_i=0
	while [ $_lab_i -lt 100 ]; do
		tail -c +"$((_lab_mark + 1))" "$LAB/synckeyd.log" 2>/dev/null |
			grep -q "^.* $LAB_DOMAIN: \(server adapter present\|privilege-only mode\)" && return 0
		kill -0 "$LAB_SYNCKEYD_PID" 2>/dev/null || break
		sleep 0.1
		_lab_i=$((_lab_i + 1))
	done
	echo "lab: synckeyd did not log its privileges and mode within 10 s" >&2
	tail -n 20 "$LAB/synckeyd.log" >&2
	return 1
}

lab_synckeyd_stop() {
	_lab_p=$(lab_pid_from "$LAB/synckeyd.pid") || _lab_p=${LAB_SYNCKEYD_PID:-}
	lab_stop_pid "$_lab_p"
	LAB_SYNCKEYD_PID=
	rm -f "$LAB/synckeyd.pid"
}

# lab_schema_check LOG...: every synckey element in each stanza log
# (tests/interop/xmpp.py with SK_SCHEMA_LOG) against xep/'s schema, as
# one TAP line a log; 1 when any fails.  Needs $here (tests/interop).
lab_schema_check() {
	_lab_rc=0
	for _lab_f in "$@"; do
		[ -s "$_lab_f" ] || continue
		if _lab_out=$(sh "$here/../xep/validate-log.sh" "$_lab_f" 2>&1); then
			echo "ok - schema: $(printf '%s\n' "$_lab_out" | tail -n 2 | head -n 1 |
				sed 's/^ok [0-9]* - //') in $(basename "$_lab_f")"
		else
			echo "not ok - schema: $(basename "$_lab_f") has stanzas the schema refuses"
			printf '%s\n' "$_lab_out" | grep -A3 '^not ok' | sed 's/^/# /' | head -n 20
			_lab_rc=1
		fi
	done
	return $_lab_rc
}

lab_cleanup() {
	[ -n "${LAB:-}" ] || return 0
	for _lab_p in ${LAB_CLEANUP_PIDS:-}; do
		lab_stop_pid "$_lab_p"
	done
	LAB_CLEANUP_PIDS=
	lab_synckeyd_stop
	lab_prosody_stop
	if [ -z "${LAB_KEEP:-}" ]; then
		rm -rf "$LAB"
	else
		echo "lab: kept $LAB" >&2
	fi
	LAB=
}
