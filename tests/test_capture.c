/* test_capture.c - roster items captured from expat's events (nodefer.c, capture.c) equal libstrophe's tree */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <expat.h>

#include "apply.h"
#include "capture.h"
#include "error.h"
#include "nodefer.h"
#include "text.h"
#include "xml.h"

static xmpp_ctx_t *ctx;

static xmpp_stanza_t *
st(const char *xml)
{
	xmpp_stanza_t *s = xmpp_stanza_new_from_string(ctx, xml);

	assert_non_null(s);
	return s;
}

/* The roster of the first jabber:iq:roster query found under the top. */
static int
roster_of(const char *xml, int capture, struct sk_state *out, size_t *skipped)
{
	xmpp_stanza_t *s, *q;
	int rc;

	sk_nodefer_set_capture(capture);
	s = st(xml);
	sk_nodefer_set_capture(1);
	q = strcmp(xmpp_stanza_get_name(s), "query") == 0 ? s :
	    xmpp_stanza_get_child_by_name_and_ns(s, "query", SK_NS_ROSTER);
	assert_non_null(q);
	sk_state_init(out);
	rc = sk_xml_roster_parse(q, out, skipped);
	xmpp_stanza_release(s);
	return rc;
}

static void
assert_same_items(const struct sk_state *a, const struct sk_state *b)
{
	size_t i, g;

	assert_int_equal(a->nitems, b->nitems);
	for (i = 0; i < a->nitems; i++) {
		const struct sk_item *x = &a->items[i], *y = &b->items[i];

		assert_string_equal(x->jid, y->jid);
		assert_true((x->name == NULL) == (y->name == NULL));
		if (x->name != NULL)
			assert_string_equal(x->name, y->name);
		assert_int_equal(x->sub, y->sub);
		assert_int_equal(x->ask, y->ask);
		assert_int_equal(x->ngroups, y->ngroups);
		for (g = 0; g < x->ngroups; g++)
			assert_string_equal(x->groups[g], y->groups[g]);
		assert_memory_equal(x->hash, y->hash, SK_HASH_LEN);
	}
}

static void
a_captured_roster_is_the_tree_roster_and_the_query_comes_empty(void **unused)
{
	const char *xml = "<iq type='result' id='r'><query xmlns='jabber:iq:roster' ver='v7'>\n"
	    " <item jid='ann@p.test' name='Ann' subscription='both' ask='subscribe'>"
	    "<group>Zoo</group><group>Work</group><group/></item>\n"
	    " <item jid='bob@p.test'/><item subscription='both'/><item jid='c@p.test' subscription='never'/>"
	    "</query></iq>";
	struct sk_state a, b;
	size_t sa = 0, sb = 0;
	xmpp_stanza_t *s, *q;

	(void)unused;
	assert_int_equal(roster_of(xml, 1, &a, &sa), 0);
	assert_int_equal(roster_of(xml, 0, &b, &sb), 0);
	assert_int_equal(a.nitems, 2);
	assert_int_equal(sa, 2);
	assert_int_equal(sb, 2);
	assert_string_equal(a.items[0].jid, "ann@p.test");
	assert_int_equal(a.items[0].ngroups, 3);
	assert_int_equal(a.items[1].sub, SK_SUB_NONE);
	assert_same_items(&a, &b);
	sk_state_free(&a);
	sk_state_free(&b);
	/* libstrophe holds the query without its items, attributes kept */
	s = st(xml);
	q = xmpp_stanza_get_child_by_name_and_ns(s, "query", SK_NS_ROSTER);
	assert_null(xmpp_stanza_get_children(q));
	assert_string_equal(xmpp_stanza_get_attribute(q, "ver"), "v7");
	assert_non_null(xmpp_stanza_get_attribute(q, SK_CAPTURE_ATTR));
	assert_int_equal(sk_capture_held(), 1);
	xmpp_stanza_release(s);
	sk_capture_reset();
}

