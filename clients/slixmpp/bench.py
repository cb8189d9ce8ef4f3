"""bench.py - slixmpp's standard login against slixmpp + xep_synckey, on a real server.

Run by run-bench.sh on a lab it prepared (lab.sh, synckeyd with the server
adapter): demo@p.test has N contacts (both), ONLINE of them are online,
and before each round 1 % of the roster changes status while demo is away.
Each round: the plugin's login (a delta, then a checkpoint at logout), then
a standard login (send_presence + get_roster, no plugin).  Measured from
session_start until the session is ready (roster and every online
contact's presence in place): bytes received on the stream and ms.
RUNS rounds (default 5, at most 20); min and median printed with the
conditions.  Every wait is bounded.
"""
import asyncio
import os
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
top = os.environ.get("LAB_TOP") or os.path.abspath(os.path.join(here, "..", ".."))
sys.path.insert(0, os.path.join(top, "tests", "interop"))
sys.path.insert(0, here)
from xmpp import Client  # noqa: E402
from slixmpp import ClientXMPP  # noqa: E402
import slixmpp_synckey  # noqa: E402

LAB = os.environ["LAB"]
C2S = int(os.environ["LAB_C2S"])
SERVER = os.environ.get("LAB_SERVER", "prosody")
N = int(os.environ.get("BENCH_N", "1000"))
ONLINE = N * 30 // 100
CHANGED = max(1, N // 100)
RUNS = min(20, int(os.environ.get("BENCH_RUNS", "5")))
CACHE = os.path.join(LAB, "bench-synckey.json")


async def session(plugin):
    """One login of demo; returns (mode, bytes, ms) from session_start to ready."""
    x = ClientXMPP("demo@p.test/bench", "pw")
    x.register_plugin("xep_0030")
    if plugin:
        x.register_plugin("xep_synckey", {"cache_path": CACHE}, module=slixmpp_synckey)
    x["feature_mechanisms"].unencrypted_plain = True
    loop = asyncio.get_event_loop()
    started, ready = loop.create_future(), loop.create_future()
    rx = [0]
    orig = x.data_received

    def counted(data):
        rx[0] += len(data)
        orig(data)
    x.data_received = counted

    def online_count(_p=None):
        n = sum(1 for j in x.client_roster if x.client_roster[j].resources)
        if n >= ONLINE and roster_in[0] and not ready.done():
            ready.set_result(time.monotonic())
    roster_in = [False]

    def on_roster(_iq):
        roster_in[0] = True
        online_count()
    x.add_event_handler("session_start", lambda e: started.done() or started.set_result((time.monotonic(), rx[0])))
    x.add_event_handler("got_online", online_count)
    x.add_event_handler("roster_update", on_roster)
    x.connect(("127.0.0.1", C2S), force_starttls=False, disable_starttls=True)
    try:
        t0, rx0 = await asyncio.wait_for(started, 20)
        mode = "standard"
        if plugin:
            rep = await asyncio.wait_for(x["xep_synckey"].start(), 60)
            mode = rep["mode"]
            online_count()
        else:
            x.send_presence()
            await x.get_roster(timeout=20)
        t1 = await asyncio.wait_for(ready, 30)
        got = (mode, rx[0] - rx0, (t1 - t0) * 1000.0)
        if plugin:
            await x["xep_synckey"].checkpoint()
        x.disconnect(wait=2)
        await asyncio.wait_for(x.disconnected, 10)
        return got
    finally:
        if x.transport:
            x.abort()


def conditions():
    try:
        ver = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", SERVER], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        ver = ""
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    return ("%s %s and synckeyd (server adapter) on 127.0.0.1; %s UTC; %d cores, load %s; slixmpp %s"
            % (SERVER, ver, time.strftime("%Y-%m-%d %H:%M", time.gmtime()), os.cpu_count(), load,
               __import__("slixmpp").__version__))


async def main():
    print("bench: " + conditions())
    contacts = []
    for i in range(ONLINE):
        c = Client("c%d@p.test" % (i * (N // ONLINE)), "pw", C2S, resource="r").connect()
        c.presence(status="online since the start", barrier=False)
        contacts.append(c)
    contacts[-1].ping()
    time.sleep(1)
    print("bench: demo@p.test has %d contacts, %d online (30 %%); %d change status before each round (1 %%); "
          "%d rounds" % (N, ONLINE, CHANGED, RUNS))
    first = await session(True)
    print("bench: first plugin login (%s): %d bytes, %.0f ms" % first)
    rows = {"standard": [], "synckey": []}
    modes = []
    for r in range(RUNS):
        for c in contacts[(r * CHANGED) % ONLINE:][:CHANGED]:
            c.presence(show="away", status="round %d" % r, barrier=False)
        contacts[-1].ping()
        time.sleep(0.3)
        mode, b, ms = await session(True)
        modes.append(mode)
        rows["synckey"].append((b, ms))
        rows["standard"].append((await session(False))[1:])
    for c in contacts:
        c.close()
    print()
    print("| slixmpp, 1 000 contacts, 30 % online, 1 % changed | bytes min | bytes median | ms min | ms median |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, label in (("standard", "standard login (send_presence + get_roster)"),
                        ("synckey", "xep_synckey plugin (marked presence + sync)")):
        bs = [b for b, _ in rows[name]]
        ms = [m for _, m in rows[name]]
        print("| %s | %d | %d | %.1f | %.1f |" % (label, min(bs), statistics.median(bs), min(ms),
                                                  statistics.median(ms)))
    ratio = statistics.median([b for b, _ in rows["synckey"]]) / statistics.median([b for b, _ in rows["standard"]])
    print()
    print("bench: plugin modes %s; bytes ratio (median) %.1f %%" % (",".join(modes), ratio * 100))
    return 0 if all(m == "delta" for m in modes) else 1


if __name__ == "__main__":
    sys.exit(asyncio.get_event_loop().run_until_complete(main()))
