-- mod_synckey.lua - the synckey server adapter for Prosody 0.12
--
-- Gives synckeyd what an external component cannot see (the protocol:
-- doc/adapter-protocol.md):
--
--   * synckeyd asks at HOST/synckey (Prosody routes any HOST/resource to
--     the host; a full JID because ejabberd 24.10-24.12 drop a component's
--     IQs to a domain, and both adapters answer at the same address);
--   * a view of one user for synckeyd: the roster with its version, or
--     only "unchanged" when synckeyd already holds that version, or only
--     the items changed since it (a bounded log per user of the roster
--     saves, doc/adapter-protocol.md "Change lists"); and the contacts whose presence the
--     user does not receive because one of them blocked the other
--     (XEP-0191);
--   * going online without the presence flood: a session whose initial
--     presence carries <sync-presence xmlns='urn:xmpp:synckey:0'/> is
--     made interested in roster pushes and gets no replay of its local
--     contacts' presence (the probes for them are not sent), while
--     synckeyd is connected.  Without synckeyd it gets the ordinary flood.
--
-- Enable on the user host:
--     plugin_paths = { "/usr/local/lib/synckey/prosody" }
--     VirtualHost "example.org"
--         modules_enabled = { "synckey" }
--         synckey_component = "sync.example.org"
--         -- optional, the change log's bounds (defaults shown):
--         synckey_changes_max = 256        -- saves kept per user
--         synckey_changes_bytes = 65536    -- bytes of JIDs kept per user
--         synckey_changes_users = 10000    -- users with a log (least recent go)
-- The engine (state, store, diff, keys, answers) stays in synckeyd.

local st = require "util.stanza";
local new_cache = require "util.cache".new;
local new_id = require "util.id".medium;
local jid_split = require "util.jid".split;
local jid_prep = require "util.jid".prep;
local modulemanager = require "core.modulemanager";
local rostermanager = require "core.rostermanager";

local NS = "urn:xmpp:synckey:0";
local NS_ADAPTER = "urn:xmpp:synckey:adapter:0";

local host = module.host;
local hosts = prosody.hosts;
local bare_sessions = prosody.bare_sessions;
local component = module:get_option_string("synckey_component");

if not component then
	module:log("error", "synckey_component is not set: the synckey adapter stays off");
	return;
end

-- synckeyd's connection: mod_component shares its sessions (one per
-- component connection, "component" once authenticated).
local component_sessions = module:shared("/*/component/sessions");
local function synckeyd_up()
	for _, session in pairs(component_sessions) do
		if session.host == component and session.type == "component" then return true; end
	end
	return false;
end

module:add_feature(NS_ADAPTER);

-- ---- blocking (XEP-0191), read from mod_blocklist's store ------------------
--
-- A view names the contacts hidden by blocking, at a cost that follows the
-- number of blocks, not the roster: each local user's blocklist (kept
-- here, re-read after every change) and its reverse, who blocks a JID or
-- a whole domain (built from the store once, kept up to date).

local blocklist_store = module:open_store("blocklist");	-- mod_blocklist's own store
local blocklists = {};		-- username -> { [jid] = true }
local blocked_by = {};		-- blocked bare JID or domain -> { [username] = true }
local indexed = false;

local function unindex(username)
	for jid in pairs(blocklists[username] or {}) do
		local set = blocked_by[jid];
		if set then
			set[username] = nil;
			if next(set) == nil then blocked_by[jid] = nil; end
		end
	end
	blocklists[username] = nil;
end

local function set_index(username, bl)
	unindex(username);
	blocklists[username] = bl;
	for jid in pairs(bl) do
		blocked_by[jid] = blocked_by[jid] or {};
		blocked_by[jid][username] = true;
	end
end

local function index(username)
	local bl = {};
	for jid in pairs(blocklist_store:get(username) or {}) do
		if type(jid) == "string" then bl[jid] = true; end
	end
	set_index(username, bl);
end

local function ensure_index()
	if indexed then return; end
	for username in blocklist_store:users() do index(username); end
	indexed = true;
end

-- A block or unblock counts at once: applied here from the request itself,
-- before mod_blocklist (priority -1) handles it, so that a view asked for
-- right after the answer already hides (or shows) the contact; then read
-- again from mod_blocklist's store in a timer (its handler ends the event),
-- which also undoes what it refused.
local function apply(username, items, on)
	local bl = {};
	if on or #items > 0 then	-- else "unblock all"
		for jid in pairs(blocklists[username] or {}) do bl[jid] = true; end
	end
	for _, jid in ipairs(items) do bl[jid] = on or nil; end
	set_index(username, bl);
