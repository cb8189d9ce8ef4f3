/* apply.h - applying a sync result to a client's stored state */
#ifndef SK_APPLY_H
#define SK_APPLY_H

#include <stddef.h>

#include "state.h"

/* A growable list of owned strings. */
struct sk_strv {
	char	**v;
	size_t	  n, cap;
};

void sk_strv_init(struct sk_strv *sv);
void sk_strv_free(struct sk_strv *sv);
/* Appends a copy of len bytes of s (NUL added). 0 or ENOMEM. */
int sk_strv_add(struct sk_strv *sv, const char *s, size_t len);

/*
 * A parsed sync result (xep/ "Sync result"), owned: free with
 * sk_update_free().  Roster items with sub == SK_SUB_REMOVE in put.items
 * delete that item; presences in put.pres replace that resource; gone
 * lists full JIDs that went unavailable, gone_all bare JIDs whose every
 * resource did.
 */
struct sk_update {
	int		full;
	struct sk_state	put;
	struct sk_strv	gone;
	struct sk_strv	gone_all;
};

void sk_update_init(struct sk_update *u);
void sk_update_free(struct sk_update *u);

/*
 * Applies u to st (sorted; kept sorted): a full update replaces st's
 * records, a delta upserts and removes (RFC 6121 roster-push semantics).
 * Presence of a contact whose item is removed, or whose subscription no
 * longer sends presence, is left to the explicit unavailables in u.
 * On error (ENOMEM) st may be partly updated: apply to a copy, or discard
 * st, when that matters.  0 or ENOMEM.
 */
int sk_apply(struct sk_state *st, const struct sk_update *u);

#endif
