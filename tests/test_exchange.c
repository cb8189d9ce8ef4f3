/* test_exchange.c - the client's sync exchange: request, parts, verified result, presence marker */
#include <errno.h>
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
#include "exchange.h"
#include "xml.h"

static xmpp_ctx_t *ctx;

/* A <sync/> of one answer part: attrs, then children. */
static xmpp_stanza_t *
part(const char *attrs, const char *children)
{
	char xml[2048];
	xmpp_stanza_t *s;

	snprintf(xml, sizeof(xml), "<sync xmlns='urn:xmpp:synckey:0' %s>%s</sync>", attrs, children);
	s = xmpp_stanza_new_from_string(ctx, xml);
	assert_non_null(s);
	return s;
}

/* Adds one part and releases it; returns sk_exchange_add's result. */
static int
add(struct sk_exchange *x, const char *attrs, const char *children)
{
	xmpp_stanza_t *s = part(attrs, children);
	int rc = sk_exchange_add(x, s);

	xmpp_stanza_release(s);
	return rc;
}

/* The digest of a state of one item of that subscription. */
static void
digest_of_one(const char *jid, enum sk_sub sub, char out[SK_DIGEST_B64])
{
	struct sk_item it = { .jid = (char *)jid, .sub = sub };
	struct sk_state st;

	sk_state_init(&st);
	assert_int_equal(sk_state_add_item(&st, &it), 0);
	assert_int_equal(sk_digest_state_b64(&st, out), 0);
	sk_state_free(&st);
}

static void
the_first_request_carries_the_key_and_a_later_one_the_token_only(void **unused)
{
	xmpp_stanza_t *iq, *s;
	char id[SK_EXCHANGE_IDLEN];

	(void)unused;
	iq = sk_exchange_request(ctx, "sync.p.test", "cli", "K1", NULL, 0);
	assert_non_null(iq);
	s = xmpp_stanza_get_child_by_name_and_ns(iq, "sync", SK_NS_SYNC);
	assert_non_null(s);
	assert_string_equal(xmpp_stanza_get_type(iq), "get");
	assert_string_equal(xmpp_stanza_get_to(iq), "sync.p.test");
	assert_string_equal(xmpp_stanza_get_attribute(s, "client"), "cli");
	assert_string_equal(xmpp_stanza_get_attribute(s, "key"), "K1");
	assert_null(xmpp_stanza_get_attribute(s, "more"));
	assert_int_equal(strlen(xmpp_stanza_get_id(iq)), SK_EXCHANGE_IDLEN - 1);
	sk_exchange_id(id);
	assert_string_not_equal(id, xmpp_stanza_get_id(iq));
	xmpp_stanza_release(iq);

	iq = sk_exchange_request(ctx, "sync.p.test", "cli", "K1", "page2", 0);
	s = xmpp_stanza_get_child_by_name_and_ns(iq, "sync", SK_NS_SYNC);
	assert_string_equal(xmpp_stanza_get_attribute(s, "more"), "page2");
	assert_null(xmpp_stanza_get_attribute(s, "key"));
	xmpp_stanza_release(iq);

	iq = sk_exchange_request(ctx, "sync.p.test", "cli", "", NULL, 0);
	s = xmpp_stanza_get_child_by_name_and_ns(iq, "sync", SK_NS_SYNC);
	assert_null(xmpp_stanza_get_attribute(s, "key"));
	xmpp_stanza_release(iq);
}