end

local function reindex(on)
	return function (event)
		local username = event.origin and event.origin.username;
		if not (username and indexed) then return; end
		local items = {};
		for item in event.stanza.tags[1]:childtags("item") do
			local jid = item.attr.jid and jid_prep(item.attr.jid);
			if jid then items[#items + 1] = jid; end
		end
		apply(username, items, on);
		module:add_timer(0, function () index(username); end);
	end
end
module:hook("iq-set/self/urn:xmpp:blocking:block", reindex(true), 10);
module:hook("iq-set/self/urn:xmpp:blocking:unblock", reindex(false), 10);
module:hook_global("user-deleted", function (event)
	if event.host == host then unindex(event.username); end
end);

-- asked each time: modules load in no particular order
local function blocking_on()
	return modulemanager.is_loaded(host, "blocklist");
end

local function receives(item)
	return item ~= nil and (item.subscription == "both" or item.subscription == "to");
end

-- The to/both contacts of username whose presence a fresh session would
-- not get: the user blocks them (their JID or domain), or they block the
-- user (mod_blocklist drops what they send to a JID they block).
local function hidden_contacts(username, roster)
	local user, out = username .. "@" .. host, {};
	ensure_index();
	for jid in pairs(blocklists[username] or {}) do
		local node, jhost, resource = jid_split(jid);
		if node and resource then
			-- a full JID: mod_blocklist drops what that resource alone
			-- sends (is_blocked matches the full JID as it is), so the
			-- view hides that resource only (doc/adapter-protocol.md "Hidden contacts")
			if receives(roster[node .. "@" .. jhost]) then out[jid] = true; end
		elseif node then
			if receives(roster[jid]) then out[jid] = true; end
		elseif resource then
			-- host/resource matches no contact's stanza in is_blocked
		else	-- a whole domain: the roster's contacts there
			for cjid, item in pairs(roster) do
				if type(cjid) == "string" and cjid ~= "pending" and receives(item) and
				    (cjid == jid or select(2, jid_split(cjid)) == jid) then
					out[cjid] = true;
				end
			end
		end
	end
	for _, target in ipairs({ user, host }) do
		for blocker in pairs(blocked_by[target] or {}) do
			local cjid = blocker .. "@" .. host;
			if receives(roster[cjid]) and bare_sessions[cjid] then out[cjid] = true; end
		end
	end
	return out;
end

-- ---- roster changes: a bounded log per user (doc/adapter-protocol.md "Change lists") ---------
--
-- Prosody numbers a roster's versions 1, 2, 3 ...: every save adds one
-- (rostermanager.save_roster), whatever changed it.  Each save opens the
-- roster store, which fires "store-opened": the store is wrapped so that a
-- save that succeeded is logged with the version it wrote and the JIDs it
-- wrote.  A log covers the saves base+1 .. last without a hole; a view
-- whose roster is at version last can then send, to a synckeyd holding
-- "nonce-V" with base <= V, the items of the JIDs saved after V.  Anything
-- else (a save missed or failed, a version that goes back, a whole-roster
-- save, a user deleted, the log evicted, a restart: another nonce) starts
-- a new log with a new nonce, and the view is the whole roster.  The
-- versions sent are "nonce-N", so a synckeyd holding a version of another
-- log never gets a list.

local changes_max = module:get_option_number("synckey_changes_max", 256);
local changes_bytes = module:get_option_number("synckey_changes_bytes", 65536);
local logs = new_cache(module:get_option_number("synckey_changes_users", 10000));

local function new_log(ver)
	-- jids[n]: the JID (or a list of JIDs) save n wrote
	return { nonce = new_id(), base = ver, last = ver, jids = {}, bytes = 0 };
end

local function size_of(jids)
	if type(jids) == "string" then return #jids; end
	local n = 0;
	for _, jid in ipairs(jids) do n = n + #jid; end
	return n;
end

-- A save of username's roster that succeeded: version ver wrote jids.
local function logged(username, ver, jids)
	if type(ver) ~= "number" then logs:set(username, nil); return; end
	local log = logs:get(username);
	if not log or log.last ~= ver - 1 then
		log = new_log(ver - 1);		-- the saves before are not known
	end
	log.jids[ver] = #jids == 1 and jids[1] or jids;
	log.bytes = log.bytes + size_of(jids);
	log.last = ver;
	while log.base < log.last and (log.last - log.base > changes_max or log.bytes > changes_bytes) do
		log.base = log.base + 1;
		log.bytes = log.bytes - size_of(log.jids[log.base]);
		log.jids[log.base] = nil;
	end
	logs:set(username, log);
end

-- A store method that, after it returns, logs (or forgets) username's saves.
local function wrap_store(store, methods)
	local wrapper = {};
	for name, after in pairs(methods) do
		wrapper[name] = function (_, username, ...)
			local ok, err = store[name](store, username, ...);
			after(ok, username, ...);
			return ok, err;
		end
	end
	return setmetatable(wrapper, { __index = function (_, k)
		local v = store[k];
		if type(v) ~= "function" then return v; end
		return function (self, ...) return v(self == wrapper and store or self, ...); end
	end });
end

local function forget(_, username) logs:set(username, nil); end

module:hook("store-opened", function (event)
	if event.store_name ~= "roster" then return; end
	if event.store_type == "map" then
		event.store = wrap_store(event.store, {
			-- save_roster of one contact: { [false] = metadata, [jid] = item }
			set_keys = function (ok, username, keys)
				if not ok or type(keys) ~= "table" or type(keys[false]) ~= "table" then
					return forget(ok, username);
				end
				local jids = {};
				for k in pairs(keys) do
					if type(k) == "string" then jids[#jids + 1] = k; end
				end
				logged(username, keys[false].version, jids);
			end;
			set = forget;
		});
	end
	-- A whole-roster save (keyval) needs no wrapper: it adds one to the
	-- version without a logged save, which is a hole (and 0.12's map shim
	-- saves one contact through a keyval set, logged as its map save).
end);
module:hook_global("user-deleted", function (event)
	if event.host == host then logs:set(event.username, nil); end
end);

-- The view's version of username's roster ("nonce-N"), and what to send:
-- "unchanged", a set of the JIDs changed since have (at most max), or nil
-- and why not for the whole roster.
local function roster_state(username, roster, have, max)
	local cur = roster[false] and roster[false].version;
	if type(cur) ~= "number" then return nil, nil, "an unversioned roster"; end
	local log = logs:get(username);
	if not log or log.last ~= cur then
		log = new_log(cur);	-- a change not seen here, or no log yet
		logs:set(username, log);
	end
	local ver = log.nonce .. "-" .. cur;
	if have == ver then return ver, "unchanged"; end
	if not have then return ver, nil, "no version asked with"; end
	if not max then return ver, nil, "no change list asked for"; end
	local nonce, n = have:match("^(.*)-(%d+)$");
	n = tonumber(n);
	if nonce ~= log.nonce or not n or n > cur then
		return ver, nil, "a version of another log";
	end
	if n < log.base then return ver, nil, "changes older than the log"; end
	local changed, count = {}, 0;
	for i = n + 1, cur do
		local jids = log.jids[i];
		if jids == nil then return ver, nil, "a hole in the log"; end
		for _, jid in ipairs(type(jids) == "table" and jids or { jids }) do
			if not changed[jid] then
				changed[jid], count = true, count + 1;
				if count > max then return ver, nil, "more changes than asked for"; end
			end
		end
	end
	return ver, changed;
end

-- ---- the view: roster by version, hidden contacts ----------------------------

local function add_item(reply, jid, item)
	if not item then
		reply:tag("item", { jid = jid, subscription = "remove" }):up();
		return;
	end
	reply:tag("item", { jid = jid, subscription = item.subscription,
		ask = item.ask, name = item.name });
	for group in pairs(item.groups or {}) do
		reply:tag("group"):text(group):up();
	end
	reply:up();
end

module:hook("iq-get/host/" .. NS_ADAPTER .. ":view", function (event)
	local origin, stanza = event.origin, event.stanza;
	if stanza.attr.from ~= component then
		origin.send(st.error_reply(stanza, "auth", "forbidden",
			"the synckey view is for " .. component .. " only"));
		return true;
	end
	local username, user_host, resource = jid_split(jid_prep(stanza.tags[1].attr.jid or ""));
	if not username or user_host ~= host or resource then
		origin.send(st.error_reply(stanza, "modify", "bad-request",
			"a view needs the jid of a user of " .. host));
		return true;
	end
	local roster, err = rostermanager.load_roster(username, host);
	if not roster or err then
		origin.send(st.error_reply(stanza, "wait", "internal-server-error",
			"the roster cannot be loaded"));
		return true;
	end
	local have = stanza.tags[1].attr.ver;
	local max = tonumber(stanza.tags[1].attr.changes);
	local ver, changed, why = roster_state(username, roster, have, max and math.floor(max));
	local reply = st.reply(stanza):tag("view", { xmlns = NS_ADAPTER, ver = ver });
	if changed == "unchanged" then
		reply:tag("unchanged"):up();
	elseif changed then
		reply:tag("changes", { since = have }):tag("query", { xmlns = "jabber:iq:roster", ver = ver });
		for jid in pairs(changed) do
			if jid ~= "pending" then add_item(reply, jid, roster[jid]); end
		end
		reply:up():up();
	else
		module:log("debug", "view of %s: the whole roster (%s)", username, why);
		reply.tags[1].attr.why = max and why or nil;	-- to a synckeyd that asked for a list
		reply:tag("query", { xmlns = "jabber:iq:roster", ver = ver });
		for jid, item in pairs(roster) do
			if jid and jid ~= "pending" then add_item(reply, jid, item); end
		end
		reply:up();
	end
	-- Hidden: contacts whose presence a fresh session of the user would
	-- not get because of blocking (XEP-0191).
	if blocking_on() then
		for jid in pairs(hidden_contacts(username, roster)) do
			reply:tag("hidden", { jid = jid }):up();
		end
	end
	origin.send(reply);
	return true;
end);

-- ---- only what the server forwards counts --------------------------------------
--
-- A presence a user's session addresses to synckeyd (its domain, a node or
-- a resource of it) is not her presence: synckeyd would store it as hers
-- (xep/ "The component and the server": only what the server forwards
-- counts).  It never reaches synckeyd; an available one is answered with
-- an error.  What mod_privilege forwards does not come this way (pre-
-- events are a session's own stanzas).

local function to_component(event)
	local origin, stanza = event.origin, event.stanza;
	if origin.type ~= "c2s" then return; end
	local _, to_host = jid_split(stanza.attr.to);
	if to_host ~= component then return; end
	local t = stanza.attr.type;
	if t == nil then
		origin.send(st.error_reply(stanza, "cancel", "not-acceptable",
			"the sync service takes presence from the server only"));
	end
	module:log("debug", "presence (%s) from %s to %s dropped: not the user's presence",
		t or "available", origin.full_jid or "?", stanza.attr.to);
	return true;
end
-- A <directed/> mark is the adapter's word to synckeyd that a presence
-- was meant for one contact (see doc/adapter-protocol.md "Directed presence");
-- Prosody forwards no directed presence, so no mark is ever the server's here.  One a client puts in its own presence would make
-- synckeyd ignore that presence, and every sync show the sender's older
-- one: it is removed.
local function strip_directed(event)
	local origin, stanza = event.origin, event.stanza;
	if origin.type ~= "c2s" or not stanza:get_child("directed", NS_ADAPTER) then return; end
	stanza:maptags(function (tag)
		if tag.name == "directed" and tag.attr.xmlns == NS_ADAPTER then return nil; end
		return tag;
	end);
end
for _, kind in ipairs({ "host", "bare", "full" }) do
	module:hook("pre-presence/" .. kind, to_component, 20);
	module:hook("pre-presence/" .. kind, strip_directed, 30);
end

-- ---- going online without the flood ------------------------------------------

module:hook("pre-presence/bare", function (event)
	local origin, stanza = event.origin, event.stanza;
	if origin.type ~= "c2s" then return; end
	local t = stanza.attr.type;
	if stanza.attr.to == nil and t == nil and origin.presence == nil then
		local marker = stanza:get_child("sync-presence", NS);
		if not marker then return; end
		stanza:maptags(function (tag)
			if tag.name == "sync-presence" and tag.attr.xmlns == NS then return nil; end
			return tag;
		end);
		if not synckeyd_up() then
			module:log("info", "%s goes online marked, but %s is not connected: ordinary presence",
				origin.full_jid, component);
			return;
		end
		-- RFC 6121 2.1.6: interested in pushes without a roster get
		origin.interested = true;
		origin.synckey_quiet = true;
		-- only the probes mod_presence sends now, in this same event
		module:add_timer(0, function () origin.synckey_quiet = nil; end);
		return;
	end
	if t == "probe" and origin.synckey_quiet then
		local _, h = jid_split(stanza.attr.to);
		local target = h and hosts[h];
		if target and target.type == "local" then
			return true;	-- a local contact: synckeyd has its presence
		end
	end
end, 10);
