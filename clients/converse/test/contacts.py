"""contacts.py - ordinary XMPP sessions on the lab for the converse.js tests (no synckey in them).

Reads one JSON command a line on stdin, answers one JSON line on stdout:
  {"op": "online", "user": "bob", "res": "r1", "show": "away", "status": "..", "prio": 5}
  {"op": "offline", "user": "bob", "res": "r1"}
  {"op": "roster_set", "jid": "x@p.test", "name": "..", "groups": [..]} / {"op": "roster_remove", "jid": ..}
      (as alice, from a session that never sends presence)
  {"op": "online_many", "users": [...], "shows": [...]}   many sessions at once (bench)
  {"op": "truth", "user": "alice"}  a fresh ordinary login: roster get + initial presence,
      the presence flood collected until a ping returns (Prosody answers local probes first)
  {"op": "quit"}
The server's truth is what such a login shows: {"items": [...], "presence": {full jid: {show, prio, status}}}.
Every wait is bounded (xmpp.py); 127.0.0.1 only.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("CV_TOP") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."), "tests", "interop"))
from xmpp import Client, q, NS_ROSTER, NS_CLIENT  # noqa: E402

PORT = int(os.environ["LAB_C2S"])
sessions = {}
admin = None


def session(user, res):
    k = (user, res)
    if k not in sessions:
        sessions[k] = Client("%s@p.test" % user, "pw", PORT, resource=res).connect()
    return sessions[k]


def truth(user):
    c = Client("%s@p.test" % user, "pw", PORT, resource="truth%d" % int(time.time() * 1000)).connect()
    try:
        r = c.iq("get", None, "<query xmlns='jabber:iq:roster'/>")
        items = []
        for it in r.find(q(NS_ROSTER, "query")):
            items.append({"jid": it.get("jid"), "name": it.get("name") or "", "subscription": it.get("subscription") or "none",
                          "ask": it.get("ask") or "", "groups": sorted({g.text or "" for g in it.findall(q(NS_ROSTER, "group"))})})
        c.send("<presence/>")
        c.ping(20)
        pres = {}
        for el in c.queue:
            if el.tag != q(NS_CLIENT, "presence"):
                continue
            frm = el.get("from") or ""
            if frm.split("/")[0] == "%s@p.test" % user:
                continue
            if el.get("type") is None:
                show = el.findtext(q(NS_CLIENT, "show")) or ""
                prio = el.findtext(q(NS_CLIENT, "priority")) or "0"
                pres[frm] = {"show": show, "prio": int(prio), "status": el.findtext(q(NS_CLIENT, "status")) or ""}
            elif el.get("type") == "unavailable":
                pres.pop(frm, None)
        return {"items": items, "presence": pres, "bytes": c.bytes_in}
    finally:
        c.close()


def main():
    global admin
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        out = {"ok": True}
        try:
            if op == "online":
                s = session(cmd["user"], cmd.get("res", "r1"))
                s.presence(show=cmd.get("show"), status=cmd.get("status"), priority=cmd.get("prio"))
            elif op == "online_many":
                shows = cmd.get("shows") or [None]
                for i, u in enumerate(cmd["users"]):
                    s = session(u, "r1")
                    s.presence(show=shows[i % len(shows)], barrier=False)
                for u in cmd["users"]:
                    session(u, "r1").ping(30)
            elif op == "offline":
                s = sessions.pop((cmd["user"], cmd.get("res", "r1")))
                s.offline()
            elif op in ("roster_set", "roster_remove"):
                if admin is None:
                    admin = Client("alice@p.test", "pw", PORT, resource="admin").connect()
                admin.roster_set(cmd["jid"], cmd.get("name"), cmd.get("groups", ()), remove=op == "roster_remove")
                admin.queue.clear()
            elif op == "truth":
                out["truth"] = truth(cmd.get("user", "alice"))
            elif op == "quit":
                break
            else:
                raise ValueError("unknown op " + op)
        except Exception as e:  # the test prints it as a failure
            out = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        for s in list(sessions.values()):
            s.queue.clear()
        print(json.dumps(out), flush=True)
    for s in sessions.values():
        s.close()
    if admin:
        admin.close()


main()
