# lab.sh - a real Prosody or ejabberd (and synckeyd) on 127.0.0.1 in a temporary folder, for tests and the demo
#
# A library for POSIX sh: source it, then call the functions.
#
#   . tests/interop/lab.sh
#   lab_init C2S_PORT COMPONENT_PORT [nosync]
#                 new $LAB (mktemp -d) with the server's config and the
#                 component secret (mode 0600).  nosync: a plain server
#                 with no component and no privileges (client fall-back tests).
#                 LAB_SERVER=prosody (default) or ejabberd chooses the server.
#   lab_trap      on EXIT/INT/TERM stop everything by PID and remove $LAB
#                 (keep it with LAB_KEEP=1)
#   lab_attach    in a helper process given $LAB: the settings of lab_init
#   lab_user NAME PASSWORD [HOST]      register NAME@HOST (default p.test)
#   lab_users PASSWORD [HOST] < NAMES  register many (one name a line) at
#                 once.  Prosody: its own Lua data files while it is stopped
#                 (1 000 in well under a second; prosodyctl, one by one, when
#                 it runs).  ejabberd: one XEP-0227 import, as lab_user.
#   lab_roster USER [HOST] < LINES     write USER's roster.  Prosody: its
#                 own Lua data file, only while Prosody is stopped or USER is
#                 offline.  ejabberd: a XEP-0227 import, at start or at once
#                 (items added or replaced, none removed).
#                 A line is "jid sub name group" (space separated, as before)
#                 or, when it holds a TAB, "jid TAB sub TAB name TAB g1,g2 TAB ask"
#                 (name and groups may hold spaces and any UTF-8).
#   lab_roster_gen COUNT [PREFIX] [HOST]  print COUNT generated TAB lines
#                 (PREFIX0001@HOST ..., subscriptions both/to/from/none in
#                 turn) to pipe into lab_roster: large rosters in seconds
#                 (ejabberd: 20 000 contacts in about 11 s with the start).
#   lab_server_start / lab_server_stop   (old names: lab_prosody_start/stop)
#                 the server in the foreground as a background job; start
#                 waits (Prosody 10 s or LAB_PORT_WAIT, ejabberd 30 s at most) for the ports;
#                 stop sends SIGTERM to the PID from its pidfile, waits 10 s
#                 at most, then SIGKILL.
#   lab_synckeyd_start [FLAGS] / lab_synckeyd_stop
#                 $SYNCKEYD against the lab; start waits (10 s at most) until
#                 it logs its privileges; the PID goes to $LAB/synckeyd.pid.
#   lab_set_adapter 0|1   while the server is stopped: its config written
#                 again with the server adapter off (privilege-only) or on;
#                 accounts, rosters and synckeyd's store stay.
#   lab_cleanup   what lab_trap runs; first stops the PIDs the caller put in
#                 LAB_CLEANUP_PIDS (e.g. a test script that starts servers)
#
# LAB_TLS=1 before lab_init (Prosody only): c2s requires STARTTLS and
# PLAIN only over TLS, with the certificate $LAB/tls/server.crt and its
# key server.key, which the caller puts there before lab_server_start
# (run-client-tls.sh).  Default: no TLS at all, the lab has no certificate.
# The server adapter (adapters/$LAB_SERVER/mod_synckey.*) is on by default;
# LAB_ADAPTER=0 before lab_init gives privilege-only mode.  It is found
# through $top_srcdir (automake sets it), $LAB_TOP, or the caller's $here
# (tests/interop).
#
# Files in $LAB: secret db/ synckeyd.log synckeyd.pid lab.env, and
# Prosody: prosody.cfg.lua prosody.pid prosody.log prosody.out data/ certs/ hosts;
# ejabberd: ejabberd/ (ejabberd.yml, ejctl = ejabberdctl bound to the lab,
# ejabberd.pid, logs/ejabberd.log, console.log, spool/, mod_synckey/ebin/).
# $LAB_SERVER_LOG names the server's log.  A helper that starts the server
# or synckeyd itself (test_synckeyd.py, demo.py) gets them stopped by
# lab_cleanup too, through these pidfiles.
# Names: users on p.test, the component sync.p.test, and q.test, a second
# host synckeyd does not serve, on both servers.  s2s is off, so no name is
# ever resolved (and the lab's own hosts file / inetrc is the only place
# the server would look).
# Every wait is bounded; every process is stopped by PID; only 127.0.0.1.

LAB_DOMAIN=p.test
LAB_COMPONENT=sync.p.test
LAB_SECRET=lab-component-secret