static void
a_capture_is_taken_once_and_the_oldest_dropped_first(void **unused)
{
	const char *xml = "<iq><query xmlns='jabber:iq:roster'><item jid='a@p.test'/></query></iq>";
	xmpp_stanza_t *s[SK_CAPTURE_HELD + 1], *q;
	struct sk_state r;
	size_t i;

	(void)unused;
	for (i = 0; i <= SK_CAPTURE_HELD; i++)
		s[i] = st(xml);
	assert_int_equal(sk_capture_held(), SK_CAPTURE_HELD);
	sk_state_init(&r);
	q = xmpp_stanza_get_children(s[0]);
	assert_int_equal(sk_xml_roster_parse(q, &r, NULL), SK_ENOTFOUND);	/* dropped */
	q = xmpp_stanza_get_children(s[SK_CAPTURE_HELD]);
	assert_int_equal(sk_xml_roster_parse(q, &r, NULL), 0);
	assert_int_equal(r.nitems, 1);
	assert_int_equal(sk_xml_roster_parse(q, &r, NULL), SK_ENOTFOUND);	/* taken */
	assert_int_equal(r.nitems, 1);
	assert_int_equal(sk_capture_held(), SK_CAPTURE_HELD - 1);
	sk_state_free(&r);
	for (i = 0; i <= SK_CAPTURE_HELD; i++)
		xmpp_stanza_release(s[i]);
	sk_capture_reset();
	assert_int_equal(sk_capture_held(), 0);
}

static char *
roster_text(size_t n, const char *group)
{
	struct sk_text t = { 0 };
	char buf[96];
	size_t i;

	sk_text_str(&t, "<iq><query xmlns='jabber:iq:roster'>");
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "<item jid='c%zu@p.test' subscription='both'><group>", i);
		sk_text_str(&t, buf);
		sk_text_str(&t, group);
		sk_text_str(&t, "</group></item>");
	}
	sk_text_str(&t, "</query></iq>");
	assert_false(t.oom);
	return t.s;
}

static void
too_many_items_or_bytes_are_refused_not_cut(void **unused)
{
	char *xml = roster_text(100, "g"), big[2048];
	struct sk_state r;

	(void)unused;
	sk_capture_set_limits(100, 0);
	assert_int_equal(roster_of(xml, 1, &r, NULL), 0);
	assert_int_equal(r.nitems, 100);
	sk_state_free(&r);
	sk_capture_set_limits(99, 0);
	assert_int_equal(roster_of(xml, 1, &r, NULL), SK_ETOOBIG);
	sk_state_free(&r);
	free(xml);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	xml = roster_text(3, big);
	sk_capture_set_limits(0, 3 * 2048);
	assert_int_equal(roster_of(xml, 1, &r, NULL), SK_ETOOBIG);	/* group texts */
	sk_state_free(&r);
	sk_capture_set_limits(0, 0);
	assert_int_equal(roster_of(xml, 1, &r, NULL), 0);
	assert_int_equal(r.nitems, 3);
	sk_state_free(&r);
	free(xml);
	assert_int_equal(sk_capture_held(), 0);
}

static void
malformed_or_unfinished_input_leaves_nothing_held(void **unused)
{
	static const char *bad[] = {
		"<iq><query xmlns='jabber:iq:roster'><item jid='a@p.test'/>",	/* never closed */
		"<iq><query xmlns='jabber:iq:roster'><item jid='a@p.test'></query></iq>",
		"<iq><query xmlns='jabber:iq:roster'><item jid='a@p.test' jid='b'/></query></iq>",
		"<iq><query xmlns='jabber:iq:roster'><item jid='a&bogus;'/></query></iq>",
		/* the query closed, its stanza never did (found by fuzzing) */
		"<iq><query xmlns='jabber:iq:roster'><item jid='a@p.test'/></query></i))q>",
		"<iq><x><query xmlns='jabber:iq:roster'/><query xmlns='jabber:iq:roster'><item jid='a'/></query></x></iq",
	};
	size_t i;

	(void)unused;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(xmpp_stanza_new_from_string(ctx, bad[i]));
		assert_int_equal(sk_capture_held(), 0);
	}
}