static void
a_paged_full_answer_applies_only_after_its_last_part(void **unused)
{
	struct sk_exchange x;
	struct sk_state st;
	char attrs[256], d[SK_DIGEST_B64];
	struct sk_item old = { .jid = "old@p.test", .sub = SK_SUB_BOTH };

	(void)unused;
	/* the full state is two items; the one held before goes */
	{
		struct sk_item a = { .jid = "a@p.test", .sub = SK_SUB_TO };
		struct sk_item b = { .jid = "b@p.test", .sub = SK_SUB_FROM };

		sk_state_init(&st);
		assert_int_equal(sk_state_add_item(&st, &a), 0);
		assert_int_equal(sk_state_add_item(&st, &b), 0);
		assert_int_equal(sk_digest_state_b64(&st, d), 0);
		sk_state_free(&st);
	}
	sk_state_init(&st);
	assert_int_equal(sk_state_add_item(&st, &old), 0);
	sk_exchange_init(&x);
	snprintf(attrs, sizeof(attrs), "type='full' reason='no-key' presence='partial' key='K9' "
	    "digest='%s' more='p2'", d);
	assert_int_equal(add(&x, attrs, "<query xmlns='jabber:iq:roster'>"
	    "<item jid='a@p.test' subscription='to'/></query>"), 0);
	assert_string_equal(x.more, "p2");
	assert_int_equal(sk_exchange_finish(&x, &st), SK_EINVAL);
	assert_int_equal(st.nitems, 1);
	/* a later part's head is not read again */
	assert_int_equal(add(&x, "type='more'", "<query xmlns='jabber:iq:roster'>"
	    "<item jid='b@p.test' subscription='from'/></query>"), 0);
	assert_string_equal(x.more, "");
	assert_int_equal(x.parts, 2);
	assert_string_equal(x.key, "K9");
	assert_string_equal(x.reason, "no-key");
	assert_int_equal(x.partial, 1);		/* said by the first part */
	assert_int_equal(sk_exchange_finish(&x, &st), 0);
	assert_int_equal(st.nitems, 2);
	assert_null(sk_state_find_item(&st, "old@p.test"));
	sk_exchange_free(&x);
	sk_state_free(&st);
}

static void
a_delta_whose_digest_differs_leaves_the_state_as_it_was(void **unused)
{
	struct sk_exchange x;
	struct sk_state st;
	struct sk_item a = { .jid = "a@p.test", .sub = SK_SUB_TO };
	char attrs[256], d[SK_DIGEST_B64], before[SK_DIGEST_B64], after[SK_DIGEST_B64];

	(void)unused;
	sk_state_init(&st);
	assert_int_equal(sk_state_add_item(&st, &a), 0);
	assert_int_equal(sk_digest_state_b64(&st, before), 0);
	/* the digest of a state where a's subscription is "both" */
	digest_of_one("a@p.test", SK_SUB_BOTH, d);
	sk_exchange_init(&x);
	snprintf(attrs, sizeof(attrs), "type='delta' key='K2' digest='%s'", d);
	assert_int_equal(add(&x, attrs, "<query xmlns='jabber:iq:roster'>"
	    "<item jid='b@p.test' subscription='to'/></query>"), 0);
	assert_int_equal(sk_exchange_finish(&x, &st), SK_EDIGEST);
	assert_int_equal(sk_digest_state_b64(&st, after), 0);
	assert_string_equal(before, after);
	sk_exchange_free(&x);

	/* the same delta with the right change is taken */
	sk_exchange_init(&x);
	assert_int_equal(add(&x, attrs, "<query xmlns='jabber:iq:roster'>"
	    "<item jid='a@p.test' subscription='both'/></query>"), 0);
	assert_int_equal(x.u.full, 0);
	assert_string_equal(x.reason, "");
	assert_int_equal(x.partial, 0);
	assert_int_equal(sk_exchange_finish(&x, &st), 0);
	assert_int_equal(st.items[0].sub, SK_SUB_BOTH);
	sk_exchange_free(&x);
	sk_state_free(&st);
}

/* Version 1 (xep/ "Digest of version 1"): the request and the answer in
   its namespace, the answer checked with the LtHash16 digest, here the
   XEP's test vector of record A. */
