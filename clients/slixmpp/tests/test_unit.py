"""Unit tests of slixmpp_synckey: the specification's digest examples
(xep/synckey.xml, rendered sections 7 and 9), the client rules for applying answers
(sections 8.2 to 8.4), the bounds, and the cache.  stdlib unittest; prints
TAP through tap.py's runner when run as a script."""
import json
import os
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

if not os.environ.get("SYNCKEY_INSTALLED"):     # else: the package pip installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from slixmpp_synckey.state import (Answer, DigestMismatch, Limits, Malformed, State,  # noqa: E402
                                   priority_of, presence_fields)
from slixmpp_synckey.cache import Cache  # noqa: E402

WRAP = "<iq xmlns='jabber:client'>%s</iq>"
SYNC = "urn:xmpp:synckey:0"
EMPTY = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
D_FULL = "UwK5/rCJiu2rDazufMFJNoIaPXLgwQe2mVzFlXVjlbY="
D_DELTA = "ESNl4XXfG3tqhePYSeOjOPwaMweb+Wjz2bOXNrUnp6o="
KEY1 = "AQAAAAIbTfWrxAUI3wAAAAAAAAAHAAAAAGsGroCzo2oGIDn0Q4KvpZYs_Stx"
KEY2 = "AQAAAAIbTfWrxAUI3wAAAAAAAAAIAAAAAGsIDhAwZhLsB06nz_juc6oRb8X9"

# xep/ "Key layout", byte for byte
FULL_71 = """<sync xmlns='urn:xmpp:synckey:0' type='full' reason='no-key'
        key='%s' digest='%s'>
    <query xmlns='jabber:iq:roster'>
      <item jid='ann@example.org' name='Annie' subscription='both'/>
      <item jid='bob@example.net' subscription='both'><group>Friends</group></item>
      <item jid='cid@example.org' subscription='to'/>
      <item jid='dan@example.org' subscription='to'/>
    </query>
    <presence xmlns='jabber:client' from='ann@example.org/phone'><priority>5</priority></presence>
    <presence xmlns='jabber:client' from='cid@example.org/desk'><show>dnd</show><status>In a meeting</status></presence>
    <presence xmlns='jabber:client' from='cid@example.org/tab'/>
    <presence xmlns='jabber:client' from='dan@example.org/home'/>
  </sync>""" % (KEY1, D_FULL)
# xep/ "Keys"
DELTA_72 = """<sync xmlns='urn:xmpp:synckey:0' type='delta'
        key='%s' digest='%s'>
    <query xmlns='jabber:iq:roster'>
      <item jid='ann@example.org' name='Ann' subscription='both'><group>Work</group></item>
      <item jid='bob@example.net' subscription='remove'/>
    </query>
    <presence xmlns='jabber:client' from='ann@example.org/phone'><show>away</show><priority>5</priority></presence>
    <presence xmlns='jabber:client' from='cid@example.org/tab' type='unavailable'/>
    <presence xmlns='jabber:client' from='dan@example.org' type='unavailable'/>
  </sync>""" % (KEY2, D_DELTA)
NULL_73 = "<sync xmlns='urn:xmpp:synckey:0' type='delta' key='%s' digest='%s'/>" % (KEY1, D_DELTA)
# xep/ "Paging": three parts
PAGED_76 = [
    """<sync xmlns='urn:xmpp:synckey:0' type='full' reason='reset' key='%s' digest='%s'
        more='O9FBiX2Zh5mut4q9EjdEIT'>
    <query xmlns='jabber:iq:roster'>
      <item jid='ann@example.org' name='Ann' subscription='both'><group>Work</group></item>
      <item jid='cid@example.org' subscription='to'/>
    </query></sync>""" % (KEY1, D_DELTA),
    """<sync xmlns='urn:xmpp:synckey:0' type='more' more='2-UY14u0arp-KSM-1hE_O2'>
    <query xmlns='jabber:iq:roster'><item jid='dan@example.org' subscription='to'/></query>
    <presence xmlns='jabber:client' from='ann@example.org/phone'><show>away</show><priority>5</priority></presence>
    </sync>""",
    """<sync xmlns='urn:xmpp:synckey:0' type='more'>
    <presence xmlns='jabber:client' from='cid@example.org/desk'><show>dnd</show><status>In a meeting</status></presence>
    </sync>""",
]


