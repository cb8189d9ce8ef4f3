"""xep_synckey: go online with a sync key instead of the roster get and the
presence flood (xep/synckey.xml).

    xmpp.register_plugin('xep_synckey', {'cache_path': 'bot.synckey.json'},
                         module='slixmpp_synckey')

and, in the session_start handler, ``await xmpp['xep_synckey'].start()``
in place of ``send_presence()`` and ``await get_roster()``.  Before a clean
logout, ``await xmpp['xep_synckey'].logout()`` checkpoints, then
disconnects.  Each login ends with the event ``synckey_synced`` whose data
is a dict: mode (full, delta, null or standard), reason, bytes, ms, ...
"""
import asyncio
import logging
import os
import time
import xml.etree.ElementTree as ET

from slixmpp import Iq, Presence
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.plugins import BasePlugin
from slixmpp.xmlstream import ElementBase, register_stanza_plugin

from .cache import Cache
from .state import (NS_ADAPTER, NS_ROSTER, NS_SYNC, Answer, DigestMismatch,
                    Limits, Malformed, State, bare, q, token_ok)

log = logging.getLogger(__name__)
NS_INFO = "http://jabber.org/protocol/disco#info"


class Sync(ElementBase):
    name = "sync"
    namespace = NS_SYNC
    plugin_attrib = "synckey"
    interfaces = {"client", "key", "more"}


class Checkpoint(ElementBase):
    name = "checkpoint"
    namespace = NS_SYNC
    plugin_attrib = "synckey_checkpoint"
    interfaces = {"client", "key"}


class SyncPresence(ElementBase):
    """The marker of an initial presence (xep/ "Going online without the presence flood")."""
    name = "sync-presence"
    namespace = NS_SYNC
    plugin_attrib = "synckey_marker"
    interfaces = set()


