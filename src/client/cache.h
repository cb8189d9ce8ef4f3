/* cache.h - the client's local LMDB cache: its state, key and roster version */
#ifndef SK_CACHE_H
#define SK_CACHE_H

#include "key.h"
#include "state.h"

/*
 * One LMDB environment in a folder (0700, files 0600) with three
 * databases: "meta" (schema, owner bare JID, client ID, key, roster ver,
 * digest), "item" (JID -> item) and "pres" (full JID -> presence).
 *
 * Every change is one transaction, so the cache is never half-written: a
 * crash keeps the previous state and key.  On open the whole state is
 * checked against the digest stored with it; a damaged or edited cache is
 * refused (SK_ECORRUPT), never silently used or overwritten.
 */
#define SK_CACHE_SCHEMA 1

struct sk_cache;

/*
 * Opens (creating, when create is 1) the cache in dir for owner (bare
 * JID).  A new cache gets client_id, or a random one when NULL.  Errors:
 * SK_EFOREIGN (another owner), SK_ESCHEMA (unknown schema), SK_ECORRUPT,
 * SK_ENOTFOUND (no cache and create is 0), errno values.  *out is owned
 * by the caller: sk_cache_close().
 */
int sk_cache_open(const char *dir, const char *owner, const char *client_id,
    int create, struct sk_cache **out);
void sk_cache_close(struct sk_cache *c);

/* Borrowed strings, valid until the next call on c: the client ID, the
   sync key ("" when none), the roster version ("" when none). */
const char *sk_cache_client(const struct sk_cache *c);
const char *sk_cache_key(const struct sk_cache *c);
const char *sk_cache_ver(const struct sk_cache *c);

/* Copies the stored state into st (initialised here, sorted). */
int sk_cache_load(struct sk_cache *c, struct sk_state *st);

/*
 * Replaces the stored state with st and sets key and ver (NULL: none),
 * in one transaction.  0 or an error (then nothing changed).
 */
int sk_cache_commit(struct sk_cache *c, const struct sk_state *st,
    const char *key, const char *ver);
/* Sets only the key (NULL drops it), in one transaction. */
int sk_cache_set_key(struct sk_cache *c, const char *key);

/*
 * The sync service found last time, so that a reconnect need not look
 * for it again: its JID ("" when none) and flags (SK_SVC_*).  Borrowed,
 * valid until the next call on c.  Set NULL to forget it.
 */
#define SK_SVC_ADAPTER	1	/* the server runs the synckey adapter */
#define SK_SVC_V1	2	/* the service offers protocol version 1 */
const char *sk_cache_service(const struct sk_cache *c, unsigned *flags);
int sk_cache_set_service(struct sk_cache *c, const char *svc, unsigned flags);

#endif
