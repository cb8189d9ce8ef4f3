"""xmpp.py - a small, strict XMPP client for the interop tests (plain TCP, SASL PLAIN, 127.0.0.1 only).

Deterministic on purpose: every read has a timeout, stanzas are queued in
arrival order, and callers wait for exactly what they expect.
"""
import base64
import hashlib
import os
import re
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

NS_CLIENT = "jabber:client"
NS_SYNC = "urn:xmpp:synckey:0"
NS_SYNC1 = "urn:xmpp:synckey:1"
NS_ROSTER = "jabber:iq:roster"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def q(ns, name):
    return "{%s}%s" % (ns, name)


def schema_log(stanza, suffix=""):
    """SK_SCHEMA_LOG=FILE: appends each synckey stanza received to FILE, and
    each one sent to FILE.sent, one a line (tests/xep/validate-log.sh)."""
    if os.environ.get("SK_SCHEMA_LOG"):
        if isinstance(stanza, ET.Element):  # received: synckey is a child, never serialise deep trees
            stanza = "" if stanza.find(q(NS_SYNC, "*")) is None else ET.tostring(stanza, encoding="unicode")
        text = stanza.decode("utf-8", "replace") if isinstance(stanza, bytes) else stanza
        if NS_SYNC in text:
            with open(os.environ["SK_SCHEMA_LOG"] + suffix, "a", encoding="utf-8") as f:
                f.write(text.replace("\r", "&#13;").replace("\n", "&#10;") + "\n")


class Client:
    def __init__(self, jid, password, port, host="127.0.0.1", resource="t"):
        assert host.startswith("127.") or host == "::1"
        self.jid, self.password, self.port, self.host = jid, password, port, host
        self.local, self.domain = jid.split("@")
        self.resource = resource
        self.queue = []
        self.nid = 0
        self.bytes_in = 0

    # -- stream -----------------------------------------------------------
    def _open(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.sock.sendall(("<?xml version='1.0'?><stream:stream to='%s' version='1.0' "
                           "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
                           % self.domain).encode())

    def _pump(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            raise ConnectionError("stream closed by the server")
        self.bytes_in += len(data)
        self.parser.feed(data)
        for ev, el in self.parser.read_events():
            if ev == "start":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth == 1:
                    schema_log(el)
                    self.queue.append(el)
        return True

    def wait(self, pred, timeout=10.0, what="a stanza"):
        end = time.monotonic() + timeout
        while True:
            for i, el in enumerate(self.queue):
                if pred(el):
                    return self.queue.pop(i)
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no %s within %.0f s" % (what, timeout))
            self._pump(min(left, 0.5))

    def connect(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=10)
        self._open()
        self.wait(lambda e: e.tag.endswith("features"), what="stream features")
        token = base64.b64encode(("\0%s\0%s" % (self.local, self.password)).encode()).decode()
        self.sock.sendall(("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>"
                           % token).encode())
        res = self.wait(lambda e: e.tag.endswith("success") or e.tag.endswith("failure"), what="SASL answer")
        if res.tag.endswith("failure"):
            raise PermissionError("authentication failed for %s" % self.jid)
        self.queue.clear()
        self._open()
        self.wait(lambda e: e.tag.endswith("features"), what="stream features after SASL")
        res = self.iq("set", None, "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>%s</resource></bind>"
                      % self.resource)
        self.full = res.find(".//{urn:ietf:params:xml:ns:xmpp-bind}jid").text
        return self

    def close(self):
        try:
            self.sock.sendall(b"<presence type='unavailable'/></stream:stream>")
            self.sock.close()
        except OSError:
            pass

    def send(self, xml):
        schema_log(xml, ".sent")
        self.sock.sendall(xml.encode() if isinstance(xml, str) else xml)

    def iq(self, typ, to, payload, timeout=10.0, expect_error=False):
        self.nid += 1
        iid = "t%d" % self.nid
        self.send("<iq type='%s' id='%s'%s>%s</iq>" % (typ, iid, " to='%s'" % to if to else "", payload))
        res = self.wait(lambda e: e.tag == q(NS_CLIENT, "iq") and e.get("id") == iid, timeout,
                        "answer to IQ %s" % iid)
        if res.get("type") == "error" and not expect_error:
            raise RuntimeError("IQ error: %s" % ET.tostring(res).decode())
        return res

    def ping(self, timeout=10.0):
        """A round trip to the server: everything this session sent before
        has been handled by Prosody (and presence forwarded to the component)."""
        self.iq("get", self.domain, "<ping xmlns='urn:xmpp:ping'/>", timeout)

    def presence(self, show=None, status=None, priority=None, barrier=True, extra=""):
        body = extra
        if show:
            body += "<show>%s</show>" % escape(show)
        if status is not None:
            body += "<status>%s</status>" % escape(status)
        if priority is not None:
            body += "<priority>%d</priority>" % priority
        self.send("<presence>%s</presence>" % body)
        if barrier:
            self.ping()

    def offline(self):
        """Unavailable, seen by the server, then the stream closed."""
        self.send("<presence type='unavailable'/>")
        self.ping()
        self.close()

    def roster_set(self, jid, name=None, groups=(), remove=False):
        attrs = "jid=%s" % quoteattr(jid)
        if remove:
            attrs += " subscription='remove'"
        elif name:
            attrs += " name=%s" % quoteattr(name)
        g = "".join("<group>%s</group>" % escape(x) for x in groups)
        self.iq("set", None, "<query xmlns='jabber:iq:roster'><item %s>%s</item></query>" % (attrs, g))


def error_condition(iq, ns=NS_CLIENT):
    """The condition and <text/> of an IQ error, in the stream's namespace ns."""
    err = iq.find(q(ns, "error"))
    if err is None:
        return None, None
    cond = [c.tag.split("}")[1] for c in err if c.tag.startswith("{%s}" % NS_STANZAS) and not c.tag.endswith("text")]
    text = err.find(q(NS_STANZAS, "text"))
    return (cond[0] if cond else None), (text.text if text is not None else None)


# -- the state a client holds, and the canonical digest of protocol.md --------

class State:
    def __init__(self):
        self.items = {}     # jid -> (name, sub, ask, sorted groups)
        self.pres = {}      # full jid -> (show, prio, status)

    def apply(self, sync):
        if sync.get("type") == "full":
            self.items.clear()
            self.pres.clear()
        avail = []
        for child in sync:
            if child.tag == q(NS_ROSTER, "query"):
                for it in child:
                    jid = it.get("jid")
                    if it.get("subscription") == "remove":
                        self.items.pop(jid, None)
                    else:
                        self.items[jid] = (it.get("name") or "", it.get("subscription") or "none",
                                           "subscribe" if it.get("ask") == "subscribe" else "",
                                           tuple(sorted((g.text or "") for g in it.findall(q(NS_ROSTER, "group")))))
            elif child.tag == q(NS_CLIENT, "presence"):
                frm = child.get("from")
                if child.get("type") == "unavailable":
                    if "/" in frm:
                        self.pres.pop(frm, None)
                    else:
                        for k in [k for k in self.pres if k.split("/")[0] == frm]:
                            del self.pres[k]
                else:
                    avail.append(child)
        for p in avail:
            show = p.find(q(NS_CLIENT, "show"))
            prio = p.find(q(NS_CLIENT, "priority"))
            sts = p.findall(q(NS_CLIENT, "status"))
            nolang = [s for s in sts if "{http://www.w3.org/XML/1998/namespace}lang" not in s.attrib]
            st = (nolang or sts or [None])[0]
            self.pres[p.get("from")] = (show.text if show is not None else "",
                                        str(int(prio.text)) if prio is not None else "0",
                                        (st.text or "") if st is not None else "")

    def records(self):
        recs = []
        for jid, (show, prio, status) in self.pres.items():
            recs.append(b"".join(f.encode() + b"\0" for f in ("P", jid, show, prio, status)) + b"\1")
        for jid, (name, sub, ask, groups) in self.items.items():
            recs.append(b"".join(f.encode() + b"\0" for f in ("R", jid, sub, ask, name) + groups) + b"\1")
        return recs

    def digest(self, version=0):
        """Version 0's SHA-256, or version 1's LtHash16 (tests/xep/xeptool.py,
        written from the XEP alone, not from the C code)."""
        if version == 1:
            return _xeptool().lthash_digest(self.records())
        return base64.b64encode(hashlib.sha256(b"".join(sorted(self.records()))).digest()).decode()


def _xeptool():
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "xep"))
    sys.dont_write_bytecode = True
    import xeptool
    return xeptool


