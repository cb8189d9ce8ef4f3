-- prosody-synckey.cfg.lua - what Prosody 0.12 needs for synckeyd, to merge
-- into prosody.cfg.lua (README "Attaching synckeyd to Prosody 0.12").
-- Replace example.org, sync.example.org and the secret.

-- The server adapter (adapters/prosody/mod_synckey.lua): where make install
-- puts it; the Debian package prosody-mod-synckey: /usr/share/synckey/prosody.
plugin_paths = { "/usr/local/share/synckey/prosody" }

-- Without this, Nagle's algorithm and delayed ACKs add about 40 ms to
-- every sync on the component link.
network_settings = { nagle = false }

VirtualHost "example.org"
	-- privilege and delegation come with prosody-modules
	modules_enabled = { "privilege"; "blocklist"; "delegation"; "synckey" }
	privileged_entities = {
		["sync.example.org"] = { roster = "get"; presence = "roster" };
	}
	-- clients find urn:xmpp:synckey:0 and :1 in their own server's disco#info
	delegations = {
		["urn:xmpp:synckey:0"] = { jid = "sync.example.org" };
		["urn:xmpp:synckey:1"] = { jid = "sync.example.org" };
	}
	synckey_component = "sync.example.org"

-- The component link (XEP-0114) is not encrypted: keep it on loopback.
component_interfaces = { "127.0.0.1" }

Component "sync.example.org"
	component_secret = "a long random secret"
	modules_enabled = { "privilege"; "delegation" }
