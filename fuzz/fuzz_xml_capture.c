/*
 * fuzz_xml_capture.c - the capture of a roster <query/>'s items from
 * expat's events (src/xmpp/nodefer.c, capture.c) against libstrophe's tree
 * (sk_xml_roster_parse on the same input with the capture off).
 *
 * Input: XML text, parsed twice through libstrophe's parser with
 * nodefer.c linked: capture on, then off.  Properties: both parses accept
 * or refuse the text alike; the roster query found (the stanza itself or
 * its child) gives the same result code, skipped count and records (JID,
 * name, subscription, ask, groups, hash) on both paths.
 */
#include "fuzz_common.h"

#include <errno.h>

#include "capture.h"
#include "error.h"
#include "nodefer.h"
#include "state.h"
#include "xml.h"

static xmpp_stanza_t *
query_of(xmpp_stanza_t *st)
{
	const char *name = xmpp_stanza_get_name(st), *ns = xmpp_stanza_get_ns(st);

	if (name != NULL && strcmp(name, "query") == 0 && ns != NULL && strcmp(ns, SK_NS_ROSTER) == 0)
		return st;
	return xmpp_stanza_get_child_by_name_and_ns(st, "query", SK_NS_ROSTER);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	xmpp_stanza_t *a, *b, *qa, *qb;
	struct sk_state ra, rb;
	size_t sa = 0, sb = 0;
	int rca, rcb;

	fz_stanza_twice(d, n, &a, &b);
	if (a == NULL) {
		/* a stanza that closed before the error is held until taken
		   or pushed out, as one no handler parses */
		sk_capture_reset();
		return 0;
	}
	qa = query_of(a);
	qb = query_of(b);
	FZ_CHECK((qa == NULL) == (qb == NULL));
	sk_state_init(&ra);
	sk_state_init(&rb);
	if (qa != NULL) {
		rca = sk_xml_roster_parse(qa, &ra, &sa);
		rcb = sk_xml_roster_parse(qb, &rb, &sb);
		FZ_CHECK(rca == rcb || rca == ENOMEM || rcb == ENOMEM);
		if (rca == 0 && rcb == 0) {
			FZ_CHECK(sa == sb);
			fz_same_items(&ra, &rb);
		}
	}
	sk_state_free(&ra);
	sk_state_free(&rb);
	xmpp_stanza_release(a);
	xmpp_stanza_release(b);
	sk_capture_reset();	/* another query than the first: never parsed */
	return 0;
}
