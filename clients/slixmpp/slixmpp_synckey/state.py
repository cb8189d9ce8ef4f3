"""The client's copy of the synckey state, the digest (xep/synckey.xml, "Canonical form for the digest")
and the client rules for applying an answer (xep/ "Sync result", "Applying an answer (client rules)").

Pure Python (stdlib only) and independent of slixmpp, so that the unit
tests can check it against the specification's examples.
"""
import base64
import hashlib
import xml.etree.ElementTree as ET

NS_SYNC = "urn:xmpp:synckey:0"
NS_ADAPTER = "urn:xmpp:synckey:adapter:0"
NS_ROSTER = "jabber:iq:roster"
NS_CLIENT = "jabber:client"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

SUBSCRIPTIONS = ("none", "to", "from", "both")
MAX_GROUPS = 256            # xep/ "Field values, byte-exact": only the first 256 <group/> count
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
TYPES = ("delta", "full", "more")


class Malformed(Exception):
    """An answer the client must not apply (xep/ "Applying an answer (client rules)")."""


def q(ns, name):
    return "{%s}%s" % (ns, name)


def text_of(el):
    """The concatenation of an element's character data children (9.2)."""
    return "".join([el.text or ""] + [c.tail or "" for c in el])


def bare(jid):
    return jid.split("/", 1)[0]


def priority_of(text):
    """<priority/> read as C strtol(text, NULL, 10), clamped to -128..127."""
    i, n = 0, len(text)
    while i < n and text[i] in " \t\n\v\f\r":
        i += 1
    sign = 1
    if i < n and text[i] in "+-":
        sign = -1 if text[i] == "-" else 1
        i += 1
    j = i
    while j < n and "0" <= text[j] <= "9":
        j += 1
    if j == i:
        return 0
    return max(-128, min(127, sign * int(text[i:j])))


def item_record(el):
    """A roster <item/> as (jid, fields) or None when it is not part of the
    state (no jid, unknown subscription).  fields: (sub, ask, name, groups)."""
    jid = el.get("jid")
    if jid is None:
        return None
    sub = el.get("subscription") or "none"
    if el.get("subscription") == "":
        sub = ""
    if sub not in SUBSCRIPTIONS:
        return None
    ask = "subscribe" if el.get("ask") == "subscribe" else ""
    groups = [text_of(g) for g in el.findall(q(NS_ROSTER, "group"))[:MAX_GROUPS]]
    return jid, (sub, ask, el.get("name") or "", tuple(sorted(set(groups), key=lambda s: s.encode())))


def presence_fields(el):
    """An available presence's digest fields: (show, priority, status)."""
    show = el.find(q(NS_CLIENT, "show"))
    prio = el.find(q(NS_CLIENT, "priority"))
    statuses = el.findall(q(NS_CLIENT, "status"))
    status = next((s for s in statuses if s.get(XML_LANG) is None), statuses[0] if statuses else None)
    return (text_of(show) if show is not None else "",
            priority_of(text_of(prio)) if prio is not None else 0,
            text_of(status) if status is not None else "")


def record_bytes(kind, fields):
    return b"".join(f.encode("utf-8") + b"\0" for f in (kind,) + tuple(fields)) + b"\1"


class State:
    """Roster items by JID and available presences by full JID.

    items: jid -> (subscription, ask, name, groups)
    pres:  full jid -> the presence as serialised XML (jabber:client), so it
           can be handed to slixmpp again after a restart."""

    def __init__(self, items=None, pres=None):
        self.items = dict(items or {})
        self.pres = dict(pres or {})

    def copy(self):
        return State(self.items, self.pres)

    def digest(self):
        recs = [record_bytes("R", (jid, sub, ask, name) + groups)
                for jid, (sub, ask, name, groups) in self.items.items()]
        for jid, xml in self.pres.items():
            show, prio, status = presence_fields(ET.fromstring(xml))
            recs.append(record_bytes("P", (jid, show, str(prio), status)))
        return base64.b64encode(hashlib.sha256(b"".join(sorted(recs))).digest()).decode()

    def put_presence(self, el):
        """One presence stanza (an Element): available replaces the resource,
        unavailable from a full JID removes it, from a bare JID removes all."""
        frm = el.get("from")
        if frm is None:
            return
        typ = el.get("type")
        if typ is None:
            self.pres[frm] = presence_xml(el)
        elif typ == "unavailable":
            if "/" in frm:
                self.pres.pop(frm, None)
            else:
                for full in [j for j in self.pres if bare(j) == frm]:
                    del self.pres[full]

    def put_item(self, el):
        jid = el.get("jid")
        if jid is None:
            return
        if el.get("subscription") == "remove":
            self.items.pop(jid, None)
            return
        rec = item_record(el)
        if rec is None:
            self.items.pop(jid, None)  # not part of the state
        else:
            self.items[rec[0]] = rec[1]


