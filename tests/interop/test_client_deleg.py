"""test_client_deleg.py - the synckey CLI on the delegated path (XEP-0355) of a real server, as TAP.

Run by run-client-deleg.sh: Prosody or ejabberd with the server adapter
and synckeyd (lab.sh), the namespace urn:xmpp:synckey:0 delegated to
synckeyd (Prosody's mod_delegation; ejabberd's adapter in its place).
xep/synckey.xml "Discovery", "The delegated path": a client whose domain
lists urn:xmpp:synckey:0 sends its requests to its own bare JID and takes
the answer only from it; a client whose domain does not list it never
uses that path.  The client is the real one, src/synckey, run here as a
program; a sync it reports as done passed its own check of the answer's
sender (client.c on_reply), and service names where its requests went.
The oracle is the server: a roster get and the presence of a fresh
ordinary login of alice.

The cases, in order (one lab):
  delegated     the domain lists the feature: the bare-JID path, full, delta, null
  synckeyd down Prosody's mod_delegation still lists the feature and answers
                in the component's place with an error from the account;
                ejabberd's adapter no longer lists it: standard path
  synckeyd back the key the client kept through the failures: full, reset
  no delegation the server restarted without delegation, synckeyd up: the
                component found by disco#items, never the bare JID
"""
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xmpp import Client, State, q, roster_items, NS_CLIENT, NS_SYNC, LAB_SERVER  # noqa: E402
from tap import Tap, expect  # noqa: E402

LAB = os.environ["LAB"]
C2S = int(os.environ["LAB_C2S"])
SK = os.environ["SYNCKEY"]
ME = "alice@p.test"
SVC = "sync.p.test"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
# per step; a client that waits for an answer it will never take shows
# as exit 6 after this, not as a hang
STEP = 5
tap = Tap(__file__)
seq = [0]
S = {}


def new_res(tag):
    seq[0] += 1
    return "%s%d" % (tag, seq[0])


def login(local, res):
    return Client("%s@p.test" % local, "pw", C2S, resource=res).connect()


def lab_sh(fn):
    """A lab.sh function on this lab; its exit status."""
    return subprocess.run(["sh", "-c", '. "$LAB_SH"; lab_attach; ' + fn], env=dict(os.environ),
                          stdout=subprocess.DEVNULL, timeout=120).returncode


def sk(db, *args):
    """The CLI as alice with the cache db: (exit code, JSON output, stderr)."""
    p = subprocess.run([SK, "--allow-plaintext", "--jid", ME, "--password-file", os.path.join(LAB, "pw"),
                        "--server", "127.0.0.1:%d" % C2S, "--timeout", str(STEP),
                        "--db", os.path.join(LAB, db), "--json"] + list(args),
                       capture_output=True, text=True, timeout=60)
    try:
        out = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        out = p.stdout
    return p.returncode, out, p.stderr.replace("synckey: warning: the server offers no TLS: "
                                               "logged in over a plaintext stream\n", "")


def cached(db):
    """(items, presence) of the cache db, as the CLI prints them (no network)."""
    rc1, items, _ = sk(db, "roster")
    rc2, pres, _ = sk(db, "presence")
    expect(rc1 == 0 and rc2 == 0, "the cache %s cannot be read (%d, %d)" % (db, rc1, rc2))
    return ({i["jid"]: (i["name"], i["subscription"], "subscribe" if i["ask"] else "", tuple(sorted(i["groups"])))
             for i in items},
            {p["from"]: (p["show"], str(p["priority"]), p["status"]) for p in pres})


def roster_get():
    c = login("alice", new_res("rg"))
    items = roster_items(c)
    c.close()
    return items


def login_presence():
    """What the server delivers to a fresh ordinary session of alice, her own
    resources left out; ejabberd sends it from each contact's session, after
    the ping: read on until 0.3 s pass without a stanza (3 s at most)."""
    c = login("alice", new_res("oracle"))
    c.presence()
    end = time.monotonic() + 3
    while LAB_SERVER != "prosody" and time.monotonic() < end and c._pump(0.3):
        pass
    sync = ET.Element(q(NS_SYNC, "sync"), {"type": "delta"})
    for p in c.queue:
        if p.tag == q(NS_CLIENT, "presence") and p.get("type") in (None, "unavailable") \
                and not (p.get("from") or "").startswith(ME):
            sync.append(p)
    c.offline()
    st = State()
    st.apply(sync)
    return st.pres


