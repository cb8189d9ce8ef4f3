"""interop.py - xep_synckey against a real server: the server is the oracle.

Run by run-interop.sh on a lab it prepared through tests/interop/lab.sh
(Prosody or ejabberd, synckeyd, with or without the server adapter):
bot@p.test has contacts c1..c8; some are online.  The bot logs in with the
plugin (full), contacts and the roster change while it is away, it logs in
again (delta), and again (null).  After each login, its slixmpp roster
objects and presence, and the plugin's verified cache, must equal what a
fresh ordinary slixmpp login of the same user (no plugin) receives from
the same server.  Then: a cache whose state differs from the component's
snapshot (digest mismatch, full sync), and the component gone (standard
login).  TAP on stdout.  Every wait is bounded.
"""
import asyncio
import json
import logging
import os
import re
import signal
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
top = os.environ.get("LAB_TOP") or os.path.abspath(os.path.join(here, "..", "..", ".."))
sys.path.insert(0, os.path.join(top, "tests", "interop"))
if not os.environ.get("SYNCKEY_INSTALLED"):
    sys.path.insert(0, os.path.join(here, ".."))
from xmpp import Client  # noqa: E402
from slixmpp import ClientXMPP  # noqa: E402
import slixmpp_synckey  # noqa: E402
from slixmpp_synckey.cache import Cache  # noqa: E402
from slixmpp_synckey.state import presence_fields  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402

LAB = os.environ["LAB"]
C2S = int(os.environ["LAB_C2S"])
SERVER = os.environ.get("LAB_SERVER", "prosody")
ADAPTER = os.environ.get("LAB_ADAPTER", "1") != "0"
TAG = "%s/%s" % (SERVER, "adapter" if ADAPTER else "privilege-only")
BOT = "bot@p.test"
CACHE = os.path.join(LAB, "slix-%s.json" % ("adapter" if ADAPTER else "privonly"))
logging.basicConfig(level=os.environ.get("LOGLEVEL", "WARNING"), stream=sys.stderr,
                    format="# %(levelname)s %(name)s: %(message)s")

n = 0
failed = 0


def check(name, cond, detail=""):
    global n, failed
    n += 1
    if cond:
        print("ok %d - [%s] %s" % (n, TAG, name))
    else:
        failed += 1
        print("not ok %d - [%s] %s" % (n, TAG, name))
        for line in str(detail).splitlines()[:40]:
            print("# " + line)
    sys.stdout.flush()


def roster_view(x):
    """slixmpp's roster objects: items and presence by full JID."""
    own = x.boundjid.bare
    items, pres = {}, {}
    for jid in x.client_roster:
        if jid == own:
            continue
        it = x.client_roster[jid]
        if it["subscription"] != "none" or it["pending_out"] or it["name"] or it["groups"]:
            items[jid] = (it["subscription"], bool(it["pending_out"]), it["name"], sorted(it["groups"]))
        for res, d in it.resources.items():
            pres["%s/%s" % (jid, res)] = (d.get("show") or "", d.get("status") or "", int(d.get("priority") or 0))
    return items, pres


def cache_view(path):
    """The plugin's verified cache in the same shape."""
    st = Cache(path).load().state
    items = {j: (s, a == "subscribe", n, sorted(g)) for j, (s, a, n, g) in st.items.items()}
    pres = {}
    for j, xml in st.pres.items():
        show, prio, status = presence_fields(ET.fromstring(xml))
        pres[j] = (show, status, prio)
    return items, pres


def diff(a, b):
    out = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            out.append("%s: %r != oracle %r" % (k, a.get(k), b.get(k)))
    return "\n".join(out) or "equal"


async def login(plugin, cache=CACHE, logout=True):
    """One login of the bot; returns (report, view, bytes after session start)."""
    x = ClientXMPP(BOT + "/slix", "pw")
    x.register_plugin("xep_0030")
    x.register_plugin("xep_0199")
    if plugin:
        x.register_plugin("xep_synckey", {"cache_path": cache, "timeout": 10}, module=slixmpp_synckey)
    x["feature_mechanisms"].unencrypted_plain = True
    loop = asyncio.get_event_loop()
    started, synced = loop.create_future(), loop.create_future()
    rx = [0]
    orig = x.data_received

    wire = bytearray()

    def counted(data):
        rx[0] += len(data)
        if started.done():
            wire.extend(data)
        orig(data)
    x.data_received = counted
    last = [time.monotonic()]
    x.add_event_handler("session_start", lambda e: started.done() or started.set_result(rx[0]))
    x.add_event_handler("failed_auth", lambda e: started.done() or started.set_exception(PermissionError("auth")))
    x.add_event_handler("synckey_synced", lambda rep: synced.done() or synced.set_result(rep))
    x.add_event_handler("presence", lambda p: last.__setitem__(0, time.monotonic()))
    x.connect(("127.0.0.1", C2S), force_starttls=False, disable_starttls=True)
    try:
        rx0 = await asyncio.wait_for(started, 20)
        if plugin:
            ret = await asyncio.wait_for(x["xep_synckey"].start(), 60)
            rep = await asyncio.wait_for(synced, 1)
            assert rep is ret
        else:
            x.send_presence()
            await x.get_roster(timeout=10)
            rep = {"mode": "oracle"}
        # settle: the server has handled everything, then 0.4 s without presence
        await x["xep_0199"].ping(jid="p.test", timeout=10)
        end = time.monotonic() + 5
        while time.monotonic() - last[0] < 0.4 and time.monotonic() < end:
            await asyncio.sleep(0.1)
        view = roster_view(x)
        rep["rx"] = rx[0] - rx0     # after the settle: a presence flood counts
        # contacts' presence stanzas on the wire (the echo of our own is not one)
        rep["presences"] = sum(1 for t in re.findall(rb"<presence\b[^>]*>", bytes(wire))
                               if not re.search(rb"from=[\"']bot@p\.test", t))
        if plugin and logout:
            rep["checkpoint"] = await x["xep_synckey"].checkpoint()
        x.disconnect(wait=2)
        await asyncio.wait_for(x.disconnected, 10)
        return rep, view
    finally:
        if x.transport:
            x.abort()


