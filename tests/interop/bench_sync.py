"""bench_sync.py - null and delta syncs through a real Prosody, by roster size (a benchmark, not a test).

Run by bench-sync.sh with a lab prepared by lab.sh: Prosody on 127.0.0.1
with alice's roster of $BENCH_N contacts (a quarter each both, to, from,
none), synckeyd started by lab.sh.  One contact (c0001, subscription
both) is online and changes status before every delta sync.  Prints the
round trip of the sync IQ as the client sees it (min and median of RUNS)
and synckeyd's CPU per sync (utime + stime from /proc, over all RUNS).
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xmpp import Client, q, NS_SYNC  # noqa: E402

C2S = int(os.environ["LAB_C2S"])
N = int(os.environ["BENCH_N"])
PID = int(open(os.path.join(os.environ["LAB"], "synckeyd.pid")).read())
RUNS = int(os.environ.get("BENCH_RUNS", "21"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s():
    f = open("/proc/%d/stat" % PID).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def sync(c, key):
    t = time.perf_counter()
    res = c.iq("get", "sync.p.test", "<sync xmlns='%s' client='bench'%s/>" % (NS_SYNC, " key='%s'" % key if key else ""),
               timeout=60)
    s = res.find(q(NS_SYNC, "sync"))
    assert s is not None, "no answer"
    more = s.get("more")
    while more:                                 # a full answer is paged at 20 000
        r = c.iq("get", "sync.p.test", "<sync xmlns='%s' client='bench' more='%s'/>" % (NS_SYNC, more), timeout=60)
        more = r.find(q(NS_SYNC, "sync")).get("more")
    ms = (time.perf_counter() - t) * 1000
    return ms, s


def main():
    alice = Client("alice@p.test", "pw", C2S, resource="bench").connect()
    bob = Client("c0001@p.test", "pw", C2S, resource="r").connect()
    bob.presence(status="start")
    ms, s = sync(alice, None)
    key = s.get("key")
    full_ms = ms
    for kind in ("null", "delta"):
        times = []
        c0 = cpu_s()
        for i in range(RUNS):
            if kind == "delta":
                bob.presence(status="s%d" % i)
            ms, s = sync(alice, key)
            want = "delta"
            assert s.get("type") == want, "type %r" % s.get("type")
            assert (len(list(s)) == 0) == (kind == "null"), "%s sync with %d children" % (kind, len(list(s)))
            key = s.get("key")
            times.append(ms)
        cpu = (cpu_s() - c0) / RUNS * 1000
        print("bench-sync: mode=%s contacts=%d %s sync: min %.1f ms, median %.1f ms, synckeyd CPU %.2f ms/sync "
              "(%d runs; first full sync %.1f ms)" % (os.environ.get("BENCH_MODE"), N, kind, min(times),
                                                       statistics.median(times), cpu, RUNS, full_ms))
    alice.close()
    bob.close()


main()
