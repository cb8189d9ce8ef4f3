"""fake_c2s.py - a FAKE XMPP c2s server (named as such) that answers the
synckey CLI with hostile or scripted stanzas, for tests only.

    fake_c2s.py PORT SCENARIO LOGFILE

Listens on 127.0.0.1:PORT, serves connections one after another for 30 s
at most, and appends one line per request it receives to LOGFILE
("auth", "sync key=K", "checkpoint key=K", "push-answer TYPE").  It speaks just
enough XMPP for libstrophe: stream, SASL PLAIN (any password), bind.
The scenarios are listed in SCENARIOS below.
"""
import re
import socket
import sys
import time

EMPTY_DIGEST = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="  # SHA-256 of nothing
SVC = "sync.p.test"
ME = "alice@p.test"

HDR = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
       "xmlns:stream='http://etherx.jabber.org/streams' from='p.test' id='fake%d' version='1.0'>")
FEAT_SASL = ("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
             "<mechanism>PLAIN</mechanism></mechanisms></stream:features>")
FEAT_BIND = ("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>")


def good(iq_id, key, frm=SVC, typ="result", extra=""):
    t = " type='%s'" % typ if typ else ""
    return ("<iq%s id='%s' from='%s' to='%s/r'><sync xmlns='urn:xmpp:synckey:0' type='full' "
            "reason='no-key' key='%s' digest='%s'>%s</sync></iq>" % (t, iq_id, frm, ME, key, EMPTY_DIGEST, extra))


def deep(n):
    return ("<presence xmlns='jabber:client' from='bob@p.test/b'><show>away</show>" + "<x>" * n + "</x>" * n + "</presence>")


# scenario -> function(kind, iq_id, attrs) -> list of stanzas to send
SCENARIOS = {
    # an answer with the right id from a third party, then silence
    "forged-sender": lambda kind, i, a: [good(i, "EVIL", frm="mallory@p.test")] if kind == "sync" else [],
    # the right id and sender, no type
    "no-type": lambda kind, i, a: [good(i, "EVIL", typ=None)] if kind == "sync" else [],
    # a digest that matches nothing: one retry without the key, then a refusal
    "bad-digest": lambda kind, i, a: [good(i, "K1").replace(EMPTY_DIGEST, "AAAA" + EMPTY_DIGEST[4:])] if kind == "sync" else [],
    # a presence nested 30 000 deep inside the answer
    "deep": lambda kind, i, a: [good(i, "K1", extra=deep(30000))] if kind == "sync" else [],
    # a good empty answer; a stranger's roster push while online; the
    # checkpoint answered with a new key, which the next sync must carry
    "push-checkpoint": lambda kind, i, a: (
        [good(i, "K1"),
         "<iq type='set' id='push1' from='mallory@p.test' to='%s/r'><query xmlns='jabber:iq:roster'>"
         "<item jid='eve@evil.test' subscription='both' name='Eve'/></query></iq>" % ME]
        if kind == "sync" else
        ["<iq type='result' id='%s' from='%s' to='%s/r'><checkpoint xmlns='urn:xmpp:synckey:0' key='K2'/></iq>"
         % (i, SVC, ME)] if kind == "checkpoint" else []),
}


def serve(conn, scenario, log, n):
    buf = ""
    conn.settimeout(10)
    state = "hdr1"

    def send(s):
        conn.sendall(s.encode())

    while True:
        try:
            data = conn.recv(65536)
        except socket.timeout:
            return
        if not data:
            return
        buf += data.decode("utf-8", "replace")
        while True:
            if state in ("hdr1", "hdr2"):
                m = re.search(r"<stream:stream[^>]*>", buf)
                if not m:
                    break
                buf = buf[m.end():]
                send(HDR % n + (FEAT_SASL if state == "hdr1" else FEAT_BIND))
                state = "auth" if state == "hdr1" else "up"
                continue
            if state == "auth":
                m = re.search(r"<auth[^>]*>[^<]*</auth>|<auth[^>]*/>", buf)
                if not m:
                    break
                buf = buf[m.end():]
                log.write("auth\n")
                log.flush()
                send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
                state = "hdr2"
                continue
            m = re.search(r"<(iq|presence)\b[^>]*?(/>|>.*?</\1>)", buf, re.S)
            if not m:
                if "</stream:stream>" in buf:
                    send("</stream:stream>")
                    return
                break
            st = m.group(0)
            buf = buf[m.end():]
            if m.group(1) == "presence":
                continue
            iid = re.search(r"\bid=['\"]([^'\"]*)", st)
            iid = iid.group(1) if iid else ""
            if "urn:ietf:params:xml:ns:xmpp-bind" in st:
                send("<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                     "<jid>%s/r</jid></bind></iq>" % (iid, ME))
                continue
            if re.search(r"type=['\"](result|error)", st):
                if "push1" in st:
                    log.write("push-answer %s\n" % ("error" if "type='error'" in st or 'type="error"' in st else "result"))
                continue
            kind = "sync" if "<sync" in st else "checkpoint" if "<checkpoint" in st else "other"
            key = re.search(r"\bkey=['\"]([^'\"]*)", st)
            log.write("%s key=%s\n" % (kind, key.group(1) if key else ""))
            log.flush()
            out = SCENARIOS[scenario](kind, iid, st)
            if kind == "other" and not out:
                out = ["<iq type='error' id='%s' from='p.test'><error type='cancel'>"
                       "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>" % iid]
            for s in out:
                send(s)


def main():
    port, scenario, logfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    assert scenario in SCENARIOS, scenario
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    ls.settimeout(1)
    end = time.time() + 30
    n = 0
    with open(logfile, "a") as log:
        print("ready", flush=True)
        while time.time() < end:
            try:
                conn, _ = ls.accept()
            except socket.timeout:
                continue
            n += 1
            try:
                serve(conn, scenario, log, n)
            finally:
                conn.close()


if __name__ == "__main__":
    main()