def sync_el(text):
    """The <sync/> as slixmpp hands it over: parsed inside a jabber:client IQ."""
    return ET.fromstring(WRAP % text).find("{%s}sync" % SYNC)


def answer(*parts, limits=Limits):
    a = Answer(limits)
    for p in parts:
        a.add_part(sync_el(p))
    return a


def pres(text):
    return ET.fromstring("<presence xmlns='jabber:client' from='x@y/z'>%s</presence>" % text)


class Digest(unittest.TestCase):
    def test_empty_state_digest_is_the_spec_value(self):
        self.assertEqual(State().digest(), EMPTY)

    def test_full_answer_of_7_1_gives_its_digest(self):
        st = answer(FULL_71).apply(State())
        self.assertEqual(st.digest(), D_FULL)
        self.assertEqual(len(st.items), 4)
        self.assertEqual(len(st.pres), 4)

    def test_delta_of_7_2_on_7_1_gives_its_digest(self):
        st = answer(DELTA_72).apply(answer(FULL_71).apply(State()))
        self.assertEqual(st.digest(), D_DELTA)
        self.assertEqual(sorted(st.items), ["ann@example.org", "cid@example.org", "dan@example.org"])
        self.assertEqual(sorted(st.pres), ["ann@example.org/phone", "cid@example.org/desk"])
        self.assertEqual(st.items["ann@example.org"], ("both", "", "Ann", ("Work",)))

    def test_priority_is_read_as_strtol_and_clamped(self):
        cases = {" 7 ": 7, "+5": 5, "007": 7, "5x": 5, "200": 127, "-300": -128, "high": 0, "": 0, "-0": 0}
        for text, want in cases.items():
            self.assertEqual(priority_of(text), want, text)
        self.assertEqual(presence_fields(pres(""))[1], 0)

    def test_status_without_own_lang_wins_and_texts_are_verbatim(self):
        p = pres("<show> away </show><status xml:lang='de'>weg</status><status> here </status>")
        self.assertEqual(presence_fields(p), (" away ", 0, " here "))
        p = pres("<status xml:lang='de'>weg</status><status xml:lang='fr'>parti</status>")
        self.assertEqual(presence_fields(p)[2], "weg")

    def test_groups_are_a_sorted_set_and_absent_subscription_is_none(self):
        a = State()
        a.put_item(ET.fromstring("<item xmlns='jabber:iq:roster' jid='a@b'><group>b</group>"
                                 "<group>a</group><group>b</group><group/></item>"))
        self.assertEqual(a.items["a@b"], ("none", "", "", ("", "a", "b")))

    def test_any_changed_field_changes_the_digest(self):
        base = answer(FULL_71).apply(State())
        for mutate in (lambda s: s.pres.pop("cid@example.org/tab"),
                       lambda s: s.items.__setitem__("dan@example.org", ("to", "subscribe", "", ())),
                       lambda s: s.pres.__setitem__("ann@example.org/phone",
                                                    "<presence xmlns='jabber:client'><priority>6</priority></presence>")):
            s = base.copy()
            mutate(s)
            self.assertNotEqual(s.digest(), D_FULL)