static void
a_sync_page_with_a_malformed_item_fails_on_both_paths(void **unused)
{
	const char *ok = "<sync xmlns='urn:xmpp:synckey:0'><query xmlns='jabber:iq:roster'>"
	    "<item jid='a@p.test' subscription='remove'/><item jid='b@p.test'><group>G</group></item>"
	    "</query><presence from='a@p.test/r'/></sync>";
	const char *bad = "<sync xmlns='urn:xmpp:synckey:0'><query xmlns='jabber:iq:roster'>"
	    "<item jid='a@p.test'/><item name='no jid'/></query></sync>";
	struct sk_update u, v;
	xmpp_stanza_t *s;
	int cap;

	(void)unused;
	for (cap = 0; cap <= 1; cap++) {
		sk_nodefer_set_capture(cap);
		sk_update_init(&u);
		s = st(ok);
		assert_int_equal(sk_xml_update_parse(s, &u), 0);
		assert_int_equal(u.put.nitems, 2);
		assert_int_equal(u.put.items[0].sub, SK_SUB_REMOVE);
		assert_int_equal(u.put.npres, 1);
		xmpp_stanza_release(s);
		sk_update_free(&u);
		sk_update_init(&v);
		s = st(bad);
		assert_int_equal(sk_xml_update_parse(s, &v), SK_EINVAL);
		xmpp_stanza_release(s);
		sk_update_free(&v);
	}
	sk_nodefer_set_capture(1);
	assert_int_equal(sk_capture_held(), 0);
}

static void
items_at_the_depth_bound_are_cut_alike(void **unused)
{
	struct sk_text t = { 0 };
	struct sk_state a, b;
	size_t sa, sb, i, outer;

	(void)unused;
	/* the stream is level 1, so the query at 62..64: its groups and
	   items cross nodefer.c's bound of 64 */
	for (outer = 60; outer <= 63; outer++) {
		memset(&t, 0, sizeof(t));
		for (i = 0; i < outer; i++)
			sk_text_str(&t, "<x>");
		sk_text_str(&t, "<query xmlns='jabber:iq:roster'><item jid='a@p.test'><group>G</group></item>"
		    "<item jid='b@p.test'/></query>");
		for (i = 0; i < outer; i++)
			sk_text_str(&t, "</x>");
		sk_nodefer_set_capture(1);
		{
			xmpp_stanza_t *s = st(t.s), *q = s;
			int rc;

			for (i = 1; i <= outer && q != NULL; i++)
				q = xmpp_stanza_get_children(q);
			sk_state_init(&a);
			rc = q ? sk_xml_roster_parse(q, &a, &sa) : SK_ENOTFOUND;
			xmpp_stanza_release(s);
			sk_nodefer_set_capture(0);
			s = st(t.s);
			q = s;
			for (i = 1; i <= outer && q != NULL; i++)
				q = xmpp_stanza_get_children(q);
			sk_state_init(&b);
			assert_int_equal(rc, q ? sk_xml_roster_parse(q, &b, &sb) : SK_ENOTFOUND);
			xmpp_stanza_release(s);
		}
		if (a.nitems > 0 || b.nitems > 0)
			assert_same_items(&a, &b);
		sk_state_free(&a);
		sk_state_free(&b);
		sk_text_free(&t);
		sk_capture_reset();
	}
	sk_nodefer_set_capture(1);
}

/* An expat parser of our own, as libstrophe sets one up: what reaches its handlers. */
struct seen {
	int	 starts, depth, marked_at;
	char	 names[256];
};

static void XMLCALL
seen_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct seen *v = ud;
	size_t i;

	v->depth++;
	v->starts++;
	for (i = 0; attrs[i] != NULL; i += 2)
		if (strcmp(attrs[i], SK_CAPTURE_ATTR) == 0)
			v->marked_at = v->depth;
	strncat(v->names, strchr(name, '\x1F') ? strchr(name, '\x1F') + 1 : name,
	    sizeof(v->names) - strlen(v->names) - 2);
	strcat(v->names, " ");
}

