"""test_cluster.py - one synckeyd beside an ejabberd cluster of two nodes, as TAP.

Run by tests/cluster/run.sh, which builds the lab (lab.sh lab_cluster_init:
node 1 and node 2 joined into one Mnesia cluster, the adapter on both,
alice with bob, carol and dave as contacts, each of them with alice only,
subscription both: a contact's presence reaches synckeyd from its own
node alone, since no other session receives it).  This script starts synckeyd (its list of servers: node 1, then
node 2), stops and starts the nodes, and checks every answer against the
server itself: a fresh ordinary login of alice (roster get, initial
presence, the presence the server then sends her) on one node or the
other.  The answer, applied to the client's state by the protocol's rules,
must hold exactly that roster and that presence of her contacts, and its
digest must be that of the state.  No sleeps as barriers: every wait is
for something observable, and bounded.
"""
import os
import re
import signal
import subprocess
import sys
import time
import traceback
import xml.etree.ElementTree as ET

LAB = os.environ["LAB"]
sys.path.insert(0, os.environ["LAB_INTEROP_DIR"])
from xmpp import Client, State, q, NS_SYNC, NS_ROSTER, NS_CLIENT  # noqa: E402

NODE = {1: int(os.environ["LAB_C2S"]), 2: int(os.environ["LAB_C2S2"])}
COMP = {1: int(os.environ["LAB_COMP"]), 2: int(os.environ["LAB_COMP2"])}
SYNCKEYD = os.environ["SYNCKEYD"]
SVC = "sync.p.test"
ALICE = "alice@p.test"
LOG = os.path.join(LAB, "synckeyd.log")
results = []
procs = {}


class Ctx:
    pass


ctx = Ctx()
ctx.last = None
ctx.sessions = []


# -- processes -------------------------------------------------------------------

def lab_sh(fn, timeout=180):
    return subprocess.run(["sh", "-c", '. "$LAB_SH"; lab_attach; ' + fn], env=dict(os.environ),
                          stdout=subprocess.DEVNULL, timeout=timeout).returncode


def log_size(path=LOG):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def log_since(mark, path=LOG):
    with open(path, errors="replace") as f:
        f.seek(mark)
        return f.read()


