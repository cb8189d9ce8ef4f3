/*
 * fuzz_xml_roster.c - sk_xml_roster_parse (src/xmpp/xml.h): the roster the
 * server returns to synckeyd's privileged roster get (and to the client).
 *
 * Input: XML text: a <query/>, or an <iq/> whose jabber:iq:roster
 * <query/> is used.  Then what the daemon does with a roster: sort, digest,
 * snapshot blob, view and a diff against the empty snapshot.  Properties:
 * every <item/> child is either parsed or counted as skipped; a blob that
 * sk_snap_build wrote always views.
 */
#include "fuzz_common.h"

#include <errno.h>

#include "diff.h"
#include "digest.h"
#include "error.h"
#include "snap.h"
#include "state.h"
#include "xml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	xmpp_stanza_t *st = fz_stanza(d, n), *q, *c;
	struct sk_state live, none;
	struct sk_snap vl, ve;
	struct sk_changes ch;
	unsigned char *blob, *eblob, dg[SK_DIGEST_LEN];
	size_t skipped = 0, nitem = 0, len, elen;
	const char *name;
	int rc;

	if (st == NULL)
		return 0;
	q = st;
	if ((name = xmpp_stanza_get_name(st)) != NULL && strcmp(name, "iq") == 0 &&
	    (q = xmpp_stanza_get_child_by_name_and_ns(st, "query", SK_NS_ROSTER)) == NULL)
		q = st;
	for (c = xmpp_stanza_get_children(q); c; c = xmpp_stanza_get_next(c))
		if ((name = xmpp_stanza_get_name(c)) != NULL && strcmp(name, "item") == 0)
			nitem++;
	sk_state_init(&live);
	rc = sk_xml_roster_parse(q, &live, &skipped);
	FZ_CHECK(rc == 0 || rc == ENOMEM);
	if (rc == 0) {
		FZ_CHECK(live.nitems + skipped == nitem);
		sk_state_sort(&live);
		FZ_CHECK(sk_digest_state(&live, dg) == 0);
		if (sk_snap_build(&live, &blob, &len) == 0) {
			FZ_CHECK(sk_snap_view(&vl, blob, len) == 0);
			FZ_CHECK(vl.n == live.nitems);
			sk_state_init(&none);
			FZ_CHECK(sk_snap_build(&none, &eblob, &elen) == 0);
			FZ_CHECK(sk_snap_view(&ve, eblob, elen) == 0);
			sk_changes_init(&ch);
			rc = sk_diff(&ve, &vl, &ch);
			FZ_CHECK(rc == 0 || rc == SK_ECORRUPT || rc == ENOMEM);
			sk_changes_free(&ch);
			free(eblob);
			free(blob);
		}
	}
	sk_state_free(&live);
	xmpp_stanza_release(st);
	return 0;
}
