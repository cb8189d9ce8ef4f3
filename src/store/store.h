/* store.h - the LMDB store: live presence, snapshots, key records */
#ifndef SK_STORE_H
#define SK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "state.h"

/*
 * One LMDB environment in a directory, four named databases (doc/implementation.md "The store"):
 *
 *   meta    "schema" -> u32 (SK_STORE_SCHEMA), "epoch" -> u32,
 *           "txn" -> u64 (the store's own transaction counter)
 *   pres    bare JID 0x00 resource -> presence record, shared by every
 *           user who has that contact (one copy per contact resource)
 *   client  bare JID 0x00 client ID -> struct sk_client_rec
 *   snap    bare JID 0x00 client ID 0x00 u64 txn (big-endian) -> blob
 *
 * The deployment secret lives beside the map in the file "secret"
 * (SK_SECRET_LEN random bytes from RAND_bytes, mode 0600, created at first
 * open; a group- or world-readable secret is refused), and after a
 * rotation the one before it in "secret.prev" (see "The secret and its
 * rotation" below; the formats are in store_secret.c).
 *
 * Batching.  Writes go into one open write transaction that the caller
 * commits with sk_store_flush() (after N events or T ms: the daemon
 * decides), so many events share one commit.  Reads see the uncommitted
 * batch.  Pointers a read returns borrow from the map and stay valid
 * until the next write call or flush on that store.
 *
 * Crash safety: LMDB keeps the map consistent across kill -9; a batch not
 * yet flushed is lost, which costs a client at most a full sync.
 *
 * All functions return 0 or an error of error.h; MDB_* codes are mapped:
 * MDB_NOTFOUND -> SK_ENOTFOUND, MDB_MAP_FULL -> SK_EFULL, MDB_CORRUPTED and
 * MDB_INVALID -> SK_ECORRUPT, others -> SK_ESTORE.
 */
#define SK_STORE_SCHEMA 1

struct sk_store;

/* Per client: the keys it may use (xep/ "Keys"). */
struct sk_client_rec {
	uint64_t	session;	/* random, fixed for the record's life */
	uint64_t	cur;		/* txn of the newest key, 0 = none */
	uint64_t	prev;		/* txn of its predecessor, 0 = none */
	uint64_t	created;	/* seconds since the Unix epoch */
	uint64_t	used;		/* last sync or checkpoint */
};

#define SK_STORE_RDONLY 0x1	/* open read-only (tools, tests) */

/*
 * Opens (creating when absent, unless SK_STORE_RDONLY) the store in dir.
 * *out is owned by the caller: sk_store_close().  Errors: errno values,
 * SK_ESCHEMA (the map has another schema version: never rewritten),
 * SK_ESECRET, SK_ECORRUPT, SK_ESTORE.
 */
int sk_store_open(const char *dir, unsigned flags, struct sk_store **out);
/* Commits a pending batch (errors ignored: call sk_store_flush first to
   see them) and closes.  NULL is accepted. */
void sk_store_close(struct sk_store *s);

/* The deployment secret, SK_SECRET_LEN bytes, owned by the store: the
   current one, which signs every new key. */
const unsigned char *sk_store_secret(const struct sk_store *s);

/* --- the secret and its rotation --------------------------------------- */

/*
 * synckeyctl rotate-secret makes a new secret current while synckeyd runs:
 * the one it replaces moves to "secret.prev" with a date, and keys it
 * signed keep verifying until then (then they get a full sync with
 * reason invalid-key, as a forged key would).  One previous secret is
 * kept: a second rotation before the date drops the first one's keys.
 * synckeyd notices the new files by sk_store_secret_refresh() (each
 * second, and at once on SIGHUP).
 */

/*
 * Decodes a key as sk_key_decode() does, trying the current secret, then
 * the previous one while now < its date.  0 and *k filled, or SK_EKEY.
 */
int sk_store_key_decode(const struct sk_store *s, const char *bare,
    const char *client, const char *text, uint64_t now, struct sk_key *k);

/*
 * Reads the secret files again when they changed on disk since they were
 * read (a rename, a rewrite), or always when force is 1.  *reloaded (may
 * be NULL) is set to 1 when s now holds what the files hold.  On an error
 * s keeps the secrets it had.  Errors: errno values, SK_ESECRET (a file
 * missing, of the wrong size, or readable by group or others), SK_ESTORE.
 */
int sk_store_secret_refresh(struct sk_store *s, int force, int *reloaded);