static void
an_answer_of_version_1_is_checked_with_its_digest(void **unused)
{
	static const char item[] = "<query xmlns='jabber:iq:roster'><item jid='ann@example.org' "
	    "name='Ann' subscription='both'><group>Work</group></item></query>";
	static const char attrs[] = "type='full' reason='no-key' key='K1' "
	    "digest='wuhSQJJwUC6bmMT8Pk5rdAgfzVsfml2aLlpjLZ+z5bk='";
	struct sk_exchange x;
	struct sk_state st;
	xmpp_stanza_t *iq, *s;
	char xml[512];

	(void)unused;
	iq = sk_exchange_request(ctx, "sync.p.test", "cli", "K0", NULL, 1);
	assert_non_null(xmpp_stanza_get_child_by_name_and_ns(iq, "sync", SK_NS_SYNC1));
	xmpp_stanza_release(iq);
	sk_state_init(&st);
	/* the same digest in an answer of version 0 is not version 0's */
	sk_exchange_init(&x);
	assert_int_equal(add(&x, attrs, item), 0);
	assert_int_equal(x.version, 0);
	assert_int_equal(sk_exchange_finish(&x, &st), SK_EDIGEST);
	sk_exchange_free(&x);
	sk_exchange_init(&x);
	snprintf(xml, sizeof(xml), "<sync xmlns='%s' %s>%s</sync>", SK_NS_SYNC1, attrs, item);
	assert_non_null(s = xmpp_stanza_new_from_string(ctx, xml));
	assert_int_equal(sk_exchange_add(&x, s), 0);
	xmpp_stanza_release(s);
	assert_int_equal(x.version, 1);
	assert_int_equal(sk_exchange_finish(&x, &st), 0);
	assert_int_equal(st.nitems, 1);
	sk_exchange_free(&x);
	sk_state_free(&st);
}

static void
a_malformed_head_record_or_token_is_refused(void **unused)
{
	struct sk_exchange x;
	char token[SK_EXCHANGE_MORE_MAX + 40], attrs[256];
	static const char *heads[] = {
		"key='K' digest='D'",			/* no type */
		"type='delta' digest='D'",		/* no key */
		"type='delta' key='K'",			/* no digest */
		"type='more' key='K' digest='D'",	/* not a first part */
	};
	size_t i;

	(void)unused;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		sk_exchange_init(&x);
		assert_int_equal(add(&x, heads[i], ""), SK_EINVAL);
		sk_exchange_free(&x);
	}
	sk_exchange_init(&x);
	assert_int_not_equal(add(&x, "type='delta' key='K' digest='D'",
	    "<query xmlns='jabber:iq:roster'><item subscription='to'/></query>"), 0);
	sk_exchange_free(&x);

	memset(token, 'a', sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	snprintf(attrs, sizeof(attrs), "type='delta' key='K' digest='D' more='%s'", token);
	sk_exchange_init(&x);
	assert_int_equal(add(&x, attrs, ""), SK_ETOOBIG);
	sk_exchange_free(&x);

	sk_exchange_init(&x);
	assert_int_equal(sk_exchange_finish(&x, NULL), SK_EINVAL);	/* nothing came */
	sk_exchange_free(&x);
}

static void
the_presence_marker_is_added_once_and_only_to_presence(void **unused)
{
	xmpp_stanza_t *pres = xmpp_presence_new(ctx), *iq = xmpp_iq_new(ctx, "get", "i1"), *c;
	size_t n = 0;

	(void)unused;
	assert_int_equal(sk_xml_pres_mark(pres), 0);
	assert_int_equal(sk_xml_pres_mark(pres), SK_EINVAL);
	for (c = xmpp_stanza_get_children(pres); c; c = xmpp_stanza_get_next(c))
		n++;
	assert_int_equal(n, 1);
	c = xmpp_stanza_get_child_by_name_and_ns(pres, "sync-presence", SK_NS_SYNC);
	assert_non_null(c);
	assert_null(xmpp_stanza_get_children(c));
	assert_int_equal(sk_xml_pres_mark(iq), SK_EINVAL);
	xmpp_stanza_release(pres);
	xmpp_stanza_release(iq);
}

/*
 * xep/ "Applying an answer (client rules)": a full answer whose reason
 * the client does not know (or with none) is applied like any other full
 * answer; an answer whose type it does not know is not applied at all,
 * and its key is not taken, even when its records and digest would fit.
 */
