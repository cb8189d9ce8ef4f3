/*
 * fuzz_xml_update.c - sk_xml_update_parse (src/xmpp/xml.h): the <sync/> result
 * the client receives from the service, then sk_apply (src/core/apply.h) of the
 * parsed update onto a small client state, as the client does.
 *
 * Input: XML text: a <sync/>, or an <iq/> whose <sync/> child is used;
 * type='full' on the <sync/> makes a full update.  Properties: the parse
 * returns a documented code; after sk_apply the state stays sorted and
 * its digest computes (duplicate JIDs are not checked).
 */
#include "fuzz_common.h"

#include <errno.h>

#include "apply.h"
#include "digest.h"
#include "error.h"
#include "state.h"
#include "xml.h"

static void
base_state(struct sk_state *st)
{
	struct sk_item it = { 0 };
	struct sk_pres p = { 0 };
	char *groups[] = { "Friends" };

	sk_state_init(st);
	it.jid = "bob@p.test";
	it.sub = SK_SUB_BOTH;
	it.name = "Bob";
	it.groups = groups;
	it.ngroups = 1;
	FZ_CHECK(sk_state_add_item(st, &it) == 0);
	it.jid = "carol@p.test";
	it.sub = SK_SUB_TO;
	it.name = NULL;
	it.ngroups = 0;
	FZ_CHECK(sk_state_add_item(st, &it) == 0);
	p.jid = "bob@p.test/phone";
	p.show = "away";
	FZ_CHECK(sk_state_add_pres(st, &p) == 0);
	p.jid = "bob@p.test/laptop";
	p.show = NULL;
	FZ_CHECK(sk_state_add_pres(st, &p) == 0);
	sk_state_sort(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	xmpp_stanza_t *st = fz_stanza(d, n), *sync;
	struct sk_update u;
	struct sk_state state;
	unsigned char dg[SK_DIGEST_LEN];
	const char *name, *type;
	size_t i;
	int rc;

	if (st == NULL)
		return 0;
	sync = st;
	if ((name = xmpp_stanza_get_name(st)) != NULL && strcmp(name, "iq") == 0 &&
	    (sync = xmpp_stanza_get_child_by_name(st, "sync")) == NULL)
		sync = st;
	sk_update_init(&u);
	rc = sk_xml_update_parse(sync, &u);
	FZ_CHECK(rc == 0 || rc == SK_EINVAL || rc == SK_ENOTFOUND || rc == ENOMEM);
	if (rc == 0) {
		type = xmpp_stanza_get_type(sync);
		u.full = type != NULL && strcmp(type, "full") == 0;
		base_state(&state);
		rc = sk_apply(&state, &u);
		FZ_CHECK(rc == 0 || rc == ENOMEM);
		if (rc == 0) {
			for (i = 1; i < state.nitems; i++)
				FZ_CHECK(strcmp(state.items[i - 1].jid, state.items[i].jid) <= 0);
			for (i = 1; i < state.npres; i++)
				FZ_CHECK(strcmp(state.pres[i - 1].jid, state.pres[i].jid) <= 0);
			FZ_CHECK(sk_digest_state(&state, dg) == 0);
		}
		sk_state_free(&state);
	}
	sk_update_free(&u);
	xmpp_stanza_release(st);
	return 0;
}
