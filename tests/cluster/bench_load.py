"""bench_load.py - syncs per second one synckeyd serves beside a real ejabberd, by CPU time.

Run by tests/cluster/bench.sh (which builds the lab).  For each roster
size, K sessions of K users (each with that many contacts, 30 of them
online accounts) sync in rounds: all K requests are sent at once, then all
K answers awaited.  Around each phase it reads the CPU time of synckeyd and
of ejabberd's beam from /proc/PID/task/*/schedstat (nanoseconds, the
scheduler's own accounting: no tick rounding), and prints per sync:
synckeyd's CPU, what that gives per core (1 s / CPU per sync), ejabberd's
CPU, the wall rate reached and the answer bytes.  null: nothing changed
between rounds; delta: one online contact changed status before each
round (its presence forwarded and stored: counted in synckeyd's CPU).
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.environ["LAB_INTEROP_DIR"])
from xmpp import Client, q, NS_SYNC, NS_CLIENT  # noqa: E402

C2S = int(os.environ["LAB_C2S"])
SKD_PID = int(os.environ["SKD_PID"])
BEAM_PID = int(os.environ["BEAM_PID"])
SIZES = [int(x) for x in os.environ["BENCH_SIZES"].split()]
K = int(os.environ["BENCH_K"])
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
SVC = "sync.p.test"


def cpu_ns(pid):
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def send_sync(c, key):
    c.nid += 1
    iid = "b%d" % c.nid
    c.send("<iq type='get' id='%s' to='%s'><sync xmlns='%s' client='bench'%s/></iq>"
           % (iid, SVC, NS_SYNC, " key='%s'" % key if key else ""))
    return iid


def wait_sync(c, iid):
    before = c.bytes_in
    res = c.wait(lambda e: e.tag == q(NS_CLIENT, "iq") and e.get("id") == iid, 30, "sync " + iid)
    s = res.find(q(NS_SYNC, "sync"))
    if res.get("type") != "result" or s is None:
        raise RuntimeError("sync failed: %r" % res.attrib)
    return s, c.bytes_in - before


def rounds(clients, keys, kind, changer, n):
    sizes = []
    t0, s0, b0 = time.monotonic(), cpu_ns(SKD_PID), cpu_ns(BEAM_PID)
    for r in range(n):
        if kind == "delta":
            changer.presence(status="bench-%d" % r)      # ping: forwarded before the syncs
        ids = [send_sync(c, keys[i]) for i, c in enumerate(clients)]
        for i, c in enumerate(clients):
            s, nbytes = wait_sync(c, ids[i])
            keys[i] = s.get("key")
            sizes.append(nbytes)
            if kind == "null" and s.get("type") != "delta":
                raise RuntimeError("null round answered %s" % s.get("type"))
    wall = time.monotonic() - t0
    syncs = n * len(clients)
    skd = (cpu_ns(SKD_PID) - s0) / syncs / 1000.0
    beam = (cpu_ns(BEAM_PID) - b0) / syncs / 1000.0
    return syncs, wall, skd, beam, statistics.median(sizes)


def main():
    print("bench-load: %d sessions syncing at once, %d rounds a phase; synckeyd PID %d, beam PID %d"
          % (K, ROUNDS, SKD_PID, BEAM_PID), flush=True)
    changer = Client("o01@p.test", "pw", C2S, resource="chg").connect()
    changer.presence(status="bench-start")
    for size in SIZES:
        clients = [Client("s%d_%02d@p.test" % (size, i + 1), "pw", C2S, resource="bench").connect()
                   for i in range(K)]
        keys = [None] * K
        t0, s0 = time.monotonic(), cpu_ns(SKD_PID)
        for i, c in enumerate(clients):                  # first sync: full
            s, _ = wait_sync(c, send_sync(c, None))
            keys[i] = s.get("key")
        full_us = (cpu_ns(SKD_PID) - s0) / K / 1000.0
        print("bench-load: contacts=%d full: synckeyd CPU %.0f us/sync (first sync of each session, %.2f s)"
              % (size, full_us, time.monotonic() - t0), flush=True)
        for kind in ("null", "delta"):
            rounds(clients, keys, kind, changer, 3)      # warm
            syncs, wall, skd, beam, med = rounds(clients, keys, kind, changer, ROUNDS)
            print("bench-load: contacts=%d kind=%s syncs=%d wall=%.2fs rate=%.0f/s synckeyd_cpu_us=%.1f "
                  "syncs_per_core_s=%.0f ejabberd_cpu_us=%.1f answer_bytes_median=%d load=%s"
                  % (size, kind, syncs, wall, syncs / wall, skd, 1e6 / skd if skd else 0, beam, med,
                     open("/proc/loadavg").read().split()[0]), flush=True)
        for c in clients:
            c.close()
    changer.close()
    print("bench-load: synckeyd VmRSS %d kB, VmHWM %d kB" % (status_kb(SKD_PID, "VmRSS"),
                                                             status_kb(SKD_PID, "VmHWM")), flush=True)


main()