static void
an_unknown_reason_is_a_full_answer_and_an_unknown_type_is_refused(void **unused)
{
	static const struct {
		const char	*attr, *value;	/* reason='...', its value */
	} reasons[] = {
		{ "reason='some-new-reason'", "some-new-reason" },
		/* longer than x.reason: cut in the report, applied all the same */
		{ "reason='a-reason-longer-than-the-report-keeps-of-it'", "a-reason-longer-than-the-report-keeps-of-it" },
		{ "", "" },	/* none at all */
	};
	struct sk_item old = { .jid = "old@p.test", .sub = SK_SUB_BOTH };
	const char *roster = "<query xmlns='jabber:iq:roster'><item jid='a@p.test' subscription='to'/></query>";
	char attrs[256], d[SK_DIGEST_B64], before[SK_DIGEST_B64], after[SK_DIGEST_B64];
	struct sk_exchange x;
	struct sk_state st;
	size_t i;

	(void)unused;
	digest_of_one("a@p.test", SK_SUB_TO, d);
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		sk_state_init(&st);
		assert_int_equal(sk_state_add_item(&st, &old), 0);
		sk_exchange_init(&x);
		snprintf(attrs, sizeof(attrs), "type='full' %s key='KN' digest='%s'", reasons[i].attr, d);
		assert_int_equal(add(&x, attrs, roster), 0);
		assert_int_equal(x.u.full, 1);
		assert_string_equal(x.key, "KN");
		/* the reason as reported: the value, or as much as fits */
		assert_int_equal(strlen(x.reason), strlen(reasons[i].value) < sizeof(x.reason) ?
		    strlen(reasons[i].value) : sizeof(x.reason) - 1);
		assert_int_equal(strncmp(x.reason, reasons[i].value, strlen(x.reason)), 0);
		assert_int_equal(sk_exchange_finish(&x, &st), 0);
		/* full: what was held before is gone, the answer is the state */
		assert_int_equal(st.nitems, 1);
		assert_null(sk_state_find_item(&st, "old@p.test"));
		assert_non_null(sk_state_find_item(&st, "a@p.test"));
		sk_exchange_free(&x);
		sk_state_free(&st);
	}

	/* a type of a later version: nothing taken, the state kept */
	sk_state_init(&st);
	assert_int_equal(sk_state_add_item(&st, &old), 0);
	assert_int_equal(sk_digest_state_b64(&st, before), 0);
	sk_exchange_init(&x);
	snprintf(attrs, sizeof(attrs), "type='some-new-type' reason='no-key' key='KN' digest='%s'", d);
	assert_int_equal(add(&x, attrs, roster), SK_EINVAL);
	assert_string_equal(x.key, "");
	assert_int_equal(x.parts, 0);
	assert_int_equal(sk_exchange_finish(&x, &st), SK_EINVAL);
	assert_int_equal(sk_digest_state_b64(&st, after), 0);
	assert_string_equal(before, after);
	sk_exchange_free(&x);
	sk_state_free(&st);
}

/* One libstrophe context for the whole group. */
static int
strophe_up(void **unused)
{
	(void)unused;
	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	return ctx == NULL;
}

static int
strophe_down(void **unused)
{
	(void)unused;
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_first_request_carries_the_key_and_a_later_one_the_token_only),
		cmocka_unit_test(a_paged_full_answer_applies_only_after_its_last_part),
		cmocka_unit_test(a_delta_whose_digest_differs_leaves_the_state_as_it_was),
		cmocka_unit_test(a_malformed_head_record_or_token_is_refused),
		cmocka_unit_test(an_answer_of_version_1_is_checked_with_its_digest),
		cmocka_unit_test(an_unknown_reason_is_a_full_answer_and_an_unknown_type_is_refused),
		cmocka_unit_test(the_presence_marker_is_added_once_and_only_to_presence),
	};

	return cmocka_run_group_tests(tests, strophe_up, strophe_down);
}
