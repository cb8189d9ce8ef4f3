"""test_synckeyd.py - synckeyd on a real Prosody: the scenarios of the synckeyd issue, as TAP.

Run by run-synckeyd.sh, which prepares $LAB with lab.sh (config, users,
rosters).  This script starts and stops Prosody and synckeyd itself, by
PID, so that it can restart either in the middle.
"""
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xmpp import Client, State, error_condition, q, NS_SYNC, NS_ROSTER, NS_CLIENT  # noqa: E402

LAB = os.environ["LAB"]
C2S = int(os.environ["LAB_C2S"])
COMP = int(os.environ["LAB_COMP"])
SYNCKEYD = os.environ["SYNCKEYD"]
SVC = "sync.p.test"
procs = {}
results = []


def start_prosody():
    log = open(os.path.join(LAB, "prosody.out"), "a")
    procs["prosody"] = subprocess.Popen(["prosody", "--config", os.path.join(LAB, "prosody.cfg.lua"), "-F"],
                                        stdout=log, stderr=log)
    wait_port(C2S)
    wait_port(COMP)


def start_synckeyd():
    log = open(os.path.join(LAB, "synckeyd.log"), "a")
    mark = os.path.getsize(os.path.join(LAB, "synckeyd.log"))
    procs["synckeyd"] = subprocess.Popen(
        [SYNCKEYD, "--server", "127.0.0.1:%d" % COMP, "--jid", SVC, "--secret-file",
         os.path.join(LAB, "secret"), "--domain", "p.test", "--db", os.path.join(LAB, "db"),
         "--log-level", "debug", "--roster-timeout", "3"], stdout=log, stderr=log)
    wait_log("privileges for p.test", mark)


def wait_log(text, mark=0, timeout=15):
    path = os.path.join(LAB, "synckeyd.log")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(path) as f:
            f.seek(mark)
            if text in f.read():
                return
        time.sleep(0.1)
    raise TimeoutError("synckeyd never logged %r" % text)


def wait_port(port, timeout=10):
    import socket
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("nothing listens on 127.0.0.1:%d" % port)


def stop(name):
    p = procs.pop(name, None)
    if p is None:
        return None
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


def check(name, fn):
    try:
        fn()
        results.append(True)
        print("ok %d - %s" % (len(results), name), flush=True)
    except Exception as e:  # noqa: BLE001 - a failed scenario is reported, the rest run
        results.append(False)
        print("not ok %d - %s\n# %s: %s" % (len(results), name, type(e).__name__, e), flush=True)


def sync(c, client, key=None, extra=""):
    attrs = "client='%s'" % client if client is not None else ""
    if key is not None:
        attrs += " key='%s'" % key
    res = c.iq("get", SVC, "<sync xmlns='%s' %s%s/>" % (NS_SYNC, attrs, extra))
    s = res.find(q(NS_SYNC, "sync"))
    assert s is not None, ET.tostring(res)
    assert s.get("more") is None, "unexpected paging"
    return s


