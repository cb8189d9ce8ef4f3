/* store_admin.h - walks of the store for synckeyctl: counts, a user's clients, revocation */
#ifndef SK_STORE_ADMIN_H
#define SK_STORE_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * synckeyctl opens the store a running synckeyd has open (LMDB serves
 * several processes): reports read in the store's batch (store.h), which
 * on a store opened SK_STORE_RDONLY is a read-only transaction; the tool
 * ends it with sk_store_flush() as soon as it has what it needs, since
 * an open reader keeps LMDB from reusing the pages synckeyd frees.
 * sk_store_revoke() commits at once, so synckeyd waits for that short
 * write transaction only.  Errors as in store.h.
 */

struct sk_store_summary {
	size_t		users;		/* bare JIDs with a client record */
	size_t		clients;	/* client records */
	size_t		damaged;	/* of which do not decode */
	size_t		snapshots;
	size_t		presence;	/* stored presence resources */
	size_t		rosters;	/* stored rosters (server adapter) */
	uint32_t	epoch;
	uint64_t	txn;		/* the store's transaction counter */
	/* LMDB: the map and its file */
	uint64_t	map_size;	/* bytes the map may grow to */
	uint64_t	map_used;	/* bytes of pages in use */
	unsigned	page_size;
	uint64_t	file_size;	/* data.mdb, bytes */
	uint64_t	disk_size;	/* data.mdb, bytes allocated on disk */
	unsigned	readers;	/* reader slots in use */
	unsigned	max_readers;
};

/* Fills sum.  Errors: errno values (data.mdb not found), SK_ECORRUPT,
   SK_ESTORE. */
int sk_store_summary(struct sk_store *s, struct sk_store_summary *sum);

/* One client record of a user. */
struct sk_store_client {
	char			*id;		/* owned by the list */
	struct sk_client_rec	 rec;		/* zero when damaged */
	int			 damaged;	/* the record does not decode */
	size_t			 snapshots;	/* its stored snapshots */
};

/* A list of clients; v (and each id) owned by the list:
   sk_store_clients_free(). */
struct sk_store_clients {
	struct sk_store_client	*v;
	size_t			 n;
};

/*
 * Fills out (initialised here) with the client records of bare JID bare,
 * in client ID order.  An empty list is not an error.  Errors: ENOMEM,
 * SK_EINVAL (bare empty), SK_ETOOBIG, SK_ESTORE.
 */
int sk_store_clients(struct sk_store *s, const char *bare,
    struct sk_store_clients *out);
/* Frees what the list owns and empties it; an empty list is accepted. */
void sk_store_clients_free(struct sk_store_clients *l);

/*
 * Deletes the client record and snapshots of (bare, client), or of every
 * client of bare when client is NULL, and commits them with whatever the
 * batch held: the next sync with an old key of theirs is a full one with
 * reason unknown-key.  removed (initialised here; free it with
 * sk_store_clients_free) lists what was deleted, as before the deletion.
 * Errors: SK_ENOTFOUND (nothing to delete; nothing changed), EROFS on a
 * read-only store, SK_EINVAL, SK_ETOOBIG, ENOMEM, and a failed commit
 * (the store then holds what it held before).
 */
int sk_store_revoke(struct sk_store *s, const char *bare, const char *client,
    struct sk_store_clients *removed);

#endif