def wait_log(pattern, mark, timeout=30, path=LOG, proc="synckeyd"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = re.search(pattern, log_since(mark, path))
        if m:
            return m
        p = procs.get(proc)
        if p is not None and p.poll() is not None:
            raise RuntimeError("%s exited with %s before logging %r" % (proc, p.returncode, pattern))
        time.sleep(0.1)
    raise TimeoutError("%s never logged %r within %d s" % (path, pattern, timeout))


def synckeyd_cmd(servers, db, log):
    cmd = [SYNCKEYD]
    for n in servers:
        cmd += ["--server", "127.0.0.1:%d" % COMP[n]]
    cmd += ["--jid", SVC, "--secret-file", os.path.join(LAB, "secret"), "--domain", "p.test",
            "--db", db, "--log-level", "debug", "--roster-timeout", "5", "--adapter", "required"]
    return cmd


def start_synckeyd():
    mark = log_size()
    log = open(LOG, "a")
    p = subprocess.Popen(synckeyd_cmd((1, 2), os.path.join(LAB, "db"), LOG), stdout=log, stderr=log)
    procs["synckeyd"] = p
    with open(os.path.join(LAB, "synckeyd.pid"), "w") as f:
        f.write("%d\n" % p.pid)
    wait_log(r"p\.test: server adapter present", mark)


def stop_synckeyd(sig=signal.SIGTERM):
    p = procs.pop("synckeyd", None)
    if p is None:
        return None
    if p.poll() is None:
        p.send_signal(sig)
    try:
        return p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait(timeout=10)


def node_pid(n):
    """The beam PID of node n, from its pidfile, when it is this lab's."""
    d = "ejabberd" if n == 1 else "ejabberd2"
    try:
        pid = int(open(os.path.join(LAB, d, "ejabberd.pid")).read().strip())
        cmd = open("/proc/%d/cmdline" % pid, "rb").read().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    return pid if os.path.join(LAB, d) in cmd else None


def start_node(n):
    fn = "lab_server_start" if n == 1 else "lab_server2_start"
    if lab_sh(fn) != 0:
        raise RuntimeError("%s failed" % fn)


def stop_node(n):
    fn = "lab_server_stop" if n == 1 else "lab_server2_stop"
    if lab_sh(fn) != 0:
        raise RuntimeError("%s failed" % fn)


def kill_node(n):
    pid = node_pid(n)
    if pid is None:
        raise RuntimeError("node %d: no PID of this lab" % n)
    os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + 10
    while os.path.exists("/proc/%d" % pid) and time.monotonic() < end:
        time.sleep(0.05)
    stop_node(n)         # the launcher and any stray of that node, by PID


def wait_cluster(timeout=60):
    """Both nodes list both (ejabberdctl list_cluster on each)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ok = True
        for d in ("ejabberd", "ejabberd2"):
            r = subprocess.run([os.path.join(LAB, d, "ejctl"), "list_cluster"], capture_output=True,
                               text=True, timeout=30)
            ok = ok and r.returncode == 0 and r.stdout.count("sklab") == 2
        if ok:
            return
        time.sleep(0.5)
    raise TimeoutError("the nodes do not list each other within %d s" % timeout)


# -- sessions, syncs and the oracle ----------------------------------------------

def login(local, node, res, status=None, show=None):
    c = Client("%s@p.test" % local, "pw", NODE[node], resource=res).connect()
    c.node = node
    ctx.sessions.append(c)
    c.available = status is not None or show is not None
    if c.available:
        c.presence(show=show, status=status)
    return c


def drop(c):
    try:
        c.sock.close()
    except OSError:
        pass
    if c in ctx.sessions:
        ctx.sessions.remove(c)


def logout(c):
    c.offline()
    if c in ctx.sessions:
        ctx.sessions.remove(c)


def show_el(el):
    return ET.tostring(el, encoding="unicode")


def sync(node, key=None, to=SVC):
    """One sync from a short session of alice on node (no presence sent)."""
    c = Client(ALICE, "pw", NODE[node], resource="sync%d" % node).connect()
    try:
        attrs = " client='laptop'" + (" key='%s'" % key if key else "")
        res = c.iq("get", to, "<sync xmlns='%s'%s/>" % (NS_SYNC, attrs), timeout=20, expect_error=True)
    finally:
        c.close()
    ctx.last = show_el(res)
    expect(res.get("type") == "result", "sync answered with an error")
    s = res.find(q(NS_SYNC, "sync"))
    expect(s is not None, "no <sync/> in the result")
    return s


def oracle(node, timeout=8.0, quiet=1.0):
    """What a fresh ordinary login of alice on node gets: her roster and the
    presence of her contacts (none of her own resources)."""
    c = Client(ALICE, "pw", NODE[node], resource="oracle").connect()
    try:
        roster = c.iq("get", None, "<query xmlns='%s'/>" % NS_ROSTER).find(q(NS_ROSTER, "query"))
        c.send("<presence/>")
        c.ping()
        end = time.monotonic() + timeout
        last = time.monotonic()
        while time.monotonic() < end and time.monotonic() - last < quiet:
            n = len(c.queue)
            c._pump(0.2)
            if len(c.queue) != n:
                last = time.monotonic()
        pres = [e for e in c.queue if e.tag == q(NS_CLIENT, "presence")
                and (e.get("type") in (None, "unavailable")) and bare(e.get("from")) != ALICE]
    finally:
        c.offline()
    full = ET.Element("sync", {"type": "full"})
    full.append(roster)
    for p in pres:
        full.append(p)
    st = State()
    st.apply(full)
    return st


def bare(jid):
    return (jid or "").split("/")[0]


def own_free(pres):
    return {k: v for k, v in pres.items() if bare(k) != ALICE}


def touched(s):
    out = set()
    for qq in s.findall(q(NS_ROSTER, "query")):
        out |= {it.get("jid") for it in qq}
    out |= {bare(p.get("from")) for p in s.findall(q(NS_CLIENT, "presence"))}
    return out


def take(s, node, kinds, names=None, what="answer"):
    """Applies s to the client's state; kinds: the (type, reason) pairs
    allowed; names: the bare JIDs a delta must name exactly.  The state
    must equal a fresh login on node."""
    got = (s.get("type"), s.get("reason"))
    expect(got in kinds, "%s: type/reason %r, expected one of %r" % (what, got, kinds))
    expect(s.get("presence") is None, "%s: presence=%r" % (what, s.get("presence")))
    if s.get("type") == "full":
        ctx.st = State()
    elif names is not None:
        expect(touched(s) == set(names), "%s: delta names %r, expected %r" % (what, sorted(touched(s)),
                                                                             sorted(names)))
    ctx.st.apply(s)
    ctx.key = s.get("key")
    expect(ctx.st.digest() == s.get("digest"), "%s: digest of the state differs" % what)
    truth = oracle(node)
    if ctx.st.items != truth.items or own_free(ctx.st.pres) != own_free(truth.pres):
        # nothing changes meanwhile: a second look tells a slow probe
        # answer (the oracle's quiet second was too short) from a wrong answer
        mine, theirs = own_free(ctx.st.pres), own_free(truth.pres)
        print("# %s: differs from the fresh login on node %d (answer only %r, login only %r); "
              "looking again, quiet 3 s" % (what, node, sorted(set(mine.items()) - set(theirs.items())),
                                            sorted(set(theirs.items()) - set(mine.items()))))
        truth = oracle(node, timeout=15.0, quiet=3.0)
    expect(ctx.st.items == truth.items, lambda: "%s: roster differs from a fresh login on node %d: "
           "got %r, server %r" % (what, node, ctx.st.items, truth.items))
    mine, theirs = own_free(ctx.st.pres), own_free(truth.pres)
    expect(mine == theirs, lambda: "%s: presence differs from a fresh login on node %d: got %r, server %r"
           % (what, node, mine, theirs))


FULL_RESET = {("full", "reset")}
DELTA = {("delta", None)}


def check(name, fn):
    try:
        fn()
        results.append(True)
        print("ok %d - %s" % (len(results), name), flush=True)
    except Exception as e:  # noqa: BLE001 - reported, the next ones run
        results.append(False)
        print("not ok %d - %s" % (len(results), name), flush=True)
        for line in ("%s: %s" % (type(e).__name__, e)).splitlines():
            print("# " + line)
        here = os.path.abspath(__file__)
        frames = [f for f in traceback.extract_tb(e.__traceback__)[1:]
                  if os.path.abspath(f.filename) == here and f.name != "expect"]
        if frames:
            print("#   at " + " > ".join("%s:%d" % (f.name, f.lineno) for f in frames))
        if ctx.last is not None:
            print("# last answer: %s" % ctx.last[:2000])
        sys.stdout.flush()
        # the next check starts from a full answer
        try:
            s = sync(1 if node_pid(1) else 2)
            ctx.st = State()
            ctx.st.apply(s)
            ctx.key = s.get("key")
        except Exception:  # noqa: BLE001
            pass


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg() if callable(msg) else msg)


def recv_count(status, mark):
    """Presence stanzas with that status synckeyd received since mark."""
    return sum(1 for line in log_since(mark).splitlines()
               if "RECV: <presence" in line and ">%s<" % status in line)


# -- the scenarios ----------------------------------------------------------------

def setup():
    start_synckeyd()
    ctx.bob = login("bob", 2, "b1", "bob-1", "away")
    ctx.carol = login("carol", 1, "c1", "carol-1")
    ctx.dave = login("dave", 2, "d1", "dave-1")
    ctx.key = None


def t_full():
    s = sync(2)
    take(s, 2, {("full", "no-key")}, what="full sync from node 2")
    expect({bare(k) for k in own_free(ctx.st.pres)} == {"bob@p.test", "carol@p.test", "dave@p.test"},
           "contacts online: %r" % sorted(ctx.st.pres))


def t_presence_node2():
    ctx.bob.presence(show="dnd", status="bob-2")
    take(sync(1, ctx.key), 1, DELTA, {"bob@p.test"}, "bob changed on node 2")


def t_presence_node1():
    ctx.carol.presence(status="carol-2")
    take(sync(2, ctx.key), 2, DELTA, {"carol@p.test"}, "carol changed on node 1")


def t_delegated():
    ctx.dave.presence(status="dave-2")
    take(sync(2, ctx.key, to=ALICE), 2, DELTA, {"dave@p.test"}, "sync to her own account on node 2")


def t_directed():
    watcher = login("alice", 2, "watch", "alice-watch")      # an available session on node 2
    try:
        ctx.dave.send("<presence to='%s'><status>dave-directed</status></presence>" % watcher.full)
        ctx.dave.ping()
        watcher.wait(lambda e: e.tag == q(NS_CLIENT, "presence") and e.get("from") == ctx.dave.full
                     and (e.findtext(q(NS_CLIENT, "status")) == "dave-directed"), what="the directed presence")
    finally:
        logout(watcher)
    take(sync(1, ctx.key), 1, DELTA, set(), "directed presence between users of node 2")


def t_dropped():
    b2 = login("bob", 2, "b2", "bob-phone")
    take(sync(1, ctx.key), 1, DELTA, {"bob@p.test"}, "second session of bob on node 2")
    drop(b2)
    end = time.monotonic() + 15          # until the server itself shows b2 gone
    while "bob@p.test/b2" in oracle(1).pres:
        expect(time.monotonic() < end, "ejabberd still shows bob/b2 after 15 s")
    take(sync(1, ctx.key), 1, DELTA, {"bob@p.test"}, "bob's session on node 2 dropped")


def t_roster():
    r1 = login("alice", 1, "r1")
    r2 = login("alice", 2, "r2")
    try:
        r2.roster_set("bob@p.test", name="Bob from node 2", groups=["N2"])
        r1.roster_set("carol@p.test", name="Carol from node 1", groups=["N1"])
    finally:
        logout(r1)
        logout(r2)
    take(sync(2, ctx.key), 2, DELTA, {"bob@p.test", "carol@p.test"}, "roster changed on both nodes")


def t_no_duplicates():
    for sender, tag in ((ctx.carol, "dup-carol-n1"), (ctx.bob, "dup-bob-n2")):
        # receivers: alice's available sessions (the only contact of each)
        receivers = len([c for c in ctx.sessions if c.local == "alice" and c.available])
        mark = log_size()
        sender.presence(status=tag)
        want = 1 + receivers         # what one node forwards: the sender's, each receiver's
        end = time.monotonic() + 10
        while recv_count(tag, mark) < want and time.monotonic() < end:
            time.sleep(0.1)
        time.sleep(0.5)              # a duplicate would come in the same burst
        n = recv_count(tag, mark)
        expect(n == want, "%s on node %d reached synckeyd %d times, a single node forwards it %d times"
               % (sender.local, sender.node, n, want))
    take(sync(1, ctx.key), 1, DELTA, {"bob@p.test", "carol@p.test"}, "after the counted changes")


def t_replay():
    k = ctx.key
    rc = stop_synckeyd()
    expect(rc == 0, "synckeyd exited %r" % rc)
    ctx.dave.presence(status="dave-while-down")
    start_synckeyd()
    take(sync(2, k), 2, FULL_RESET, what="key from before synckeyd restarted")
    expect("dave@p.test/d1" in ctx.st.pres and ctx.st.pres["dave@p.test/d1"][2] == "dave-while-down",
           "dave's presence on node 2 from the replay: %r" % ctx.st.pres)


def t_node2_killed():
    k = ctx.key
    mark = log_size()
    t0 = time.monotonic()
    kill_node(2)
    ctx.sessions = [c for c in ctx.sessions if c.node != 2]
    try:
        wait_log(r"link up to[^\n]*\n(.|\n)*p\.test: server adapter present", mark, timeout=30)
        print("# synckeyd relinked and ready %.1f s after node 2 was killed" % (time.monotonic() - t0))
    except TimeoutError:
        print("# synckeyd was not relinked within 30 s; what does it answer?")
    take(sync(1, k), 1, FULL_RESET, what="after node 2 was killed")
    expect(not any(bare(j) in ("bob@p.test", "dave@p.test") for j in ctx.st.pres),
           "users of the killed node still online: %r" % ctx.st.pres)


def t_node2_back():
    mark = log_size()
    start_node(2)
    wait_cluster()
    wait_log(r"p\.test: server adapter present", mark, timeout=30)   # relinked on mnesia_up
    ctx.bob = login("bob", 2, "b1", "bob-back")
    take(sync(2, ctx.key), 2, FULL_RESET | DELTA, what="node 2 back, bob logged in there")
    ctx.dave = login("dave", 2, "d1", "dave-back")
    take(sync(1, ctx.key), 1, DELTA, {"dave@p.test"}, "dave logged in on node 2")


def t_node1_stopped():
    k = ctx.key
    mark = log_size()
    t0 = time.monotonic()
    stop_node(1)
    stopped = time.monotonic()
    ctx.sessions = [c for c in ctx.sessions if c.node != 1]
    ctx.bob.presence(status="bob-while-switching")
    wait_log(r"link up to 127\.0\.0\.1:%d" % COMP[2], mark, timeout=60)
    print("# synckeyd linked to node 2 %.1f s after node 1's stop began (the stop took %.1f s)"
          % (time.monotonic() - t0, stopped - t0))
    wait_log(r"p\.test: server adapter present", mark, timeout=30)
    ctx.dave.presence(status="dave-on-node-2-only")
    take(sync(2, k), 2, FULL_RESET, what="synckeyd's node stopped, it moved to node 2")
    expect(ctx.st.pres.get("bob@p.test/b1", ("", "", ""))[2] == "bob-while-switching",
           "bob's change during the switch: %r" % ctx.st.pres)
    ctx.bob.presence(status="bob-after-switch")
    take(sync(2, ctx.key), 2, DELTA, {"bob@p.test"}, "a delta on node 2 alone")


def t_node1_back():
    mark = log_size()
    start_node(1)
    wait_cluster()
    wait_log(r"p\.test: server adapter present", mark, timeout=30)
    ctx.carol = login("carol", 1, "c1", "carol-back")
    take(sync(1, ctx.key), 1, FULL_RESET | DELTA, what="node 1 back, carol logged in there")
    ctx.carol.presence(status="carol-again")
    take(sync(2, ctx.key), 2, DELTA, {"carol@p.test"}, "carol changed on node 1, synckeyd on node 2")


def second(node):
    def run():
        log2 = os.path.join(LAB, "synckeyd2.log")
        mark2 = log_size(log2)
        db2 = os.path.join(LAB, "db2")
        os.makedirs(db2, exist_ok=True)
        with open(log2, "a") as log:
            p = subprocess.Popen(synckeyd_cmd((node,), db2, log2), stdout=log, stderr=log)
        procs["synckeyd2"] = p
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
            raise AssertionError("a second synckeyd on node %d still runs after 20 s" % node)
        finally:
            procs.pop("synckeyd2", None)
        text = log_since(mark2, log2)
        expect(rc == 3, "the second synckeyd exited %r, expected 3" % rc)
        expect("another synckeyd is connected as sync.p.test" in text, "no clear log line: %s" % text[-800:])
        expect(procs["synckeyd"].poll() is None, "the first synckeyd stopped")
        # no split: every sync answered, and presence still forwarded on both nodes
        for n in (1, 2, 1, 2):
            sync(n, ctx.key)          # answers only; the key stays ours
        ctx.carol.presence(status="carol-after-second-%d" % node)
        ctx.bob.presence(status="bob-after-second-%d" % node)
        take(sync(node, ctx.key), node, DELTA, {"bob@p.test", "carol@p.test"},
             "after a second synckeyd on node %d was refused" % node)
    return run


def main():
    try:
        setup()
    except Exception as e:  # noqa: BLE001
        print("Bail out! setup failed: %s: %s" % (type(e).__name__, e), flush=True)
        return 1
    check("full sync from node 2 (synckeyd on node 1, contacts on both) equals a fresh login", t_full)
    check("a presence change on node 2 gives a delta naming only that contact", t_presence_node2)
    check("a presence change on node 1 gives a delta, synced from node 2", t_presence_node1)
    check("a sync to her own account on node 2 (the adapter's delegation) gives the delta", t_delegated)
    check("a directed presence between users of node 2 stays out of the state", t_directed)
    check("a session dropped on node 2 without an unavailable is gone in the next delta", t_dropped)
    check("roster changes on node 1 and node 2 give a delta with both items", t_roster)
    check("no duplicates: a presence on either node reaches synckeyd as often as on one node",
          t_no_duplicates)
    check("synckeyd restarted: the replay holds node 2's users; old key gives full/reset", t_replay)
    check("node 2 killed (SIGKILL): synckeyd relinks, old key gives full/reset without its users",
          t_node2_killed)
    check("node 2 restarted and rejoined: answers follow the server again", t_node2_back)
    check("synckeyd's node stopped: it reconnects to node 2 from its list; full/reset, then deltas",
          t_node1_stopped)
    check("node 1 back in the cluster: deltas for users on it, synckeyd on node 2", t_node1_back)
    check("a second synckeyd on the other node is refused (exit 3, a clear log line); no split",
          second(1))
    check("a second synckeyd on synckeyd's own node is refused; presence still reaches the first",
          second(2))
    return 0


rc = 1
try:
    rc = main()
finally:
    for c in list(ctx.sessions):
        c.close()
    stop_synckeyd()
print("1..%d" % len(results))
sys.exit(0 if rc == 0 and results and all(results) else 1)
