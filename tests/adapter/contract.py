"""check_adapter.py - adapters/ejabberd/mod_synckey.erl on a real ejabberd (23.01 on Debian 12, 24.12 on 13), as TAP.

Run by run.sh, which starts ejabberd with the module (host e.test, c2s
127.0.0.1:5232, component sync.e.test on 127.0.0.1:5348, secret s3cret)
and registers alice bob carl dave erin zed (password pw).  The component
is a tiny one here (XEP-0114 handshake, raw stanzas), so that the test
sees exactly what ejabberd and the adapter send it.  Clients are the
project's tests/interop/xmpp.py.
"""
import hashlib
import os
import socket
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "interop"))
from xmpp import Client, q, NS_CLIENT, NS_ROSTER, error_condition  # noqa: E402
from tap import Tap, expect  # noqa: E402

EJ_DIR = os.environ.get("EJ_DIR", "/tmp/ejh")
SYNCKEYD = os.environ.get("SYNCKEYD", "")     # a built src/synckeyd: one more check
# run.sh's ports (LAB_PORTS), 5232 and 5348 by default
C2S, COMP_PORT = int(os.environ.get("EJ_C2S", "5232")), int(os.environ.get("EJ_COMP", "5348"))
DOM, SVC, SECRET = "e.test", "sync.e.test", "s3cret"
NS_ADAPTER = "urn:xmpp:synckey:adapter:0"
NS_SYNC = "urn:xmpp:synckey:0"
NS_COMP = "jabber:component:accept"
MARK = "<sync-presence xmlns='%s'/>" % NS_SYNC


tap = Tap(__file__)
results = tap.results
check = tap.check

def ln(e):
    return e.tag.split("}")[-1]


def show(e):
    return ET.tostring(e, encoding="unicode")


