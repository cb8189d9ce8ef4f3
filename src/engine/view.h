/* view.h - each user's live state, kept ready between syncs */
#ifndef SK_VIEW_H
#define SK_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "lthash.h"
#include "state.h"
#include "store.h"
#include "apply.h"

/*
 * A view is what a sync answers from: the user's live state (roster
 * items, their contacts' stored presence, hidden contacts left out),
 * its snapshot blob and its digest.  Building one costs O(roster):
 * presence lookups, two sorts, a hash per record.  Kept between syncs,
 * a view is used again while it is exact: the same roster version (the
 * server adapter versions rosters), the same hidden contacts, and no
 * presence change of a to/both contact since it was built (the store's
 * change numbers, store.h) — or, when a few contacts changed, after their
 * presence is taken again from the store.  A null sync then costs
 * O(changes since), not O(roster); a delta skips the roster read, the
 * lookups and the state sort (the blob is built again).
 *
 * Digests are made when a sync asks for them (sk_view_digest): version
 * 0's SHA-256 over every record once per state, version 1's vector once
 * per view and then kept in step record by record as presence and roster
 * changes come in, so that a delta costs O(changes) there.
 */
struct sk_view {
	struct sk_state	 live;		/* sorted, as sk_view_live() leaves it */
	unsigned char	*blob;		/* sk_snap_build(live) */
	size_t		 len;
	/* private to view.c */
	char		 digest0[SK_DIGEST_B64];	/* valid when have0 */
	struct sk_lthash lt;		/* version 1's vector, valid when have1 */
	int		 have0, have1;
	uint64_t	 gen;		/* the store's presence change number */
	struct sk_view_watch *watch;	/* to/both contacts by sk_snap_h64 */
	size_t		 nwatch;
	char		*bare, *ver, *hidden;
	size_t		 bytes;		/* what it holds, about */
	struct sk_view	*older, *newer, *next_in_bucket;
};

/*
 * Completes a live state whose items are the user's roster: appends the
 * stored presence of every contact with subscription to or both, then
 * sorts.  0 or an error of error.h.
 */
int sk_view_live(struct sk_store *s, struct sk_state *live);

/*
 * Builds the view of a state whose items are the user's roster: takes
 * the stored presence of every to/both contact, removes the presence of
 * the hidden contacts (may be NULL), sorts, builds the blob and digest.
 * live is moved into the view (left empty).  *out is owned by the
 * caller: sk_view_free(), or sk_views_put().  0 or an error of error.h.
 */
int sk_view_build(struct sk_store *s, struct sk_state *live,
    const struct sk_strv *hidden, struct sk_view **out);
void sk_view_free(struct sk_view *v);

/*
 * The digest of the view's state for protocol version 0 (SHA-256 of the
 * canonical form) or 1 (LtHash16, lthash.h), made on first use and kept
 * with the view.  0, EINVAL (another version), ENOMEM or -1 (OpenSSL).
 */
int sk_view_digest(struct sk_view *v, unsigned version, char out[SK_DIGEST_B64]);

/* The cache: views of recently synced users, bounded in bytes. */
struct sk_views;

/*
 * Views of all users together hold at most max_bytes; one user's view at
 * most max_user_bytes (his share: a view over it is not kept, so one user
 * can push out no more than that of the others' views).  *out owned by
 * the caller: sk_views_free().  0 or ENOMEM.
 */
int sk_views_new(size_t max_bytes, size_t max_user_bytes, struct sk_views **out);
void sk_views_free(struct sk_views *c);

/*
 * The kept view of bare for roster version ver and the hidden contacts
 * (any order), brought up to date with the presence changes since it was
 * built; NULL when there is none, it is for another version or hidden
 * list, or it cannot be brought up to date (too many changes, unknown
 * changes, a store error, grown over the user's share): such a view is
 * dropped.  Borrowed: valid
 * until the next sk_views_get/put/drop/free.
 */
struct sk_view *sk_views_get(struct sk_views *c, struct sk_store *s,
    const char *bare, const char *ver, const struct sk_strv *hidden);

/*
 * Keeps v (built from roster version ver and hidden) as bare's view,
 * replacing the one kept, and evicts the least recently used views over
 * the bound.  Takes v in every case (on error, or when it is not kept, it
 * is freed).  0 (kept, or not kept for want of a version), SK_EFULL (not
 * kept: over max_user_bytes or max_bytes), or ENOMEM.
 */
int sk_views_put(struct sk_views *c, const char *bare, const char *ver,
    const struct sk_strv *hidden, struct sk_view *v);

/*
 * The adapter's change list (doc/adapter-protocol.md "Change lists"): the kept view of
 * bare for roster version since and hidden (as sk_views_get: brought up
 * to date with the presence changes, else NULL), changed by changes
 * (items sorted by JID, each once; SK_SUB_REMOVE deletes one) and kept
 * as the view of version ver.  The items are patched in place and the
 * changed contacts' presence taken from the store again; the watch list,
 * blob and digest are built again (O(roster) memory passes, no store read
 * per contact).  NULL when no view for since and hidden is kept, on error
 * (the view is then dropped), or when the changed view alone is over the
 * bound: the caller builds one from the stored roster.  Borrowed as
 * sk_views_get's.
 */
struct sk_view *sk_views_apply(struct sk_views *c, struct sk_store *s,
    const char *bare, const char *since, const char *ver,
    const struct sk_strv *hidden, const struct sk_state *changes);

/* Forgets bare's view (its roster or its blocking changed). */
void sk_views_drop(struct sk_views *c, const char *bare);

/* Views kept, and their bytes. */
void sk_views_stats(const struct sk_views *c, size_t *n, size_t *bytes);

#endif
