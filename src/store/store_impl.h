/* store_impl.h - what the store's files share: the handle and LMDB helpers (private) */
#ifndef SK_STORE_IMPL_H
#define SK_STORE_IMPL_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

#include <lmdb.h>

#include "store.h"

/*
 * The store is split by record kind: store.c (opening, batch, meta),
 * store_secret.c (the secret files and their rotation), store_pres.c
 * (live presence), store_client.c (client records, snapshots, garbage
 * collection), store_admin.c (walks for synckeyctl).  This header is
 * theirs alone.
 */
#define KEYBUF 1100	/* bare JID, client ID, separators, txn */

struct sk_store {
	MDB_env		*env;
	MDB_dbi		 meta, pres, client, snap, roster;
	MDB_txn		*txn;		/* the open batch (or read txn) */
	size_t		 pending;
	int		 rdonly;
	int		 lost;		/* a batch was lost: sk_store_recover */
	/* store.c: the last STORE_CHANGES presence changes, change g
	   at changes[g % STORE_CHANGES] (the contact's sk_snap_h64); the
	   ones numbered <= pres_floor are unknown (presence cleared, a
	   batch lost) */
	uint64_t	*changes;
	uint64_t	 pres_gen, pres_floor;
	/* store_pres.c: stored presence per domain (records and bytes of
	   key and value), counted from the database when first asked and
	   again after store_forget_changes (usage_ready 0) */
	struct pres_usage {
		char	*domain;	/* NULL: a free slot */
		size_t	 count, bytes;
	}		*usage;
	size_t		 usage_cap, usage_n;
	size_t		 usage_count, usage_bytes;	/* the whole store */
	int		 usage_ready;
	unsigned char	 secret[SK_SECRET_LEN];
	/* store_secret.c: the secret before the last rotation, accepted
	   while now < prev_until (0: none), and what the two files looked
	   like when read, to notice a rotation by another process */
	unsigned char	 prev[SK_SECRET_LEN];
	uint64_t	 prev_until;
	struct store_stamp {
		dev_t		dev;
		ino_t		ino;
		off_t		size;
		struct timespec	mtim, ctim;
		int		present;
	}		 stamp[2];
};


#define STORE_CHANGES 65536u	/* a power of two */

/* Everything may have changed: presence cleared, or a batch lost. */
/* store.c: presence change g is numbered before its write (store_pres.c);
   after a lost batch or a clear, every change so far is unknown. */
void store_note_change(struct sk_store *s, const char *jid, size_t barelen);
void store_forget_changes(struct sk_store *s);
/* Frees the per-domain presence usage table (kept by store_pres.c). */
void store_usage_free(struct sk_store *s);

/* Reads the secret files of dir into s (creating "secret" when create is
   1 and it is absent); s keeps its secrets on error (store_secret.c). */
int store_secret_load(struct sk_store *s, const char *dir, int create);
/* Decodes a stored client record: 0 or SK_ECORRUPT (store_client.c). */
int store_client_decode(const MDB_val *v, struct sk_client_rec *r);

/* MDB_* and errno to error.h codes. */
int store_map_rc(int rc);
/* The open batch (begun lazily; read-only for a read-only store). */
int store_txn(struct sk_store *s, MDB_txn **out);
/* A write failed: the batch is lost; returns the mapped code. */
int store_fail(struct sk_store *s, int rc);
int store_put(struct sk_store *s, MDB_dbi dbi, const void *k, size_t klen,
    const void *v, size_t vlen);
int store_get(struct sk_store *s, MDB_dbi dbi, const void *k, size_t klen, MDB_val *val);
int store_del(struct sk_store *s, MDB_dbi dbi, const void *k, size_t klen);
/* Deletes every record whose key starts with prefix; counts them. */
int store_del_prefix(struct sk_store *s, MDB_dbi dbi, const void *prefix,
    size_t plen, size_t *count);
/* Keys: bare 0x00 tail; a presence key from a full JID; client and
   snapshot keys.  0, SK_EINVAL or SK_ETOOBIG. */
int store_key2(char *buf, const char *a, size_t alen, const char *b, size_t blen, size_t *len);
int store_pres_key(char *buf, const char *fulljid, size_t *len);
int store_client_key(char *buf, const char *bare, const char *client, size_t *len);
int store_snap_key(char *buf, const char *bare, const char *client, uint64_t txn, size_t *len);

#endif