def ejctl(*args):
    subprocess.run([os.path.join(EJ_DIR, "ejctl")] + list(args), check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Component(Client):
    """XEP-0114 on 127.0.0.1, stanzas kept in arrival order like xmpp.Client."""

    def __init__(self):
        super().__init__("x@" + SVC, SECRET, COMP_PORT)

    def _open(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.stream_id = None
        self.sock.sendall(("<stream:stream xmlns='%s' xmlns:stream='http://etherx.jabber.org/streams' "
                           "to='%s'>" % (NS_COMP, SVC)).encode())

    def _pump(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            raise ConnectionError("stream closed by the server")
        self.parser.feed(data)
        for ev, el in self.parser.read_events():
            if ev == "start":
                self.depth += 1
                if self.depth == 1:
                    self.stream_id = el.get("id")
            else:
                self.depth -= 1
                if self.depth == 1:
                    self.queue.append(el)
        return True

    def connect(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=10)
        self._open()
        end = time.monotonic() + 10
        while self.stream_id is None and time.monotonic() < end:
            self._pump(0.5)
        expect(self.stream_id, "no stream header from ejabberd")
        self.send("<handshake>%s</handshake>" % hashlib.sha1((self.stream_id + SECRET).encode()).hexdigest())
        self.wait(lambda e: ln(e) == "handshake", what="handshake")
        return self

    def close(self):
        try:
            self.sock.sendall(b"</stream:stream>")
            self.sock.close()
        except OSError:
            pass

    def drain(self, seconds):
        """Everything that arrives within seconds (and what was queued)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._pump(max(0.05, min(0.5, end - time.monotonic())))
        out, self.queue = self.queue, []
        return out

    def iq_to(self, to, payload, frm=SVC):
        self.nid += 1
        iid = "c%d" % self.nid
        self.send("<iq type='get' id='%s' from='%s' to='%s'>%s</iq>" % (iid, frm, to, payload))
        return self.wait(lambda e: ln(e) == "iq" and e.get("id") == iid, 10, "answer to " + iid)


def login(user, res, status=None, show_=None, prio=None, mark=False):
    c = Client("%s@%s" % (user, DOM), "pw", C2S, resource=res).connect()
    if status is not None or show_ is not None or mark:
        c.presence(show=show_, status=status, priority=prio, extra=MARK if mark else "")
    return c


def presences(stanzas, ns=NS_CLIENT):
    return [p for p in stanzas if p.tag == q(ns, "presence")]


def collect(c, seconds):
    """A client's stanzas within seconds, after a ping barrier."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        c._pump(max(0.05, min(0.5, end - time.monotonic())))
    out, c.queue = c.queue, []
    return out


def rst(c):
    """Drop the TCP connection without a word (RST)."""
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.sock.close()


# ---- the scenario ------------------------------------------------------------

ROSTERS = [  # user, contact, nick, group, subscription
    ("alice", "bob", "Bob", "Friends", "both"), ("alice", "carl", "Carl", "", "both"),
    ("alice", "dave", "Dave", "", "to"), ("alice", "erin", "Erin", "Friends", "both"),
    ("bob", "alice", "Alice", "", "both"), ("carl", "alice", "Alice", "", "both"),
    ("erin", "alice", "Alice", "", "both"), ("dave", "alice", "Alice", "", "from"),
]
for u, c, nick, grp, sub in ROSTERS:
    ejctl("add_rosteritem", u, DOM, c, DOM, nick, grp, sub)

S = {}   # what the checks share


ADAPTER = DOM + "/synckey"   # where synckeyd asks the adapter


def view(comp, ver=None, user="alice"):
    res = comp.iq_to(ADAPTER, "<view xmlns='%s' jid='%s@%s'%s/>"
                     % (NS_ADAPTER, user, DOM, " ver='%s'" % ver if ver else ""))
    expect(res.get("type") == "result", lambda: "view: " + show(res))
    v = res.find(q(NS_ADAPTER, "view"))
    expect(v is not None and v.get("ver"), lambda: "no <view ver=...>: " + show(res))
    return v


def items_of(query):
    return {it.get("jid"): (it.get("subscription"), it.get("name") or "",
                            tuple(sorted(g.text or "" for g in it.findall(q(NS_ROSTER, "group")))))
            for it in query.findall(q(NS_ROSTER, "item"))}


def hidden_of(v):
    return sorted(h.get("jid") for h in v.findall(q(NS_ADAPTER, "hidden")))


def t_disco():
    res = S["alice"].iq("get", DOM, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
    feats = [f.get("var") for f in res.iter("{http://jabber.org/protocol/disco#info}feature")]
    expect(NS_ADAPTER in feats, "features: %s" % feats)


def t_burst():
    # online before the component: bob/b1, carl/c1 with presence; dave/d1 without any
    S["bob"] = login("bob", "b1", status="bob-early", show_="away")
    S["carl"] = login("carl", "c1", status="carl-early", prio=5)
    S["dave"] = login("dave", "d1")
    time.sleep(0.5)
    S["comp"] = Component().connect()
    got = presences(S["comp"].drain(2.0), NS_COMP)
    seen = {}
    for p in got:
        st = p.find(q(NS_COMP, "status"))
        delay = p.find("{urn:xmpp:delay}delay")
        seen.setdefault(p.get("from"), []).append((p.get("type"), st.text if st is not None else None,
                                                   delay is not None))
    for jid, status in (("bob@e.test/b1", "bob-early"), ("carl@e.test/c1", "carl-early"),
                        ("alice@e.test/a1", "alice-on")):
        expect((None, status, True) in seen.get(jid, []),
               "no presence of %s (status %s, with <delay/>) at connect; got %s" % (jid, status, seen))
    expect("dave@e.test/d1" not in seen, "dave/d1 sent no presence but was reported: %s" % seen)
    return "%d presence stanzas at connect" % len(got)


def t_view_full():
    v = view(S["comp"])
    query = v.find(q(NS_ROSTER, "query"))
    expect(query is not None and query.get("ver") == v.get("ver"), lambda: "no query with ver: " + show(v))
    res = S["alice"].iq("get", None, "<query xmlns='%s'/>" % NS_ROSTER)
    truth = items_of(res.find(q(NS_ROSTER, "query")))
    mine = items_of(query)
    expect(mine == truth, "view roster %s != roster get %s" % (mine, truth))
    expect(set(mine) == {"bob@e.test", "carl@e.test", "dave@e.test", "erin@e.test"}, "items %s" % mine)
    expect(hidden_of(v) == [], "hidden without blocking: %s" % hidden_of(v))
    S["ver"] = v.get("ver")
    return "ver %s, %d items" % (S["ver"][:12], len(mine))


def t_view_unchanged():
    v = view(S["comp"], S["ver"])
    expect(v.get("ver") == S["ver"], "ver changed: %s" % v.get("ver"))
    expect([ln(c) for c in v] == ["unchanged"], lambda: "not only <unchanged/>: " + show(v))


def t_view_changed():
    S["alice"].roster_set("bob@e.test", name="Bobby", groups=("Friends",))
    v = view(S["comp"], S["ver"])
    query = v.find(q(NS_ROSTER, "query"))
    expect(v.get("ver") != S["ver"] and query is not None, lambda: "after a rename: " + show(v))
    expect(items_of(query)["bob@e.test"][1] == "Bobby", lambda: "rename missing: " + show(v))
    ver2 = v.get("ver")
    # another path, through ejabberdctl (mod_admin_extra)
    ejctl("add_rosteritem", "alice", DOM, "zed", DOM, "Zed", "", "none")
    v = view(S["comp"], ver2)
    query = v.find(q(NS_ROSTER, "query"))
    expect(v.get("ver") not in (ver2, S["ver"]) and query is not None and "zed@e.test" in items_of(query),
           lambda: "after add_rosteritem: " + show(v))
    S["ver"] = v.get("ver")


def t_adapter_probe():
    res = S["comp"].iq_to(ADAPTER, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
    feats = [f.get("var") for f in res.iter("{http://jabber.org/protocol/disco#info}feature")]
    expect(res.get("type") == "result" and NS_ADAPTER in feats, lambda: "probe: " + show(res))
    res = S["comp"].iq_to(ADAPTER, "<view xmlns='%s' jid='nobody@q.test'/>" % NS_ADAPTER)
    cond, text = error_condition(res, NS_COMP)
    expect(cond == "bad-request" and text, lambda: "a view of another domain's user: " + show(res))
    return "features %s; another domain's user: <%s/> %s" % (feats, cond, text)


def t_delegation():
    """A sync alice sends to her own account reaches the component wrapped,
    from e.test/synckey, and the component's wrapped answer reaches alice."""
    a = S["alice"]
    a.nid += 1
    iid = "sd%d" % a.nid
    a.send("<iq type='get' id='%s'><sync xmlns='urn:xmpp:synckey:0' client='t'/></iq>" % iid)
    got = S["comp"].wait(lambda e: ln(e) == "iq" and e.get("from") == ADAPTER, 10, "the forwarded sync")
    inner = got.find("{urn:xmpp:delegation:2}delegation/{urn:xmpp:forward:0}forwarded/{%s}iq" % NS_CLIENT)
    expect(inner is not None and inner.get("id") == iid and inner.get("from") == "alice@e.test/a1"
           and inner.find("{urn:xmpp:synckey:0}sync") is not None, lambda: "forwarded: " + show(got))
    S["comp"].send("<iq type='result' id='%s' from='%s' to='%s'><delegation xmlns='urn:xmpp:delegation:2'>"
                   "<forwarded xmlns='urn:xmpp:forward:0'><iq xmlns='jabber:client' type='result' id='%s' "
                   "from='alice@e.test' to='alice@e.test/a1'><sync xmlns='urn:xmpp:synckey:0' type='null'/>"
                   "</iq></forwarded></delegation></iq>" % (got.get("id"), SVC, ADAPTER, iid))
    ans = a.wait(lambda e: ln(e) == "iq" and e.get("id") == iid, 10, "the answer")
    expect(ans.get("type") == "result" and ans.get("from") == "alice@e.test"
           and ans.find("{urn:xmpp:synckey:0}sync") is not None, lambda: "answer: " + show(ans))
    res = a.iq("get", DOM, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
    feats = [f.get("var") for f in res.iter("{http://jabber.org/protocol/disco#info}feature")]
    expect("urn:xmpp:synckey:0" in feats, "the domain does not list urn:xmpp:synckey:0: %s" % feats)


def t_forbidden():
    res = S["bob"].iq("get", ADAPTER, "<view xmlns='%s' jid='alice@e.test'/>" % NS_ADAPTER,
                      expect_error=True)
    cond, text = error_condition(res)
    expect(res.get("type") == "error" and cond == "forbidden", lambda: "from bob: " + show(res))
    v = res.find(q(NS_ADAPTER, "view"))     # ejabberd echoes the request's child
    expect(v is None or (len(v) == 0 and v.get("ver") is None), lambda: "data in the error: " + show(res))
    return "bob gets <%s/>: %s" % (cond, text)


def block(c, jid, on=True):
    c.iq("set", None, "<%s xmlns='urn:xmpp:blocking'><item jid='%s'/></%s>"
         % ("block" if on else "unblock", jid, "block" if on else "unblock"))


def t_hidden():
    block(S["alice"], "carl@e.test")            # alice blocks carl
    erin = login("erin", "e1")
    block(erin, "alice@e.test")                 # erin blocks alice
    v = view(S["comp"], S["ver"])
    got = hidden_of(v)
    block(S["alice"], "carl@e.test", False)
    block(erin, "alice@e.test", False)
    erin.close()
    expect(got == ["carl@e.test", "erin@e.test"], "hidden %s, want carl and erin" % got)
    expect([ln(c) for c in v][0] == "unchanged", lambda: "blocking changed the roster: " + show(v))
    v = view(S["comp"], S["ver"])
    expect(hidden_of(v) == [], "still hidden after unblock: %s" % hidden_of(v))


def contacts_seen(stanzas, me):
    return sorted({p.get("from") for p in presences(stanzas)
                   if p.get("type") is None and not p.get("from", "").startswith(me)})


def t_flood_control():
    a = login("alice", "a2", status="plain")
    got = collect(a, 1.5)
    a.offline()
    seen = contacts_seen(got, "alice@")
    expect({"bob@e.test/b1", "carl@e.test/c1"} <= set(seen), "unmarked login saw only %s" % seen)
    return "an ordinary login gets %s" % seen


def t_marker_quiet():
    S["comp"].drain(0.3)
    S["bob"].queue.clear()
    a = login("alice", "a3", status="marked", mark=True)
    got = collect(a, 1.5)
    seen = contacts_seen(got, "alice@")
    own = [p.get("from") for p in presences(got) if p.get("from") == "alice@e.test/a1"]
    # bob sees alice/a3's presence, without the marker
    bp = S["bob"].wait(lambda e: ln(e) == "presence" and e.get("from") == "alice@e.test/a3", 5,
                       "alice/a3's presence at bob")
    cp = [p for p in presences(S["comp"].drain(1.0), NS_COMP) if p.get("from") == "alice@e.test/a3"]
    # live presence still reaches the marked session, and roster pushes do
    S["bob"].presence(status="bob-live")
    live = a.wait(lambda e: ln(e) == "presence" and e.get("from") == "bob@e.test/b1", 5, "bob's live presence")
    ejctl("add_rosteritem", "alice", DOM, "frank", DOM, "Frank", "", "none")
    push = a.wait(lambda e: ln(e) == "iq" and e.get("type") == "set" and e.find(q(NS_ROSTER, "query")) is not None,
                  5, "a roster push")
    a.offline()
    expect(seen == [], "contacts' presence replayed to a marked session: %s" % seen)
    expect(own, "the other own resource alice/a1 was not shown (probe to own JID kept)")
    expect(bp.find(q(NS_SYNC, "sync-presence")) is None and "sync-presence" not in show(bp),
           lambda: "marker reached bob: " + show(bp))
    expect(cp and all("sync-presence" not in show(p) for p in cp), "marker or nothing at the component: %s"
           % [show(p) for p in cp])
    expect(live.find(q(NS_CLIENT, "status")).text == "bob-live", "live presence wrong")
    return "no contact presence; own a1, live presence and roster push %s arrive" % push.find(
        q(NS_ROSTER, "query")).find(q(NS_ROSTER, "item")).get("jid")


def t_marker_without_component():
    S["comp"].close()
    time.sleep(1.0)
    S["bob"].queue.clear()
    a = login("alice", "a4", status="marked-nocomp", mark=True)
    got = collect(a, 1.5)
    bp = S["bob"].wait(lambda e: ln(e) == "presence" and e.get("from") == "alice@e.test/a4", 5,
                       "alice/a4's presence at bob")
    a.offline()
    seen = contacts_seen(got, "alice@")
    expect({"bob@e.test/b1", "carl@e.test/c1"} <= set(seen), "no flood without the component: %s" % seen)
    expect("sync-presence" not in show(bp), lambda: "marker reached bob: " + show(bp))
    return "flood: %s" % seen


def t_unavailable_on_drop():
    S["comp"] = Component().connect()
    S["comp"].drain(1.0)
    z1 = login("zed", "z1", status="zed-1")
    z2 = login("zed", "z2", status="zed-2")
    z3 = login("zed", "z3", status="zed-3")
    S["comp"].drain(1.0)
    rst(z1)                                     # TCP RST
    z2.send("</stream:stream>")                 # stream closed, no unavailable
    z2.sock.close()
    z3.offline()                                # the ordinary way
    got = presences(S["comp"].drain(3.0), NS_COMP)
    unav = {}
    for p in got:
        if p.get("type") == "unavailable":
            unav[p.get("from")] = unav.get(p.get("from"), 0) + 1
    for r in ("z1", "z2", "z3"):
        expect(unav.get("zed@e.test/" + r), "no unavailable for zed/%s: %s" % (r, [show(p) for p in got]))
    return "unavailable stanzas: %s" % unav


def t_synckeyd():
    """The real synckeyd, started after bob/b1 and carl/c1 went online."""
    S["comp"].close()
    time.sleep(1.0)
    db = os.path.join(EJ_DIR, "skdb")
    os.makedirs(db, exist_ok=True)
    fd = os.open(os.path.join(EJ_DIR, "secret"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, (SECRET + "\n").encode())
    os.close(fd)
    log = open(os.path.join(EJ_DIR, "synckeyd.log"), "w")
    proc = subprocess.Popen([SYNCKEYD, "--server", "127.0.0.1:%d" % COMP_PORT, "--jid", SVC,
                             "--secret-file", os.path.join(EJ_DIR, "secret"), "--domain", DOM,
                             "--db", db, "--log-level", "debug"], stdout=log, stderr=log)
    try:
        end, text = time.monotonic() + 10, ""
        while time.monotonic() < end and "server adapter present" not in text and proc.poll() is None:
            time.sleep(0.2)
            text = open(os.path.join(EJ_DIR, "synckeyd.log")).read()
        expect("server adapter present" in text, "synckeyd did not find the adapter:\n" + text[-1500:])
        res = S["alice"].iq("get", SVC, "<sync xmlns='%s' client='ej1'/>" % NS_SYNC, timeout=15)
        sync = res.find(q(NS_SYNC, "sync"))
        pres = {p.get("from"): p.findtext(q(NS_CLIENT, "status")) for p in sync.findall(q(NS_CLIENT, "presence"))}
        items = {i.get("jid") for i in sync.iter(q(NS_ROSTER, "item"))}
        expect(sync.get("type") == "full", lambda: "not full: " + show(res))
        expect(pres.get("bob@e.test/b1") == "bob-live" and pres.get("carl@e.test/c1") == "carl-early",
               "presence in the answer %s, want bob/b1 bob-live and carl/c1 carl-early" % pres)
        expect({"bob@e.test", "carl@e.test", "dave@e.test", "erin@e.test"} <= items, "items %s" % items)
        return "full sync: %d items, presence %s" % (len(items), sorted(pres))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def main():
    S["alice"] = login("alice", "a1", status="alice-on")
    print("1..%d" % (14 if SYNCKEYD else 13), flush=True)
    check("disco#info of e.test lists %s" % NS_ADAPTER, t_disco)
    check("component connects: current presence of the sessions online before, with <delay/>", t_burst)
    check("view without ver: the whole roster (= a client's roster get) with ver", t_view_full)
    check("the adapter answers synckeyd's probe at e.test/synckey; a view of a user of "
          "another domain is a bad request", t_adapter_probe)
    check("a sync sent to the user's own account goes to the component wrapped, from "
          "e.test/synckey, and its answer back (the adapter's delegation)", t_delegation)
    check("view with the current ver: <unchanged/>", t_view_unchanged)
    check("view after a roster change (client set, then ejabberdctl): a new ver and the roster", t_view_changed)
    check("view asked by another sender (bob): forbidden", t_forbidden)
    check("hidden: a contact the user blocked, and a local contact who blocked the user", t_hidden)
    check("control: an ordinary initial presence gets the contacts' presence", t_flood_control)
    check("marked initial presence with the component connected: no contact presence replayed, "
          "marker removed, live presence and roster pushes reach it", t_marker_quiet)
    check("marked initial presence without the component: the ordinary flood, marker removed",
          t_marker_without_component)
    check("sessions ending without unavailable (RST, stream close) reach the component as unavailable",
          t_unavailable_on_drop)
    if SYNCKEYD:
        check("synckeyd started after users went online: the adapter is found, a full sync holds "
              "their presence", t_synckeyd)
    passed = results.count(True)
    print("# %d passed, %d failed" % (passed, len(results) - passed), flush=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