def same_as_server(db, what, presence=True):
    items, pres = cached(db)
    want = roster_get()
    expect(items == want, lambda: "%s: the CLI holds the roster %r, a roster get gives %r" % (what, items, want))
    if presence:
        wantp = login_presence()
        expect(pres == wantp, lambda: "%s: the CLI holds the presence %r, a fresh login gets %r"
               % (what, pres, wantp))


def domain_features():
    c = login("bob", new_res("disco"))
    res = c.iq("get", "p.test", "<query xmlns='%s'/>" % NS_DISCO_INFO)
    c.close()
    return {f.get("var") for f in res.iter(q(NS_DISCO_INFO, "feature"))}


def lists_feature():
    return NS_SYNC in domain_features()


def synced(rc, out, err, service, mode=None, reason=None):
    """a sync that succeeded, through service, of this mode and reason"""
    expect(rc == 0 and isinstance(out, dict), lambda: "exit %d: %s %s" % (rc, out, err.strip()))
    expect(out["service"] == service, lambda: "service %r, expected %r (%s)" % (out["service"], service, out))
    expect(mode is None or out["mode"] == mode, lambda: "mode %r, expected %r (%s)" % (out["mode"], mode, out))
    expect(reason is None or out["reason"] == reason,
           lambda: "reason %r, expected %r (%s)" % (out["reason"], reason, out))


def bob_online(status):
    if S.get("bob") is not None:
        S["bob"].close()
    S["bob"] = login("bob", "b1")
    S["bob"].presence(status=status)


# -- the delegated path ---------------------------------------------------------

def t_feature_listed():
    """precondition of the delegated cases: the domain lists the feature"""
    feats = domain_features()
    expect(NS_SYNC in feats, lambda: "p.test's disco#info has no %s: %s" % (NS_SYNC, sorted(feats)))


def t_delegated_full():
    rc, out, err = sk("c1", "sync")
    synced(rc, out, err, ME, "full", "no-key")
    same_as_server("c1", "first sync")


def t_delegated_delta():
    bob_online("away-a-while")
    rc, out, err = sk("c1", "sync")
    synced(rc, out, err, ME, "delta")
    expect(out["items"] == 1, lambda: "the delta holds %d records, expected bob's presence" % out["items"])
    same_as_server("c1", "delta")
    rc, out, err = sk("c1", "sync")
    synced(rc, out, err, ME, "null")


# -- synckeyd down ------------------------------------------------------------

def t_down():
    """the client with the bare JID cached; and a new one, which looks afresh"""
    if lab_sh("lab_synckeyd_stop") != 0:
        raise RuntimeError("lab_synckeyd_stop failed")
    S["c1_before"] = cached("c1")
    S["listed_down"] = lists_feature()
    t0 = time.monotonic()
    rc, out, err = sk("c1", "sync")
    took = time.monotonic() - t0
    if S["listed_down"]:
        # the server answers in the component's place, from the account
        # (xep "The component is down"): taken at once, not waited out
        expect(rc == 5 and "service-unavailable" in err,
               lambda: "exit %d, expected 5 with the server's service-unavailable: %s" % (rc, err.strip()))
    else:
        expect(rc == 5 and "the sync service is gone" in err,
               lambda: "exit %d, expected 5 'the sync service is gone': %s" % (rc, err.strip()))
    expect(took < STEP, lambda: "the failure took %.1f s: an answer was waited out (step %d s)" % (took, STEP))
    after = cached("c1")
    expect(after == S["c1_before"], lambda: "the failed sync changed the cache: %r -> %r" % (S["c1_before"], after))
    return "the domain %s the feature without synckeyd; failed in %.2f s" % (
        "still lists" if S["listed_down"] else "no longer lists", took)


def t_down_new_client():
    rc, out, err = sk("c2", "sync")
    if S["listed_down"]:
        expect(rc == 5 and "service-unavailable" in err,
               lambda: "exit %d, expected 5 with the server's service-unavailable: %s" % (rc, err.strip()))
        return "the feature is listed: the bare JID is tried, and its error ends the sync"
    synced(rc, out, err, "", "standard")
    same_as_server("c2", "standard path")
    return "no feature, no component found: the standard path"