lab_init() {
	LAB_SERVER=${LAB_SERVER:-prosody}
	case $LAB_SERVER in
	prosody | ejabberd) ;;
	*) echo "lab: LAB_SERVER is prosody or ejabberd, not $LAB_SERVER" >&2; return 1 ;;
	esac
	if [ "${LAB_TLS:-0}" = 1 ] && [ "$LAB_SERVER" != prosody ]; then
		echo "lab: LAB_TLS=1 is for Prosody only" >&2
		return 1
	fi
	# ejabberd's Erlang distribution needs a port of its own (no epmd, see below)
	LAB_DIST=
	[ "$LAB_SERVER" = ejabberd ] && LAB_DIST=${LAB_DIST_PORT:-$(($1 + 2))}
	for _lab_p in "$1" "$2" $LAB_DIST; do	# a port in use would be another lab's
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
	LAB_ADAPTER_DIR=$(cd "${_lab_top:-.}/adapters/$LAB_SERVER" 2>/dev/null && pwd)
	LAB_INTEROP_DIR=$(cd "${_lab_top:-.}/tests/interop" 2>/dev/null && pwd)
	_lab_adapter_found "$LAB_ADAPTER" || return 1
	LAB_SERVER_PID=
	LAB_SYNCKEYD_PID=
	mkdir -p "$LAB/db"
	(umask 077 && printf '%s\n' "$LAB_SECRET" >"$LAB/secret")
	chmod 600 "$LAB/secret"
	"_lab_${LAB_SERVER}_init" || return 1
	_lab_env
}

# what a helper process needs to drive this lab (lab_attach)
_lab_env() {
	cat >"$LAB/lab.env" <<ENV
LAB_SERVER='$LAB_SERVER' LAB_C2S='$LAB_C2S' LAB_COMP='$LAB_COMP' LAB_DIST='$LAB_DIST'
LAB_MODE='$LAB_MODE' LAB_ADAPTER='$LAB_ADAPTER' LAB_SERVER_LOG='$LAB_SERVER_LOG'
LAB_INTEROP_DIR='$LAB_INTEROP_DIR' LAB_ADAPTER_DIR='$LAB_ADAPTER_DIR'
ENV
}

# _lab_adapter_found 0|1: 1 needs adapters/$LAB_SERVER/mod_synckey.*
_lab_adapter_found() {
	[ "$1" = 0 ] && return 0
	ls "$LAB_ADAPTER_DIR"/mod_synckey.* >/dev/null 2>&1 && return 0
	echo "lab: adapters/$LAB_SERVER/mod_synckey.* not found (set LAB_TOP)" >&2
	return 1
}

lab_set_adapter() {
	_lab_adapter_found "$1" || return 1
	LAB_ADAPTER=$1
	"_lab_${LAB_SERVER}_init" || return 1
	_lab_env
}

# lab_have_server: 0 when $LAB_SERVER (default prosody) can run here;
# else it prints the automake SKIP line with the reason, and 1.
# ejabberd needs root (ejabberdctl runs the node as the user ejabberd only
# from root or that user, and the lab chowns its folder), and erlc to
# build mod_synckey.erl unless LAB_ADAPTER=0.
lab_have_server() {
	case ${LAB_SERVER:-prosody} in
	prosody)
		command -v prosody >/dev/null 2>&1 && command -v prosodyctl >/dev/null 2>&1 && return 0
		echo "SKIP: prosody is not installed" ;;
	ejabberd)
		if [ ! -x /usr/sbin/ejabberdctl ]; then
			echo "SKIP: ejabberd is not installed"
		elif [ "$(id -u)" != 0 ]; then
			echo "SKIP: the ejabberd lab needs root (ejabberdctl su's to the user ejabberd)"
		elif [ "${LAB_ADAPTER:-1}" != 0 ] && ! command -v erlc >/dev/null 2>&1; then
			echo "SKIP: no erlc to build adapters/ejabberd (apt-get install erlang-dev)"
		else
			return 0
		fi ;;
	*) echo "SKIP: LAB_SERVER=$LAB_SERVER is neither prosody nor ejabberd" ;;
	esac
	return 1
}

# lab_attach: in a helper that got only $LAB (e.g. a test script's
# subprocess), the settings lab_init chose
lab_attach() {
	. "$LAB/lab.env"
}

