"""test_changes.py - roster change lists through a real server: deltas equal to the server's truth, as TAP.

Run by run-changes.sh (Prosody, or ejabberd with LAB_SERVER=ejabberd),
with synckeyd logging at debug level and the server too.  Every change is
made through the user's own session (a roster set from alice's "phone"),
then a client syncs with its key.  The oracle is the server: a roster get
from a fresh login of alice.  Each case also reads synckeyd's debug log,
so that a case passes only on the path it is about: "changes since ...
applied" for a change list, "the whole roster since V (why)" when the
adapter's log cannot bridge the gap and it says why (doc/adapter-protocol.md "Change lists").
"""
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xmpp import Client, State, q, NS_SYNC, NS_ROSTER, LAB_SERVER  # noqa: E402
from tap import Tap, expect  # noqa: E402

LAB = os.environ["LAB"]
C2S = int(os.environ["LAB_C2S"])
SVC = "sync.p.test"
SYNCKEYD_LOG = os.path.join(LAB, "synckeyd.log")
LOG_BOUND = 256           # the adapters' default saves kept per user
tap = Tap(__file__)
seq = [0]
S = {}


def new_res(tag):
    seq[0] += 1
    return "%s%d" % (tag, seq[0])


def login(local, res):
    return Client("%s@p.test" % local, "pw", C2S, resource=res).connect()


def truth():
    """alice's roster as a fresh login gets it from the server"""
    c = login("alice", new_res("rg"))
    res = c.iq("get", None, "<query xmlns='%s'/>" % NS_ROSTER)
    c.close()
    sync = ET.Element(q(NS_SYNC, "sync"), {"type": "full"})
    sync.append(res.find(q(NS_ROSTER, "query")))
    st = State()
    st.apply(sync)
    return st.items


def log_lines(path, pattern):
    try:
        with open(path, errors="replace") as f:
            return [line for line in f if re.search(pattern, line)]
    except OSError:
        return []


class Client_:
    """A synckey client of alice: its state, key and client id."""

    def __init__(self, cid):
        self.cid, self.key, self.st = cid, None, State()
        self.c = login("alice", new_res("sync"))

    def sync(self):
        """one sync; returns the answer's <sync/> and what it says of the change path"""
        applied0 = len(log_lines(SYNCKEYD_LOG, r"changes since .* applied"))
        whole0 = len(log_lines(SYNCKEYD_LOG, r"the whole roster since"))
        attrs = " client='%s'" % self.cid + (" key='%s'" % self.key if self.key else "")
        res = self.c.iq("get", SVC, "<sync xmlns='%s'%s/>" % (NS_SYNC, attrs), timeout=30)
        s = res.find(q(NS_SYNC, "sync"))
        expect(s is not None and s.get("more") is None, "no single <sync/> answer")
        if s.get("type") == "full":
            self.st = State()
        self.st.apply(s)
        expect(self.st.digest() == s.get("digest"), "the state after the answer fails its digest")
        self.key = s.get("key")
        # the logs are written by other processes (ejabberd's logger a
        # moment later): one of the two paths must show, 5 s at most
        end = time.monotonic() + 5
        while True:
            applied = log_lines(SYNCKEYD_LOG, r"changes since .* applied")[applied0:]
            whole = log_lines(SYNCKEYD_LOG, r"the whole roster since")[whole0:]
            if applied or whole or time.monotonic() > end or s.get("type") == "delta" and not delta_items(s):
                return s, applied, whole
            time.sleep(0.1)

    def exact(self, what):
        want = truth()
        expect(self.st.items == want, lambda: "%s: the client holds %r, the server has %r"
               % (what, self.st.items, want))


def delta_items(s):
    return sorted(it.get("jid") for qq in s.findall(q(NS_ROSTER, "query")) for it in qq)


