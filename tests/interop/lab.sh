# lab.sh - a real Prosody (and synckeyd) on 127.0.0.1 in a temporary folder, for tests and the demo
#
# Source it, then:
#   lab_init C2S_PORT COMPONENT_PORT [nosync]  make $LAB, write prosody.cfg.lua
#                                         (nosync: no component, no privileges)
#   lab_user NAME PASSWORD                register NAME@p.test
#   lab_roster USER "jid sub name" ...    write USER's roster while Prosody is down
#   lab_prosody_start / lab_prosody_stop  start in the foreground (background
#                                         job), wait for the ports; stop by PID
#   lab_synckeyd_start [FLAGS] / lab_synckeyd_stop
#   lab_cleanup                           stop everything, remove $LAB
# Every wait is bounded; every process is stopped by PID; only 127.0.0.1.
# Domains: users on p.test, the component sync.p.test; q.test is a second
# host that synckeyd does not serve.

LAB_DOMAIN=p.test
LAB_COMPONENT=sync.p.test
LAB_SECRET=lab-component-secret

lab_init() {
	LAB=$(mktemp -d "${TMPDIR:-/tmp}/sklab.XXXXXX")
	LAB_C2S=$1
	LAB_COMP=$2
	LAB_MODE=${3:-sync}
	mkdir -p "$LAB/data" "$LAB/certs" "$LAB/db"
	: >"$LAB/hosts"
	printf '%s\n' "$LAB_SECRET" >"$LAB/secret"
	chmod 600 "$LAB/secret"
	{
		cat <<CFG
run_as_root = true
pidfile = "$LAB/prosody.pid"
data_path = "$LAB/data"
certificates = "$LAB/certs"
log = { { levels = { min = "info" }, to = "file", filename = "$LAB/prosody.log" } }
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
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "presence"; "privilege" }
modules_disabled = { "offline" }
unbound = { resolvconf = false; hoststxt = "$LAB/hosts"; forward = "127.0.0.1" }
limits = { c2s = { rate = "10mb/s" } }
CFG
		if [ "$LAB_MODE" = sync ]; then
			cat <<CFG
VirtualHost "$LAB_DOMAIN"
  disco_items = { { "$LAB_COMPONENT", "synckey" } }
  privileged_entities = { ["$LAB_COMPONENT"] = { roster = "get"; presence = "roster" } }
VirtualHost "q.test"
  privileged_entities = { ["$LAB_COMPONENT"] = { roster = "get"; presence = "roster" } }
Component "$LAB_COMPONENT"
  component_secret = "$LAB_SECRET"
  modules_enabled = { "privilege" }
CFG
		else
			printf 'VirtualHost "%s"\n' "$LAB_DOMAIN"
		fi
	} >"$LAB/prosody.cfg.lua"
}

lab_user() {
	prosodyctl --config "$LAB/prosody.cfg.lua" register "$1" "${3:-$LAB_DOMAIN}" "$2" >/dev/null 2>&1
}

# lab_roster USER [host] < lines "jid subscription name [group]"
lab_roster() {
	dir="$LAB/data/$(printf '%s' "${2:-$LAB_DOMAIN}" | sed 's/\./%2e/g')/roster"
	mkdir -p "$dir"
	{
		echo 'return {'
		echo '  [false] = { version = 1; pending = {} };'
		while read -r jid sub name group; do
			[ -n "$jid" ] || continue
			printf '  ["%s"] = { subscription = "%s"; name = "%s"; groups = { %s } };\n' \
				"$jid" "$sub" "$name" "${group:+[\"$group\"] = true}"
		done
		echo '}'
	} >"$dir/$1.dat"
}

lab_wait_port() {
	i=0
	while [ $i -lt 100 ]; do
		if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$1 "; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "lab: nothing listens on 127.0.0.1:$1 after 10 s" >&2
	return 1
}

lab_prosody_start() {
	prosody --config "$LAB/prosody.cfg.lua" -F >>"$LAB/prosody.out" 2>&1 &
	LAB_PROSODY_PID=$!
	lab_wait_port "$LAB_C2S" || return 1
	[ "$LAB_MODE" != sync ] || lab_wait_port "$LAB_COMP"
}

lab_stop_pid() {
	[ -n "${1:-}" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

lab_prosody_stop() {
	lab_stop_pid "${LAB_PROSODY_PID:-}"
	LAB_PROSODY_PID=
}

lab_synckeyd_start() {
	"${SYNCKEYD:?set SYNCKEYD to the synckeyd binary}" --server "127.0.0.1:$LAB_COMP" \
		--jid "$LAB_COMPONENT" --secret-file "$LAB/secret" --domain "$LAB_DOMAIN" \
		--db "$LAB/db" --log-level debug "$@" >>"$LAB/synckeyd.log" 2>&1 &
	LAB_SYNCKEYD_PID=$!
	# connected when it has logged its privileges
	i=0
	while [ $i -lt 100 ]; do
		grep -q "privileges for $LAB_DOMAIN" "$LAB/synckeyd.log" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "lab: synckeyd did not get its privileges within 10 s" >&2
	tail -n 20 "$LAB/synckeyd.log" >&2
	return 1
}

lab_synckeyd_stop() {
	lab_stop_pid "${LAB_SYNCKEYD_PID:-}"
	LAB_SYNCKEYD_PID=
}

lab_cleanup() {
	lab_synckeyd_stop
	lab_prosody_stop
	if [ -n "${LAB:-}" ] && [ -z "${LAB_KEEP:-}" ]; then
		rm -rf "$LAB"
	fi
}