_lab_prosody_init() {
	LAB_SERVER_LOG=$LAB/prosody.log
	mkdir -p "$LAB/data" "$LAB/certs"
	_lab_enc=false _lab_plain=true _lab_tls= _lab_ssl=
	if [ "${LAB_TLS:-0}" = 1 ]; then
		mkdir -p "$LAB/tls"
		_lab_enc=true _lab_plain=false _lab_tls='; "tls"'
		_lab_ssl="ssl = { certificate = \"$LAB/tls/server.crt\"; key = \"$LAB/tls/server.key\" }"
	fi
	printf '127.0.0.1 localhost %s %s q.test\n' "$LAB_DOMAIN" "$LAB_COMPONENT" >"$LAB/hosts"
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
c2s_require_encryption = $_lab_enc
s2s_require_encryption = false
allow_unencrypted_plain_auth = $_lab_plain
authentication = "internal_plain"
storage = "internal"
-- no smacks: a dropped client must go unavailable at once
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "privilege"$_lab_tls }
modules_disabled = { "offline" }
unbound = { resolvconf = false; hoststxt = "$LAB/hosts"; forward = "127.0.0.1" }
limits = { c2s = { rate = "10mb/s" } }
-- small answers go out at once (synckeyd sets TCP_NODELAY on its side)
network_settings = { nagle = false }
CFG
		[ -z "$_lab_ssl" ] || printf '%s\n' "$_lab_ssl"
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
  delegations = { ["urn:xmpp:synckey:0"] = { jid = "$LAB_COMPONENT" }; ["urn:xmpp:synckey:1"] = { jid = "$LAB_COMPONENT" } }
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

# ejabberd runs as the user ejabberd (ejabberdctl as root always su's to
# it), so its folder belongs to that user and $LAB only lets it through
# (the folders above $LAB, ${TMPDIR:-/tmp}, must let it through too).
# The node needs no epmd: ERL_DIST_PORT gives it a fixed distribution
# port on 127.0.0.1 (ejabberdctl then passes -start_epmd false), and its
# name is per lab (sklab<c2s port>), so suites run side by side.
_lab_ejabberd_init() {
	_lab_ej=${_LAB_EJ:-$LAB/ejabberd}	# lab_cluster_init: node 2's folder
	LAB_SERVER_LOG=$_lab_ej/logs/ejabberd.log
	# not ejabberd/ebin: Erlang would take that folder for the ejabberd
	# application's own (code:priv_dir) and look for translations there
	_lab_ebin=$_lab_ej/mod_synckey/ebin
	mkdir -p "$_lab_ej/spool" "$_lab_ej/logs" "$_lab_ebin" "$_lab_ej/import"
	chmod 711 "$LAB"
	if [ "$LAB_MODE" = sync ] && [ "$LAB_ADAPTER" != 0 ] &&
	    ! OUT=$_lab_ebin sh "$LAB_ADAPTER_DIR/build.sh" >>"$_lab_ej/build.out" 2>&1; then
		echo "lab: cannot build mod_synckey.erl (see $_lab_ej/build.out)" >&2
		return 1
	fi
	printf -- '-pa %s\n' "$_lab_ebin" >"$_lab_ej/vm.args"
	printf '{lookup,["file","native"]}.\n{host,{127,0,0,1},["localhost","%s","%s","q.test"]}.\n{resolv_conf,"%s"}.\n' \
		"$LAB_DOMAIN" "$LAB_COMPONENT" "$_lab_ej/resolv.conf" >"$_lab_ej/inetrc"
	echo 'nameserver 127.0.0.1' >"$_lab_ej/resolv.conf"
	cat >"$_lab_ej/ejabberdctl.cfg" <<CFG
ERLANG_NODE=sklab$LAB_C2S@localhost
ERL_DIST_PORT=$LAB_DIST
INET_DIST_INTERFACE=127.0.0.1
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
EJABBERD_PID_PATH=$_lab_ej/ejabberd.pid
EJABBERD_BYPASS_WARNINGS=true
CFG
	# ejctl: ejabberdctl bound to this lab's node and files
	cat >"$_lab_ej/ejctl" <<CTL
#!/bin/sh
exec /usr/sbin/ejabberdctl --config-dir "$_lab_ej" --config "$_lab_ej/ejabberd.yml" \\
  --ctl-config "$_lab_ej/ejabberdctl.cfg" --spool "$_lab_ej/spool" --logs "$_lab_ej/logs" "\$@"
CTL
	chmod 755 "$_lab_ej/ejctl"
	_lab_ejabberd_yml >"$_lab_ej/ejabberd.yml"
	chown -R ejabberd:ejabberd "$_lab_ej"
}

