-- mod_synckey.lua - the synckey server adapter for Prosody 0.12
--
-- Gives synckeyd what an external component cannot see (xep/synckey.md,
-- "The server adapter"):
--
--   * a view of one user for synckeyd: the roster with its version, or
--     only "unchanged" when synckeyd already holds that version; and the
--     contacts whose presence the user does not receive because one of
--     them blocked the other (XEP-0191);
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
-- The engine (state, store, diff, keys, answers) stays in synckeyd.

local st = require "util.stanza";
local jid_split = require "util.jid".split;
local jid_bare = require "util.jid".bare;
local rostermanager = require "core.rostermanager";
local storagemanager = require "core.storagemanager";

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

-- synckeyd's connection, as mod_component keeps it.
local function synckeyd_up()
	local h = hosts[component];
	local env = h and h.modules and h.modules.component;
	return env ~= nil and env.connected == true;
end

module:add_feature(NS_ADAPTER);

-- ---- blocking (XEP-0191), read from mod_blocklist's store ------------------

local blocklists = {};	-- username -> blocklist table, dropped on every change
local blocklist_store = storagemanager.open(host, "blocklist");

local function blocklist_of(username)
	local bl = blocklists[username];
	if bl == nil then
		bl = blocklist_store:get(username) or {};
		blocklists[username] = bl;
	end
	return bl;
end

-- mod_blocklist's rule: the JID, its domain, or its bare JID.
local function blocks(username, jid)
	local bl = blocklist_of(username);
	if bl[jid] then return true; end
	local node, h = jid_split(jid);
	return (h and bl[h]) or (node and bl[node .. "@" .. h]) or false;
end

local function forget_blocklist(event)
	local username = event.origin and event.origin.username;
	if username then blocklists[username] = nil; end
end
-- before mod_blocklist (priority -1) handles the change, and again after
module:hook("iq-set/self/urn:xmpp:blocking:block", forget_blocklist, 10);
module:hook("iq-set/self/urn:xmpp:blocking:unblock", forget_blocklist, 10);
module:hook("iq-result/self/blocklist-push", forget_blocklist, 10);
module:hook_global("user-deleted", function (event)
	if event.host == host then blocklists[event.username] = nil; end
end);

-- asked each time: modules load in no particular order
local function blocking_on()
	return hosts[host].modules.blocklist ~= nil;
end

-- ---- the view: roster by version, hidden contacts ----------------------------

local function receives(item)
	return item.subscription == "both" or item.subscription == "to";
end

module:hook("iq-get/bare/" .. NS_ADAPTER .. ":view", function (event)
	local origin, stanza = event.origin, event.stanza;
	if stanza.attr.from ~= component then
		origin.send(st.error_reply(stanza, "auth", "forbidden",
			"the synckey view is for " .. component .. " only"));
		return true;
	end
	local username = jid_split(stanza.attr.to);
	local user = username and username .. "@" .. host;
	local roster, err = rostermanager.load_roster(username, host);
	if not roster or err then
		origin.send(st.error_reply(stanza, "wait", "internal-server-error",
			"the roster cannot be loaded"));
		return true;
	end
	local ver = roster[false] and roster[false].version;
	ver = ver ~= nil and ver ~= true and tostring(ver) or nil;
	local reply = st.reply(stanza):tag("view", { xmlns = NS_ADAPTER, ver = ver });
	local have = stanza.tags[1].attr.ver;
	if ver and have == ver then
		reply:tag("unchanged"):up();
	else
		reply:tag("query", { xmlns = "jabber:iq:roster", ver = ver });
		for jid, item in pairs(roster) do
			if jid and jid ~= "pending" then
				reply:tag("item", { jid = jid, subscription = item.subscription,
					ask = item.ask, name = item.name });
				for group in pairs(item.groups or {}) do
					reply:tag("group"):text(group):up();
				end
				reply:up();
			end
		end
		reply:up();
	end
	-- Hidden: contacts whose presence a fresh login of the user would
	-- not get because the user blocked them or they blocked the user.
	if blocking_on() then
		for jid, item in pairs(roster) do
			if jid and jid ~= "pending" and receives(item) then
				local node, h = jid_split(jid);
				if blocks(username, jid) or
				    (h == host and node and bare_sessions[jid] and blocks(node, user)) then
					reply:tag("hidden", { jid = jid }):up();
				end
			end
		end
	end
	origin.send(reply);
	return true;
end);

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
