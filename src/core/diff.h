/* diff.h - the changed records between a snapshot and the live state */
#ifndef SK_DIFF_H
#define SK_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

/*
 * sk_diff() compares the snapshot a client's key names (old) with the blob
 * of the live state (live) and lists exactly what the client must change:
 * a pure function of two sorted arrays, no I/O (xep/ "Reconnect: delta answer").
 *
 * Per contact whose records differ:
 *   - roster: SK_CH_ITEM (live item new or different) or SK_CH_ITEM_REMOVE
 *     (item gone);
 *   - presence: SK_CH_PRES for each live resource new or different;
 *     SK_CH_PRES_GONE for each resource gone while others remain, or one
 *     SK_CH_PRES_GONE_ALL (bare unavailable) when no resource remains.
 * A record whose hash equals the snapshot's is never listed, so a contact
 * that changed and changed back is not in the result.
 */
enum sk_change_kind {
	SK_CH_ITEM,		/* ref: index in live state items[] */
	SK_CH_ITEM_REMOVE,	/* bare: the removed item's JID */
	SK_CH_PRES,		/* ref: index in live state pres[] */
	SK_CH_PRES_GONE,	/* bare + res: the resource that went away
				   (reslen 0: a presence from the bare JID) */
	SK_CH_PRES_GONE_ALL	/* bare: every resource went away */
};

struct sk_change {
	enum sk_change_kind	 kind;
	uint32_t		 ref;
	const char		*bare;		/* borrowed from a blob, */
	const char		*res;		/* not NUL-terminated */
	uint16_t		 barelen, reslen;
};

struct sk_changes {
	struct sk_change	*v;		/* owned; sk_changes_free() */
	size_t			 n, cap;
	size_t			 ncontacts;	/* contacts with a change */
};

void sk_changes_init(struct sk_changes *c);
void sk_changes_free(struct sk_changes *c);

/*
 * Appends to out the changes that turn old into live.  String pointers in
 * out borrow from old's and live's blobs.  Returns 0, ENOMEM, or
 * SK_ECORRUPT when a blob's entries are out of bounds or out of order (out
 * then holds a partial list the caller discards).
 */
int sk_diff(const struct sk_snap *old, const struct sk_snap *live,
    struct sk_changes *out);

#endif