class Apply(unittest.TestCase):
    def setUp(self):
        self.st = answer(FULL_71).apply(State())

    def test_null_answer_keeps_the_state(self):
        a = answer(NULL_73)
        self.assertEqual(a.mode(), "null")
        self.assertEqual(a.apply(answer(DELTA_72).apply(self.st)).digest(), D_DELTA)

    def test_full_answer_discards_the_old_state(self):
        old = self.st.copy()
        old.items["zed@example.org"] = ("both", "", "", ())
        old.pres["zed@example.org/x"] = "<presence xmlns='jabber:client' from='zed@example.org/x'/>"
        self.assertEqual(answer(FULL_71).apply(old).digest(), D_FULL)

    def test_paged_answer_of_7_6_applies_all_parts(self):
        a = answer(*PAGED_76)
        self.assertEqual((a.type, a.reason, a.parts, a.more), ("full", "reset", 3, None))
        self.assertEqual(a.apply(self.st).digest(), D_DELTA)

    def test_a_wrong_digest_is_refused(self):
        bad = DELTA_72.replace("<item jid='bob@example.net' subscription='remove'/>", "")
        with self.assertRaises(DigestMismatch):
            answer(bad).apply(self.st)

    def test_delta_on_a_different_state_is_refused(self):
        other = self.st.copy()
        other.pres["eve@example.org/x"] = "<presence xmlns='jabber:client' from='eve@example.org/x'/>"
        with self.assertRaises(DigestMismatch):
            answer(DELTA_72).apply(other)

    def test_unavailable_first_then_items_then_available(self):
        # an available and an unavailable presence of one resource in one
        # answer: the available one, applied last, stays
        text = ("<sync xmlns='urn:xmpp:synckey:0' type='delta' key='k' digest='%s'>"
                "<presence xmlns='jabber:client' from='ann@example.org/phone'><priority>5</priority></presence>"
                "<presence xmlns='jabber:client' from='ann@example.org' type='unavailable'/></sync>" % D_FULL)
        self.assertEqual(answer(text).apply(self.st).digest(), D_FULL)

    def test_unknown_type_missing_key_or_digest_are_malformed(self):
        for text in (FULL_71.replace("type='full'", "type='partial'"),
                     FULL_71.replace("key='%s'" % KEY1, ""),
                     FULL_71.replace("digest='%s'" % D_FULL, ""),
                     FULL_71.replace(KEY1, "bad key!"),
                     FULL_71.replace("reason='no-key'", ""),
                     PAGED_76[0].replace("O9FBiX2Zh5mut4q9EjdEIT", "x" * 129)):
            with self.assertRaises(Malformed):
                answer(text)

    def test_later_part_must_be_more(self):
        with self.assertRaises(Malformed):
            answer(PAGED_76[0], PAGED_76[0])

    def test_bounds_on_parts_items_and_presences(self):
        class Small(Limits):
            max_parts = 2
            max_items = 3
            max_presences = 3
        with self.assertRaises(Malformed):
            answer(*PAGED_76, limits=Small)
        with self.assertRaises(Malformed):
            answer(FULL_71, limits=Small)


class CacheTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "c.json")

    def tearDown(self):
        self.dir.cleanup()

    def test_roundtrip_keeps_client_key_and_state(self):
        c = Cache(self.path).load()
        st = answer(FULL_71).apply(State())
        c.service, c.adapter = "sync.p.test", True
        c.commit(st, KEY1)
        d = Cache(self.path).load()
        self.assertEqual((d.client, d.key, d.service, d.adapter), (c.client, KEY1, "sync.p.test", True))
        self.assertEqual(d.state.digest(), D_FULL)
        self.assertEqual(os.listdir(self.dir.name), ["c.json"])  # no temporary file left
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)

    def test_an_edited_cache_is_refused_but_keeps_its_client(self):
        c = Cache(self.path).load()
        c.commit(answer(FULL_71).apply(State()), KEY1)
        d = json.load(open(self.path))
        d["items"]["ann@example.org"][2] = "Mallory"
        json.dump(d, open(self.path, "w"))
        e = Cache(self.path).load()
        self.assertIsNone(e.key)
        self.assertEqual(e.state.digest(), EMPTY)
        self.assertEqual(e.client, c.client)
        self.assertIn("digest", e.problem)

    def test_a_truncated_or_foreign_file_is_not_used(self):
        for text in ("{\"version\": 1, \"client\": ", "[]", "{\"version\": 9}"):
            with open(self.path, "w") as f:
                f.write(text)
            c = Cache(self.path).load()
            self.assertIsNone(c.key)
            self.assertTrue(c.client.startswith("slix-"))
            self.assertIsNotNone(c.problem)


