"""bench_load.py - several clients syncing at once through a real server, with contacts changing between rounds (a benchmark, not a test).

Run by bench-load.sh with a lab prepared by lab.sh (the server adapter
on, or BENCH_MODE=privilege-only: the baseline): the users $BENCH_USERS each hold a roster of $BENCH_N contacts; the
contacts $BENCH_CHANGED (1 % of them, at least one; subscription both,
accounts holding every user) are logged in.  Each user logs in once and
makes a first (full) sync; then rounds, at most ROUNDS and SECONDS of
them after one round not counted (warm-up):

  1. every changed contact sends a new status, then a ping each (the
     server has handled the presence and passed it to synckeyd before it
     answers the ping: bench_sync.py's barrier);
  2. every user sends its sync request with the key of its last answer,
     all at once, then the answers are read: each must be a delta holding
     a presence of every changed contact and nothing else.

Per round: the wall time from the first request to the last answer
(deltas a second = users / that time: the server and synckeyd together,
one machine), and synckeyd's CPU (the scheduler's nanosecond run time of
its threads, /proc/PID/task/*/schedstat, not clock ticks) during the
syncs, per delta, and with the presence ingest of step 1 (from before
the changes: the ingest of one change is shared by every user holding
the contact).  "deltas per synckeyd CPU second" = users / CPU of the
syncs: one core's worth of synckeyd.  min and median over the rounds.
"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xmpp import Client, q, NS_CLIENT, NS_SYNC, NS_SYNC1  # noqa: E402
# the protocol version asked in: 1 (its digest follows changes; BENCH_VERSION=0 for version 0)
NS = NS_SYNC1 if os.environ.get("BENCH_VERSION", "1") != "0" else NS_SYNC

C2S = int(os.environ["LAB_C2S"])
N = int(os.environ["BENCH_N"])
USERS = os.environ["BENCH_USERS"].split()
CHANGED = os.environ["BENCH_CHANGED"].split()
SERVER = os.environ.get("LAB_SERVER", "prosody")
MODE = os.environ.get("BENCH_MODE", "adapter")
PID = int(open(os.path.join(os.environ["LAB"], "synckeyd.pid")).read())
ROUNDS = max(1, min(1000, int(os.environ.get("BENCH_LOAD_ROUNDS", "11"))))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
TIMEOUT = 120


def synckeyd_cpu_s():
    """synckeyd's CPU seconds: /proc/PID/task/*/schedstat (ns), summed over its threads"""
    total = 0
    for tid in os.listdir("/proc/%d/task" % PID):
        try:
            with open("/proc/%d/task/%s/schedstat" % (PID, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def send_iq(c, payload, to=None):
    """an IQ get sent without waiting; its id"""
    c.nid += 1
    iid = "b%d" % c.nid
    c.send("<iq type='get' id='%s'%s>%s</iq>" % (iid, " to='%s'" % to if to else "", payload))
    return iid


def answer(c, iid):
    res = c.wait(lambda e: e.tag == q(NS_CLIENT, "iq") and e.get("id") == iid, TIMEOUT, "answer to %s" % iid)
    assert res.get("type") == "result", "%s: IQ %s answered %s" % (c.jid, iid, res.get("type"))
    return res


def sync_send(c, key):
    return send_iq(c, "<sync xmlns='%s' client='bench'%s/>" % (NS, " key='%s'" % key if key else ""),
                   "sync.p.test")


def sync_answer(c, iid):
    """the <sync/> of the answer, its pages ('more') fetched one after the other; their children joined"""
    s = answer(c, iid).find(q(NS, "sync"))
    assert s is not None, "%s: no <sync/> in the answer" % c.jid
    more, pages = s.get("more"), 0
    while more and pages < 1000:
        r = answer(c, send_iq(c, "<sync xmlns='%s' client='bench' more='%s'/>" % (NS, more), "sync.p.test"))
        p = r.find(q(NS, "sync"))
        s.extend(list(p))
        more, pages = p.get("more"), pages + 1
    return s


def change_all(contacts, r):
    """every changed contact a new status, then a ping each: all handled by the server"""
    for c in contacts:
        c.send("<presence><status>round %d</status></presence>" % r)
    ids = [send_iq(c, "<ping xmlns='urn:xmpp:ping'/>", c.domain) for c in contacts]
    for c, iid in zip(contacts, ids):
        answer(c, iid)
        c.queue.clear()         # probes and echoes of their own presence: not looked at


def check(s, user):
    assert s.get("type") == "delta", "%s: type %r, not a delta" % (user, s.get("type"))
    froms = sorted(p.get("from", "").split("/")[0] for p in s.findall(q(NS_CLIENT, "presence")))
    want = sorted("%s@p.test" % c for c in CHANGED)
    others = [el.tag for el in s if el.tag != q(NS_CLIENT, "presence")]
    assert froms == want and not others, "%s: delta holds presences of %d contacts (want %d: %s...) and %r" % (
        user, len(froms), len(want), ", ".join(sorted(set(want) - set(froms))[:3]), others[:3])


def main():
    users = [Client("%s@p.test" % u, "pw", C2S, resource="bench").connect() for u in USERS]
    contacts = [Client("%s@p.test" % c, "pw", C2S, resource="r").connect() for c in CHANGED]
    for c in contacts:
        c.presence(status="start", barrier=False)
    change_all(contacts, 0)
    keys, full = [], []
    for c in users:             # the first syncs: full, one after the other
        t = time.perf_counter()
        s = sync_answer(c, sync_send(c, None))
        full.append((time.perf_counter() - t) * 1000)
        assert s.get("type") == "full", "%s: first sync %r" % (c.jid, s.get("type"))
        keys.append(s.get("key"))
    walls, cpus, ingests = [], [], []
    start = time.monotonic()
    r = 0
    while r <= ROUNDS and (r < 2 or time.monotonic() - start < SECONDS):
        c0 = synckeyd_cpu_s()
        change_all(contacts, r + 1)
        c1 = synckeyd_cpu_s()
        t = time.perf_counter()
        ids = [sync_send(c, k) for c, k in zip(users, keys)]
        for i, (c, iid) in enumerate(zip(users, ids)):
            s = sync_answer(c, iid)
            check(s, USERS[i])
            keys[i] = s.get("key")
        wall = time.perf_counter() - t
        c2 = synckeyd_cpu_s()
        if r > 0:               # round 0 warms up
            walls.append(wall)
            cpus.append(c2 - c1)
            ingests.append(c2 - c0)
        r += 1
    k = len(users)
    rates = [k / w for w in walls]
    per = [c / k * 1e6 for c in cpus]
    per_in = [c / k * 1e6 for c in ingests]
    core = [k / c for c in cpus if c > 0]
    print("bench-load: %s server=%s mode=%s contacts=%d users=%d changed=%d: %d rounds; round (all users' deltas) "
          "min %.1f ms, median %.1f ms; deltas/s min %.0f, median %.0f; synckeyd CPU per delta min %.0f us, "
          "median %.0f us (with the ingest of the changes: median %.0f us); deltas per synckeyd CPU second "
          "median %.0f; first full syncs median %.0f ms"
          % (NS, SERVER, MODE, N, k, len(CHANGED), len(walls), min(walls) * 1000, statistics.median(walls) * 1000,
             min(rates), statistics.median(rates), min(per), statistics.median(per), statistics.median(per_in),
             statistics.median(core) if core else 0, statistics.median(full)))
    print("LOAD " + json.dumps({
        "server": SERVER, "ns": NS, "path": MODE, "contacts": N, "users": k, "changed": len(CHANGED), "rounds": len(walls),
        "round_ms_min": min(walls) * 1000, "round_ms_median": statistics.median(walls) * 1000,
        "rate_min": min(rates), "rate_median": statistics.median(rates),
        "cpu_us_min": min(per), "cpu_us_median": statistics.median(per),
        "cpu_ingest_us_median": statistics.median(per_in),
        "core_rate_median": statistics.median(core) if core else None,
        "full_ms_median": statistics.median(full)}))
    sys.stdout.flush()
    for c in users + contacts:
        c.close()


main()