def t_back():
    """the key kept through the failures: reason reset (a new epoch), not no-key"""
    if lab_sh("lab_synckeyd_start") != 0:
        raise RuntimeError("lab_synckeyd_start failed")
    expect(lists_feature(), "synckeyd is back, the domain does not list the feature")
    rc, out, err = sk("c1", "sync")
    synced(rc, out, err, ME, "full", "reset")
    same_as_server("c1", "after synckeyd's restart")


# -- the server without delegation ----------------------------------------------

def no_delegation():
    """synckeyd and the server stopped, the server's config without the
    delegation of the namespace, both started again"""
    if lab_sh("lab_synckeyd_stop; LAB_SERVER_PID=; lab_server_stop") != 0:
        raise RuntimeError("stopping the lab failed")
    if LAB_SERVER == "prosody":
        path = os.path.join(LAB, "prosody.cfg.lua")
        pat = r"(?m)^ *delegations = .*\n"
    else:
        # the adapter delegates in ejabberd's place: privilege-only, and
        # mod_delegation's block taken out
        if lab_sh("lab_set_adapter 0") != 0:
            raise RuntimeError("lab_set_adapter 0 failed")
        path = os.path.join(LAB, "ejabberd", "ejabberd.yml")
        pat = r"(?m)^( *)mod_delegation:\n(\1 .*\n)*"
    with open(path) as f:
        text = f.read()
    new = re.sub(pat, "", text)
    expect(new != text, "no delegation found in %s" % path)
    with open(path, "w") as f:
        f.write(new)
    if lab_sh("lab_server_start && lab_synckeyd_start") != 0:
        raise RuntimeError("restarting the lab failed")
    S["bob"] = None
    bob_online("back-again")


def t_no_delegation_listed():
    no_delegation()
    feats = domain_features()
    expect(NS_SYNC not in feats, lambda: "delegation off, p.test's disco#info still has %s" % NS_SYNC)


def t_no_delegation_new_client():
    rc, out, err = sk("c3", "sync")
    synced(rc, out, err, SVC, "full", "no-key")
    # ejabberd 23.01 replays no presence to a component without the adapter
    same_as_server("c3", "direct path", presence=out["presence"] == "complete")
    return "" if out["presence"] == "complete" else "presence partial (privilege-only): roster compared only"


def t_no_delegation_cached():
    """the bare JID cached: refused there, found again by disco#items"""
    rc, out, err = sk("c1", "sync")
    synced(rc, out, err, SVC, "full")
    same_as_server("c1", "direct path after the bare JID", presence=out["presence"] == "complete")
    return "" if out["presence"] == "complete" else "presence partial (privilege-only): roster compared only"


def main():
    with open(os.path.join(LAB, "pw"), "w") as f:
        f.write("pw\n")
    os.chmod(os.path.join(LAB, "pw"), 0o600)
    bob_online("here")
    S["carl"] = login("carl", "c1")
    S["carl"].presence(show="dnd", status="busy")
    cases = [
        ("the domain lists urn:xmpp:synckey:0 (synckeyd connected)", t_feature_listed),
        ("delegated: a new client sends its sync to its own bare JID and takes the answer from it; "
         "full, equal to the server", t_delegated_full),
        ("delegated: a delta, then null, through the bare JID; equal to the server", t_delegated_delta),
        ("synckeyd down: the client that used the bare JID exits 5 at once, its key and state kept", t_down),
        ("synckeyd down: a new client", t_down_new_client),
        ("synckeyd back: the bare-JID path again, the kept key gets full reason=reset", t_back),
        ("delegation off: the domain no longer lists the feature", t_no_delegation_listed),
        ("delegation off: a new client finds the component by disco#items, not its bare JID",
         t_no_delegation_new_client),
        ("delegation off: the client that used the bare JID finds the component and syncs",
         t_no_delegation_cached),
    ]
    for name, fn in cases:
        tap.check(name, fn)
    print("1..%d" % len(tap.results))
    return 0 if all(tap.results) else 1


if __name__ == "__main__":
    sys.exit(main())