def t_changes_through_the_session():
    """rename, add, remove, each followed by a sync: a change list each time, exact"""
    cl = Client_("laptop")
    cl.sync()
    cl.exact("first sync")
    phone = S["phone"]
    steps = [("rename", lambda: phone.roster_set("bob@p.test", name="Bobby", groups=("Friends", "Work")),
              ["bob@p.test"]),
             ("add", lambda: phone.roster_set("frank@p.test", name="Frank"), ["frank@p.test"]),
             ("remove", lambda: phone.roster_set("erin@p.test", remove=True), ["erin@p.test"]),
             ("two at once", lambda: (phone.roster_set("carl@p.test", name="Carlos"),
                                      phone.roster_set("erin@p.test", name="Erin", groups=("Friends",))),
              ["carl@p.test", "erin@p.test"])]
    for what, change, jids in steps:
        change()
        s, applied, whole = cl.sync()
        expect(s.get("type") == "delta", "%s: type %r" % (what, s.get("type")))
        expect(delta_items(s) == jids, "%s: delta items %r, want %r" % (what, delta_items(s), jids))
        expect(len(applied) == 1, "%s: synckeyd applied %d change lists (want 1); adapter: %r"
               % (what, len(applied), whole))
        cl.exact(what)
    # nothing changed: nothing in the answer, and no list needed
    s, applied, _ = cl.sync()
    expect(not delta_items(s), "null sync carries items %r" % delta_items(s))
    cl.c.close()


def t_more_changes_than_the_log_holds():
    """more saves than the adapter's log keeps: the whole roster, with its reason, and exact"""
    cl = Client_("overflow")
    cl.sync()
    phone = S["phone"]
    # carl's save is the first to fall out of the log: a list of what
    # the log still holds would miss it
    phone.roster_set("carl@p.test", name="Carl %d" % seq[0])
    for i in range(LOG_BOUND + 20):
        phone.roster_set("dave@p.test", name="Dave %d" % i)
    s, applied, whole = cl.sync()
    expect(not applied, "synckeyd applied a change list across %d saves" % (LOG_BOUND + 21))
    expect(whole, "the adapter gave no reason for the whole roster")
    cl.exact("after %d saves" % (LOG_BOUND + 21))
    expect(delta_items(s) == ["carl@p.test", "dave@p.test"], "delta items %r" % delta_items(s))
    # the log goes on from there
    phone.roster_set("dave@p.test", name="Dave")
    s, applied, _ = cl.sync()
    expect(len(applied) == 1, "no change list after the overflow")
    cl.exact("one save after the overflow")
    cl.c.close()
    return "adapter: %s" % whole[-1].strip()[-90:]


def restart_server():
    S["phone"].close()
    env = dict(os.environ)
    subprocess.run(["sh", "-c", ". \"$LAB_SH\"; lab_attach; LAB_SERVER_PID=; lab_server_stop; lab_server_start"],
                   check=True, env=env, stdout=subprocess.DEVNULL, timeout=120)
    # synckeyd reconnects by itself
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if len(log_lines(SYNCKEYD_LOG, r"privileges|connected")) > S["links"]:
            break
        time.sleep(0.2)
    time.sleep(1)
    S["links"] = len(log_lines(SYNCKEYD_LOG, r"privileges|connected"))
    S["phone"] = login("alice", "phone")


def t_server_restart():
    """a server restart loses the adapter's log: the whole roster, with its reason, and exact"""
    cl = Client_("restart")
    cl.sync()
    cl.c.close()
    restart_server()
    S["phone"].roster_set("carl@p.test", name="Carl")
    cl.c = login("alice", new_res("sync"))
    s, applied, whole = cl.sync()
    expect(not applied, "synckeyd applied a change list across a server restart")
    expect(whole, "the adapter gave no reason for the whole roster")
    cl.exact("after a server restart")
    S["phone"].roster_set("carl@p.test", name="Carl again")
    s, applied, _ = cl.sync()
    expect(len(applied) == 1, "no change list after the restart")
    cl.exact("one save after the restart")
    cl.c.close()
    return "adapter: %s" % whole[-1].strip()[-90:]


def main():
    S["links"] = len(log_lines(SYNCKEYD_LOG, r"privileges|connected"))
    S["phone"] = login("alice", "phone")
    tap.check("rename, add, remove through the user's session: a change list each, delta exact",
              t_changes_through_the_session)
    tap.check("more saves than the adapter's log holds: the whole roster with a reason, exact",
              t_more_changes_than_the_log_holds)
    tap.check("a server restart: the whole roster with a reason, exact; lists again after",
              t_server_restart)
    S["phone"].close()
    return 0


rc = 1
try:
    rc = main()
except Exception as e:  # noqa: BLE001
    print("Bail out! %s: %s" % (type(e).__name__, e), flush=True)
print("1..%d" % len(tap.results))
sys.exit(0 if rc == 0 and tap.results and all(tap.results) else 1)
