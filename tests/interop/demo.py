"""demo.py - the README demo: a 1 000-contact roster, full then delta then null, against the standard way.

Run by tests/demo.sh with LAB prepared by lab.sh (nothing but the config);
this script writes the accounts and rosters, starts Prosody and synckeyd
on 127.0.0.1, logs 30 % of the contacts in, drives the synckey CLI, prints
the table and stops everything it started.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xmpp import Client  # noqa: E402

LAB = os.environ["LAB"]
C2S = int(os.environ["LAB_C2S"])
COMP = int(os.environ["LAB_COMP"])
SYNCKEYD = os.environ["SYNCKEYD"]
SYNCKEY = os.environ["SYNCKEY"]
N = 1000
ONLINE = 300
HOSTDIR = os.path.join(LAB, "data", "p%2etest")
procs = []
starts = [0]


def stop():
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    procs.clear()


def login_contacts():
    online = []
    for i in range(ONLINE):
        c = Client("c%d@p.test" % (i * (N // ONLINE)), "pw", C2S, resource="r").connect()
        c.presence(status="online since the start")
        online.append(c)
    return online


def change(online, k, what):
    """k contacts change status while the demo user is away (1 % of the roster: 10)."""
    for c in online[:k]:
        c.presence(show="away", status="%s %d" % (what, time.monotonic_ns()))


def write_world():
    os.makedirs(os.path.join(HOSTDIR, "accounts"), exist_ok=True)
    os.makedirs(os.path.join(HOSTDIR, "roster"), exist_ok=True)
    for name in ["demo"] + ["c%d" % i for i in range(N)]:
        with open(os.path.join(HOSTDIR, "accounts", name + ".dat"), "w") as f:
            f.write('return { ["password"] = "pw"; };\n')
    with open(os.path.join(HOSTDIR, "roster", "demo.dat"), "w") as f:
        f.write("return {\n  [false] = { version = 1; pending = {} };\n")
        for i in range(N):
            f.write('  ["c%d@p.test"] = { subscription = "both"; name = "Contact %d"; groups = { ["Group %d"] = true } };\n'
                    % (i, i, i % 10))
        f.write("}\n")
    for i in range(N):
        with open(os.path.join(HOSTDIR, "roster", "c%d.dat" % i), "w") as f:
            f.write('return {\n  [false] = { version = 1; pending = {} };\n'
                    '  ["demo@p.test"] = { subscription = "both"; name = "Demo"; groups = {} };\n}\n')
    with open(os.path.join(LAB, "pw"), "w") as f:
        f.write("pw\n")
    os.chmod(os.path.join(LAB, "pw"), 0o600)


def wait_port(port):
    import socket
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("demo: nothing listens on 127.0.0.1:%d" % port)


def start():
    log = open(os.path.join(LAB, "prosody.out"), "a")
    procs.append(subprocess.Popen(["prosody", "--config", os.path.join(LAB, "prosody.cfg.lua"), "-F"],
                                  stdout=log, stderr=log))
    wait_port(C2S)
    wait_port(COMP)
    log = open(os.path.join(LAB, "synckeyd.log"), "a")
    procs.append(subprocess.Popen([SYNCKEYD, "--server", "127.0.0.1:%d" % COMP, "--jid", "sync.p.test",
                                   "--secret-file", os.path.join(LAB, "secret"), "--domain", "p.test",
                                   "--db", os.path.join(LAB, "db"), "--log-level", "info"],
                                  stdout=log, stderr=log))
    for _ in range(100):
        log = open(os.path.join(LAB, "synckeyd.log")).read()
        if log.count("p.test: server adapter present") + log.count("p.test: privilege-only mode") > starts[0]:
            starts[0] += 1
            return
        time.sleep(0.1)
    raise SystemExit("demo: synckeyd did not attach")


def synckey(cache, *extra):
    # the lab's Prosody has no certificate: plaintext, by choice
    out = subprocess.run([SYNCKEY, "--allow-plaintext", "--jid", "demo@p.test", "--password-file", os.path.join(LAB, "pw"),
                          "--db", os.path.join(LAB, cache), "--server", "127.0.0.1:%d" % C2S, "--json",
                          "--quiet"] + list(extra) + ["sync"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit("demo: synckey failed (%d): %s" % (out.returncode, out.stderr))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    write_world()
    start()
    print("demo: Prosody and synckeyd on 127.0.0.1; demo@p.test has %d contacts; conditions: %d cores, load %s"
          % (N, os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3])))
    online = login_contacts()
    time.sleep(1)
    print("demo: %d contacts online (30 %%)" % len(online))

    rows = []
    first = synckey("cache-sync")
    rows.append(("synckey, first sync", first))
    synckey("cache-ver", "--standard")          # a standard client that stored roster ver
    print("demo: the demo user logs out; while away 5 contacts change status, 2 are renamed, 1 is added")
    for c in online[:5]:
        c.presence(show="away", status="changed while demo was away")
    editor = Client("demo@p.test", "pw", C2S, resource="editor").connect()
    editor.roster_set("c1@p.test", name="Renamed One")
    editor.roster_set("c2@p.test", name="Renamed Two")
    editor.roster_set("new@p.test", name="A New Contact")
    editor.close()
    time.sleep(0.5)
    rows.append(("synckey, reconnect (delta)", synckey("cache-sync")))
    rows.append(("synckey, reconnect again (null)", synckey("cache-sync")))
    rows.append(("standard: roster get + presence", synckey("cache-fresh", "--standard")))
    rows.append(("standard with roster versioning", synckey("cache-ver", "--standard")))

    table("reconnect without going online", rows)
    null = rows[2][1]
    beyond = null["bytes"] - null["login_bytes"]
    print("synckey null sync with the service cached: %d bytes beyond login (discovery %d, sync %d); "
          "goal at most 300: %s" % (beyond, null["disco_bytes"], beyond - null["disco_bytes"],
                                    "met" if beyond <= 300 else "MISSED"))

    # A reconnect that goes online (a chat client): 1 % of the contacts
    # changed status while away each time.
    print("demo: reconnects that go online, 10 contacts (1 %) changed before each")
    on = []
    change(online, 10, "away-a")
    on.append(("synckey + server adapter", synckey("cache-sync", "--stay", "1")))
    change(online, 10, "away-b")
    on.append(("standard: roster get + presence", synckey("cache-fresh2", "--standard")))
    change(online, 10, "away-c")
    on.append(("standard with roster versioning", synckey("cache-ver", "--standard")))
    # privilege-only: the same Prosody without the adapter module
    for c in online:
        c.close()
    stop()
    cfg = os.path.join(LAB, "prosody.cfg.lua")
    text = open(cfg).read()
    open(cfg, "w").write(text.replace('"blocklist"; "synckey"', '"blocklist"'))
    start()
    online = login_contacts()
    time.sleep(1)
    synckey("cache-sync", "--stay", "1")        # the restart reset the key: take a new one
    change(online, 10, "away-d")
    on.append(("synckey, privilege-only", synckey("cache-sync", "--stay", "1")))
    table("reconnect and go online", on)
    std = on[1][1]["bytes"]
    print("synckey + adapter received %.1f %% of the standard bytes going online (goal: at most 5 %%)"
          % (100.0 * on[0][1]["bytes"] / std))
    print()
    print("bytes: everything received on the client's TCP stream from connect to synced (TCP_INFO),")
    print("login included (login B: until authenticated and bound; disco B: finding the sync service,")
    print("0 when the cache holds it; sync B: the rest); going online, until synced and online.  ms: from authenticated to state")
    print("committed; the standard way to its last presence (a ping after initial presence marks the")
    print("end of the local replay).  %d contacts, %d online." % (N, ONLINE))
    for c in online:
        c.close()


def table(title, rows):
    print()
    print("%-34s %-18s %7s %8s %9s %10s %10s %10s" % (title, "mode", "items", "login B", "disco B",
                                                       "sync B", "bytes", "ms"))
    print("-" * 113)
    for name, r in rows:
        mode = r["mode"] + (" (%s)" % r["reason"] if r["reason"] else "")
        sync = r["bytes"] - r["login_bytes"] - r["disco_bytes"]
        print("%-34s %-18s %7d %8d %9d %10d %10d %10.1f" % (name, mode, r["items"], r["login_bytes"],
                                                            r["disco_bytes"], sync, r["bytes"], r["ms"]))
        print("DEMO " + json.dumps(dict(r, row=name, table=title, sync_bytes=sync)))
    print()


try:
    main()
finally:
    stop()
