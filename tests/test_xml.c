/* test_xml.c - items, presence and sync results to and from libstrophe stanzas */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "digest.h"
#include "error.h"
#include "xml.h"

static xmpp_ctx_t *ctx;

static xmpp_stanza_t *
st(const char *xml)
{
	xmpp_stanza_t *s = xmpp_stanza_new_from_string(ctx, xml);

	assert_non_null(s);
	return s;
}

static void
items_parse(void **unused)
{
	xmpp_stanza_t *s = st("<item jid='ann@p.test' name='Ann' subscription='both' ask='subscribe'>"
	    "<group>Zoo</group><group>Work</group><group/></item>"), *same;
	struct sk_item it, again;

	(void)unused;
	assert_int_equal(sk_xml_item_parse(s, &it), 0);
	assert_string_equal(it.jid, "ann@p.test");
	assert_string_equal(it.name, "Ann");
	assert_int_equal(it.sub, SK_SUB_BOTH);
	assert_int_equal(it.ask, 1);
	assert_int_equal(it.ngroups, 3);
	assert_string_equal(it.groups[0], "");
	same = st("<item subscription='both' ask='subscribe' name='Ann' jid='ann@p.test'>"
	    "<group>Work</group><group/><group>Zoo</group></item>");
	assert_int_equal(sk_xml_item_parse(same, &again), 0);
	assert_memory_equal(it.hash, again.hash, SK_HASH_LEN);	/* groups are a set */
	sk_item_free(&again);
	sk_item_free(&it);
	xmpp_stanza_release(same);
	xmpp_stanza_release(s);
	s = st("<item subscription='both'/>");
	assert_int_equal(sk_xml_item_parse(s, &it), SK_EINVAL);
	xmpp_stanza_release(s);
	s = st("<item jid='x@y' subscription='sometimes'/>");
	assert_int_equal(sk_xml_item_parse(s, &it), SK_EINVAL);
	xmpp_stanza_release(s);
}

static void
presence_fields_status_choice_and_equality(void **unused)
{
	xmpp_stanza_t *a = st("<presence from='b@p.test/r' to='sync.p.test' id='1'>"
	    "<status xml:lang='de'>weg</status><status>away</status><show>xa</show><priority>7</priority>"
	    "<c xmlns='http://jabber.org/protocol/caps' ver='abc' node='n'/>"
	    "<delay xmlns='urn:xmpp:delay' stamp='2026-01-01T00:00:00Z'/></presence>");
	xmpp_stanza_t *b = st("<presence from='b@p.test/r' to='other' id='2'>"
	    "<status xml:lang='de'>weg</status><status>away</status><show>xa</show><priority>7</priority>"
	    "<c node='n' ver='abc' xmlns='http://jabber.org/protocol/caps'/></presence>");
	xmpp_stanza_t *c = st("<presence from='b@p.test/r'><status xml:lang='de'>weg</status>"
	    "<status>away</status><show>xa</show><priority>7</priority>"
	    "<c xmlns='http://jabber.org/protocol/caps' ver='NEW' node='n'/></presence>");
	struct sk_pres pa, pb, pc;
	int avail;

	(void)unused;
	assert_int_equal(sk_xml_pres_parse(a, &pa, &avail), 0);
	assert_int_equal(avail, 1);
	assert_string_equal(pa.status, "away");
	assert_string_equal(pa.show, "xa");
	assert_int_equal(pa.priority, 7);
	assert_null(strstr(pa.xml, "to="));
	assert_int_equal(sk_xml_pres_parse(b, &pb, &avail), 0);
	assert_int_equal(sk_xml_pres_parse(c, &pc, &avail), 0);
	/* to, id, delay and attribute order do not count; an extension does */
	assert_memory_equal(pa.hash, pb.hash, SK_HASH_LEN);
	assert_memory_not_equal(pa.hash, pc.hash, SK_HASH_LEN);
	sk_pres_free(&pa);
	sk_pres_free(&pb);
	sk_pres_free(&pc);
	xmpp_stanza_release(a);
	xmpp_stanza_release(b);
	xmpp_stanza_release(c);
	a = st("<presence from='b@p.test/r' type='unavailable'/>");
	assert_int_equal(sk_xml_pres_parse(a, &pa, &avail), 0);
	assert_int_equal(avail, 0);
	sk_pres_free(&pa);
	xmpp_stanza_release(a);
	a = st("<presence from='b@p.test' type='subscribe'/>");
	assert_int_equal(sk_xml_pres_parse(a, &pa, &avail), SK_ENOTFOUND);
	xmpp_stanza_release(a);
	a = st("<presence><show>away</show></presence>");
	assert_int_equal(sk_xml_pres_parse(a, &pa, &avail), SK_EINVAL);
	xmpp_stanza_release(a);
}

static void
a_delta_result_parses_into_an_update(void **unused)
{
	xmpp_stanza_t *s = st("<sync xmlns='urn:xmpp:synckey:0' type='delta' key='K' digest='D'>"
	    "<query xmlns='jabber:iq:roster'><item jid='ann@example.org' name='Ann' subscription='both'>"
	    "<group>Work</group></item><item jid='bob@example.net' subscription='remove'/></query>"
	    "<presence xmlns='jabber:client' from='ann@example.org/phone'><show>away</show></presence>"
	    "<presence xmlns='jabber:client' from='cid@example.org/tab' type='unavailable'/>"
	    "<presence xmlns='jabber:client' from='dan@example.org' type='unavailable'/></sync>");
	struct sk_update u;

	(void)unused;
	sk_update_init(&u);
	assert_int_equal(sk_xml_update_parse(s, &u), 0);
	assert_int_equal(u.put.nitems, 2);
	assert_int_equal(u.put.items[1].sub, SK_SUB_REMOVE);
	assert_int_equal(u.put.npres, 1);
	assert_int_equal(u.gone.n, 1);
	assert_string_equal(u.gone.v[0], "cid@example.org/tab");
	assert_int_equal(u.gone_all.n, 1);
	assert_string_equal(u.gone_all.v[0], "dan@example.org");
	sk_update_free(&u);
	xmpp_stanza_release(s);
}