def compare(what, rep, view, oracle, cache=CACHE):
    check("%s: slixmpp roster items equal a fresh ordinary login's" % what, view[0] == oracle[0],
          diff(view[0], oracle[0]))
    check("%s: slixmpp presence equals a fresh ordinary login's" % what, view[1] == oracle[1],
          diff(view[1], oracle[1]))
    if rep.get("partial") or rep.get("mode") == "standard":
        check("%s: the plugin's verified cache  # SKIP presence='partial' or standard login" % what, True)
    else:
        cv = cache_view(cache)
        check("%s: the plugin's verified cache equals the server's truth" % what,
              cv == oracle, "items:\n%s\npresence:\n%s" % (diff(cv[0], oracle[0]), diff(cv[1], oracle[1])))


async def main():
    online = {}

    def up(name, res, **kw):
        c = Client("%s@p.test" % name, "pw", C2S, resource=res).connect()
        c.presence(**kw)
        online[(name, res)] = c

    def down(name, res):
        online.pop((name, res)).offline()

    up("c1", "phone", status="first status", priority=5)
    up("c2", "desk", show="dnd", status="in a meeting")
    up("c3", "a", status="one")
    up("c3", "b", show="away", priority=-1)
    up("c5", "home")
    up("c7", "x", show="xa", status="only to")
    time.sleep(0.5)

    # 1. first login: full
    rep, view = await login(True)
    oracle = (await login(False))[1]
    check("first login: synckey_synced says full, no-key", (rep["mode"], rep["reason"]) == ("full", "no-key"),
          json.dumps(rep))
    check("first login: some contacts online", len(oracle[1]) >= 5, diff({}, oracle[1]))
    check("first login: the full answer came in parts (stanza budget 4096)", rep["parts"] > 1, json.dumps(rep))
    compare("first login", rep, view, oracle)
    check("first login: checkpoint before logout gave a new key", rep.get("checkpoint") is True, json.dumps(rep))

    # 2. away: presence and roster change
    online[("c1", "phone")].presence(show="away", status="changed while the bot was away", priority=5)
    down("c2", "desk")
    down("c3", "b")
    up("c6", "laptop", status="came online")
    editor = Client(BOT, "pw", C2S, resource="editor").connect()
    editor.roster_set("c4@p.test", name="Renamed Four", groups=["Work", "Zürich"])
    editor.roster_set("c5@p.test", name="Five", groups=["Friends", "Work"])
    editor.roster_set("n1@p.test", name="New One")
    editor.roster_set("c8@p.test", remove=True)
    editor.close()
    time.sleep(0.5)
    rep, view = await login(True)
    oracle = (await login(False))[1]
    check("reconnect after changes: delta", rep["mode"] == "delta" and rep["items"] > 0, json.dumps(rep))
    compare("reconnect (delta)", rep, view, oracle)

    # 3. nothing changed: null
    rep, view = await login(True)
    orep, oracle = await login(False)
    check("reconnect again: null", rep["mode"] == "null" and rep["items"] == 0, json.dumps(rep))
    compare("reconnect (null)", rep, view, oracle)
    if ADAPTER:
        check("null reconnect receives fewer bytes than the standard login (%d < %d)" % (rep["rx"], orep["rx"]),
              rep["rx"] < orep["rx"] / 2, json.dumps(rep))
        check("null reconnect with the marker: no presence flood (%d presence stanzas, standard %d)"
              % (rep["presences"], orep["presences"]), rep["presences"] == 0 and orep["presences"] >= 5,
              json.dumps(rep))
    else:
        check("null reconnect bytes %d, standard %d  # SKIP privilege-only takes the flood" % (rep["rx"], orep["rx"]),
              True)
        check("null reconnect: the flood  # SKIP privilege-only sends no marker", True)

    # 4. a cache whose state differs from the component's snapshot
    c = Cache(CACHE).load()
    c.state.pres["c9@p.test/ghost"] = "<presence xmlns='jabber:client' from='c9@p.test/ghost'/>"
    c.commit(c.state, c.key)        # consistent on disk, wrong for the server
    online[("c1", "phone")].presence(status="one more change", priority=5)
    rep, view = await login(True)
    oracle = (await login(False))[1]
    check("a cache unlike the component's snapshot: digest mismatch, full sync",
          (rep["mode"], rep["reason"]) == ("full", "no-key"), json.dumps(rep))
    compare("after the digest mismatch", rep, view, oracle)

    # 5. the component gone: the standard login, the key kept
    key = Cache(CACHE).load().key
    with open(os.path.join(LAB, "synckeyd.pid")) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    time.sleep(0.5)
    rep, view = await login(True, logout=False)
    oracle = (await login(False))[1]
    check("the component gone: standard login with a reason", rep["mode"] == "standard" and rep["reason"],
          json.dumps(rep))
    compare("standard fall-back", rep, view, oracle)
    check("the component gone: the key is kept for next time", Cache(CACHE).load().key == key)

    for c in online.values():
        c.close()
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.get_event_loop().run_until_complete(main()))
