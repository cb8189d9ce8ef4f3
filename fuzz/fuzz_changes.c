/*
 * fuzz_changes.c - the adapter's change list as synckeyd reads it
 * (changes_parse in src/daemon/roster.c, through sk_xml_roster_parse):
 * <changes since='V'><query xmlns='jabber:iq:roster'>items</query></changes>
 * (doc/adapter-protocol.md "Change lists").
 *
 * changes_parse is static: this file includes roster.c itself, so it is
 * reached without a change to src/ (build.sh: a target that includes a .c
 * file of src/ never pulls in its object from the archive).
 *
 * Input: XML text, the <changes/> element (or an element holding one),
 * parsed twice through libstrophe's parser with nodefer.c linked: with
 * the capture of roster items on, as in synckeyd, then off (the items in
 * libstrophe's tree).  Properties: both give the same verdict (NULL, or
 * a static reason); a list taken holds at most SKD_CHANGES_MAX items,
 * sorted by JID, each JID once, at most SKD_CHANGES_BYTES bytes of
 * strings, the same records on both paths; a list refused leaves nothing
 * that sk_state_free cannot free.
 */
#include "fuzz_common.h"

#include "capture.h"

#include "roster.c"

static xmpp_stanza_t *
changes_of(xmpp_stanza_t *st)
{
	const char *name = xmpp_stanza_get_name(st);

	if (name != NULL && strcmp(name, "changes") == 0)
		return st;
	return xmpp_stanza_get_child_by_name(st, "changes");
}

/* The checks of a list taken. */
static void
check_taken(const struct sk_state *ch)
{
	size_t i, g, bytes = 0;

	FZ_CHECK(ch->nitems <= SKD_CHANGES_MAX);
	for (i = 0; i < ch->nitems; i++) {
		const struct sk_item *it = &ch->items[i];

		FZ_CHECK(it->jid != NULL);
		FZ_CHECK(i == 0 || strcmp(ch->items[i - 1].jid, it->jid) < 0);
		bytes += strlen(it->jid) + (it->name ? strlen(it->name) : 0);
		for (g = 0; g < it->ngroups; g++)
			bytes += strlen(it->groups[g]) + 1;
	}
	FZ_CHECK(bytes <= SKD_CHANGES_BYTES);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	xmpp_stanza_t *a, *b, *ca, *cb;
	struct sk_state ra, rb;
	const char *wa, *wb;

	fz_stanza_twice(d, n, &a, &b);
	if (a == NULL) {
		sk_capture_reset();
		return 0;
	}
	ca = changes_of(a);
	cb = changes_of(b);
	FZ_CHECK((ca == NULL) == (cb == NULL));
	if (ca != NULL) {
		sk_state_init(&ra);
		sk_state_init(&rb);
		wa = changes_parse(ca, &ra);
		wb = changes_parse(cb, &rb);
		/* alike, unless memory ran out on one side only */
		FZ_CHECK((wa == NULL) == (wb == NULL) ||
		    (wa != NULL && strcmp(wa, "out of memory") == 0) ||
		    (wb != NULL && strcmp(wb, "out of memory") == 0));
		if (wa == NULL && wb == NULL) {
			check_taken(&ra);
			fz_same_items(&ra, &rb);
		}
		sk_state_free(&ra);
		sk_state_free(&rb);
	}
	/* a query no parse took stays held until taken or pushed out */
	sk_capture_reset();
	xmpp_stanza_release(a);
	xmpp_stanza_release(b);
	return 0;
}