static void
presence_replays_in_the_client_namespace(void **unused)
{
	xmpp_stanza_t *a = st("<presence xmlns='jabber:component:accept' from='b@p.test/r' "
	    "to='sync.p.test' id='xmlns=' xml:lang='de'><show>away</show>"
	    "<x xmlns='urn:example:x'><y a='&quot;'/></x></presence>"), *back;
	struct sk_pres p, again;
	int avail;

	(void)unused;
	assert_int_equal(sk_xml_pres_parse(a, &p, &avail), 0);
	assert_non_null(p.xml);
	/* one writer: the client namespace on top whatever the attributes say */
	if (strncmp(p.xml, SK_XML_PRES_OPEN " ", strlen(SK_XML_PRES_OPEN) + 1) != 0)
		fail_msg("written as %s", p.xml);
	if (strstr(p.xml, "component:accept") || strstr(p.xml, "sync.p.test") ||
	    !strstr(p.xml, "xml:lang=\"de\"") || !strstr(p.xml, "<show>away</show>") ||
	    !strstr(p.xml, "<x xmlns=\"urn:example:x\"><y a=\"&quot;\"/></x>"))
		fail_msg("written as %s", p.xml);
	/* what was written parses back to the same presence */
	back = st(p.xml);
	xmpp_stanza_set_attribute(back, "to", "sync.p.test");
	assert_int_equal(sk_xml_pres_parse(back, &again, &avail), 0);
	assert_memory_equal(p.hash, again.hash, SK_HASH_LEN);
	assert_string_equal(p.xml, again.xml);
	sk_pres_free(&again);
	xmpp_stanza_release(back);
	sk_pres_free(&p);
	xmpp_stanza_release(a);
}

/* A presence nested `depth` levels deep in total, or with an element of
   `attrs` attributes; malloc'd. */
static char *
shaped(int depth, int attrs)
{
	size_t cap = (size_t)depth * 16 + (size_t)attrs * 16 + 256, n;
	char *x = malloc(cap);
	int i;

	n = (size_t)snprintf(x, cap, "<presence from='b@p.test/r'><show>dnd</show><status>s</status><e");
	for (i = 0; i < attrs; i++)
		n += (size_t)snprintf(x + n, cap - n, " a%d='v'", i);
	n += (size_t)snprintf(x + n, cap - n, ">");
	for (i = 2; i < depth; i++)
		n += (size_t)snprintf(x + n, cap - n, "<d>");
	for (i = 2; i < depth; i++)
		n += (size_t)snprintf(x + n, cap - n, "</d>");
	snprintf(x + n, cap - n, "</e></presence>");
	return x;
}

/* Regression (reliability F1): depth and width are bounded, without
   recursion; what is too deep is kept without its extensions. */
static void
deep_or_wide_presence_is_kept_without_extensions(void **unused)
{
	static const struct { int depth, attrs, whole; } cases[] = {
		{ SK_XML_DEPTH_MAX, 0, 1 }, { SK_XML_DEPTH_MAX + 1, 0, 0 }, { 3000, 0, 0 },
		{ 2, SK_XML_ATTRS_MAX, 1 }, { 2, SK_XML_ATTRS_MAX + 1, 0 }, { 2, 3000, 0 },
	};
	xmpp_stanza_t *xns;
	struct sk_pres px;
	int ax;
	size_t i;

	(void)unused;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *x = shaped(cases[i].depth, cases[i].attrs);
		xmpp_stanza_t *a = st(x);
		struct sk_pres p;
		int avail;

		assert_int_equal(sk_xml_pres_parse(a, &p, &avail), 0);
		assert_int_equal(avail, 1);
		assert_string_equal(p.show, "dnd");
		assert_string_equal(p.status, "s");
		if (cases[i].whole && (p.xml == NULL || p.ext == NULL))
			fail_msg("depth %d, %d attributes: extensions dropped", cases[i].depth, cases[i].attrs);
		if (!cases[i].whole && (p.xml != NULL || p.ext != NULL))
			fail_msg("depth %d, %d attributes: kept whole", cases[i].depth, cases[i].attrs);
		sk_pres_free(&p);
		xmpp_stanza_release(a);
		free(x);
	}
	/* fuzz/crashes/xml_pres-xml-namespace-element: an element in the XML
	   namespace cannot be written as a default namespace */
	xns = st("<presence from='b@p.test/r'><show>dnd</show><xml:x/></presence>");
	assert_int_equal(sk_xml_pres_parse(xns, &px, &ax), 0);
	assert_null(px.xml);
	assert_string_equal(px.show, "dnd");
	sk_pres_free(&px);
	xmpp_stanza_release(xns);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(items_parse),
		cmocka_unit_test(presence_fields_status_choice_and_equality),
		cmocka_unit_test(a_delta_result_parses_into_an_update),
		cmocka_unit_test(presence_replays_in_the_client_namespace),
		cmocka_unit_test(deep_or_wide_presence_is_kept_without_extensions),
	};
	int rc;

	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
	return rc;
}