class XEP_Synckey(BasePlugin):
    """Roster and presence synchronisation keys (ProtoXEP synckey)."""

    name = "xep_synckey"
    description = "synckey: roster and presence synchronisation keys"
    dependencies = {"xep_0030"}
    default_config = {
        "cache_path": None,     # default: $XDG_CACHE_HOME/slixmpp-synckey/<bare JID>.json
        "timeout": 15,          # seconds for each IQ (disco, sync part, checkpoint)
        "max_disco_items": 64,  # disco#items entries looked at
        "max_held": 100000,     # presences held while the sync is in flight
        "limits": Limits,
    }

    def plugin_init(self):
        register_stanza_plugin(Iq, Sync)
        register_stanza_plugin(Iq, Checkpoint)
        register_stanza_plugin(Presence, SyncPresence)
        self.rx = 0                 # bytes received on the stream
        self.cache = None
        self.live = None            # the state while online (for checkpoint)
        self.service = None
        self.report = None
        self._held = None           # presences held until the answer is applied
        self._shown = {}            # full JID -> presence XML slixmpp holds from us
        self._quiet = False         # set while we feed slixmpp ourselves
        orig = self.xmpp.data_received

        def counted(data):
            self.rx += len(data)
            orig(data)
        self.xmpp.data_received = counted
        self._orig_received = orig
        self.xmpp.add_event_handler("presence", self._on_presence)
        self.xmpp.add_event_handler("roster_update", self._on_roster)
        self.xmpp.add_event_handler("disconnected", self._on_disconnected)

    def plugin_end(self):
        self.xmpp.del_event_handler("presence", self._on_presence)
        self.xmpp.del_event_handler("roster_update", self._on_roster)
        self.xmpp.del_event_handler("disconnected", self._on_disconnected)
        self.xmpp.data_received = self._orig_received

    # -- public API --------------------------------------------------------

    async def start(self, pshow=None, pstatus=None, ppriority=None):
        """Go online: initial presence and the roster, by sync key when the
        server offers the service, else the standard way.  Never raises for
        what the network sends; returns the report (also the event
        ``synckey_synced``)."""
        t0, rx0 = time.monotonic(), self.rx
        presence = {"pshow": pshow, "pstatus": pstatus, "ppriority": ppriority}
        cache = self.cache = Cache(self._cache_path()).load()
        rep = {"mode": None, "reason": None, "service": None, "adapter": False,
               "partial": False, "items": 0, "parts": 0, "bytes": 0, "ms": 0.0,
               "online": None, "error": None}
        try:
            svc, adapter = await self._service(cache)
        except (IqError, IqTimeout) as e:
            svc, adapter = None, False
            rep["error"] = "discovery failed: %s" % _why(e)
        rep["service"], rep["adapter"] = svc, adapter
        if svc is None:
            await self._standard(presence)
            return self._done(rep, t0, rx0, "standard", rep["error"] or "no-service")
        self._held = []
        self._send_presence(presence, marked=adapter)
        rep["online"] = "marked" if adapter else "flood"
        try:
            ans, new = await self._sync_verified(svc, cache)
            cache.commit(new, ans.key)
        except Exception as e:      # whatever the network sent: never fatal
            if not isinstance(e, (IqError, IqTimeout, Malformed)):
                log.exception("synckey: unexpected failure of the sync")
            # keep the key and the state (sections 7.10, 12); this session
            # takes the standard way
            self._held = None
            rep["error"] = _why(e)
            log.warning("synckey: sync with %s failed (%s): standard login", svc, rep["error"])
            if adapter:     # the marked presence got no replay: go online again
                self.xmpp.send_presence(ptype="unavailable")
                self._send_presence(presence, marked=False)
                rep["online"] = "flood"
            await self._standard(presence, send_presence=False)
            return self._done(rep, t0, rx0, "standard", "sync-failed")
        rep.update(reason=ans.reason, partial=ans.partial, parts=ans.parts,
                   items=len(ans.items) + len(ans.available) + len(ans.unavailable))
        live = self.live = self._release_held(new)
        self._publish(live)
        if not adapter or ans.partial:
            # stay an interested resource (xep/ "Sync result"): the roster get;
            # the presence replay comes live (initial presence unmarked)
            if ans.partial and adapter:
                log.warning("synckey: presence='partial' after a marked presence: "
                            "contacts online since before the component's connect are missing")
            try:
                await self.xmpp.get_roster(timeout=self.timeout)
            except (IqError, IqTimeout) as e:
                log.warning("synckey: roster get failed: %s", _why(e))
        return self._done(rep, t0, rx0, ans.mode(), ans.reason)

    async def checkpoint(self):
        """A key for the state held now (xep/ "Checkpoint"); True if stored."""
        cache, live = self.cache, self.live
        if cache is None or live is None or not cache.key or not self.service:
            return False
        iq = self.xmpp.make_iq_set(ito=self.service)
        iq["synckey_checkpoint"]["client"] = cache.client
        iq["synckey_checkpoint"]["key"] = cache.key
        try:
            res = await iq.send(timeout=self.timeout)
        except (IqError, IqTimeout) as e:
            log.info("synckey: checkpoint refused (%s): the key stays", _why(e))
            return False
        cp = res.xml.find(q(NS_SYNC, "checkpoint"))
        key = cp.get("key") if cp is not None else None
        if not token_ok(key, self.limits.max_token):
            log.warning("synckey: checkpoint answer without a usable key")
            return False
        cache.commit(self._contacts_only(live), key)
        return True

    async def logout(self, wait=2.0):
        """Checkpoint, then disconnect."""
        try:
            await asyncio.wait_for(self.checkpoint(), self.timeout)
        except asyncio.TimeoutError:
            log.warning("synckey: checkpoint timed out")
        self.xmpp.disconnect(wait=wait)

    # -- discovery (xep/ "Discovery") ----------------------------------------------

    def _cache_path(self):
        if self.cache_path:
            return self.cache_path
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        folder = os.path.join(base, "slixmpp-synckey")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        return os.path.join(folder, "%s.json" % self.xmpp.boundjid.bare)

    async def _service(self, cache):
        if cache.service:
            self.service = cache.service
            return cache.service, cache.adapter
        svc, adapter = await self._discover(self.xmpp.boundjid.domain)
        cache.service, cache.adapter = svc, adapter
        if svc:
            cache.save()
        self.service = svc
        return svc, adapter

    async def _discover(self, domain):
        disco = self.xmpp["xep_0030"]
        info = await disco.get_info(jid=domain, local=False, cached=False, timeout=self.timeout)
        feats = set(info["disco_info"]["features"])
        adapter = NS_ADAPTER in feats
        if NS_SYNC in feats:            # delegated to the component (XEP-0355)
            return self.xmpp.boundjid.bare, adapter
        items = await disco.get_items(jid=domain, local=False, timeout=self.timeout)
        seen = set()
        for jid, _node, _name in list(items["disco_items"]["items"])[:self.max_disco_items]:
            if jid in seen:
                continue
            seen.add(jid)
            try:
                info = await disco.get_info(jid=jid, local=False, cached=False, timeout=self.timeout)
            except (IqError, IqTimeout):
                continue
            ids = {(c, t) for c, t, _l, _n in info["disco_info"]["identities"]}
            if ("component", "presence") in ids and NS_SYNC in info["disco_info"]["features"]:
                return str(jid), adapter
        return None, adapter

    # -- the sync (sections 7, 8) -------------------------------------------

    async def _sync_verified(self, svc, cache):
        """The answer and the state it gives, digest checked; a mismatch
        drops the key and syncs once more without one (xep/ "Sync result")."""
        try:
            ans = await self._sync(svc, cache.client, cache.key)
        except (IqError, IqTimeout):
            if not cache.service:
                raise
            # the service found last time failed: look again, once
            cache.service = None
            svc, cache.adapter = await self._service(cache)
            if svc is None:
                raise Malformed("the sync service is gone")
            ans = await self._sync(svc, cache.client, cache.key)
        try:
            return ans, ans.apply(cache.state)
        except DigestMismatch as e:
            log.warning("synckey: %s: dropping the key, full sync", e)
            cache.drop_key()
        ans = await self._sync(svc, cache.client, None)
        return ans, ans.apply(State())

    async def _sync(self, svc, client, key):
        ans = Answer(self.limits)
        more = None
        while True:
            iq = self.xmpp.make_iq_get(ito=svc)
            iq["synckey"]["client"] = client
            if more:
                iq["synckey"]["more"] = more
            elif key:
                iq["synckey"]["key"] = key
            rx = self.rx
            res = await iq.send(timeout=self.timeout)
            sync = res.xml.find(q(NS_SYNC, "sync"))
            if sync is None:
                raise Malformed("the answer has no <sync/>")
            ans.add_part(sync, self.rx - rx)
            if ans.more is None:
                return ans
            more = ans.more

    # -- standard login (RFC 6121) ------------------------------------------

    async def _standard(self, presence, send_presence=True):
        self.live = State()
        if send_presence:
            self._send_presence(presence, marked=False)
        try:
            await self.xmpp.get_roster(timeout=self.timeout)
        except (IqError, IqTimeout) as e:
            log.warning("synckey: roster get failed: %s", _why(e))

    def _send_presence(self, presence, marked):
        pres = self.xmpp.make_presence(**presence)
        if marked:
            pres.enable("synckey_marker")
        pres.send()

    # -- slixmpp's roster and presence ---------------------------------------

    def _publish(self, state):
        """Make slixmpp's roster and presence equal to state, through its own
        handlers and events (roster_update, presence_*, got_online ...)."""
        roster = self.xmpp.client_roster
        own = self.xmpp.boundjid.bare
        root = ET.Element(q("jabber:client", "iq"), {"type": "result"})
        query = ET.SubElement(root, q(NS_ROSTER, "query"))
        for jid in [j for j in roster if j != own and j not in state.items]:
            ET.SubElement(query, q(NS_ROSTER, "item"), {"jid": jid, "subscription": "remove"})
        for jid, (sub, ask, name, groups) in state.items.items():
            if roster.has_jid(jid):     # only what slixmpp does not hold already
                cur = roster[jid]
                if (cur["subscription"], "subscribe" if cur["pending_out"] else "", cur["name"],
                        sorted(cur["groups"], key=str.encode)) == (sub, ask, name, list(groups)):
                    continue
            it = ET.SubElement(query, q(NS_ROSTER, "item"), {"jid": jid, "subscription": sub})
            if ask:
                it.set("ask", ask)
            if name:
                it.set("name", name)
            for g in groups:
                ET.SubElement(it, q(NS_ROSTER, "group")).text = g
        iq = self.xmpp.Iq(xml=root)     # parsed whole, as slixmpp parses a stanza
        self._quiet = True
        try:
            self.xmpp.event("roster_update", iq)
            for full in [j for j in self._shown if j not in state.pres]:
                self._feed(ET.Element(q("jabber:client", "presence"), {"from": full, "type": "unavailable"}))
            for full, xml in state.pres.items():
                if self._shown.get(full) != xml:
                    self._feed(ET.fromstring(xml))
        finally:
            self._quiet = False

    def _release_held(self, new):
        """The presence held while the sync was in flight, applied on top of
        the verified state in arrival order (xep/ "The presence marker", Ordering)."""
        live = new.copy()
        for el in self._held or ():
            live.put_presence(el)
        self._held = None
        return live

    def _feed(self, el):
        try:
            pres = self.xmpp.Presence(xml=el)
            pres["to"] = self.xmpp.boundjid
        except Exception as e:      # e.g. a `from` that is no valid JID
            log.warning("synckey: presence from %r not shown: %s", el.get("from"), e)
            return
        self._track(pres)
        self.xmpp.event("presence", pres)
        self.xmpp.event("presence_%s" % pres["type"], pres)

    def _track(self, pres):
        frm = pres.xml.get("from")
        if frm is None:
            return
        typ = pres.xml.get("type")
        if typ is None:
            self._shown[frm] = ET.tostring(pres.xml, encoding="unicode")
        elif typ == "unavailable":
            for j in [j for j in self._shown if j == frm or bare(j) == frm]:
                del self._shown[j]

    def _on_presence(self, pres):
        if self._quiet:
            return
        el = pres.xml
        frm = el.get("from")
        if frm is None or bare(frm) == self.xmpp.boundjid.bare or el.get("type") not in (None, "unavailable"):
            return
        self._track(pres)
        if self._held is not None:
            if len(self._held) < self.max_held:
                self._held.append(el)
        elif self.live is not None:
            self.live.put_presence(el)

    def _on_roster(self, iq):
        if self._quiet or self.live is None:
            return
        query = iq.xml.find(q(NS_ROSTER, "query"))
        if query is None:
            return
        if iq["type"] == "result":      # a whole roster (a roster get's answer)
            self.live.items = {}
        for it in query.findall(q(NS_ROSTER, "item")):
            self.live.put_item(it)

    def _on_disconnected(self, _event):
        self._shown = {}        # slixmpp resets its roster's presence
        self.live = None
        self._held = None

    def _contacts_only(self, state):
        """The presence of the state: contacts with subscription to/both only."""
        ok = {j for j, f in state.items.items() if f[0] in ("to", "both")}
        return State(state.items, {j: x for j, x in state.pres.items() if bare(j) in ok})

    def _done(self, rep, t0, rx0, mode, reason):
        rep.update(mode=mode, reason=reason, bytes=self.rx - rx0,
                   ms=round((time.monotonic() - t0) * 1000.0, 1))
        self.report = rep
        log.info("synckey: %s", rep)
        self.xmpp.event("synckey_synced", rep)
        return rep


def _why(e):
    if isinstance(e, IqError):
        return "error %s: %s" % (e.iq["error"]["condition"], e.iq["error"]["text"])
    if isinstance(e, IqTimeout):
        return "timeout"
    return str(e)