# The twin of the Prosody config: p.test (+ q.test, not served), no TLS,
# plain passwords (SASL PLAIN of xmpp.py), no stream management, no
# offline storage; privileges roster get + presence roster
# (urn:xmpp:privilege:1), and on p.test the adapter, which delegates
# urn:xmpp:synckey:0 itself, or without it mod_delegation
# (urn:xmpp:delegation:1).
_lab_ejabberd_yml() {
	cat <<YML
# written by lab.sh for one test run; everything stays in $LAB
hosts:
  - $LAB_DOMAIN
  - q.test
loglevel: ${LAB_EJABBERD_LOG_LEVEL:-info}
log_rotate_count: 0
certfiles: []
auth_method: internal
auth_password_format: plain
listen:
  - port: $LAB_C2S
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    access: c2s
    starttls: false
YML
	[ "$LAB_MODE" = sync ] && cat <<YML
  - port: $LAB_COMP
    ip: "127.0.0.1"
    module: ejabberd_service
    hosts:
      $LAB_COMPONENT:
        password: "$LAB_SECRET"
YML
	cat <<YML
acl:
  sync_component:
    server: $LAB_COMPONENT
access_rules:
  c2s:
    allow: all
  sync_priv:
    allow: sync_component
api_permissions:
  "console commands":
    from:
      - ejabberd_ctl
    who: all
    what: "*"
modules:
YML
	_lab_ej_modules q.test | sed 's/^/  /'
	# host_config's modules replace the global ones for that host
	printf 'host_config:\n  %s:\n    modules:\n' "$LAB_DOMAIN"
	_lab_ej_modules "$LAB_DOMAIN" | sed 's/^/      /'
}

# The modules of HOST; delegation and the adapter on $LAB_DOMAIN only,
# as in the Prosody config.
_lab_ej_modules() {
	cat <<YML
mod_disco: {}
mod_ping: {}
mod_privacy: {}
mod_blocking: {}
mod_roster:
  versioning: true
  store_current_id: true
YML
	[ "$LAB_MODE" = sync ] || return 0
	cat <<YML
mod_privilege:
  roster:
    get: sync_priv
  presence:
    roster: sync_priv
YML
	[ "$1" = "$LAB_DOMAIN" ] || return 0
	# the adapter delegates the sync namespace itself (mod_delegation's
	# answers are dropped by 24.10-24.12's mod_privilege)
	if [ "$LAB_ADAPTER" != 0 ]; then
		cat <<YML
mod_synckey:
  component: "$LAB_COMPONENT"
YML
	else
		cat <<YML
mod_delegation:
  namespaces:
    "urn:xmpp:synckey:0":
      access: sync_priv
    "urn:xmpp:synckey:1":
      access: sync_priv
YML
	fi
	return 0
}

lab_trap() {
	trap 'lab_cleanup' EXIT
	trap 'lab_cleanup; trap - EXIT; exit 130' INT
	trap 'lab_cleanup; trap - EXIT; exit 143' TERM
}

lab_user() {
	"_lab_${LAB_SERVER}_user" "$1" "$2" "${3:-$LAB_DOMAIN}"
}

_lab_prosody_user() {
	if ! prosodyctl --config "$LAB/prosody.cfg.lua" register "$1" "$3" "$2" \
	    >>"$LAB/prosodyctl.out" 2>&1; then
		echo "lab: cannot register $1@$3 (see $LAB/prosodyctl.out)" >&2
		return 1
	fi
}

# ejabberdctl takes about a second a call: users and rosters become pieces
# of one XEP-0227 (PIEFXIS) file that the node imports when it starts
# (lab_server_start), or at once when it already runs.  Users (1u-*)
# sort before rosters (2r-*).
_lab_ejabberd_user() {
	printf '%s\n' "$1" | _lab_ejabberd_users "$2" "$3"
}

