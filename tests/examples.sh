#!/bin/sh
# examples.sh - doc/examples/ are usable: the configuration file passes
# synckeyd -n, and the systemd unit passes systemd-analyze verify (with the
# built synckeyd in place of the installed one, and --man=no: its man pages
# are not installed yet).  TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
SYNCKEYD=${SYNCKEYD:-${top_builddir:-.}/src/synckeyd}
SYNCKEYD=$(cd "$(dirname "$SYNCKEYD")" && pwd)/$(basename "$SYNCKEYD")
T=$(mktemp -d "${TMPDIR:-/tmp}/skex.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
n=0; bad=0
check() {
	n=$((n + 1))
	if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; bad=$((bad + 1)); sed 's/^/# /' "$T/out"; fi
}
(umask 077 && echo secret >"$T/secret")
"$SYNCKEYD" -n --config "$top/doc/examples/synckeyd.conf" --secret-file "$T/secret" >"$T/out" 2>&1
check "doc/examples/synckeyd.conf passes synckeyd -n" 'grep -q "configuration OK" "$T/out"'
printf 'server = 127.0.0.1:5347\nbogus = 1\nmax-resources = 0\n' >"$T/bad.conf"
"$SYNCKEYD" -n --config "$T/bad.conf" --jid s.p.test --secret-file "$T/secret" --domain p.test --db "$T" >"$T/out" 2>&1
check "a bad file is refused with file:line for each error" 'grep -q "bad.conf:2: unknown key" "$T/out" && grep -q "bad.conf:3: max-resources" "$T/out"'
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|/usr/local/sbin/synckeyd|$SYNCKEYD|g" "$top/doc/examples/synckeyd.service" >"$T/synckeyd.service"
	systemd-analyze verify --man=no "$T/synckeyd.service" >"$T/out" 2>&1; rc=$?
	check "doc/examples/synckeyd.service passes systemd-analyze verify, silent" '[ $rc -eq 0 ] && [ ! -s "$T/out" ]'
fi
# the server snippets: the Prosody one read as Prosody reads its
# configuration (Lua, VirtualHost/Component sections), the ejabberd one
# as YAML; both name the component, its privileges and the adapter
lua=$(command -v lua5.4 || command -v lua5.3 || command -v lua5.2 || command -v lua || true)
if [ -n "$lua" ]; then
	"$lua" - "$top/doc/examples/prosody-synckey.cfg.lua" >"$T/out" 2>&1 <<'LUA'
local hosts, cur = { ["*"] = {} }, "*"
local env = setmetatable({}, {
	__index = function (_, k)
		if k == "VirtualHost" or k == "Component" then
			return function (name) cur = name; hosts[name] = {} end
		end
	end,
	__newindex = function (_, k, v) hosts[cur][k] = v end,
})
assert(loadfile(arg[1], "t", env))()
local vh, comp = hosts["example.org"], hosts["sync.example.org"]
local function has(list, x) for _, v in ipairs(list or {}) do if v == x then return true end end end
assert(vh and comp, "both sections")
assert(vh.synckey_component == "sync.example.org", "synckey_component")
assert(has(vh.modules_enabled, "synckey") and has(vh.modules_enabled, "privilege"), "modules")
assert(vh.privileged_entities["sync.example.org"].roster == "get", "roster privilege")
assert(vh.privileged_entities["sync.example.org"].presence == "roster", "presence privilege")
assert(comp.component_secret and has(comp.modules_enabled, "privilege"), "component")
assert(hosts["*"].network_settings.nagle == false, "nagle off")
print("prosody snippet OK")
LUA
	check "doc/examples/prosody-synckey.cfg.lua is read as a Prosody configuration" 'grep -q "prosody snippet OK" "$T/out"'
fi
if /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
	/usr/bin/python3 - "$top/doc/examples/ejabberd-synckey.yml" >"$T/out" 2>&1 <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
svc = [l for l in c["listen"] if l["module"] == "ejabberd_service"][0]
assert svc["ip"] == "127.0.0.1" and "sync.example.org" in svc["hosts"], "component listener"
m = c["modules"]
assert m["mod_synckey"]["component"] == "sync.example.org", "adapter"
assert m["mod_privilege"]["roster"]["both"] == "sync_priv", "roster privilege"
assert m["mod_privilege"]["presence"]["roster"] == "sync_priv", "presence privilege"
assert "mod_disco" in m, "mod_disco (clients and the adapter's feature)"
# the adapter delegates the namespace; mod_delegation's answers are dropped on 24.12
assert "urn:xmpp:synckey:0" not in (m.get("mod_delegation") or {}).get("namespaces", {}), "delegation"
print("ejabberd snippet OK")
PY
	check "doc/examples/ejabberd-synckey.yml is valid YAML with the component, privileges, mod_disco and the adapter" 'grep -q "ejabberd snippet OK" "$T/out"'
	# the README's block, as an operator copies it
	awk '/^Attaching synckeyd to ejabberd/ { s = 1 } s && /^    listen:/ { b = 1 }
	    b && /^[^ ]/ { exit } b { print }' "$top/README" >"$T/readme.yml"
	/usr/bin/python3 - "$T/readme.yml" >"$T/out" 2>&1 <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
m = c["modules"]
assert "mod_disco" in m and m["mod_synckey"]["component"] == "sync.example.org", m
assert m["mod_privilege"]["presence"]["roster"] == "sync_priv", "presence privilege"
print("README ejabberd block OK")
PY
	check "README's ejabberd block is valid YAML with mod_disco, the privileges and the adapter" 'grep -q "README ejabberd block OK" "$T/out"'
fi
echo "1..$n"
[ "$bad" -eq 0 ]