def summary(s):
    """(type, reason, sorted item jids, sorted presence froms) of a result."""
    items = sorted(i.get("jid") + ("-" if i.get("subscription") == "remove" else "")
                   for qq in s.findall(q(NS_ROSTER, "query")) for i in qq)
    pres = sorted(p.get("from") + ("-" if p.get("type") == "unavailable" else "")
                  for p in s.findall(q(NS_CLIENT, "presence")))
    return s.get("type"), s.get("reason"), items, pres


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main():
    start_prosody()
    start_synckeyd()
    alice = Client("alice@p.test", "pw", C2S, resource="a1").connect()
    bob = Client("bob@p.test", "pw", C2S, resource="b1").connect()
    carl = Client("carl@p.test", "pw", C2S, resource="c1").connect()
    dave = Client("dave@p.test", "pw", C2S, resource="d1").connect()
    bob.presence(show="away", status="bob-1")
    carl.presence(status="carl-1", priority=5)
    dave.presence(status="dave-1")
    time.sleep(0.5)
    st = State()
    keys = {}

    def discovery():
        res = alice.iq("get", SVC, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
        qq = res.find(q("http://jabber.org/protocol/disco#info", "query"))
        ids = [(i.get("category"), i.get("type")) for i in qq.findall(q("http://jabber.org/protocol/disco#info", "identity"))]
        feats = [f.get("var") for f in qq.findall(q("http://jabber.org/protocol/disco#info", "feature"))]
        expect(("component", "presence") in ids, "identity %r" % ids)
        expect(NS_SYNC in feats, "features %r" % feats)
        items = alice.iq("get", "p.test", "<query xmlns='http://jabber.org/protocol/disco#items'/>")
        expect(SVC in ET.tostring(items).decode(), "p.test disco#items does not list %s" % SVC)
    check("discovery: identity component/presence and feature urn:xmpp:synckey:0", discovery)

    def full():
        s = sync(alice, "laptop")
        t, reason, items, pres = summary(s)
        expect((t, reason) == ("full", "no-key"), "%s %s" % (t, reason))
        expect(items == ["bob@p.test", "carl@p.test", "dave@p.test", "erin@p.test"], items)
        # bob both, carl to: presence; dave from: none; erin offline
        expect(pres == ["bob@p.test/b1", "carl@p.test/c1"], pres)
        st.apply(s)
        expect(st.digest() == s.get("digest"), "digest %s != %s in %s" % (st.digest(), s.get("digest"), ET.tostring(s).decode()))
        expect(st.pres["carl@p.test/c1"] == ("", "5", "carl-1"), st.pres)
        keys["k1"] = s.get("key")
    check("full sync: every item, presence of to/both contacts, digest verified", full)

    def null():
        s = sync(alice, "laptop", keys["k1"])
        expect(summary(s) == ("delta", None, [], []), summary(s))
        expect(st.digest() == s.get("digest"), "digest")
        keys["k2"] = s.get("key")
    check("nothing changed: a null delta", null)

    def delta():
        bob.presence(show="dnd", status="bob-2")
        alice.roster_set("frank@p.test", name="Frank", groups=["Work"])
        alice.roster_set("erin@p.test", remove=True)
        time.sleep(0.3)
        s = sync(alice, "laptop", keys["k2"])
        t, _, items, pres = summary(s)
        expect(t == "delta", t)
        expect(items == ["erin@p.test-", "frank@p.test"], items)
        expect(pres == ["bob@p.test/b1"], pres)
        st.apply(s)
        expect(st.digest() == s.get("digest"), "digest after delta")
        keys["k3"] = s.get("key")
    check("roster and presence changed while away: exactly those in the delta", delta)

    def changed_back():
        carl.presence(status="carl-busy", priority=5)
        time.sleep(0.2)
        carl.presence(status="carl-1", priority=5)
        time.sleep(0.3)
        s = sync(alice, "laptop", keys["k3"])
        expect(summary(s) == ("delta", None, [], []), summary(s))
        keys["k4"] = s.get("key")
    check("changed and changed back: not sent", changed_back)

    def lost_answer():
        k4 = keys["k4"]
        sync(alice, "laptop", k4)                   # answer "lost": k5 never used
        s = sync(alice, "laptop", k4)               # the old key still works
        expect(s.get("type") == "delta", s.get("type"))
        s2 = sync(alice, "laptop", s.get("key"))    # the successor is used...
        expect(s2.get("type") == "delta", s2.get("type"))
        s3 = sync(alice, "laptop", k4)              # ...so the old key is gone
        expect((s3.get("type"), s3.get("reason")) == ("full", "unknown-key"), summary(s3))
        st.apply(s3)
        keys["k5"] = s3.get("key")
    check("answer lost: the old key works until its successor is used", lost_answer)

    def bad_keys():
        good = keys["k5"]
        forged = good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
        s = sync(alice, "laptop", forged)
        expect((s.get("type"), s.get("reason")) == ("full", "invalid-key"), summary(s))
        s = sync(alice, "phone", good)
        expect((s.get("type"), s.get("reason")) == ("full", "invalid-key"), "other client: %r" % (summary(s),))
        bs = sync(bob, "laptop")
        s = sync(alice, "laptop", bs.get("key"))
        t, reason, items, _ = summary(s)
        expect((t, reason) == ("full", "invalid-key"), "other user's key: %s %s" % (t, reason))
        expect("zed@p.test" not in items, "bob's roster leaked into alice's answer")
        s = sync(alice, "laptop", "x" * 60)
        expect((s.get("type"), s.get("reason")) == ("full", "invalid-key"), summary(s))
        st.apply(s)
        expect(st.digest() == s.get("digest"), "digest")
        keys["k6"] = s.get("key")
    check("forged, other client's and other user's keys: full, invalid-key, no foreign data", bad_keys)

    def checkpoint():
        res = alice.iq("set", SVC, "<checkpoint xmlns='%s' client='laptop' key='%s'/>" % (NS_SYNC, keys["k6"]))
        cp = res.find(q(NS_SYNC, "checkpoint"))
        expect(cp is not None and cp.get("key"), ET.tostring(res))
        dave.presence(status="dave-2")              # from-subscription: not alice's state
        carl.presence(show="xa", status="carl-2", priority=5)
        time.sleep(0.3)
        s = sync(alice, "laptop", cp.get("key"))
        expect(summary(s) == ("delta", None, [], ["carl@p.test/c1"]), summary(s))
        st.apply(s)
        expect(st.digest() == s.get("digest"), "digest")
        keys["k7"] = s.get("key")
        res = alice.iq("set", SVC, "<checkpoint xmlns='%s' client='laptop' key='%s'/>" % (NS_SYNC, "y" * 60),
                       expect_error=True)
        expect(error_condition(res)[0] == "item-not-found", ET.tostring(res))
    check("checkpoint: new key, next delta holds only later changes; bad key item-not-found", checkpoint)

    def bad_requests():
        for payload, typ in (("<sync xmlns='%s'/>" % NS_SYNC, "get"),
                             ("<sync xmlns='%s' client='bad client!'/>" % NS_SYNC, "get"),
                             ("<sync xmlns='%s' client='laptop'/>" % NS_SYNC, "set"),
                             ("<frobnicate xmlns='%s' client='laptop'/>" % NS_SYNC, "get")):
            res = alice.iq(typ, SVC, payload, expect_error=True)
            cond, text = error_condition(res)
            expect(cond == "bad-request" and text, "%s -> %s %s" % (payload, cond, text))
    check("bad requests: bad-request with a text", bad_requests)

    def forbidden():
        other = Client("quser@q.test", "pw", C2S, resource="q").connect()
        try:
            res = other.iq("get", SVC, "<sync xmlns='%s' client='laptop'/>" % NS_SYNC, expect_error=True)
            cond, text = error_condition(res)
            expect(cond == "forbidden" and text, "%s %s" % (cond, text))
        finally:
            other.close()
    check("a user of a domain not served: forbidden", forbidden)

    def restart_synckeyd():
        expect(stop("synckeyd") == 0, "synckeyd did not exit 0 on SIGTERM")
        start_synckeyd()
        time.sleep(0.5)
        s = sync(alice, "laptop", keys["k7"])
        expect((s.get("type"), s.get("reason")) == ("full", "reset"), summary(s))
        _, _, items, pres = summary(s)
        expect(pres == ["bob@p.test/b1", "carl@p.test/c1"], "presence after restart %r" % pres)
        st.apply(s)
        expect(st.digest() == s.get("digest"), "digest")
        s2 = sync(alice, "laptop", s.get("key"))
        expect(summary(s2) == ("delta", None, [], []), summary(s2))
        keys["k8"] = s2.get("key")
    check("synckeyd restarted: reason=reset, then deltas again, state correct", restart_synckeyd)

    def restart_prosody():
        nonlocal alice, bob
        for c in (alice, bob, carl, dave):
            c.close()
        mark = os.path.getsize(os.path.join(LAB, "synckeyd.log"))
        stop("prosody")
        wait_log("link to", mark)
        start_prosody()
        wait_log("privileges for p.test", mark, timeout=40)
        alice = Client("alice@p.test", "pw", C2S, resource="a2").connect()
        bob = Client("bob@p.test", "pw", C2S, resource="b2").connect()
        bob.presence(status="bob-back")
        time.sleep(0.5)
        s = sync(alice, "laptop", keys["k8"])
        t, reason, items, pres = summary(s)
        expect((t, reason) == ("full", "reset"), "%s %s" % (t, reason))
        expect(pres == ["bob@p.test/b2"], pres)
        expect(items == ["bob@p.test", "carl@p.test", "dave@p.test", "frank@p.test"], items)
    check("Prosody restarted: synckeyd reconnects by itself, reason=reset, state correct", restart_prosody)

    alice.close()
    bob.close()


try:
    main()
except Exception as e:  # noqa: BLE001
    results.append(False)
    print("not ok %d - scenario setup\n# %s: %s" % (len(results), type(e).__name__, e), flush=True)
finally:
    stop("synckeyd")
    stop("prosody")
print("1..%d" % len(results))
sys.exit(0 if results and all(results) else 1)
