"""test_synckeyd.py - synckeyd on a real Prosody: the scenarios of the synckeyd issue, as TAP.

Run by run-synckeyd.sh, which prepares $LAB with lab.sh (config, users,
alice's roster from $LAB/alice.tsv).  This script starts and stops Prosody
and synckeyd itself, by PID (pidfiles in $LAB, so lab.sh's trap can stop
them too), because it restarts both in the middle.

What every sync is checked against is computed here, independently of the
daemon: `Model` holds alice's roster (from the same file the lab wrote into
Prosody's storage, then every roster set this script makes) and every
contact session's presence (as this script sent it).  Each answer is
applied to a client-side `State` by protocol.md's rules; the state must
equal the model, and the model's canonical digest must equal the answer's.
Presence changes are followed by a ping round trip of the sender, so the
server has forwarded them before the next sync is sent: no sleeps.
"""
import base64
import copy
import hashlib
import hmac
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xmpp import Client, State, error_condition, q, NS_SYNC, NS_SYNC1, NS_ROSTER, NS_CLIENT  # noqa: E402
from xmpp import LAB_SERVER, LAB_WHERE, ej_said, skip_reason  # noqa: E402
from tap import Skipped, Tap, expect  # noqa: E402

LAB = os.environ["LAB"]
C2S = int(os.environ["LAB_C2S"])
COMP = int(os.environ["LAB_COMP"])
SYNCKEYD = os.environ["SYNCKEYD"]
with open(SYNCKEYD, "rb") as _f:
    ASAN = b"__asan_init" in _f.read()   # its RSS holds ASan's quarantine
SERVER = LAB_SERVER
SVC = "sync.p.test"
DISCO = "http://jabber.org/protocol/disco#info"
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MODE_LINES = ("p.test: server adapter present", "p.test: privilege-only mode")
RECONNECT_LIMIT = 10.0      # "reconnects by itself within a few seconds", or one back-off
# ejabberd 23.01 without the adapter replays no presence to a connecting
# component (xmpp.EJ_NO_BURST): after a restart synckeyd must say presence='partial'
NO_REPLAY = LAB_WHERE == "ejabberd-privonly"
# setup() starts synckeyd before anyone logs in: in privilege-only mode the
# server has nothing to replay at that connect, so every answer says
# presence='partial' until synckeyd reconnects; with the adapter, none does
# (xep/ "The component and the server", "Presence replay")
PARTIAL_FROM_SETUP = LAB_WHERE.endswith("-privonly")
procs = {}


# -- processes -----------------------------------------------------------------

def pid_of_lab(pidfile):
    """The PID in pidfile when that process belongs to this lab, else None."""
    try:
        pid = int(open(pidfile).read().strip())
        cmd = open("/proc/%d/cmdline" % pid, "rb").read().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    return pid if LAB in cmd else None