/* The state of the secret files of a store folder (no secret bytes). */
struct sk_store_secret_info {
	uint64_t	changed;	/* "secret" last written (its mtime) */
	int		has_prev;	/* "secret.prev" is there */
	uint64_t	prev_until;	/* which verifies keys while now < it */
};
/* Fills info for the store in dir.  Errors: errno values, SK_ESECRET. */
int sk_store_secret_info(const char *dir, struct sk_store_secret_info *info);
/*
 * Rotates the secret of the store in dir (which need not be open): a new
 * random secret becomes current; the old one verifies keys until now +
 * keep seconds, or, when keep is 0, is deleted at once (a leaked secret).
 * before gets the state the rotation replaced.  Rotations are serialised
 * by flock(2) on dir.  On an error the current secret is still the old
 * one, or the rotation is complete.  Errors: errno values, SK_ESECRET.
 */
int sk_store_secret_rotate(const char *dir, uint64_t now, uint64_t keep,
    struct sk_store_secret_info *before);

/* Commits the open batch, if any. */
int sk_store_flush(struct sk_store *s);
/* Writes in the open batch (0 when none). */
size_t sk_store_pending(const struct sk_store *s);
/*
 * 1 when a write or a commit failed since the store was opened or last
 * recovered: that batch was lost whole (other records' writes too), so
 * stored presence and snapshots may be stale.  sk_store_recover() then
 * clears presence and bumps the epoch in a fresh transaction and commits
 * it: every key gets a full sync (reason reset), never a wrong delta.  It
 * clears the mark on success; the caller must then get presence again
 * (synckeyd reconnects for the server's replay).
 */
int sk_store_lost(const struct sk_store *s);
int sk_store_recover(struct sk_store *s);

/* Current epoch; sk_store_epoch_bump() adds one (in the batch). */
int sk_store_epoch(struct sk_store *s, uint32_t *epoch);
int sk_store_epoch_bump(struct sk_store *s, uint32_t *epoch);
/* Advances the store's transaction counter and returns the new value. */
int sk_store_next_txn(struct sk_store *s, uint64_t *txn);

/* --- live presence --------------------------------------------------- */
/* Stores p (p->hash must be set) under its full JID, replacing. */
int sk_store_pres_put(struct sk_store *s, const struct sk_pres *p);
/* Deletes one resource / every resource of bare / every presence.
   Absent records are not an error. */
int sk_store_pres_del(struct sk_store *s, const char *fulljid);
int sk_store_pres_del_bare(struct sk_store *s, const char *bare);
int sk_store_pres_clear(struct sk_store *s);
/* After a (re)connect: no presence, a new epoch (every older key gets a
   full sync, reason reset), committed.  *epoch (may be NULL) gets it.
   0 or an error of error.h. */
int sk_store_pres_reset(struct sk_store *s, uint32_t *epoch);
/* 0 when a presence of fulljid is stored, else SK_ENOTFOUND (or an error). */
int sk_store_pres_has(struct sk_store *s, const char *fulljid);
/* *n = the number of stored resources of bare JID bare. */
int sk_store_pres_resources(struct sk_store *s, const char *bare, size_t *n);
/* Appends to st a copy of every stored presence of contact bare. */
int sk_store_pres_get(struct sk_store *s, const char *bare, struct sk_state *st);
/*
 * What stored presence takes, per domain and in all: records, and bytes
 * of key and value.  domain (of a JID: between '@' and '/', ASCII case
 * ignored) NULL gives the whole store; a domain with none gives 0 and 0.
 * Kept up to date by put and del, counted from the database on first use
 * and after presence was cleared or a batch lost.
 */
int sk_store_pres_usage(struct sk_store *s, const char *domain, size_t *count,
    size_t *bytes);
/* The bytes p would take stored; the bytes the stored presence of
   fulljid takes (SK_ENOTFOUND and 0 when there is none). */
int sk_store_pres_size(const struct sk_pres *p, size_t *bytes);
int sk_store_pres_stored(struct sk_store *s, const char *fulljid, size_t *bytes);
/* The domain of a JID, as usage counts it, into buf (lower case). */
int sk_store_pres_domain(const char *jid, char *buf, size_t len);
/* Number of stored presence resources. */
int sk_store_pres_count(struct sk_store *s, size_t *n);

/*
 * Presence changes, for states kept between syncs (view.h).  Every
 * presence write (put, del, del_bare) is change number
 * sk_store_pres_gen() of its contact; the store remembers the contacts
 * (sk_snap_h64 of the bare JID) of the last 65536 changes, in memory, for
 * this handle.  sk_store_pres_change() gives the contact of change g:
 * 0, or SK_ENOTFOUND when g is no longer known (too old, presence
 * cleared, a batch lost): then any contact may have changed.
 */