def presence_xml(el):
    """A presence child as stored: serialised in jabber:client, without `to`."""
    attrs = {k: v for k, v in el.attrib.items() if k != "to"}
    copy = ET.Element(el.tag, attrs)
    copy.text = el.text
    copy.extend(list(el))
    try:
        return ET.tostring(copy, encoding="unicode", default_namespace=NS_CLIENT)
    except ValueError:      # an element without a namespace
        return ET.tostring(copy, encoding="unicode")


class Limits:
    """What the client accepts from the network (every bound in one place)."""
    max_parts = 2000            # parts of one paged answer
    max_items = 100000          # roster items in one answer
    max_presences = 200000      # presence children in one answer
    max_bytes = 64 * 1024 * 1024    # all parts together, as serialised
    max_token = 128             # keys and page tokens (sections 8.2, 8.4)


class Answer:
    """One sync answer, its parts gathered (xep/ "Paging")."""

    def __init__(self, limits=Limits):
        self.limits = limits
        self.type = None
        self.reason = None
        self.key = None
        self.digest = None
        self.partial = False
        self.more = None
        self.parts = 0
        self.bytes = 0
        self.items = []         # <item/> elements, in document order
        self.available = []     # available <presence/>, in document order
        self.unavailable = []   # unavailable <presence/>, in document order

    def add_part(self, sync, size=0):
        """sync: the <sync/> Element of one part.  Raises Malformed."""
        lim = self.limits
        self.parts += 1
        self.bytes += size
        if self.parts > lim.max_parts:
            raise Malformed("more than %d parts" % lim.max_parts)
        if self.bytes > lim.max_bytes:
            raise Malformed("more than %d bytes in one answer" % lim.max_bytes)
        typ = sync.get("type")
        if self.parts == 1:
            if typ not in ("delta", "full"):
                raise Malformed("unknown answer type %r" % typ)
            self.type = typ
            self.reason = sync.get("reason")
            self.key = sync.get("key")
            self.digest = sync.get("digest")
            self.partial = sync.get("presence") == "partial"
            if not token_ok(self.key, lim.max_token):
                raise Malformed("the answer has no usable key")
            if self.digest is None or len(self.digest) != 44:
                raise Malformed("the answer has no usable digest")
            if typ == "full" and not self.reason:
                raise Malformed("a full answer without reason")
        elif typ != "more":
            raise Malformed("a later part of type %r" % typ)
        more = sync.get("more")
        if more is not None and not token_ok(more, lim.max_token):
            raise Malformed("a malformed page token")
        self.more = more
        for child in sync:
            if child.tag == q(NS_ROSTER, "query"):
                for it in child.findall(q(NS_ROSTER, "item")):
                    self.items.append(it)
            elif child.tag == q(NS_CLIENT, "presence"):
                t = child.get("type")
                if t is None:
                    self.available.append(child)
                elif t == "unavailable":
                    self.unavailable.append(child)
        if len(self.items) > lim.max_items:
            raise Malformed("more than %d roster items" % lim.max_items)
        if len(self.available) + len(self.unavailable) > lim.max_presences:
            raise Malformed("more than %d presences" % lim.max_presences)

    def mode(self):
        if self.type == "full":
            return "full"
        return "delta" if (self.items or self.available or self.unavailable) else "null"

    def apply(self, state):
        """The client rules (xep/ "Applying an answer (client rules)") on a copy of state: returns the new
        State, or raises Malformed when its digest differs from `digest`."""
        new = State() if self.type == "full" else state.copy()
        for el in self.unavailable:
            new.put_presence(el)
        for el in self.items:
            new.put_item(el)
        for el in self.available:
            new.put_presence(el)
        got = new.digest()
        if got != self.digest:
            raise DigestMismatch("digest %s, the answer says %s" % (got, self.digest))
        return new


class DigestMismatch(Malformed):
    pass


def token_ok(tok, maxlen):
    return tok is not None and 0 < len(tok) <= maxlen and all(c in TOKEN_CHARS for c in tok)