def roster_items(c):
    """The roster of c's account by a plain roster get, as State.items."""
    res = c.iq("get", None, "<query xmlns='%s'/>" % NS_ROSTER)
    sync = ET.Element(q(NS_SYNC, "sync"), {"type": "full"})
    sync.append(res.find(q(NS_ROSTER, "query")))
    st = State()
    st.apply(sync)
    return st.items


# -- where a suite runs (lab.sh's LAB_SERVER, LAB_ADAPTER) and what cannot hold there

LAB_SERVER = os.environ.get("LAB_SERVER", "prosody")
LAB_WHERE = LAB_SERVER if os.environ.get("LAB_ADAPTER", "1") != "0" else LAB_SERVER + "-privonly"


def ejabberd_version():
    """The ejabberd that runs the suites (Debian's package), e.g. "24.12";
    "?" when dpkg does not know it."""
    try:
        v = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "ejabberd"], capture_output=True,
                           text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        v = ""
    m = re.match(r"(?:\d+:)?(\d+(?:\.\d+)*)", v)
    return m.group(1) if m else "?"


EJ_VERSION = ejabberd_version() if LAB_SERVER == "ejabberd" else "?"


def ej_said(measured, text):
    """A skip reason measured on ejabberd MEASURED, named after the ejabberd
    that runs now: "ejabberd 24.12 (as measured on 23.01) ..." when they differ."""
    if EJ_VERSION == measured:
        return "ejabberd %s %s" % (measured, text)
    return "ejabberd %s (as measured on %s) %s" % (EJ_VERSION, measured, text)


EJ_NO_BURST = ej_said("23.01", "without the adapter sends a component no presence of the sessions "
                      "online before it connects (measured: a sync after the restart had none)")


def skip_reason(skip):
    """skip: {"ejabberd" or "ejabberd-privonly": the measured reason a case
    cannot hold there}; the reason for this run, or None."""
    return (skip or {}).get(LAB_WHERE) or (skip or {}).get(LAB_SERVER)