class Publish(unittest.TestCase):
    """The plugin feeding slixmpp's own roster and presence objects (a real
    slixmpp client object, never connected)."""

    def setUp(self):
        import asyncio
        from slixmpp import ClientXMPP
        import slixmpp_synckey
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.x = ClientXMPP("alice@example.org/laptop", "pw")
        self.x.register_plugin("xep_synckey", {"cache_path": "/nonexistent"}, module=slixmpp_synckey)
        self.p = self.x["xep_synckey"]
        self.events = []
        for ev in ("got_online", "got_offline", "changed_status", "roster_update"):
            self.x.add_event_handler(ev, lambda e, ev=ev: self.events.append(ev))

    def tearDown(self):
        self.loop.close()

    def view(self):
        r = self.x.client_roster
        return ({j: (r[j]["subscription"], r[j]["name"], sorted(r[j]["groups"])) for j in r},
                {"%s/%s" % (j, res): (d["show"], d["status"], d["priority"])
                 for j in r for res, d in r[j].resources.items()})

    def test_a_full_then_a_delta_reach_slixmpp_roster_and_events(self):
        st = answer(FULL_71).apply(State())
        self.p._publish(st)
        items, pres = self.view()
        self.assertEqual(items["bob@example.net"], ("both", "", ["Friends"]))
        self.assertEqual(pres["cid@example.org/desk"], ("dnd", "In a meeting", 0))
        self.assertEqual(pres["ann@example.org/phone"], ("", "", 5))
        self.assertEqual(self.events.count("got_online"), 3)
        self.p._publish(answer(DELTA_72).apply(st))
        items, pres = self.view()
        self.assertNotIn("bob@example.net", items)
        self.assertEqual(items["ann@example.org"], ("both", "Ann", ["Work"]))
        self.assertEqual(sorted(pres), ["ann@example.org/phone", "cid@example.org/desk"])
        self.assertEqual(pres["ann@example.org/phone"][0], "away")
        self.assertIn("got_offline", self.events)

    def test_a_removed_item_leaves_slixmpp_roster(self):
        self.p._publish(answer(FULL_71).apply(State()))
        self.p._shown = {}      # a new process: slixmpp's roster from the server ...
        st = answer(DELTA_72).apply(answer(FULL_71).apply(State()))
        self.p._publish(st)     # ... and the cache's state fed in
        self.assertNotIn("bob@example.net", self.view()[0])

    def test_presence_held_during_the_sync_is_applied_after_it(self):
        self.p._held = []
        el = ET.fromstring("<presence xmlns='jabber:client' from='cid@example.org/desk' "
                           "to='alice@example.org/laptop'><show>xa</show></presence>")
        self.p._on_presence(self.x.Presence(xml=el))
        live = self.p._release_held(answer(FULL_71).apply(State()))
        self.assertIsNone(self.p._held)
        self.assertEqual(presence_fields(ET.fromstring(live.pres["cid@example.org/desk"]))[0], "xa")

    def test_own_resources_are_not_part_of_the_state(self):
        self.p.live = State()
        el = ET.fromstring("<presence xmlns='jabber:client' from='alice@example.org/phone'/>")
        self.p._on_presence(self.x.Presence(xml=el))
        self.assertEqual(self.p.live.pres, {})


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from tap import run_tap
    sys.exit(run_tap(unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])))
