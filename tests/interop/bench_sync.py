"""bench_sync.py - null, delta and roster-change syncs through a real Prosody or ejabberd, by roster size (a benchmark, not a test).

Run by bench-sync.sh with a lab prepared by lab.sh: Prosody on 127.0.0.1
with alice's roster of $BENCH_N contacts (a quarter each both, to, from,
none), synckeyd started by lab.sh.  One contact (c0001, subscription
both) is online and changes status before every delta sync; with the
adapter, alice renames c0002 through her own session before every roster
sync (a change list), or BENCH_LOG_SAVES + 1 times before a roster-whole
sync (more than the adapters' logs keep: the whole roster, the baseline).  Prints the
round trip of the sync IQ as the client sees it (min and median of RUNS),
the bytes alice received for it, and synckeyd's CPU per sync (the
scheduler's nanosecond run time of its threads, /proc/PID/task/*/schedstat:
finer than a clock tick) from before the change (its ingest included) to
the answer: the mean over all RUNS, and min and median of the runs (a
commit batched after an answer falls in the next run's share).

BENCH_MODE=standard or versioning: no synckey; each run is a new login of
alice, timed from the roster get to the last presence the initial
presence brings (the probe answers: one from each contact with
subscription to or both, `unavailable` when offline, when the seeded
contacts hold alice in their rosters: bench-sync.sh seeds them on
Prosody).  The end is the later of a ping sent after the initial
presence (Prosody answers local probes before it reads the ping) and the
count of presences expected, 60 s at most.  "null" is the roster
unchanged since the last login, "delta" 1 % of the contacts changed
status, but those are offline here: the same flood.  versioning sends the
roster `ver` of the previous login (XEP-0237): an unchanged roster comes
back empty.  Login itself is neither timed nor counted (the same on
every path: about 1.4 kB).
"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xmpp import Client, q, NS_SYNC, NS_SYNC1  # noqa: E402
# the protocol version asked in: 1 (its digest follows changes; BENCH_VERSION=0 for version 0)
NS = NS_SYNC1 if os.environ.get("BENCH_VERSION", "1") != "0" else NS_SYNC


def seed(lab, n):
    """Prosody only, before it starts: the contacts c0002..cN as accounts holding alice with the
    matching subscription (alice has both, to, from, none in turn: they have both, from, to, none)"""
    host = os.path.join(lab, "data", "p%2etest")
    os.makedirs(os.path.join(host, "accounts"), exist_ok=True)
    os.makedirs(os.path.join(host, "roster"), exist_ok=True)
    back = ("both", "from", "to", "none")
    for i in range(2, n + 1):
        name = "c%04d" % i
        with open(os.path.join(host, "accounts", name + ".dat"), "w") as f:
            f.write('return { ["password"] = "pw"; };\n')
        with open(os.path.join(host, "roster", name + ".dat"), "w") as f:
            f.write('return {\n  [false] = { version = 1; pending = {} };\n'
                    '  ["alice@p.test"] = { subscription = "%s"; name = "Alice"; groups = {} };\n}\n'
                    % back[(i - 1) % 4])


if len(sys.argv) == 4 and sys.argv[1] == "seed":
    seed(sys.argv[2], int(sys.argv[3]))
    sys.exit(0)

C2S = int(os.environ["LAB_C2S"])
N = int(os.environ["BENCH_N"])
PID = int(open(os.path.join(os.environ["LAB"], "synckeyd.pid")).read())
RUNS = int(os.environ.get("BENCH_RUNS", "21"))
MODE = os.environ.get("BENCH_MODE", "adapter")
SERVER = os.environ.get("LAB_SERVER", "prosody")


def cpu_s():
    """synckeyd's CPU time in seconds, from the scheduler's nanosecond
    count (/proc/PID/schedstat, summed over its threads), not utime +
    stime, which move in clock ticks (10 ms) and read 0 or a tick per
    sync."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % PID):
        try:
            total += int(open("/proc/%d/task/%s/schedstat" % (PID, tid)).read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def sync(c, key):
    t = time.perf_counter()
    res = c.iq("get", "sync.p.test", "<sync xmlns='%s' client='bench'%s/>" % (NS, " key='%s'" % key if key else ""),
               timeout=60)
    s = res.find(q(NS, "sync"))
    assert s is not None, "no answer"
    more = s.get("more")
    while more:                                 # a full answer is paged at 20 000
        r = c.iq("get", "sync.p.test", "<sync xmlns='%s' client='bench' more='%s'/>" % (NS, more), timeout=60)
        more = r.find(q(NS, "sync")).get("more")
    ms = (time.perf_counter() - t) * 1000
    return ms, s


def presences_expected():
    """contacts with subscription to or both (lab_roster_gen: both, to, from, none in turn)"""
    return sum(1 for i in range(1, N + 1) if (i - 1) % 4 in (0, 1))


def standard_login(ver):
    """a new session: roster get (with ver when given), initial presence, until every probe answer"""
    c = Client("alice@p.test", "pw", C2S, resource="std%d" % time.monotonic_ns()).connect()
    b0 = c.bytes_in
    t = time.perf_counter()
    res = c.iq("get", None, "<query xmlns='jabber:iq:roster'%s/>" % (" ver='%s'" % ver if ver is not None else ""),
               timeout=60)
    query = res.find(q("jabber:iq:roster", "query"))
    items = 0 if query is None else len(list(query))
    newver = query.get("ver") if query is not None else ver
    c.send("<presence/>")
    c.ping(timeout=60)
    want = presences_expected()
    seen = set()
    end = time.monotonic() + 60
    while True:
        for el in c.queue:
            if el.tag == q("jabber:client", "presence") and el.get("from", "").split("/")[0] != "alice@p.test":
                seen.add(el.get("from").split("/")[0])
        c.queue.clear()
        if len(seen) >= want or time.monotonic() > end:
            break
        c._pump(0.5)
    ms = (time.perf_counter() - t) * 1000
    nbytes = c.bytes_in - b0
    c.close()
    return ms, nbytes, items, len(seen), want, newver


def row(kind, times, sizes, extra, cpus=None):
    """cpus: synckeyd's CPU seconds of each run, when measured"""
    print("bench-sync: mode=%s contacts=%d %s (%s): min %.1f ms, median %.1f ms, bytes received median %d (%d runs)%s"
          % (MODE, N, kind, NS, min(times), statistics.median(times), statistics.median(sizes), len(times), extra))
    rec = {"server": SERVER, "path": MODE, "contacts": N, "kind": kind, "ns": NS, "ms_min": min(times),
           "ms_median": statistics.median(times), "bytes": statistics.median(sizes), "runs": len(times)}
    if cpus:
        rec.update({"cpu_ms": sum(cpus) / len(cpus) * 1000, "cpu_ms_min": min(cpus) * 1000,
                    "cpu_ms_median": statistics.median(cpus) * 1000})
    print("BENCH " + json.dumps(rec))
    sys.stdout.flush()


def main_standard():
    bob = Client("c0001@p.test", "pw", C2S, resource="r").connect()
    bob.presence(status="start")
    ver = None if MODE == "standard" else ""
    _, _, _, _, _, newver = standard_login(ver)      # a first login: the version a client keeps
    for kind in ("null", "delta"):
        times, sizes = [], []
        missed = 0
        for i in range(RUNS):
            if kind == "delta":
                bob.presence(status="s%d" % i)
            ms, nbytes, items, got, want, v = standard_login(None if MODE == "standard" else newver)
            newver = v if MODE == "versioning" else None
            missed += got < want
            times.append(ms)
            sizes.append(nbytes)
        row(kind, times, sizes, "; roster items in the last answer %d, presences %d of %d expected%s"
            % (items, got, want, ", %d runs short of the count" % missed if missed else ""))
    bob.close()


# "roster": one rename of a contact through alice's own session (the bench
# client's), then the sync: with the adapter, a change list of one item
# (doc/adapter-protocol.md "Change lists").  "roster-whole", its baseline in the same run:
# LOG_SAVES + 1 renames, more than the adapters' change logs keep
# (bench-sync.sh sets their bound to BENCH_LOG_SAVES, 4), so the adapter
# sends the whole roster, as every roster change did before change lists.
LOG_SAVES = int(os.environ.get("BENCH_LOG_SAVES", "256"))
KINDS = os.environ.get("BENCH_KINDS", "null delta" + (" roster roster-whole" if MODE == "adapter" else ""))


def rename(alice, i, times=1):
    for j in range(times):
        alice.iq("set", None, "<query xmlns='jabber:iq:roster'><item jid='c0002@p.test' name='r%d-%d'/></query>"
                 % (i, j), timeout=60)


def main():
    if MODE in ("standard", "versioning"):
        return main_standard()
    alice = Client("alice@p.test", "pw", C2S, resource="bench").connect()
    bob = Client("c0001@p.test", "pw", C2S, resource="r").connect()
    bob.presence(status="start")
    ms, s = sync(alice, None)
    key = s.get("key")
    full_ms = ms
    for kind in KINDS.split():
        times, sizes = [], []
        runs = max(3, RUNS // 2) if kind == "roster-whole" else RUNS
        cpus = []
        for i in range(runs):
            c0 = cpu_s()        # from before the change: its ingest is a part of a delta's cost
            if kind == "delta":
                bob.presence(status="s%d" % i)
            elif kind == "roster":
                rename(alice, i)
            elif kind == "roster-whole":
                rename(alice, i, LOG_SAVES + 1)
            b0 = alice.bytes_in
            ms, s = sync(alice, key)
            cpus.append(cpu_s() - c0)
            sizes.append(alice.bytes_in - b0)
            want = "delta"
            assert s.get("type") == want, "type %r" % s.get("type")
            assert (len(list(s)) == 0) == (kind == "null"), "%s sync with %d children" % (kind, len(list(s)))
            if kind.startswith("roster"):
                items = [it.get("jid") for qq in s.findall(q("jabber:iq:roster", "query")) for it in qq]
                assert items == ["c0002@p.test"], "%s sync items %r" % (kind, items)
            key = s.get("key")
            times.append(ms)
        row(kind, times, sizes, "; synckeyd CPU %.3f ms/sync (mean; min %.3f, median %.3f; first full sync %.1f ms)"
            % (sum(cpus) / runs * 1000, min(cpus) * 1000, statistics.median(cpus) * 1000, full_ms), cpus)
    alice.close()
    bob.close()


main()