def wait_port(port, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("nothing listens on 127.0.0.1:%d after %d s" % (port, timeout))


def lab_sh(fn):
    """A lab.sh function on this lab (ejabberd: its start and stop); its exit status."""
    return subprocess.run(["sh", "-c", '. "$LAB_SH"; lab_attach; ' + fn], env=dict(os.environ),
                          stdout=subprocess.DEVNULL, timeout=120).returncode


def start_prosody():
    """The lab's server: Prosody started here, ejabberd through lab.sh."""
    if SERVER != "prosody":
        if lab_sh("lab_server_start") != 0:
            raise RuntimeError("lab_server_start failed (%s)" % SERVER)
        procs["prosody"] = None
        return
    pidfile = os.path.join(LAB, "prosody.pid")
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    log = open(os.path.join(LAB, "prosody.out"), "a")
    p = subprocess.Popen(["prosody", "--config", os.path.join(LAB, "prosody.cfg.lua"), "-F"],
                         stdout=log, stderr=log)
    procs["prosody"] = p
    wait_port(C2S)
    wait_port(COMP)
    end = time.monotonic() + 5
    while pid_of_lab(pidfile) is None and time.monotonic() < end:
        time.sleep(0.05)
    pid = pid_of_lab(pidfile)
    if pid != p.pid:
        raise RuntimeError("prosody.pid says %r, started %d" % (pid, p.pid))


def log_size():
    try:
        return os.path.getsize(os.path.join(LAB, "synckeyd.log"))
    except OSError:
        return 0


def start_synckeyd(*flags):
    mark = log_size()
    log = open(os.path.join(LAB, "synckeyd.log"), "a")
    p = subprocess.Popen(
        [SYNCKEYD, "--server", "127.0.0.1:%d" % COMP, "--jid", SVC, "--secret-file",
         os.path.join(LAB, "secret"), "--domain", "p.test", "--db", os.path.join(LAB, "db"),
         "--log-level", "debug", "--roster-timeout", "3"] + list(flags), stdout=log, stderr=log)
    procs["synckeyd"] = p
    with open(os.path.join(LAB, "synckeyd.pid"), "w") as f:
        f.write("%d\n" % p.pid)
    wait_log(MODE_LINES, mark)     # its mode, after the privileges


def wait_log(text, mark=0, timeout=15):
    path = os.path.join(LAB, "synckeyd.log")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(path, errors="replace") as f:
            f.seek(mark)
            got = f.read()
            if any(t in got for t in ((text,) if isinstance(text, str) else text)):
                return time.monotonic()
        p = procs.get("synckeyd")
        if p is not None and p.poll() is not None:
            raise RuntimeError("synckeyd exited with %s before logging %r" % (p.returncode, text))
        time.sleep(0.05)
    raise TimeoutError("synckeyd never logged %r within %d s" % (text, timeout))


def stop(name, sig=signal.SIGTERM):
    """Stops a process this script started, by PID; its exit status."""
    if name not in procs:
        return None
    p = procs.pop(name)
    if p is None:                   # the server, run by lab.sh
        return lab_sh("lab_server_stop")
    if p.poll() is None:
        p.send_signal(sig)
    try:
        return p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait(timeout=10)


# -- the expected state, computed from what this script set up ------------------

def bare(jid):
    return jid.split("/")[0]


class Model:
    def __init__(self, tsv):
        self.items = {}
        with open(tsv, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip():
                    continue
                if "\t" in line:
                    fields = (line.split("\t") + [""] * 5)[:5]
                else:
                    fields = (line.split() + [""] * 5)[:4] + [""]
                jid, sub, name, groups, ask = fields
                self.item(jid, name, sub or "none", ask, [g for g in groups.split(",") if g])
        self.online = {}    # full JID -> (show, priority, status) as sent

    def item(self, jid, name="", sub="none", ask="", groups=()):
        self.items[jid] = (name or "", sub, "subscribe" if ask == "subscribe" else "", tuple(sorted(groups)))

    def expected(self):
        st = State()
        st.items = dict(self.items)
        st.pres = {f: v for f, v in self.online.items()
                   if bare(f) in self.items and self.items[bare(f)][1] in ("to", "both")}
        return st


# -- helpers -------------------------------------------------------------------

class Ctx:
    pass


ctx = Ctx()
ctx.last = None         # the last answer seen, printed when a scenario fails
ctx.sessions = {}       # full JID -> Client


def _before():
    if getattr(ctx, "broken", False):
        resync()    # a failed scenario must not fail the next one too


def _after_failure():
    ctx.broken = True
    return ["last answer: %s" % ctx.last[:3000]] if ctx.last is not None else []


tap = Tap(__file__, before=_before, after_failure=_after_failure)
results = tap.results


def check(name, fn, skip=None):
    """skip: {server: the measured reason the case cannot hold there}"""
    tap.check(name, fn, skip_reason(skip))


def show(el):
    return ET.tostring(el, encoding="unicode")


def sync(c, cid, key=None, extra="", ns=NS_SYNC):
    attrs = ""
    if cid is not None:
        attrs += " client='%s'" % cid
    if key is not None:
        attrs += " key='%s'" % key
    res = c.iq("get", SVC, "<sync xmlns='%s'%s%s/>" % (ns, attrs, extra))
    ctx.last = show(res)
    s = res.find(q(ns, "sync"))
    expect(s is not None, "no <sync/> in the result")
    expect(s.get("more") is None, "unexpected paging")
    expect(KEY_RE.match(s.get("key") or ""), "bad key attribute %r" % s.get("key"))
    expect(len(base64.b64decode(s.get("digest") or "", validate=True)) == 32, "bad digest attribute")
    for p in s.findall(q(NS_CLIENT, "presence")):
        expect(p.get("to") is None, "presence child still has 'to': %s" % show(p))
    return s


def touched(s):
    """The bare JIDs an answer names, with the kinds of record."""
    out = {}
    for qq in s.findall(q(NS_ROSTER, "query")):
        for it in qq:
            out.setdefault(it.get("jid"), set()).add("item")
    for p in s.findall(q(NS_CLIENT, "presence")):
        out.setdefault(bare(p.get("from")), set()).add("presence")
    return out


def expect_state(st, s, what):
    """The client's state after applying s equals the model; digests agree."""
    exp = ctx.model.expected()
    expect(st.items == exp.items, lambda: "%s: roster differs: extra %r, missing %r" % (
        what, {k: v for k, v in st.items.items() if exp.items.get(k) != v},
        {k: v for k, v in exp.items.items() if st.items.get(k) != v}))
    expect(st.pres == exp.pres, lambda: "%s: presence differs: got %r, expected %r" % (what, st.pres, exp.pres))
    expect(exp.digest() == s.get("digest"),
           "%s: digest %s, expected %s (computed here)" % (what, s.get("digest"), exp.digest()))
    expect(st.digest() == s.get("digest"), "%s: digest of the received state differs" % what)


def apply_full(s, reason, what):
    expect((s.get("type"), s.get("reason")) == ("full", reason),
           "%s: type=%r reason=%r, expected full/%s" % (what, s.get("type"), s.get("reason"), reason))
    st = State()
    st.apply(s)
    expect_state(st, s, what)
    ctx.st, ctx.key = st, s.get("key")


def apply_delta(s, names, what):
    expect(s.get("type") == "delta", "%s: type=%r reason=%r, expected delta" % (what, s.get("type"), s.get("reason")))
    got = touched(s)
    expect(set(got) == set(names), "%s: delta names %r, expected exactly %r" % (what, sorted(got), sorted(names)))
    if not names:
        expect(len(list(s)) == 0, "%s: null answer has children" % what)
    ctx.st.apply(s)
    expect_state(ctx.st, s, what)
    ctx.key = s.get("key")


def apply_partial(s, reason, names, what):
    """An answer with presence='partial' (xep/ "Sync result"): full with reason, or a
    delta naming exactly names.  The roster is exact; the presence is a
    part of the truth, never a state the server does not show; the digest
    is that of what was served."""
    expect(s.get("presence") == "partial", "%s: presence=%r, expected 'partial'" % (what, s.get("presence")))
    if reason is not None:
        expect((s.get("type"), s.get("reason")) == ("full", reason),
               "%s: type=%r reason=%r, expected full/%s" % (what, s.get("type"), s.get("reason"), reason))
        st = State()
    else:
        expect(s.get("type") == "delta", "%s: type=%r, expected delta" % (what, s.get("type")))
        expect(set(touched(s)) == set(names), "%s: delta names %r, expected %r" % (what, sorted(touched(s)), names))
        st = ctx.st
    st.apply(s)
    exp = ctx.model.expected()
    expect(st.items == exp.items, "%s: roster differs" % what)
    wrong = {k: v for k, v in st.pres.items() if exp.pres.get(k) != v}
    expect(not wrong, "%s: presence the server does not show: %r" % (what, wrong))
    expect(st.digest() == s.get("digest"), "%s: digest of the received state differs" % what)
    print("# %s: %d of %d presences known" % (what, len(st.pres), len(exp.pres)))
    ctx.st, ctx.key = st, s.get("key")


def resync():
    ctx.broken = False
    apply_full(sync(ctx.alice, "laptop"), "no-key", "resync after a failure")


def login(local, res, show_=None, status=None, prio=None):
    c = Client("%s@p.test" % local, "pw", C2S, resource=res).connect()
    ctx.sessions[c.full] = c
    if show_ is not None or status is not None or prio is not None:
        presence(c, show_, status, prio)
    return c


def presence(c, show_=None, status=None, prio=None, extra=""):
    c.presence(show=show_, status=status, priority=prio, extra=extra)
    ctx.model.online[c.full] = (show_ or "", str(prio or 0), status or "")


def logout(c):
    c.offline()
    ctx.sessions.pop(c.full, None)
    ctx.model.online.pop(c.full, None)


def roster_set(jid, name=None, groups=(), remove=False):
    ctx.phone.roster_set(jid, name=name, groups=groups, remove=remove)
    if remove:
        ctx.model.items.pop(jid, None)
    else:
        old = ctx.model.items.get(jid)
        ctx.model.item(jid, name or "", old[1] if old else "none", old[2] if old else "", groups)


# -- keys minted with the component's own secret (xep/ "Key layout") -------------

def key_fields(key):
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    expect(len(raw) == 45, 'key is %d bytes, xep/ "Key layout" says 45' % len(raw))
    return struct.unpack(">BIQQQ", raw[:29])


def mint(bare_jid, cid, ver, epoch, session, txn, issued):
    secret = open(os.path.join(LAB, "db", "secret"), "rb").read()
    hdr = struct.pack(">BIQQQ", ver, epoch, session, txn, issued)
    b, c = bare_jid.encode(), cid.encode()
    msg = hdr + struct.pack(">H", len(b)) + b + struct.pack(">H", len(c)) + c
    mac = hmac.new(secret, msg, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(hdr + mac).decode().rstrip("=")


def flip(key, bit):
    raw = bytearray(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
    raw[bit // 8] ^= 1 << (bit % 8)
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


# -- the scenarios -------------------------------------------------------------

def setup():
    ctx.model = Model(os.path.join(LAB, "alice.tsv"))
    start_prosody()
    start_synckeyd()
    ctx.alice = login("alice", "laptop")                      # sends the syncs; no presence
    ctx.phone = login("alice", "phone", status="alice-phone")  # own resource: never in alice's state
    ctx.bob1 = login("bob", "b1", "away", "bob-1 \u2615 <&>")
    ctx.bob2 = login("bob", "b2", "chat", "bob-phone", -1)
    ctx.carl = login("carl", "c1", None, "carl-1", 5)
    ctx.dave = login("dave", "d1", None, "dave-1")          # subscription from: not alice's
    ctx.erin = login("erin", "e1", "dnd", "erin-1")
    ctx.zed = login("zed", "z1", None, "zed-1")              # not in alice's roster


def t_discovery():
    res = ctx.alice.iq("get", SVC, "<query xmlns='%s'/>" % DISCO)
    ctx.last = show(res)
    qq = res.find(q(DISCO, "query"))
    ids = [(i.get("category"), i.get("type")) for i in qq.findall(q(DISCO, "identity"))]
    feats = [f.get("var") for f in qq.findall(q(DISCO, "feature"))]
    expect(("component", "presence") in ids, "identities %r" % ids)
    expect(NS_SYNC in feats, "features %r" % feats)


def expect_partial_from_setup(s, what):
    if PARTIAL_FROM_SETUP:
        expect(s.get("presence") == "partial", "%s: presence=%r; nobody was online when synckeyd "
               "connected, so 'partial' until it reconnects" % (what, s.get("presence")))
    else:
        expect(s.get("presence") is None, "%s: presence=%r with the adapter" % (what, s.get("presence")))


def t_full():
    s = sync(ctx.alice, "laptop")
    expect_partial_from_setup(s, "full sync")
    apply_full(s, "no-key", "full sync")
    expect(len(ctx.st.items) == len(ctx.model.items) and len(ctx.st.items) > 150, "item count")
    expect(set(ctx.st.pres) == {"bob@p.test/b1", "bob@p.test/b2", "carl@p.test/c1", "erin@p.test/e1"},
           "presence in the full answer: %r" % sorted(ctx.st.pres))
    expect(ctx.st.pres["bob@p.test/b2"] == ("chat", "-1", "bob-phone"), ctx.st.pres)


def t_null():
    s = sync(ctx.alice, "laptop", ctx.key)
    expect_partial_from_setup(s, "a later sync, with contacts online since")
    apply_delta(s, set(), "nothing changed")


def t_delta():
    ctx.alice.close()                                        # laptop away
    roster_set("frank@p.test", name="Frank", groups=["Work"])
    roster_set("erin@p.test", remove=True)                   # erin both, online: her presence goes too
    roster_set("carl@p.test", name="Carl R")
    presence(ctx.bob1, "dnd", "bob-2")
    logout(ctx.carl)
    ctx.alice = login("alice", "laptop")                     # back
    s = sync(ctx.alice, "laptop", ctx.key)
    apply_delta(s, {"frank@p.test", "erin@p.test", "carl@p.test", "bob@p.test"}, "delta")
    t = touched(s)
    expect(t["frank@p.test"] == {"item"}, "frank: %r" % t["frank@p.test"])
    expect(t["bob@p.test"] == {"presence"}, "bob: only his presence changed, got %r" % t["bob@p.test"])
    expect(len(s.findall(q(NS_CLIENT, "presence"))) <= 3, "more presence than changed")


def t_version1():
    """Version 1 (xep/ "Digest of version 1"): listed in disco, answered in
    its namespace with the LtHash16 digest; a key of version 0 serves it."""
    res = ctx.alice.iq("get", SVC, "<query xmlns='%s'/>" % DISCO)
    feats = [f.get("var") for f in res.find(q(DISCO, "query")).findall(q(DISCO, "feature"))]
    expect(NS_SYNC1 in feats and NS_SYNC in feats, "features %r" % feats)
    presence(ctx.bob1, "away", "bob-v1")
    s = sync(ctx.alice, "laptop", ctx.key, ns=NS_SYNC1)
    expect(s.get("type") == "delta", "a key of version 0 in version 1: type=%r reason=%r" % (
        s.get("type"), s.get("reason")))
    expect(set(touched(s)) == {"bob@p.test"}, "delta names %r" % sorted(touched(s)))
    ctx.st.apply(s)
    exp = ctx.model.expected()
    expect(ctx.st.items == exp.items and ctx.st.pres == exp.pres, "state after the delta of version 1")
    expect(exp.digest(1) == s.get("digest"), "digest of version 1 %s, expected %s (computed here)" % (
        s.get("digest"), exp.digest(1)))
    ctx.key = s.get("key")
    s = sync(ctx.alice, "laptop", ctx.key, ns=NS_SYNC1)
    apply_delta_v1 = s.get("type") == "delta" and len(list(s)) == 0
    expect(apply_delta_v1, "nothing changed in version 1: a null answer")
    expect(s.get("digest") == exp.digest(1), "the null answer's digest of version 1")
    ctx.key = s.get("key")
    # back in version 0, with the key version 1 gave (bob as t_changed_back expects him)
    presence(ctx.bob1, "dnd", "bob-2")
    apply_delta(sync(ctx.alice, "laptop", ctx.key), {"bob@p.test"}, "version 0 after version 1")


def t_changed_back():
    presence(ctx.bob2, "away", "bob-elsewhere", -1)
    presence(ctx.bob2, "chat", "bob-phone", -1)
    roster_set("frank@p.test", name="Frank X")
    roster_set("frank@p.test", name="Frank", groups=["Work"])
    logout(ctx.bob1)                                         # gone and back with the same presence
    ctx.bob1 = login("bob", "b1", "dnd", "bob-2")
    presence(ctx.dave, None, "dave-2")                       # not alice's contact's presence
    presence(ctx.zed, "xa", "zed-2")                         # not alice's contact at all
    apply_delta(sync(ctx.alice, "laptop", ctx.key), set(), "changed and changed back")


def t_answer_lost():
    k = ctx.key
    presence(ctx.bob2, "away", "bob-lost-1", -1)
    sync(ctx.alice, "laptop", k)                             # this answer is "lost"
    presence(ctx.bob1, "xa", "bob-lost-2")
    s = sync(ctx.alice, "laptop", k)                         # the old key still gives a delta
    apply_delta(s, {"bob@p.test"}, "old key reused")
    expect({p.get("from") for p in s.findall(q(NS_CLIENT, "presence"))} == {"bob@p.test/b1", "bob@p.test/b2"},
           "both changes since the old key")
    apply_delta(sync(ctx.alice, "laptop", ctx.key), set(), "successor used")
    s = sync(ctx.alice, "laptop", k)                         # now the old one is spent
    apply_full(s, "unknown-key", "old key after its successor was used")


def t_minted_keys():
    ver, epoch, session, txn, issued = key_fields(ctx.key)
    cur = ctx.key
    unknown = mint("alice@p.test", "laptop", ver, epoch, session, txn + 1000000, issued)
    apply_full(sync(ctx.alice, "laptop", unknown), "unknown-key", "well-formed key never issued")
    ver, epoch, session, txn, issued = key_fields(ctx.key)
    old = mint("alice@p.test", "laptop", ver, epoch, session, txn, issued - 31 * 86400)
    apply_full(sync(ctx.alice, "laptop", old), "expired", "key issued 31 days ago")
    if epoch > 0:
        ver, epoch, session, txn, issued = key_fields(ctx.key)
        stale = mint("alice@p.test", "laptop", ver, epoch - 1, session, txn, issued)
        apply_full(sync(ctx.alice, "laptop", stale), "reset", "key of an earlier epoch")
    apply_full(sync(ctx.alice, "laptop", cur), "unknown-key", "a key of an ended session")


def t_invalid_keys():
    bob_key = sync(ctx.bob1, "laptop").get("key")
    good = ctx.key
    cases = [("MAC bit flipped", flip(good, 44 * 8 + 3)),
             ("transaction bit flipped", flip(good, 20 * 8)),
             ("version bit flipped", flip(good, 1)),
             ("truncated", good[:-4]),
             ("not base64url", good[:-1] + "!"),
             ("random, right length", "A" * 60),
             ("another user's (bob's) key", bob_key)]
    for what, k in cases:
        s = sync(ctx.alice, "laptop", k)
        apply_full(s, "invalid-key", what)
        expect("zed@p.test" not in touched(s), "%s: bob's contact zed leaked" % what)
    good = ctx.key
    apply_full(sync(ctx.alice, "phone", good), "invalid-key", "another client's key")
    # alice's laptop key is untouched by the phone's failed attempt
    apply_delta(sync(ctx.alice, "laptop", good), set(), "laptop key after the phone tried it")


def t_checkpoint():
    presence(ctx.bob2, "chat", "bob-before-checkpoint", -1)  # seen live by the online client
    res = ctx.alice.iq("set", SVC, "<checkpoint xmlns='%s' client='laptop' key='%s'/>" % (NS_SYNC, ctx.key))
    ctx.last = show(res)
    cp = res.find(q(NS_SYNC, "checkpoint"))
    expect(cp is not None and KEY_RE.match(cp.get("key") or "") and cp.get("key") != ctx.key,
           "checkpoint result without a new key")
    ctx.st = ctx.model.expected()                            # "I hold the live state now"
    ctx.key = cp.get("key")
    ctx.carl = login("carl", "c1", "chat", "carl-back", 5)
    apply_delta(sync(ctx.alice, "laptop", ctx.key), {"carl@p.test"}, "after checkpoint")
    for k in ("y" * 60, flip(ctx.key, 44 * 8)):
        res = ctx.alice.iq("set", SVC, "<checkpoint xmlns='%s' client='laptop' key='%s'/>" % (NS_SYNC, k),
                           expect_error=True)
        ctx.last = show(res)
        cond, text = error_condition(res)
        expect(res.get("type") == "error" and cond == "item-not-found" and text, "unusable key: %s %s" % (cond, text))
    apply_delta(sync(ctx.alice, "laptop", ctx.key), set(), "key kept after refused checkpoints")


def t_attribute_values():
    """Issue 18 #3 (xep/ "Field values, byte-exact", "Line ends"): a raw tab,
    CR LF or LF in an attribute reaches every parser as a space (XML 1.0
    3.3.3), and the digest covers that space."""
    old = ctx.model.items["frank@p.test"]
    ctx.phone.iq("set", None, "<query xmlns='jabber:iq:roster'><item jid='frank@p.test' "
                 "name='Frank\tM\r\nK\nL'><group>Work</group></item></query>")
    ctx.model.item("frank@p.test", "Frank M K L", old[1], old[2], old[3])
    apply_delta(sync(ctx.alice, "laptop", ctx.key), {"frank@p.test"}, "name with a raw tab, CR LF and LF")
    roster_set("frank@p.test", name=old[0], groups=old[3])
    apply_delta(sync(ctx.alice, "laptop", ctx.key), {"frank@p.test"}, "name restored")


def t_attribute_references():
    """Issue 18 #3: a tab written &#9; is a tab where the server writes the
    reference on (ejabberd), a space where it writes the tab raw
    (Prosody); either way the answer must carry the value its digest
    covers (xep/ "Line ends")."""
    old = ctx.model.items["frank@p.test"]
    try:
        ctx.phone.iq("set", None, "<query xmlns='jabber:iq:roster'><item jid='frank@p.test' "
                     "name='F&#9;M'><group>Work</group></item></query>")
        s = sync(ctx.alice, "laptop", ctx.key)
        got = [it.get("name") for qq in s.findall(q(NS_ROSTER, "query")) for it in qq]
        expect(got in (["F\tM"], ["F M"]), "name written F&#9;M came back as %r" % got)
        print("# a tab written &#9; reaches the client %s" % ("as a tab" if got == ["F\tM"] else "as a space"))
        ctx.model.item("frank@p.test", got[0], old[1], old[2], old[3])
        apply_delta(s, {"frank@p.test"}, "name with a tab as a character reference")
    finally:
        roster_set("frank@p.test", name=old[0], groups=old[3])     # whatever happened: no cascade
    apply_delta(sync(ctx.alice, "laptop", ctx.key), {"frank@p.test"}, "name restored")


def t_live_changes():
    """Issue 18 #6 (xep/ "Applying an answer (client rules)", "Live changes
    after a sync"): a push received after a sync changes what the client
    shows, not the state stored with the key.  A contact added live and
    removed while the client was away is in neither the key's snapshot nor
    the live state: the next delta does not name it, applied to the stored
    state it matches the digest, applied to the shown state it does not."""
    c = login("alice", "live")
    c.iq("get", None, "<query xmlns='jabber:iq:roster'/>")   # interested: roster pushes come
    s = sync(c, "live")
    stored = State()
    stored.apply(s)
    expect_state(stored, s, "full sync of the client 'live'")
    key = s.get("key")
    shown = copy.deepcopy(stored)
    roster_set("gina@p.test", name="Gina")
    push = c.wait(lambda e: e.tag == q(NS_CLIENT, "iq") and e.get("type") == "set"
                  and e.find(q(NS_ROSTER, "query")) is not None, what="the roster push")
    as_delta = ET.Element(q(NS_SYNC, "sync"), {"type": "delta"})    # a push is applied as a delta is
    as_delta.append(push.find(q(NS_ROSTER, "query")))
    shown.apply(as_delta)
    expect("gina@p.test" in shown.items, "the push did not add gina: %r" % show(push))
    c.close()                                                  # away, no checkpoint
    ctx.sessions.pop(c.full, None)
    roster_set("gina@p.test", remove=True)
    c = login("alice", "live")
    s = sync(c, "live", key)
    expect(s.get("type") == "delta" and "gina@p.test" not in touched(s),
           "gina is in neither the snapshot nor the live state: %s" % show(s))
    stored.apply(s)
    expect_state(stored, s, "the delta applied to the state stored with the key")
    shown.apply(s)
    expect(shown.digest() != s.get("digest"), "the delta applied to the shown state matched the digest")
    c.close()
    ctx.sessions.pop(c.full, None)


def t_extensions():
    caps = "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://example.test/%s' ver='%s'/>"
    ns_caps = "{http://jabber.org/protocol/caps}c"

    def caps_of(s, full):
        ps = [p for p in s.findall(q(NS_CLIENT, "presence")) if p.get("from") == full]
        expect(len(ps) == 1, "%d presences of %s" % (len(ps), full))
        c = ps[0].find(ns_caps)
        expect(c is not None, "the caps extension was dropped: %s" % show(ps[0]))
        return c.get("ver")

    presence(ctx.bob2, "chat", "bob-caps", -1, caps % ("a", "AAAA"))
    s = sync(ctx.alice, "laptop", ctx.key)
    apply_delta(s, {"bob@p.test"}, "presence with caps")
    expect(caps_of(s, "bob@p.test/b2") == "AAAA", "caps ver")
    presence(ctx.bob2, "chat", "bob-caps", -1, caps % ("a", "BBBB"))   # only the extension differs
    s = sync(ctx.alice, "laptop", ctx.key)
    apply_delta(s, {"bob@p.test"}, "extension-only change")
    expect(caps_of(s, "bob@p.test/b2") == "BBBB", "caps ver after the change")
    presence(ctx.bob2, "chat", "bob-caps", -1, caps % ("a", "BBBB"))   # the same again
    apply_delta(sync(ctx.alice, "laptop", ctx.key), set(), "same presence sent again")
    s = sync(ctx.alice, "laptop")                                      # and in a full answer
    apply_full(s, "no-key", "full with extensions")
    expect(caps_of(s, "bob@p.test/b2") == "BBBB", "caps in a full answer")


def t_deep_presence():
    """reliability F1: a presence nested 15 000 deep (105 kB, within Prosody's
    limits) used to overflow synckeyd's stack; now it is kept without it."""
    mark = log_size()
    depth = 15000
    ext = "<x xmlns='urn:example:deep'>" + "<d>" * depth + "</d>" * depth + "</x>"
    presence(ctx.bob2, "xa", "bob-deep", -1, ext)
    wait_log("kept without its extensions", mark)
    s = sync(ctx.alice, "laptop", ctx.key)
    apply_delta(s, {"bob@p.test"}, "presence nested %d deep" % depth)
    expect(procs["synckeyd"].poll() is None, "synckeyd died")
    expect(s.find(".//{urn:example:deep}x") is None, "the deep extension was served")


def t_long_token():
    """reliability F2: one 100 kB attribute, which reaches synckeyd in pieces,
    used to hold back every later stanza on the link (expat's reparse
    deferral); another user's sync must now be answered within 1 s."""
    big = "<x xmlns='urn:example:big' data='%s'/>" % ("A" * int(os.environ.get("SK_BIG", "100000")))
    # Whitespace gets the presence through Prosody's own parser, which
    # defers the same way on the sender's stream: bob sends more until one
    # of his pings comes back.  Every round's ping counts (under load an
    # answer comes late), and few rounds with long waits keep the lab from
    # flooding a loaded server (bounded: 12 x 32 kB, 30 s; expat reparses
    # once its buffer has doubled, so about 100 kB more must come).
    ctx.bob1.send("<presence><show>dnd</show><status>bob-big</status>%s</presence>" % big)
    ctx.model.online[ctx.bob1.full] = ("dnd", "0", "bob-big")
    sent = set()
    for i in range(int(os.environ.get("SK_BIG_ROUNDS", "12"))):
        ctx.bob1.send(" " * 32768)
        sent.add("lt%d" % i)
        ctx.bob1.send("<iq type='get' id='lt%d' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % (i, ctx.bob1.domain))
        try:
            ctx.bob1.wait(lambda e: e.tag == q(NS_CLIENT, "iq") and e.get("id") in sent, 2.5, "a ping answer")
            break
        except TimeoutError:
            continue
    else:
        # The server's own parser still holds the token (its expat defers
        # reparsing until the buffer doubles): that is the server, not
        # synckeyd, whose part test_link checks against a fake server.  A
        # new session for bob, synced, keeps the cases after this one apart.
        ctx.bob1.sock.close()
        ctx.bob1 = login("bob", "b1", "dnd", "bob-after-long-token")
        apply_delta(sync(ctx.alice, "laptop", ctx.key), {"bob@p.test"}, "bob's new session")
        raise Skipped("%s never took bob's 100 kB token in 30 s (its parser defers); "
                      "test_link checks synckeyd's part" % LAB_SERVER)
    t0 = time.monotonic()
    s = sync(ctx.alice, "laptop", ctx.key)
    took = time.monotonic() - t0
    print("# alice's sync answered %.3f s after bob's presence with a long token" % took)
    expect(took < 1.0, "answered only after %.2f s" % took)
    apply_delta(s, {"bob@p.test"}, "presence with a 100 kB attribute")


def t_sighup():
    mark = log_size()
    procs["synckeyd"].send_signal(signal.SIGHUP)
    wait_log("SIGHUP: batch committed", mark)
    expect(procs["synckeyd"].poll() is None, "synckeyd exited on SIGHUP")
    apply_delta(sync(ctx.alice, "laptop", ctx.key), set(), "a sync after SIGHUP")


def t_bad_requests():
    cases = (("get", "<sync xmlns='%s'/>" % NS_SYNC, "client missing"),
             ("get", "<sync xmlns='%s' client=''/>" % NS_SYNC, "client empty"),
             ("get", "<sync xmlns='%s' client='bad client!'/>" % NS_SYNC, "client with bad characters"),
             ("get", "<sync xmlns='%s' client='%s'/>" % (NS_SYNC, "x" * 65), "client of 65 characters"),
             ("set", "<sync xmlns='%s' client='laptop'/>" % NS_SYNC, "sync as IQ set"),
             ("get", "<checkpoint xmlns='%s' client='laptop' key='%s'/>" % (NS_SYNC, ctx.key), "checkpoint as IQ get"),
             ("set", "<checkpoint xmlns='%s' client='laptop'/>" % NS_SYNC, "checkpoint without key"),
             ("get", "<frobnicate xmlns='%s' client='laptop'/>" % NS_SYNC, "unknown child"))
    for typ, payload, what in cases:
        res = ctx.alice.iq(typ, SVC, payload, expect_error=True)
        ctx.last = show(res)
        cond, text = error_condition(res)
        err = res.find(q(NS_CLIENT, "error"))
        expect(res.get("type") == "error" and cond == "bad-request" and err.get("type") == "modify" and text,
               "%s: %s %s" % (what, cond, text))
    apply_delta(sync(ctx.alice, "laptop", ctx.key), set(), "key still good after bad requests")


def t_forbidden():
    other = Client("quser@q.test", "pw", C2S, resource="q").connect()
    try:
        for payload in ("<sync xmlns='%s' client='laptop'/>" % NS_SYNC,
                        "<checkpoint xmlns='%s' client='laptop' key='%s'/>" % (NS_SYNC, ctx.key)):
            res = other.iq("get" if "sync" in payload else "set", SVC, payload, expect_error=True)
            ctx.last = show(res)
            cond, text = error_condition(res)
            err = res.find(q(NS_CLIENT, "error"))
            expect(res.get("type") == "error" and cond == "forbidden" and err.get("type") == "auth" and text,
                   "%s %s" % (cond, text))
            expect(res.find(q(NS_SYNC, "sync")) is None and res.find(q(NS_SYNC, "checkpoint")) is None,
                   "data in a forbidden answer")
    finally:
        other.close()


def t_restart_synckeyd(sig, what):
    def run():
        k = ctx.key
        rc = stop("synckeyd", sig)
        if sig == signal.SIGTERM:
            expect(rc == 0, "synckeyd exited %r on SIGTERM" % rc)
        presence(ctx.bob1, "away", "bob-while-%s" % what)    # missed while it was down
        start_synckeyd()
        s = sync(ctx.alice, "laptop", k)
        if NO_REPLAY:
            apply_partial(s, "reset", None, "key from before the restart")
        else:
            expect(s.get("presence") is None, "presence=%r after a replay" % s.get("presence"))
            apply_full(s, "reset", "key from before the restart")
        presence(ctx.carl, "dnd", "carl-after-%s" % what, 5)
        s = sync(ctx.alice, "laptop", ctx.key)
        if NO_REPLAY:
            apply_partial(s, None, {"carl@p.test"}, "delta after the restart")
            expect("carl@p.test/c1" in ctx.st.pres, "carl's change after the restart is missing")
        else:
            apply_delta(s, {"carl@p.test"}, "delta after the restart")
    return run


def t_restart_prosody():
    k = ctx.key
    for c in list(ctx.sessions.values()):
        c.close()
    ctx.sessions.clear()
    ctx.model.online.clear()
    mark = log_size()
    if SERVER == "prosody":
        pid = pid_of_lab(os.path.join(LAB, "prosody.pid"))
        expect(pid == procs["prosody"].pid, "prosody.pid %r" % pid)
    rc = stop("prosody")
    expect(rc == 0, "Prosody exited %r on SIGTERM" % rc)
    down = mark
    wait_log("link to", mark)
    time.sleep(1.5)                                          # let synckeyd fail a few attempts
    mark = log_size()
    start_prosody()
    up = time.monotonic()
    took = wait_log("privileges for p.test", mark, timeout=RECONNECT_LIMIT + 40) - up
    # its back-off doubles while the server is down (src/daemon/link.c): the
    # attempt after the server listens comes at most one back-off later
    with open(os.path.join(LAB, "synckeyd.log"), errors="replace") as f:
        f.seek(down)
        waits = [int(w) for w in re.findall(r"next attempt in (\d+) ms", f.read())]
    limit = max([RECONNECT_LIMIT] + [w / 1000.0 + 3.0 for w in waits])
    print("# synckeyd reconnected %.1f s after the server listened (back-offs %s ms; limit %.1f s)"
          % (took, waits, limit))
    expect(took <= limit, "reconnected only after %.1f s" % took)
    ctx.alice = login("alice", "laptop")
    ctx.phone = login("alice", "phone")
    ctx.bob2 = login("bob", "b2", None, "bob-back")
    apply_full(sync(ctx.alice, "laptop", k), "reset", "key from before Prosody restarted")
    roster_set("carl@p.test", remove=True)
    apply_delta(sync(ctx.alice, "laptop", ctx.key), {"carl@p.test"}, "delta after Prosody restarted")


def t_refusal_burst_log():
    """Issue 17 #4: a burst of syncs refused with resource-constraint writes
    a bounded number of warning lines (the red team: 5 287 lines for
    5 087 refusals, one per refusal)."""
    stop("synckeyd")
    start_synckeyd("--max-pending", "1")
    try:
        mark = log_size()
        c = login("alice", "burst")
        n = 1500
        c.send("".join("<iq type='get' id='burst%d' to='%s'><sync xmlns='%s' client='burst'/></iq>"
                       % (i, SVC, NS_SYNC) for i in range(n)))
        answered, refused = set(), 0
        end = time.monotonic() + 90
        while len(answered) < n and time.monotonic() < end:
            c._pump(1.0)
            for el in c.queue:
                if el.tag == q(NS_CLIENT, "iq") and (el.get("id") or "").startswith("burst"):
                    answered.add(el.get("id"))
                    refused += error_condition(el)[0] == "resource-constraint"
            c.queue = []
        c.close()
        expect(len(answered) == n, "%d of %d syncs answered within 90 s" % (len(answered), n))
        expect(refused >= 100, "only %d refusals: no burst to speak of" % refused)
        time.sleep(0.5)
        with open(os.path.join(LAB, "synckeyd.log"), errors="replace") as f:
            f.seek(mark)
            lines = [ln for ln in f if " warn: " in ln and "max-pending" in ln]
        print("# %d syncs, %d refused with resource-constraint, %d warning lines about it"
              % (n, refused, len(lines)), flush=True)
        expect(len(lines) <= 25, "%d warning lines for %d refusals" % (len(lines), refused))
    finally:
        stop("synckeyd")
        start_synckeyd()


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def roster_items(s):
    return [it for qq in s.findall(q(NS_ROSTER, "query")) for it in qq]


def t_page_flood():
    """Issue 17 #1 (the red team: one user took synckeyd from 18 MB to 1 GB
    with no-key syncs of long-named contacts, reading only the first page,
    while another user's second page was lost): held pages are bounded in
    bytes for each user, and another user's chain stays whole."""
    # 2 000 characters, not the red team's 3 000: ejabberd 23.01 leaves a
    # roster set with a 3 000-character name unanswered while the user has
    # other sessions online (measured; 2 000 is answered at once)
    long_name = "N" * 2000
    mine = ["page%d@p.test" % i for i in range(30)]
    bob = login("bob", "pages")                     # a session of this test's own
    for j in mine:
        roster_set(j, name=long_name)
        bob.roster_set(j, name=long_name)
    stop("synckeyd")
    start_synckeyd("--stanza-budget", "8192", "--max-user-page-bytes", "262144",
                   "--max-page-bytes", "1048576")
    try:
        pid = procs["synckeyd"].pid
        first = bob.iq("get", SVC, "<sync xmlns='%s' client='pages'/>" % NS_SYNC).find(q(NS_SYNC, "sync"))
        expect(first is not None and first.get("more"), "bob's full answer is not paged")
        for i in range(5):                              # warm-up: allocator, views
            ctx.alice.iq("get", SVC, "<sync xmlns='%s' client='flood'/>" % NS_SYNC)
        before = rss_kb(pid)
        n, t0 = 600, time.monotonic()
        for i in range(n):
            s = ctx.alice.iq("get", SVC, "<sync xmlns='%s' client='flood'/>" % NS_SYNC).find(q(NS_SYNC, "sync"))
            expect(s is not None and s.get("more"), "flood answer %d is not paged" % i)
        after = rss_kb(pid)
        # bob's chain, started before the flood, is still whole
        items, more, pages = roster_items(first), first.get("more"), 1
        while more and pages < 100:
            t1 = time.monotonic()
            r = bob.iq("get", SVC, "<sync xmlns='%s' client='pages' more='%s'/>" % (NS_SYNC, more),
                       expect_error=True, timeout=60)
            if time.monotonic() - t1 > 2:
                print("# bob's page %d took %.1f s" % (pages + 1, time.monotonic() - t1), flush=True)
            expect(r.get("type") == "result", "bob's page %d after the flood: %s" % (pages + 1, show(r)[:300]))
            s = r.find(q(NS_SYNC, "sync"))
            items += roster_items(s)
            more, pages = s.get("more"), pages + 1
        truth = bob.iq("get", None, "<query xmlns='%s'/>" % NS_ROSTER).find(q(NS_ROSTER, "query"))
        expect(sorted(i.get("jid") for i in items) == sorted(i.get("jid") for i in truth),
               "bob's paged roster differs from his roster get")
        status = dict((ln.split()[0], [int(x) for x in ln.split()[1:]])
                      for ln in open(os.path.join(LAB, "db", "synckeyd.status")).read().splitlines())
        print("# %d no-key syncs of ~%d kB each in %.1f s: synckeyd RSS %d -> %d kB; bob's chain: %d pages; "
              "page-bytes %s" % (n, 30 * 2, time.monotonic() - t0, before, after, pages, status["page-bytes"]),
              flush=True)
        expect(status["page-bytes"][0] <= status["page-bytes"][1], "pages over max-page-bytes")
        # unbounded, the 600 answers would hold 600 x ~55 kB = ~33 MB of pages;
        # an ASan build's RSS is its quarantine of freed memory, not a figure
        if ASAN:
            print("# RSS not judged: synckeyd is an ASan build")
        else:
            expect(after - before < 12 * 1024, "RSS grew by %d kB over the flood" % (after - before))
    finally:
        stop("synckeyd")
        start_synckeyd()
        for j in mine:
            roster_set(j, remove=True)
            bob.roster_set(j, remove=True)


def t_remote_cap():
    """Issue 17 #4 and #5 (a hostile remote server with many JIDs): the
    presence synckeyd stores for one remote domain is capped
    (max-domain-presence); over it a presence is refused and logged once a
    minute at most, never stored, and local presence is not affected."""
    stop("synckeyd")
    start_synckeyd("--max-domain-presence", "3")
    rs = []
    try:
        mark = log_size()
        for i in range(6):
            c = Client("r%d@q.test" % i, "pw", C2S, resource="r").connect()
            rs.append(c)
            c.presence(status="remote %d" % i)
        ctx.alice.ping()
        time.sleep(0.3)                 # the server's forwarding to synckeyd
        s = ctx.alice.iq("get", SVC, "<sync xmlns='%s' client='remote'/>" % NS_SYNC).find(q(NS_SYNC, "sync"))
        remote = sorted(bare(p.get("from")) for p in s.findall(q(NS_CLIENT, "presence"))
                        if bare(p.get("from")).endswith("@q.test"))
        local = {p.get("from") for p in s.findall(q(NS_CLIENT, "presence"))
                 if bare(p.get("from")).endswith("@p.test")}
        exp = set(ctx.model.expected().pres)
        with open(os.path.join(LAB, "synckeyd.log"), errors="replace") as f:
            f.seek(mark)
            lines = [ln for ln in f if "max-domain-presence" in ln]
        status = dict((ln.split()[0], [int(x) for x in ln.split()[1:]])
                      for ln in open(os.path.join(LAB, "db", "synckeyd.status")).read().splitlines())
        print("# 6 remote contacts online, cap 3: served %s; %d log lines; remote-presence %s"
              % (remote, len(lines), status.get("remote-presence")), flush=True)
        expect(len(remote) == 3, "served %d remote contacts, cap 3: %r" % (len(remote), remote))
        expect(1 <= len(lines) <= 2, "%d log lines naming max-domain-presence" % len(lines))
        if NO_REPLAY:   # no replay at synckeyd's restart: a part of the truth, never more
            expect(local <= exp, "local presence the server does not show: %r" % sorted(local - exp))
        else:
            expect(local == exp, "local presence differs: got %r, expected %r" % (sorted(local), sorted(exp)))
    finally:
        for c in rs:
            c.offline()
        stop("synckeyd")
        start_synckeyd()


def main():
    try:
        setup()
    except Exception as e:  # noqa: BLE001
        print("Bail out! setup failed: %s: %s" % (type(e).__name__, e), flush=True)
        return 1
    check("discovery: disco#info has identity component/presence and feature urn:xmpp:synckey:0", t_discovery)
    check("full sync: no key gives full/no-key, every item, to/both presence, digest computed here", t_full)
    check("nothing changed gives a null delta with no children", t_null)
    check("roster and presence changed while away give exactly those contacts", t_delta)
    check("version 1: both features in disco; a key of version 0 gives a delta in urn:xmpp:synckey:1 "
          "with the LtHash16 digest computed here; a null answer; back in version 0", t_version1)
    check("changed and changed back is not sent", t_changed_back)
    check("a lost answer's old key still gives a delta once", t_answer_lost)
    check("well-formed keys never issued, expired or of an old epoch give full with that reason", t_minted_keys)
    check("forged, other user's and other client's keys give full/invalid-key with none of their data",
          t_invalid_keys)
    check("checkpoint gives a new key; the next delta holds only later changes", t_checkpoint)
    check("a raw tab, CR LF and LF in a roster name arrive as spaces; the digest covers the normalised name",
          t_attribute_values)
    check("a tab written &#9; in a roster name: the answer carries the value its digest covers",
          t_attribute_references)
    check("a push after a sync: the next delta agrees with the state stored with the key, not the one shown",
          t_live_changes)
    check("presence extensions are kept, and a change in an extension alone is sent", t_extensions)
    check("a presence nested 15 000 deep is kept without its extension; synckeyd stays up", t_deep_presence,
          skip={"ejabberd": ej_said("23.01", "itself dies on that presence (beam: Segmentation fault in "
                                    "console.log; measured with no component and no adapter: nesting 3 000 "
                                    "survives, 5 000 kills the node), before synckeyd sees it")})
    check("a 100 kB attribute in pieces does not hold back another user's sync (< 1 s)", t_long_token)
    check("SIGHUP commits, reopens the log and keeps running", t_sighup)
    check("bad requests give bad-request (modify) with a text", t_bad_requests)
    check("a user of a domain not served gets forbidden (auth) with a text", t_forbidden)
    check("synckeyd stopped and restarted: old key gives full/reset, then deltas",
          t_restart_synckeyd(signal.SIGTERM, "stopped"))
    check("synckeyd killed (SIGKILL) and restarted: store intact, reset, then deltas",
          t_restart_synckeyd(signal.SIGKILL, "killed"))
    check("Prosody restarted: synckeyd reconnects by itself; old key gives full/reset", t_restart_prosody)
    check("a burst of syncs refused with resource-constraint writes a bounded number of log lines",
          t_refusal_burst_log)
    check("one user's no-key syncs read to the first page only: synckeyd's memory stays flat and "
          "another user's paged answer stays whole", t_page_flood,
          skip={"ejabberd": ej_said("23.01", "after the 600 answers of ~8 kB through the component link, "
                                    "bob's next page fetch got no answer within 60 s (measured three times, "
                                    "cause not found; the bounds are synckeyd's own and pass on Prosody in "
                                    "both modes and in test_handler)")})
    check("a remote domain's presence is capped (max-domain-presence): 3 of 6 served, the refusal "
          "logged once, local presence as before", t_remote_cap)
    return 0


rc = 1
try:
    rc = main()
finally:
    for c in list(ctx.sessions.values()):
        c.close()
    stop("synckeyd")
    stop("prosody")
print("1..%d" % len(results))
sys.exit(0 if rc == 0 and results and all(results) else 1)