static void XMLCALL
seen_end(void *ud, const XML_Char *name)
{
	(void)name;
	((struct seen *)ud)->depth--;
}

static struct seen
seen_of(const char *xml)
{
	struct seen v = { 0 };
	XML_Parser p = XML_ParserCreateNS(NULL, '\x1F');

	assert_non_null(p);
	XML_SetUserData(p, &v);
	XML_SetElementHandler(p, seen_start, seen_end);
	assert_int_equal(XML_Parse(p, xml, (int)strlen(xml), 1), XML_STATUS_OK);
	XML_ParserFree(p);
	return v;
}

static void
the_stream_element_is_never_captured(void **unused)
{
	struct seen v;

	(void)unused;
	/* a query as the stream's element: its children are the stanzas */
	v = seen_of("<query xmlns='jabber:iq:roster'><item jid='a@p.test'/><iq/></query>");
	assert_int_equal(v.marked_at, 0);
	assert_string_equal(v.names, "query item iq ");
	v = seen_of("<stream><iq><query xmlns='jabber:iq:roster'><item jid='a@p.test'/></query></iq><iq/></stream>");
	assert_int_equal(v.marked_at, 3);
	assert_string_equal(v.names, "stream iq query iq ");
	assert_int_equal(sk_capture_held(), 1);
	sk_capture_reset();
}

/* ---- random rosters: capture and tree agree ------------------------------- */

static unsigned
rnd(unsigned *s, unsigned n)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) % n;
}

static void
random_item(struct sk_text *t, unsigned *s, size_t i)
{
	static const char *subs[] = { " subscription='both'", " subscription='to'", " subscription='from'",
		" subscription='none'", " subscription='remove'", " subscription='sometimes'", "" };
	static const char *groups[] = { "<group>Work</group>", "<group/>", "<group>a<b>hidden</b>c</group>",
		"<group>x &amp; y</group>", "<group><![CDATA[<raw>]]></group>", "<g:group xmlns:g='urn:x'>ns</g:group>",
		"<group>Work</group>", "<other>Work</other>", "\n  ", "<group>\xc3\xa9t\xc3\xa9</group>" };
	char buf[160];
	unsigned ng, k;

	sk_text_str(t, rnd(s, 20) == 0 ? "<it" : "<item");	/* not an item: left out alike */
	if (rnd(s, 10) == 0)
		sk_text_str(t, " xmlns:a='urn:a'");
	switch (rnd(s, 12)) {
	case 0:
		break;		/* no jid: malformed */
	case 1:
		sk_text_str(t, " jid=''");
		break;
	case 2:		/* two jids by local name: the last wins */
		snprintf(buf, sizeof(buf), " jid='first%zu@p.test' b:jid='second%zu@p.test' xmlns:b='urn:b'", i, i);
		sk_text_str(t, buf);
		break;
	default:
		snprintf(buf, sizeof(buf), " jid='c%u-%zu@p.test'", rnd(s, 50), i);
		sk_text_str(t, buf);
	}
	if (rnd(s, 2)) {
		snprintf(buf, sizeof(buf), " name='N &lt;%u&gt; &#x263A;'", rnd(s, 9));
		sk_text_str(t, buf);
	}
	sk_text_str(t, subs[rnd(s, 7)]);
	if (rnd(s, 4) == 0)
		sk_text_str(t, rnd(s, 2) ? " ask='subscribe'" : " ask='unsubscribe'");
	sk_text_str(t, ">");
	ng = rnd(s, 40) == 0 ? 300 : rnd(s, 5);
	for (k = 0; k < ng; k++) {
		if (ng > 10) {
			snprintf(buf, sizeof(buf), "<group>g%u</group>", rnd(s, 400));
			sk_text_str(t, buf);
		} else {
			sk_text_str(t, groups[rnd(s, 10)]);
		}
	}
	if (rnd(s, 15) == 0)
		sk_text_str(t, "<item jid='nested@p.test'/>");
	sk_text_str(t, "</item>");	/* random_roster names it as it was opened */
}

