"""demo.py - the README demo: a 1 000-contact roster, full then delta then null, against the standard way.

Run by run-demo.sh, twice, on a lab it prepared through lab.sh (accounts,
rosters, the server and synckeyd on 127.0.0.1, Prosody or ejabberd):

  demo.py adapter         synckeyd with the server adapter: 30 % of the
                          contacts log in; the synckey CLI's first sync,
                          delta and null reconnects, the standard login
                          and roster versioning; the first table; then
                          reconnects that go online (rows kept in $LAB)
  demo.py privilege-only  the same lab, the server restarted without the
                          adapter: the privilege-only reconnect, and the
                          second table with the rows of the first run

It starts and stops nothing but its own XMPP sessions and synckey runs.
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
SERVER = os.environ.get("LAB_SERVER", "prosody")
SYNCKEY = os.environ["SYNCKEY"]
N = 1000
ONLINE = 300
KEPT = os.path.join(LAB, "demo-online.json")    # the first run's going-online rows


def server_name():
    try:
        ver = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", SERVER], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        ver = ""
    return ("Prosody" if SERVER == "prosody" else SERVER) + (" " + ver if ver else "")


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def login_contacts():
    online = []
    for i in range(ONLINE):
        c = Client("c%d@p.test" % (i * (N // ONLINE)), "pw", C2S, resource="r").connect()
        c.presence(status="online since the start")
        online.append(c)
    time.sleep(1)
    return online


def change(online, k, what):
    """k contacts change status while the demo user is away (1 % of the roster: 10)."""
    for c in online[:k]:
        c.presence(show="away", status="%s %d" % (what, time.monotonic_ns()))


def synckey(cache, *extra):
    # the lab's Prosody has no certificate: plaintext, by choice
    out = subprocess.run([SYNCKEY, "--allow-plaintext", "--jid", "demo@p.test", "--password-file", os.path.join(LAB, "pw"),
                          "--db", os.path.join(LAB, cache), "--server", "127.0.0.1:%d" % C2S, "--json",
                          "--quiet"] + list(extra) + ["sync"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit("demo: synckey failed (%d): %s" % (out.returncode, out.stderr))
    return json.loads(out.stdout.strip().splitlines()[-1])


def with_adapter():
    with open(os.path.join(LAB, "pw"), "w") as f:
        f.write("pw\n")
    os.chmod(os.path.join(LAB, "pw"), 0o600)
    print("demo: %s and synckeyd on 127.0.0.1; demo@p.test has %d contacts; %s; conditions: %d cores, load %s"
          % (server_name(), N, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), load()))
    online = login_contacts()
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
    for c in online:
        c.close()
    with open(KEPT, "w") as f:
        json.dump(on, f)


def privilege_only():
    """the same lab, the server restarted by run-demo.sh without the adapter module"""
    with open(KEPT) as f:
        on = [tuple(r) for r in json.load(f)]
    online = login_contacts()
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
    print("end of the local replay).  %d contacts, %d online; %s; load at the end %s." % (N, ONLINE, server_name(), load()))
    if SERVER == "ejabberd":
        print("ejabberd sends nothing for the probes of offline contacts (Prosody: an unavailable each), so its")
        print("standard rows hold %d roster items and the presences of the %d online contacts and the user's own." % (N, ONLINE))
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


if len(sys.argv) != 2 or sys.argv[1] not in ("adapter", "privilege-only"):
    raise SystemExit("usage: demo.py adapter|privilege-only (run by run-demo.sh)")
if sys.argv[1] == "adapter":
    with_adapter()
else:
    privilege_only()
