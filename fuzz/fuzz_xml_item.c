/*
 * fuzz_xml_item.c - sk_xml_item_parse (src/xmpp/xml.h): one roster <item/>.
 *
 * Input: XML text (the <item/> itself).  Property: an item that parses
 * is rebuilt (here, with libstrophe: src/xmpp/xml.h no longer exports an item
 * writer) into an <item/> that parses back to the same item (same hash).
 */
#include "fuzz_common.h"

#include <errno.h>

#include "error.h"
#include "record.h"
#include "state.h"
#include "xml.h"

static void
set_text_child(xmpp_stanza_t *parent, const char *name, const char *text)
{
	xmpp_stanza_t *c = xmpp_stanza_new(fz_ctx()), *t = xmpp_stanza_new(fz_ctx());

	xmpp_stanza_set_name(c, name);
	xmpp_stanza_set_text(t, text);
	xmpp_stanza_add_child(c, t);
	xmpp_stanza_add_child(parent, c);
	xmpp_stanza_release(t);
	xmpp_stanza_release(c);
}

/* The <item/> a server would send for it. */
static xmpp_stanza_t *
item_stanza(const struct sk_item *it)
{
	xmpp_stanza_t *st = xmpp_stanza_new(fz_ctx());
	size_t i;

	FZ_CHECK(st != NULL);
	xmpp_stanza_set_name(st, "item");
	xmpp_stanza_set_attribute(st, "jid", it->jid);
	if (it->name != NULL)
		xmpp_stanza_set_attribute(st, "name", it->name);
	xmpp_stanza_set_attribute(st, "subscription", sk_sub_name(it->sub));
	if (it->ask)
		xmpp_stanza_set_attribute(st, "ask", "subscribe");
	for (i = 0; i < it->ngroups; i++)
		set_text_child(st, "group", it->groups[i]);
	return st;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	xmpp_stanza_t *st = fz_stanza(d, n), *re;
	struct sk_item it, it2;
	int rc;

	if (st == NULL)
		return 0;
	/* callers hand it only <item/> elements */
	if (xmpp_stanza_get_name(st) == NULL || strcmp(xmpp_stanza_get_name(st), "item") != 0) {
		xmpp_stanza_release(st);
		return 0;
	}
	rc = sk_xml_item_parse(st, &it);
	FZ_CHECK(rc == 0 || rc == SK_EINVAL || rc == ENOMEM);
	if (rc == 0) {
		FZ_CHECK(it.jid != NULL && it.jid[0] != '\0');
		FZ_CHECK(it.sub <= SK_SUB_REMOVE && (it.ask == 0 || it.ask == 1));
		re = item_stanza(&it);
		FZ_CHECK(sk_xml_item_parse(re, &it2) == 0);
		FZ_CHECK(memcmp(it.hash, it2.hash, SK_HASH_LEN) == 0);
		sk_item_free(&it2);
		xmpp_stanza_release(re);
		sk_item_free(&it);
	}
	xmpp_stanza_release(st);
	return 0;
}