# one piece for them all; each password also in $LAB/ejabberd/passwords,
# for a pending "ask" (_lab_ej_asks)
_lab_ejabberd_users() {
	# the password through the environment: awk -v would read its backslashes
	(umask 077 && _LAB_PW=$1 awk -v h="$2" -v pws="$LAB/ejabberd/passwords" "$_LAB_AWK_XML"'
	BEGIN { pw = ENVIRON["_LAB_PW"]; printf "<host jid=\047%s\047>\n", x(h) }
	NF {
		printf "<user name=\047%s\047 password=\047%s\047/>\n", x($1), x(pw)
		printf "%s@%s\t%s\n", $1, h, pw >>pws
	}
	END { print "</host>" }') | _lab_piece 1u
	_lab_ej_flush
}

# A piece, named by kind and time: lab_roster may run in a subshell (a
# pipe), so no counter of this shell would be seen by the next call.
_lab_piece() {
	_lab_f=$(mktemp "$LAB/ejabberd/import/$1-$(date +%s%N)-XXXXXX") || return 1
	if [ $# -gt 1 ]; then
		printf '%s\n' "$2" >"$_lab_f"
	else
		cat >"$_lab_f"
	fi
}

# lab_roster's line formats, for awk: parse() sets jid sub_ name groups ask
_LAB_AWK_PARSE='
	function parse() {
		if (index($0, "\t") > 0) {
			split($0, f, "\t"); jid = f[1]; sub_ = f[2]; name = f[3]; groups = f[4]; ask = f[5]
		} else {
			jid = $1; sub_ = $2; name = $3; groups = $4; ask = ""
		}
		if (sub_ == "") sub_ = "none"
	}'

# awk: x(s) escapes s for XML; lua(s) is s as a Lua string literal
_LAB_AWK_XML='
	function x(s) {
		gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
		gsub("\047", "\\&apos;", s); gsub(/"/, "\\&quot;", s)
		return s
	}'
_LAB_AWK_LUA='
	function lua(s,   o, i, c) {
		o = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			o = o ((c == "\\" || c == "\"") ? "\\" c : c)
		}
		return "\"" o "\""
	}'

lab_users() {
	"_lab_${LAB_SERVER}_users" "$1" "${2:-$LAB_DOMAIN}"
}

# HOST's folder in Prosody's data ("." is %2e in its names)
_lab_prosody_hostdir() {
	printf '%s/data/%s\n' "$LAB" "$(printf '%s' "$1" | sed 's/\./%2e/g')"
}

# Plain names (letters, digits): the file names are the names.
_lab_prosody_users() {
	if lab_pid_from "$LAB/prosody.pid" >/dev/null; then
		while read -r _lab_u; do
			[ -z "$_lab_u" ] || _lab_prosody_user "$_lab_u" "$1" "$2" </dev/null || return 1
		done
		return 0
	fi
	_lab_dir="$(_lab_prosody_hostdir "$2")/accounts"
	mkdir -p "$_lab_dir" || return 1
	_LAB_PW=$1 awk -v dir="$_lab_dir" "$_LAB_AWK_LUA"'
	BEGIN { pw = ENVIRON["_LAB_PW"] }
	NF { f = dir "/" $1 ".dat"; printf "return { [\"password\"] = %s; };\n", lua(pw) >f; close(f) }'
}

lab_roster() {
	"_lab_${LAB_SERVER}_roster" "$1" "${2:-$LAB_DOMAIN}"
}

# Lua data file in Prosody's "internal" storage; strings escaped for Lua.
_lab_prosody_roster() {
	# a new roster version each time, as Prosody's own saves give
	_lab_seq=$((${_lab_seq:-0} + 1))
	_lab_ver=$(( $(date +%s) * 1000 + _lab_seq % 1000 ))
	_lab_dir="$(_lab_prosody_hostdir "$2")/roster"
	mkdir -p "$_lab_dir" || return 1
	awk -v ver="$_lab_ver" "$_LAB_AWK_PARSE$_LAB_AWK_LUA"'
	BEGIN { print "return {"; printf "  [false] = { version = %s; pending = {} };\n", ver }
	/^[ \t]*$/ { next }
	{
		parse()
		g = ""
		if (groups != "") {
			n = split(groups, gs, ",")
			for (i = 1; i <= n; i++) g = g "[" lua(gs[i]) "] = true; "
		}
		printf "  [%s] = { subscription = %s; ", lua(jid), lua(sub_)
		if (name != "") printf "name = %s; ", lua(name)
		if (ask != "") printf "ask = %s; ", lua(ask)
		printf "groups = { %s} };\n", g
	}
	END { print "}" }' >"$_lab_dir/$1.dat"
}

# The roster as a PIEFXIS <user/> with an empty password: ejabberd then
# imports the items without registering (the user may exist already).
# Items are added or replaced, never removed.  ejabberd's import ignores
# "ask": those go to $LAB/ejabberd/asks, and the user asks for real
# after the import (_lab_ej_asks).
_lab_ejabberd_roster() {
	awk -v u="$1" -v h="$2" -v asks="$LAB/ejabberd/asks" "$_LAB_AWK_PARSE$_LAB_AWK_XML"'
	BEGIN { printf "<host jid=\047%s\047><user name=\047%s\047 password=\047\047><query xmlns=\047jabber:iq:roster\047>\n", h, u }
	/^[ \t]*$/ { next }
	{
		parse()
		printf "<item jid=\047%s\047 subscription=\047%s\047", x(jid), x(sub_)
		if (name != "") printf " name=\047%s\047", x(name)
		printf ">"
		n = split(groups, gs, ",")
		for (i = 1; i <= n; i++) if (gs[i] != "") printf "<group>%s</group>", x(gs[i])
		print "</item>"
		if (ask == "subscribe") printf "%s@%s\t%s\n", u, h, jid >>asks
	}
	END { print "</query></user></host>" }' | _lab_piece 2r
	_lab_ej_flush
}

lab_roster_gen() {
	awk -v n="$1" -v p="${2:-c}" -v h="${3:-$LAB_DOMAIN}" 'BEGIN {
		split("both to from none", subs, " ")
		for (i = 1; i <= n; i++)
			printf "%s%04d@%s\t%s\tContact %04d\tg%02d\t\n", p, i, h, subs[(i - 1) % 4 + 1], i, i % 10
	}'
}

# lab_wait_port PORT: until something listens there, LAB_PORT_WAIT seconds
# at most (default 10; a loaded machine may want more: tests/compat/run.sh)
lab_wait_port() {
	_lab_end=$(($(date +%s) + ${LAB_PORT_WAIT:-10}))
	while [ "$(date +%s)" -le "$_lab_end" ]; do
		if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$1 "; then
			return 0
		fi
		sleep 0.1
	done
	echo "lab: nothing listens on 127.0.0.1:$1 after ${LAB_PORT_WAIT:-10} s" >&2
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

# The server of the lab ($LAB_SERVER), started as a background job of the
# caller and stopped by PID; the old names stay for their callers.
lab_server_start() {
	"_lab_${LAB_SERVER:-prosody}_start"
}

lab_server_stop() {
	"_lab_${LAB_SERVER:-prosody}_stop"
	LAB_SERVER_PID=
}

lab_prosody_start() {
	lab_server_start
}

lab_prosody_stop() {
	lab_server_stop
}

_lab_prosody_start() {
	rm -f "$LAB/prosody.pid"
	prosody --config "$LAB/prosody.cfg.lua" -F >>"$LAB/prosody.out" 2>&1 &
	LAB_SERVER_PID=$!
	if ! lab_wait_port "$LAB_C2S" || { [ "$LAB_MODE" = sync ] && ! lab_wait_port "$LAB_COMP"; }; then
		# why, before lab_cleanup removes the folder
		tail -n 5 "$LAB/prosody.out" "$LAB/prosody.log" 2>/dev/null | sed 's/^/lab: /' >&2
		return 1
	fi
	# mod_posix writes the pidfile in the foreground too; prefer it
	_lab_i=0
	while [ $_lab_i -lt 50 ] && ! lab_pid_from "$LAB/prosody.pid" >/dev/null; do
		sleep 0.1
		_lab_i=$((_lab_i + 1))
	done
	_lab_p=$(lab_pid_from "$LAB/prosody.pid") && LAB_SERVER_PID=$_lab_p
	return 0
}

# ejabberdctl foreground, as a job; up when its ports listen, it has
# written its pidfile (the beam process, what lab_server_stop signals)
# and it answers ejabberdctl; then what lab_user and lab_roster queued.
_lab_ejabberd_start() {
	rm -f "$LAB/ejabberd/ejabberd.pid"
	"$LAB/ejabberd/ejctl" foreground >>"$LAB/ejabberd/console.log" 2>&1 &
	LAB_SERVER_PID=$!
	if ! _lab_ej_wait_up "$LAB/ejabberd" "$LAB_C2S" "$LAB_COMP"; then
		echo "lab: ejabberd did not start within 30 s" >&2
		tail -n 20 "$LAB/ejabberd/console.log" >&2
		_lab_port_holders "$LAB_C2S" "$LAB_COMP" $LAB_DIST
		return 1
	fi
	_lab_ej_flush
}

# _lab_port_holders PORT...: the sockets that hold these local ports (an
# EADDRINUSE names no one), to stderr
_lab_port_holders() {
	for _lab_p in "$@"; do
		ss -tanp "( sport = :$_lab_p )" 2>/dev/null | sed 1d | sed "s/^/lab: port $_lab_p held: /" >&2
	done
	return 0
}

# _lab_ej_wait_up DIR C2S COMP: the node of DIR is up ($LAB_SERVER_PID alive)
_lab_ej_wait_up() {
	_lab_i=0
	while [ $_lab_i -lt 300 ]; do
		if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$2 " &&
		    { [ "$LAB_MODE" != sync ] || ss -ltn 2>/dev/null | grep -q "127.0.0.1:$3 "; } &&
		    lab_pid_from "$1/ejabberd.pid" >/dev/null; then
			timeout 30 "$1/ejctl" status >/dev/null 2>&1 && return 0
		fi
		[ -z "${LAB_SERVER_PID:-}" ] || kill -0 "$LAB_SERVER_PID" 2>/dev/null || return 1
		sleep 0.1
		_lab_i=$((_lab_i + 1))
	done
	return 1
}

# SIGTERM to the beam process is init:stop(), a clean shutdown; then the
# launcher (ejabberdctl, su) ends.  Nothing of the node may survive.
_lab_ejabberd_stop() {
	_lab_p=$(lab_pid_from "$LAB/ejabberd/ejabberd.pid") && lab_stop_pid "$_lab_p"
	lab_stop_pid "${LAB_SERVER_PID:-}"
	_lab_ej_strays
}

# Any process still naming $LAB/ejabberd/ is this lab's: report, SIGKILL.
_lab_ej_strays() {
	for _lab_d in /proc/[0-9]*; do
		cat "$_lab_d/cmdline" 2>/dev/null | tr '\0' ' ' | grep -qF "$LAB/ejabberd/" || continue
		[ "${_lab_d#/proc/}" = "$$" ] && continue
		echo "lab: PID ${_lab_d#/proc/} of this lab's ejabberd outlived the stop: SIGKILL" >&2
		kill -KILL "${_lab_d#/proc/}" 2>/dev/null
	done
}

_lab_ej_running() {
	lab_pid_from "$LAB/ejabberd/ejabberd.pid" >/dev/null
}

# Import the queued pieces (when the node runs), then the pending asks.
_lab_ej_flush() {
	_lab_ej_running || return 0
	ls "$LAB/ejabberd/import/" | grep -q . || return 0
	_lab_imp=$LAB/ejabberd/import.xml
	{
		echo "<?xml version='1.0' encoding='UTF-8'?>"
		echo "<server-data xmlns='urn:xmpp:pie:0'>"
		cat "$LAB/ejabberd/import/"*
		echo "</server-data>"
	} >"$_lab_imp"
	chown ejabberd "$_lab_imp"
	if ! timeout 600 "$LAB/ejabberd/ejctl" import_piefxis "$_lab_imp" >>"$LAB/ejabberd/ejctl.out" 2>&1; then
		echo "lab: ejabberd refused $_lab_imp (see $LAB/ejabberd/ejctl.out and $LAB_SERVER_LOG)" >&2
		return 1
	fi
	rm -f "$LAB/ejabberd/import/"*
	_lab_ej_asks
}

# A pending subscription, as the server itself makes it: a session of the
# user sends <presence type='subscribe'/>; the ping makes it done.
_lab_ej_asks() {
	[ -s "$LAB/ejabberd/asks" ] || return 0
	timeout 60 /usr/bin/python3 - "$LAB/ejabberd/asks" "$LAB/ejabberd/passwords" "$LAB_C2S" \
	    "$LAB_INTEROP_DIR" <<'PY' || { echo "lab: a pending subscription could not be made" >&2; return 1; }
import sys
sys.path.insert(0, sys.argv[4])
from xmpp import Client
pw = dict(l.rstrip("\n").split("\t", 1) for l in open(sys.argv[2]))
for line in open(sys.argv[1]):
    user, contact = line.rstrip("\n").split("\t")
    c = Client(user, pw[user], int(sys.argv[3]), resource="lab-ask").connect()
    c.send("<presence to='%s' type='subscribe'/>" % contact)
    c.ping()
    c.close()
PY
	rm -f "$LAB/ejabberd/asks"
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

_lab_prosody_stop() {
	_lab_p=$(lab_pid_from "$LAB/prosody.pid") || _lab_p=${LAB_SERVER_PID:-}
	lab_stop_pid "$_lab_p"
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
	[ -d "$LAB/ejabberd2" ] && lab_server2_stop
	lab_server_stop
	if [ -z "${LAB_KEEP:-}" ]; then
		rm -rf "$LAB"
	else
		echo "lab: kept $LAB" >&2
	fi
	LAB=
}

# ---- an ejabberd cluster of two nodes (tests/cluster) -----------------------
#
#   lab_cluster_init C2S1 COMP1 C2S2 COMP2
#                 LAB_SERVER=ejabberd: lab_init C2S1 COMP1, and a second
#                 node in $LAB/ejabberd2 (ejctl2 there) with the same hosts,
#                 modules (the adapter on both) and component secret, on
#                 C2S2 and COMP2; nodes sklab<C2S>@localhost, distribution
#                 on C2S+2 of each, found without epmd through
#                 tests/cluster/sklab_epmd.erl (-epmd_module in vm.args).
#   lab_server2_start / lab_server2_stop   node 2, as lab_server_start/stop
#                 (its PID in LAB_SERVER2_PID)
#   lab_cluster_join   node 2 (running) joins node 1's Mnesia cluster
#                 (ejabberdctl join_cluster); waits (60 s at most) until
#                 both list both.
#   lab_synckeyd_start --server 127.0.0.1:$LAB_COMP2: synckeyd's list of
#                 servers is then node 1, node 2 (tried in that order).
lab_cluster_init() {
	LAB_SERVER=ejabberd
	lab_init "$1" "$2" || return 1
	for _lab_p in "$3" "$4" "$(($3 + 2))"; do
		if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$_lab_p "; then
			echo "Bail out! 127.0.0.1:$_lab_p is already in use" >&2
			return 1
		fi
	done
	LAB_C2S2=$3
	LAB_COMP2=$4
	LAB_DIST2=$(($3 + 2))
	LAB_SERVER2_PID=
	# node 2: the same files with its own ports, in its own folder
	(LAB_C2S=$LAB_C2S2; LAB_COMP=$LAB_COMP2; LAB_DIST=$LAB_DIST2; _LAB_EJ=$LAB/ejabberd2
		_lab_ejabberd_init) || return 1
	for _lab_n in ejabberd ejabberd2; do
		if ! erlc -o "$LAB/$_lab_n/mod_synckey/ebin" "$LAB_INTEROP_DIR/../cluster/sklab_epmd.erl" \
		    >>"$LAB/$_lab_n/build.out" 2>&1; then
			echo "lab: cannot build sklab_epmd.erl (see $LAB/$_lab_n/build.out)" >&2
			return 1
		fi
		printf -- '-epmd_module sklab_epmd\n' >>"$LAB/$_lab_n/vm.args"
		chown -R ejabberd:ejabberd "$LAB/$_lab_n"
	done
	cat >>"$LAB/lab.env" <<ENV
LAB_C2S2='$LAB_C2S2' LAB_COMP2='$LAB_COMP2' LAB_DIST2='$LAB_DIST2'
ENV
}

lab_server2_start() {
	_lab_d=$LAB/ejabberd2
	rm -f "$_lab_d/ejabberd.pid"
	"$_lab_d/ejctl" foreground >>"$_lab_d/console.log" 2>&1 &
	LAB_SERVER2_PID=$!
	_lab_save=${LAB_SERVER_PID:-}
	LAB_SERVER_PID=$LAB_SERVER2_PID		# what _lab_ej_wait_up watches
	_lab_ej_wait_up "$_lab_d" "$LAB_C2S2" "$LAB_COMP2"
	_lab_rc=$?
	LAB_SERVER_PID=$_lab_save
	if [ $_lab_rc != 0 ]; then
		echo "lab: ejabberd node 2 did not start within 30 s" >&2
		tail -n 20 "$_lab_d/console.log" >&2
		_lab_port_holders "$LAB_C2S2" "$LAB_COMP2" "$LAB_DIST2"
		return 1
	fi
}

lab_server2_stop() {
	_lab_p=$(lab_pid_from "$LAB/ejabberd2/ejabberd.pid") && lab_stop_pid "$_lab_p"
	lab_stop_pid "${LAB_SERVER2_PID:-}"
	LAB_SERVER2_PID=
	for _lab_d in /proc/[0-9]*; do
		cat "$_lab_d/cmdline" 2>/dev/null | tr '\0' ' ' | grep -qF "$LAB/ejabberd2/" || continue
		echo "lab: PID ${_lab_d#/proc/} of node 2 outlived the stop: SIGKILL" >&2
		kill -KILL "${_lab_d#/proc/}" 2>/dev/null
	done
}

lab_cluster_join() {
	if ! timeout 120 "$LAB/ejabberd2/ejctl" join_cluster "sklab$LAB_C2S@localhost" \
	    >>"$LAB/ejabberd2/ejctl.out" 2>&1; then
		echo "lab: join_cluster failed (see $LAB/ejabberd2/ejctl.out)" >&2
		return 1
	fi
	_lab_i=0
	while [ $_lab_i -lt 120 ]; do
		if timeout 20 "$LAB/ejabberd/ejctl" list_cluster 2>/dev/null | grep -q "sklab$LAB_C2S2@" &&
		    timeout 20 "$LAB/ejabberd2/ejctl" list_cluster 2>/dev/null | grep -q "sklab$LAB_C2S@" &&
		    timeout 20 "$LAB/ejabberd2/ejctl" status >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.5
		_lab_i=$((_lab_i + 1))
	done
	echo "lab: the two nodes do not list each other after 60 s" >&2
	return 1
}
