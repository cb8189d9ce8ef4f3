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
items_parse_and_rebuild(void **unused)
{
	xmpp_stanza_t *s = st("<item jid='ann@p.test' name='Ann' subscription='both' ask='subscribe'>"
	    "<group>Zoo</group><group>Work</group><group/></item>"), *back;
	struct sk_item it, again;
	char *text;
	size_t len;

	(void)unused;
	assert_int_equal(sk_xml_item_parse(s, &it), 0);
	assert_string_equal(it.jid, "ann@p.test");
	assert_int_equal(it.sub, SK_SUB_BOTH);
	assert_int_equal(it.ask, 1);
	assert_int_equal(it.ngroups, 3);
	assert_string_equal(it.groups[0], "");
	back = sk_xml_item_new(ctx, &it);
	assert_int_equal(xmpp_stanza_to_text(back, &text, &len), XMPP_EOK);
	xmpp_stanza_release(back);
	back = st(text);
	xmpp_free(ctx, text);
	assert_int_equal(sk_xml_item_parse(back, &again), 0);
	assert_memory_equal(it.hash, again.hash, SK_HASH_LEN);
	sk_item_free(&again);
	sk_item_free(&it);
	xmpp_stanza_release(back);
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
	    "to='sync.p.test'><show>away</show></presence>"), *out;
	struct sk_pres p;
	char *text;
	size_t len;
	int avail;

	(void)unused;
	assert_int_equal(sk_xml_pres_parse(a, &p, &avail), 0);
	out = sk_xml_pres_new(ctx, &p);
	assert_int_equal(xmpp_stanza_to_text(out, &text, &len), XMPP_EOK);
	if (strstr(text, "component:accept"))
		fail_msg("replayed as %s", text);
	assert_null(strstr(text, "sync.p.test"));
	assert_string_equal(xmpp_stanza_get_ns(out), "jabber:client");
	xmpp_free(ctx, text);
	xmpp_stanza_release(out);
	sk_pres_free(&p);
	xmpp_stanza_release(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(items_parse_and_rebuild),
		cmocka_unit_test(presence_fields_status_choice_and_equality),
		cmocka_unit_test(a_delta_result_parses_into_an_update),
		cmocka_unit_test(presence_replays_in_the_client_namespace),
	};
	int rc;

	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
	return rc;
}
