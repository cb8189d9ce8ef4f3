/* sync.h - the sync engine: key check, snapshot read, diff, new key */
#ifndef SK_SYNC_H
#define SK_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "apply.h"
#include "diff.h"
#include "digest.h"
#include "key.h"
#include "state.h"
#include "store.h"
#include "view.h"

/*
 * One sync or checkpoint, from a parsed request and the live state to a
 * result: no XML, no network.  The daemon parses the IQ, fetches the
 * roster, calls sk_view_live() and sk_sync_run(), and serialises the
 * result (xep/ "Sync result", "Keys").
 *
 * Key lifecycle per (user, client): the record keeps `cur` (newest key)
 * and `prev` (its predecessor).  A request with a usable key K (cur or
 * prev) gets a new key N; afterwards exactly K and N are valid: the
 * predecessor stays valid until its successor is used once.  A full sync
 * leaves N alone valid.
 */
enum sk_reason {
	SK_REASON_NONE = 0,	/* a delta */
	SK_REASON_NO_KEY,
	SK_REASON_UNKNOWN_KEY,
	SK_REASON_EXPIRED,
	SK_REASON_INVALID_KEY,
	SK_REASON_RESET
};

/* "no-key", "unknown-key", ...; NULL for SK_REASON_NONE. */
const char *sk_reason_name(enum sk_reason r);

struct sk_sync_cfg {
	uint64_t	ttl;		/* key lifetime, seconds (30 days) */
	unsigned	max_clients;	/* per user (16) */
};
#define SK_SYNC_TTL_DEFAULT (30u * 24 * 3600)
#define SK_SYNC_MAX_CLIENTS_DEFAULT 16

struct sk_sync_result {
	int		 full;		/* 1: children are the whole state */
	enum sk_reason	 reason;	/* why full; NONE for a delta */
	char		 key[SK_KEY_MAX + 1];
	char		 digest[SK_DIGEST_B64];
	/* delta only: ITEM/PRES refs index the live state; strings borrow
	   from old_blob (owned here) and the live blob: live_blob (owned
	   here) after sk_sync_run, the view's after sk_sync_run_view */
	struct sk_changes changes;
	unsigned char	*old_blob;
	unsigned char	*live_blob;
};

void sk_sync_result_init(struct sk_sync_result *r);
void sk_sync_result_free(struct sk_sync_result *r);


/*
 * Answers a sync request of (bare, client) carrying key (NULL: none)
 * against live (sorted, from sk_view_live), with version 0's digest.  Writes the new snapshot and
 * client record into the store's batch.  Returns 0 and fills res (free
 * with sk_sync_result_free), or an error of error.h (storage failures
 * only: a bad key is never an error but a full result with its reason).
 */
int sk_sync_run(struct sk_store *s, const struct sk_sync_cfg *cfg,
    const char *bare, const char *client, const char *key,
    const struct sk_state *live, uint64_t now, struct sk_sync_result *res);
/* The same against a view (view.h), whose blob is used as it is, with
   the view's digest of protocol version (0 or 1; sk_view_digest): res
   borrows from v, which must outlive it. */
int sk_sync_run_view(struct sk_store *s, const struct sk_sync_cfg *cfg,
    const char *bare, const char *client, const char *key,
    struct sk_view *v, unsigned version, uint64_t now, struct sk_sync_result *res);

/*
 * Answers a checkpoint: key must be usable (else SK_EKEY, SK_EEXPIRED,
 * SK_ERESET or SK_ENOTFOUND, and nothing changes).  On 0, newkey names a
 * snapshot of live and the key lifecycle moves as for a sync.
 */
int sk_sync_checkpoint(struct sk_store *s, const struct sk_sync_cfg *cfg,
    const char *bare, const char *client, const char *key,
    const struct sk_state *live, uint64_t now, char newkey[SK_KEY_MAX + 1]);
int sk_sync_checkpoint_view(struct sk_store *s, const struct sk_sync_cfg *cfg,
    const char *bare, const char *client, const char *key,
    const struct sk_view *v, uint64_t now, char newkey[SK_KEY_MAX + 1]);

/*
 * What the client applies for res: a full result becomes every record of
 * live; a delta becomes its changes (removed items as SK_SUB_REMOVE).
 * u is initialised here; free with sk_update_free.  0 or ENOMEM.
 */
int sk_sync_to_update(const struct sk_sync_result *res,
    const struct sk_state *live, struct sk_update *u);

#endif
