/* test_client.c - the client's two paths give the same state: sync result vs RFC 6121 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apply.h"
#include "client.h"
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

#define ITEMS \
	"<item jid='ann@p.test' name='Ann' subscription='both'><group>Work</group></item>" \
	"<item jid='bob@p.test' subscription='to'/>" \
	"<item jid='cid@p.test' subscription='from'/>"
#define ANN "<presence from='ann@p.test/phone' xmlns='jabber:client'><show>away</show><status>lunch</status></presence>"
#define BOB "<presence from='bob@p.test/tab' xmlns='jabber:client'><priority>3</priority></presence>"
#define CID "<presence from='cid@p.test/x' xmlns='jabber:client'/>"

static void
standard_path_and_sync_path_agree(void **unused)
{
	struct sk_state std, syn;
	struct sk_update u;
	xmpp_stanza_t *iq = st("<iq type='result' id='r1'><query xmlns='jabber:iq:roster' ver='7'>" ITEMS "</query></iq>");
	xmpp_stanza_t *full = st("<sync xmlns='urn:xmpp:synckey:0' type='full'><query xmlns='jabber:iq:roster'>"
	    ITEMS "</query>" ANN BOB "</sync>");
	const char *presence[] = { ANN, BOB, CID,
	    "<presence from='ann@p.test/old' xmlns='jabber:client'/>",
	    "<presence from='ann@p.test/old' type='unavailable' xmlns='jabber:client'/>",
	    "<presence from='zed@p.test/z' xmlns='jabber:client'/>" };
	char ver[32] = "", d1[SK_DIGEST_B64], d2[SK_DIGEST_B64];
	size_t i;

	(void)unused;
	/* RFC 6121: roster result, then the presence that arrives */
	sk_state_init(&std);
	assert_int_equal(sk_client_roster_result(&std, iq, ver, sizeof(ver)), 1);
	assert_string_equal(ver, "7");
	for (i = 0; i < sizeof(presence) / sizeof(presence[0]); i++) {
		xmpp_stanza_t *p = st(presence[i]);

		assert_true(sk_client_presence(&std, p) >= 0);
		xmpp_stanza_release(p);
	}
	assert_int_equal(std.npres, 2);		/* cid: from; zed: not a contact */
	/* synckey: a full result */
	sk_state_init(&syn);
	sk_update_init(&u);
	u.full = 1;
	assert_int_equal(sk_xml_update_parse(full, &u), 0);
	assert_int_equal(sk_apply(&syn, &u), 0);
	assert_int_equal(sk_digest_state_b64(&std, d1), 0);
	assert_int_equal(sk_digest_state_b64(&syn, d2), 0);
	assert_string_equal(d1, d2);
	sk_update_free(&u);
	sk_state_free(&std);
	sk_state_free(&syn);
	xmpp_stanza_release(iq);
	xmpp_stanza_release(full);
}

static void
an_empty_roster_result_keeps_the_cached_roster(void **unused)
{
	struct sk_state s;
	struct sk_item it = { .jid = "ann@p.test", .sub = SK_SUB_BOTH };
	xmpp_stanza_t *iq = st("<iq type='result' id='r2'/>");
	char ver[32] = "7";

	(void)unused;
	sk_state_init(&s);
	assert_int_equal(sk_state_add_item(&s, &it), 0);
	assert_int_equal(sk_client_roster_result(&s, iq, ver, sizeof(ver)), 0);
	assert_int_equal(s.nitems, 1);
	assert_string_equal(ver, "7");
	sk_state_free(&s);
	xmpp_stanza_release(iq);
}

static void
a_wrong_digest_is_detected(void **unused)
{
	struct sk_state s;
	struct sk_update u;
	xmpp_stanza_t *delta = st("<sync xmlns='urn:xmpp:synckey:0' type='delta'>"
	    "<query xmlns='jabber:iq:roster'><item jid='new@p.test' subscription='none'/></query></sync>");
	char before[SK_DIGEST_B64], after[SK_DIGEST_B64];

	(void)unused;
	sk_state_init(&s);
	assert_int_equal(sk_digest_state_b64(&s, before), 0);
	sk_update_init(&u);
	assert_int_equal(sk_xml_update_parse(delta, &u), 0);
	assert_int_equal(sk_apply(&s, &u), 0);
	assert_int_equal(sk_digest_state_b64(&s, after), 0);
	/* a server digest naming the old state would not match: the client
	   then drops its key and asks for everything (client.c sync_once) */
	assert_string_not_equal(before, after);
	sk_update_free(&u);
	sk_state_free(&s);
	xmpp_stanza_release(delta);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(standard_path_and_sync_path_agree),
		cmocka_unit_test(an_empty_roster_result_keeps_the_cached_roster),
		cmocka_unit_test(a_wrong_digest_is_detected),
	};
	int rc;

	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
	return rc;
}