uint64_t sk_store_pres_gen(const struct sk_store *s);
int sk_store_pres_change(const struct sk_store *s, uint64_t g, uint64_t *h64);

/* --- rosters (server adapter mode) ----------------------------------------- */

/*
 * With a server adapter, synckeyd keeps each user's roster with the
 * server's version of it, so that a sync asks only "changed since VER?"
 * (doc/adapter-protocol.md, "The view").  One record per user: the
 * version and every item (itemrec.h).
 */
#define SK_ROSTER_VER_MAX	255
/* Stores roster's items (SK_SUB_REMOVE items are not allowed) as bare's
   roster at version ver, in the batch. */
int sk_store_roster_put(struct sk_store *s, const char *bare, const char *ver,
    const struct sk_state *roster);
/* The stored version of bare's roster into ver (SK_ROSTER_VER_MAX + 1
   bytes), or SK_ENOTFOUND. */
int sk_store_roster_ver(struct sk_store *s, const char *bare, char *ver);
/* Appends the stored items of bare's roster to st; SK_ENOTFOUND, or
   SK_ECORRUPT (the caller deletes it and asks for the whole roster). */
int sk_store_roster_get(struct sk_store *s, const char *bare, struct sk_state *st);
/*
 * Applies changes to bare's stored roster at version since, which is then
 * at version ver, in the batch (adapter change lists, doc/adapter-protocol.md "Change lists").
 * changes: items sorted by JID (sk_state_sort), each JID once; an item
 * replaces the stored one of its JID or is added, SK_SUB_REMOVE deletes it
 * (absent: no error).  The record holds every item in one value, so the
 * new value is written whole: one pass copying the stored items' bytes
 * unparsed, only the changed items encoded (O(changes) encoding, O(roster)
 * memcpy).  SK_ENOTFOUND when no roster of version since is stored (none,
 * or another version: the caller asks for the whole roster), SK_EINVAL
 * (unsorted, twice, since or ver NULL), SK_ETOOBIG, SK_ECORRUPT, ENOMEM,
 * store errors.  On error the stored roster is unchanged.
 */
int sk_store_roster_apply(struct sk_store *s, const char *bare, const char *since,
    const char *ver, const struct sk_state *changes);
/* Deletes bare's roster record, in the batch; absent is no error. */
int sk_store_roster_del(struct sk_store *s, const char *bare);

/* --- client records ------------------------------------------------------ */
/* SK_ENOTFOUND when there is none. */
int sk_store_client_get(struct sk_store *s, const char *bare,
    const char *client, struct sk_client_rec *rec);
int sk_store_client_put(struct sk_store *s, const char *bare,
    const char *client, const struct sk_client_rec *rec);
/* Deletes the record and every snapshot of (bare, client). */
int sk_store_client_del(struct sk_store *s, const char *bare, const char *client);
/*
 * Keeps at most max client records for bare: deletes the least recently
 * used (and their snapshots) until fewer than max remain when `adding`
 * is 1 (room for one more), or at most max when 0.  *evicted (may be NULL)
 * gets the number removed.
 */
int sk_store_client_evict(struct sk_store *s, const char *bare, unsigned max,
    int adding, size_t *evicted);
/* Deletes every client record (and snapshots) not used since before
   now - ttl.  *removed (may be NULL) gets the number removed. */
int sk_store_gc(struct sk_store *s, uint64_t now, uint64_t ttl, size_t *removed);

/* --- snapshots ----------------------------------------------------------- */
int sk_store_snap_put(struct sk_store *s, const char *bare, const char *client,
    uint64_t txn, const void *blob, size_t len);
/* *blob borrows from the map (see Batching). SK_ENOTFOUND when absent. */
int sk_store_snap_get(struct sk_store *s, const char *bare, const char *client,
    uint64_t txn, const void **blob, size_t *len);
int sk_store_snap_del(struct sk_store *s, const char *bare, const char *client,
    uint64_t txn);

/* Encodes/decodes the stored presence record (exposed for tests and the
   fuzzer). decode fills p with malloc'd copies; SK_ECORRUPT on bad input. */
int sk_store_pres_encode(const struct sk_pres *p, unsigned char **buf, size_t *len);
int sk_store_pres_decode(const char *fulljid, const void *buf, size_t len,
    struct sk_pres *p);

#endif