static char *
random_roster(unsigned *s, int page)
{
	struct sk_text t = { 0 };
	size_t n = rnd(s, 60), i;

	sk_text_str(&t, page ? "<iq type='result'><sync xmlns='urn:xmpp:synckey:0' type='full'>" : "<iq type='result'>");
	sk_text_str(&t, "<query xmlns='jabber:iq:roster' ver='v1'>");
	for (i = 0; i < n; i++) {
		struct sk_text one = { 0 };

		random_item(&one, s, i);
		/* an element opened as <it> closes as </it> */
		sk_text_add(&t, one.s, (size_t)(strrchr(one.s, '<') - one.s));
		sk_text_str(&t, strncmp(one.s, "<item", 5) == 0 ? "</item>" : "</it>");
		sk_text_free(&one);
		if (rnd(s, 3) == 0)
			sk_text_str(&t, rnd(s, 2) ? "\n " : "<foo xmlns='urn:f'>text</foo>");
	}
	sk_text_str(&t, page ? "</query></sync></iq>" : "</query></iq>");
	assert_false(t.oom);
	return t.s;
}

static void
random_rosters_parse_alike_on_both_paths(void **unused)
{
	const char *env = getenv("SK_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	unsigned s = seed;
	size_t items = 0, skipped = 0, groups = 0, i;
	int round;

	(void)unused;
	printf("# random rosters: seed %u (SK_SEED=%u replays)\n", seed, seed);
	for (round = 0; round < 400; round++) {
		int page = round % 2;
		char *xml = random_roster(&s, page);
		struct sk_state a, b;
		size_t sa = 0, sb = 0;

		if (!page) {
			int ra = roster_of(xml, 1, &a, &sa), rb = roster_of(xml, 0, &b, &sb);

			assert_int_equal(ra, rb);
			assert_int_equal(sa, sb);
			assert_same_items(&a, &b);
			items += a.nitems;
			skipped += sa;
			for (i = 0; i < a.nitems; i++)
				groups += a.items[i].ngroups;
			sk_state_free(&a);
			sk_state_free(&b);
		} else {
			struct sk_update u, v;
			xmpp_stanza_t *x, *y;
			int ru, rv;

			sk_update_init(&u);
			sk_update_init(&v);
			x = st(xml);
			sk_nodefer_set_capture(0);
			y = st(xml);
			sk_nodefer_set_capture(1);
			ru = sk_xml_update_parse(xmpp_stanza_get_children(x), &u);
			rv = sk_xml_update_parse(xmpp_stanza_get_children(y), &v);
			assert_int_equal(ru, rv);
			if (ru == 0)
				assert_same_items(&u.put, &v.put);
			xmpp_stanza_release(x);
			xmpp_stanza_release(y);
			sk_update_free(&u);
			sk_update_free(&v);
		}
		free(xml);
		assert_int_equal(sk_capture_held(), 0);
	}
	printf("# rosters: %zu items, %zu groups, %zu malformed left out, alike\n", items, groups, skipped);
	assert_true(items > 1000 && skipped > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_captured_roster_is_the_tree_roster_and_the_query_comes_empty),
		cmocka_unit_test(a_capture_is_taken_once_and_the_oldest_dropped_first),
		cmocka_unit_test(too_many_items_or_bytes_are_refused_not_cut),
		cmocka_unit_test(malformed_or_unfinished_input_leaves_nothing_held),
		cmocka_unit_test(a_sync_page_with_a_malformed_item_fails_on_both_paths),
		cmocka_unit_test(items_at_the_depth_bound_are_cut_alike),
		cmocka_unit_test(the_stream_element_is_never_captured),
		cmocka_unit_test(random_rosters_parse_alike_on_both_paths),
	};
	int rc;

	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	assert_true(sk_nodefer_status() >= 0);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
	return rc;
}
