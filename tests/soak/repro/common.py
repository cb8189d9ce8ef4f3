"""common.py - what the reproducers share: a session, a full sync's presence."""
import os
import time

from xmpp import Client, State, q, NS_SYNC

C2S = int(os.environ["LAB_C2S"])


def login(jid, res, status=None):
    c = Client(jid, "pw", C2S, resource=res).connect()
    if status is not None:
        c.presence(status=status)
    return c


def sync(jid, cid):
    """A full sync of a new client ID: (presence {full JID: (show, prio, status)}, presence attribute)."""
    c = login(jid, "sync-" + cid)
    s = c.iq("get", "sync.p.test", "<sync xmlns='%s' client='%s'/>" % (NS_SYNC, cid)).find(q(NS_SYNC, "sync"))
    c.close()
    st = State()
    st.apply(s)
    return st.pres, s.get("presence")


def fresh_login(jid):
    """The full JIDs a fresh ordinary login of jid receives presence from (not its own)."""
    o = login(jid, "oracle")
    o.iq("get", None, "<query xmlns='jabber:iq:roster'/>")
    o.send("<presence/>")
    o.ping()
    end = time.monotonic() + 3
    while time.monotonic() < end and o._pump(0.3):
        pass
    got = sorted(e.get("from") for e in o.queue if e.tag.endswith("presence") and e.get("type") is None
                 and not e.get("from", "").startswith(jid))
    o.offline()
    return got
