/* store.c - the LMDB store: opening, batches, meta (layout in store.h) */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <openssl/crypto.h>

#include "bytes.h"
#include "error.h"
#include "snap.h"
#include "store_impl.h"

#define MAPSIZE_DEFAULT	(1024UL * 1024 * 1024)

int
store_map_rc(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:	return 0;
	case MDB_NOTFOUND:	return SK_ENOTFOUND;
	case MDB_MAP_FULL:	return SK_EFULL;
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH: return SK_ECORRUPT;
	case MDB_BAD_VALSIZE:	return SK_ETOOBIG;
	default:		return rc > 0 ? rc : SK_ESTORE;
	}
}

/* The batch: begun lazily, read-only for a read-only store. */
int
store_txn(struct sk_store *s, MDB_txn **out)
{
	int rc;

	if (s->txn == NULL &&
	    (rc = mdb_txn_begin(s->env, NULL, s->rdonly ? MDB_RDONLY : 0, &s->txn)) != 0) {
		s->txn = NULL;
		return store_map_rc(rc);
	}
	*out = s->txn;
	return 0;
}

/* A write failed: LMDB leaves the txn unusable, so the batch is lost,
   and with it writes of other records: marked for sk_store_recover. */
int
store_fail(struct sk_store *s, int rc)
{
	if (s->txn != NULL)
		mdb_txn_abort(s->txn);
	s->txn = NULL;
	s->pending = 0;
	s->lost = 1;
	store_forget_changes(s);
	return store_map_rc(rc);
}

int
store_put(struct sk_store *s, MDB_dbi dbi, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	MDB_val key = { klen, (void *)k }, val = { vlen, (void *)v };
	MDB_txn *t;
	int rc;

	if (s->rdonly)
		return EROFS;
	if (klen == 0 || klen > (size_t)mdb_env_get_maxkeysize(s->env))
		return klen == 0 ? SK_EINVAL : SK_ETOOBIG;
	if ((rc = store_txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_put(t, dbi, &key, &val, 0)) != 0)
		return store_fail(s, rc);
	s->pending++;
	return 0;
}

int
store_get(struct sk_store *s, MDB_dbi dbi, const void *k, size_t klen, MDB_val *val)
{
	MDB_val key = { klen, (void *)k };
	MDB_txn *t;
	int rc;

	if (klen == 0 || klen > (size_t)mdb_env_get_maxkeysize(s->env))
		return klen == 0 ? SK_EINVAL : SK_ETOOBIG;
	if ((rc = store_txn(s, &t)) != 0)
		return rc;
	return store_map_rc(mdb_get(t, dbi, &key, val));
}

int
store_del(struct sk_store *s, MDB_dbi dbi, const void *k, size_t klen)
{
	MDB_val key = { klen, (void *)k };
	MDB_txn *t;
	int rc;

	if (s->rdonly)
		return EROFS;
	if (klen == 0 || klen > (size_t)mdb_env_get_maxkeysize(s->env))
		return klen == 0 ? SK_EINVAL : SK_ETOOBIG;
	if ((rc = store_txn(s, &t)) != 0)
		return rc;
	rc = mdb_del(t, dbi, &key, NULL);
	if (rc == MDB_NOTFOUND)
		return SK_ENOTFOUND;
	if (rc != 0)
		return store_fail(s, rc);
	s->pending++;
	return 0;
}

/*
 * Deletes every record whose key starts with prefix (plen bytes); calls
 * keep(key) first when given and skips keys it returns 1 for.
 */
int
store_del_prefix(struct sk_store *s, MDB_dbi dbi, const void *prefix, size_t plen,
    size_t *count)
{
	MDB_val key = { plen, (void *)prefix }, val;
	MDB_cursor *c;
	MDB_txn *t;
	int rc;

	if (s->rdonly)
		return EROFS;
	if ((rc = store_txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(t, dbi, &c)) != 0)
		return store_fail(s, rc);
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	while (rc == 0 && key.mv_size >= plen && memcmp(key.mv_data, prefix, plen) == 0) {
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		s->pending++;
		if (count)
			(*count)++;
		rc = mdb_cursor_get(c, &key, &val, MDB_GET_CURRENT);
		if (rc == MDB_NOTFOUND || rc == EINVAL)	/* deleted the last */
			rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
		else if (rc == 0)
			continue;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_fail(s, rc);
	return 0;
}

/* ---- opening ------------------------------------------------------------ */

/* Opens the five databases and checks (or, on a new map, writes) the schema. */
static int
open_dbs(struct sk_store *s)
{
	unsigned flags = s->rdonly ? 0 : MDB_CREATE;
	MDB_val k = { 6, "schema" }, v;
	unsigned char buf[8];
	MDB_dbi main;
	MDB_stat st;
	MDB_txn *t;
	int rc, fresh = 0;

	if ((rc = mdb_txn_begin(s->env, NULL, s->rdonly ? MDB_RDONLY : 0, &t)) != 0)
		return store_map_rc(rc);
	rc = mdb_dbi_open(t, "meta", 0, &s->meta);
	if (rc == MDB_NOTFOUND) {
		/* No meta: a new map, unless something else lives here. */
		if ((rc = mdb_dbi_open(t, NULL, 0, &main)) != 0 ||
		    (rc = mdb_stat(t, main, &st)) != 0)
			goto out;
		if (st.ms_entries != 0 || s->rdonly) {
			rc = SK_ESCHEMA;
			goto out;
		}
		fresh = 1;
		rc = mdb_dbi_open(t, "meta", MDB_CREATE, &s->meta);
	}
	if (rc != 0 ||
	    (rc = mdb_dbi_open(t, "pres", flags, &s->pres)) != 0 ||
	    (rc = mdb_dbi_open(t, "client", flags, &s->client)) != 0 ||
	    (rc = mdb_dbi_open(t, "snap", flags, &s->snap)) != 0)
		goto out;
	/* Added after schema 1 without changing it: an older synckeyd
	   ignores it, a newer one creates it. */
	rc = mdb_dbi_open(t, "roster", flags, &s->roster);
	if (rc == MDB_NOTFOUND && s->rdonly)
		rc = 0, s->roster = 0;
	if (rc != 0)
		goto out;
	if (fresh) {
		sk_put_le32(buf, SK_STORE_SCHEMA);
		v.mv_size = 4;
		v.mv_data = buf;
		if ((rc = mdb_put(t, s->meta, &k, &v, 0)) != 0)
			goto out;
		sk_put_le32(buf, 1);
		k.mv_size = 5;
		k.mv_data = "epoch";
		if ((rc = mdb_put(t, s->meta, &k, &v, 0)) != 0)
			goto out;
		sk_put_le64(buf, 0);
		k.mv_size = 3;
		k.mv_data = "txn";
		v.mv_size = 8;
		if ((rc = mdb_put(t, s->meta, &k, &v, 0)) != 0)
			goto out;
	} else {
		rc = mdb_get(t, s->meta, &k, &v);
		if (rc == MDB_NOTFOUND || (rc == 0 && (v.mv_size != 4 ||
		    sk_get_le32(v.mv_data) != SK_STORE_SCHEMA))) {
			rc = SK_ESCHEMA;	/* never rewritten */
			goto out;
		}
		if (rc != 0)
			goto out;
	}
	if ((rc = mdb_txn_commit(t)) != 0)
		return store_map_rc(rc);
	return 0;
out:
	mdb_txn_abort(t);
	return rc == SK_ESCHEMA ? rc : store_map_rc(rc);
}

int
sk_store_open(const char *dir, unsigned flags, struct sk_store **out)
{
	struct sk_store *s;
	size_t mapsize = MAPSIZE_DEFAULT;
	const char *env = getenv("SK_STORE_MAPSIZE");
	int rc, dead;

	*out = NULL;
	if (dir == NULL || dir[0] == '\0')
		return SK_EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ENOMEM;
	s->rdonly = (flags & SK_STORE_RDONLY) != 0;
	if (!s->rdonly && mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = errno;
		goto fail;
	}
	if ((rc = store_secret_load(s, dir, !s->rdonly)) != 0)
		goto fail;
	if (env != NULL && *env != '\0')
		mapsize = (size_t)strtoull(env, NULL, 10);
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 5)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, mapsize)) != 0 ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NOMETASYNC |
	    (s->rdonly ? MDB_RDONLY : 0), 0600)) != 0) {
		rc = store_map_rc(rc);
		goto fail;
	}
	/* A crashed process may have left a reader slot behind. */
	mdb_reader_check(s->env, &dead);
	if ((rc = open_dbs(s)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (s->env != NULL)
		mdb_env_close(s->env);
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
	OPENSSL_cleanse(s->prev, sizeof(s->prev));
	free(s);
	return rc;
}

void
sk_store_close(struct sk_store *s)
{
	if (s == NULL)
		return;
	(void)sk_store_flush(s);
	mdb_env_close(s->env);
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
	OPENSSL_cleanse(s->prev, sizeof(s->prev));
	free(s->changes);
	store_usage_free(s);
	free(s);
}

const unsigned char *
sk_store_secret(const struct sk_store *s)
{
	return s->secret;
}

int
sk_store_flush(struct sk_store *s)
{
	int rc = 0;

	if (s->txn == NULL)
		return 0;
	if (s->rdonly)
		mdb_txn_abort(s->txn);
	else if ((rc = mdb_txn_commit(s->txn)) != 0) {
		s->lost = 1;	/* LMDB freed the txn: the batch is lost */
		store_forget_changes(s);
	}
	s->txn = NULL;
	s->pending = 0;
	return store_map_rc(rc);
}

int
sk_store_lost(const struct sk_store *s)
{
	return s->lost;
}

size_t
sk_store_pending(const struct sk_store *s)
{
	return s->pending;
}

/* ---- changes: what a state built from the store must look at again ------ */

/*
 * Numbered before the write, so that a failed write (the batch is lost,
 * store_forget_changes) is never mistaken for no change.  Without memory
 * for the ring every change is unknown, which costs rebuilds, not
 * correctness.
 */
void
store_note_change(struct sk_store *s, const char *jid, size_t barelen)
{
	s->pres_gen++;
	if (s->changes == NULL &&
	    (s->changes = malloc(STORE_CHANGES * sizeof(*s->changes))) == NULL) {
		s->pres_floor = s->pres_gen;
		return;
	}
	s->changes[s->pres_gen % STORE_CHANGES] = sk_snap_h64(jid, barelen);
}

void
store_usage_free(struct sk_store *s)
{
	size_t i;

	for (i = 0; i < s->usage_cap; i++)
		free(s->usage[i].domain);
	free(s->usage);
	s->usage = NULL;
	s->usage_cap = s->usage_n = s->usage_count = s->usage_bytes = 0;
	s->usage_ready = 0;
}

void
store_forget_changes(struct sk_store *s)
{
	s->pres_floor = ++s->pres_gen;
	s->usage_ready = 0;	/* per-domain usage: counted again (store_pres.c) */
}

uint64_t
sk_store_pres_gen(const struct sk_store *s)
{
	return s->pres_gen;
}

int
sk_store_pres_change(const struct sk_store *s, uint64_t g, uint64_t *h64)
{
	if (g <= s->pres_floor || g > s->pres_gen ||
	    s->pres_gen - g >= STORE_CHANGES || s->changes == NULL)
		return SK_ENOTFOUND;
	*h64 = s->changes[g % STORE_CHANGES];
	return 0;
}

/* ---- meta --------------------------------------------------------------- */

int
sk_store_epoch(struct sk_store *s, uint32_t *epoch)
{
	MDB_val v;
	int rc;

	if ((rc = store_get(s, s->meta, "epoch", 5, &v)) != 0)
		return rc == SK_ENOTFOUND ? SK_ECORRUPT : rc;
	if (v.mv_size != 4)
		return SK_ECORRUPT;
	*epoch = sk_get_le32(v.mv_data);
	return 0;
}

int
sk_store_epoch_bump(struct sk_store *s, uint32_t *epoch)
{
	unsigned char buf[4];
	uint32_t e;
	int rc;

	if ((rc = sk_store_epoch(s, &e)) != 0)
		return rc;
	sk_put_le32(buf, ++e);
	if ((rc = store_put(s, s->meta, "epoch", 5, buf, 4)) != 0)
		return rc;
	if (epoch)
		*epoch = e;
	return 0;
}

int
sk_store_next_txn(struct sk_store *s, uint64_t *txnp)
{
	unsigned char buf[8];
	MDB_val v;
	uint64_t n;
	int rc;

	if ((rc = store_get(s, s->meta, "txn", 3, &v)) != 0)
		return rc == SK_ENOTFOUND ? SK_ECORRUPT : rc;
	if (v.mv_size != 8)
		return SK_ECORRUPT;
	n = sk_get_le64(v.mv_data) + 1;
	sk_put_le64(buf, n);
	if ((rc = store_put(s, s->meta, "txn", 3, buf, 8)) != 0)
		return rc;
	*txnp = n;
	return 0;
}

/* ---- keys --------------------------------------------------------------- */

/* bare 0x00 tail: presence (tail = resource) and client (tail = ID) keys. */
int
store_key2(char *buf, const char *a, size_t alen, const char *b, size_t blen, size_t *len)
{
	if (alen == 0 || alen + 1 + blen > KEYBUF - 10)
		return alen == 0 ? SK_EINVAL : SK_ETOOBIG;
	memcpy(buf, a, alen);
	buf[alen] = '\0';
	memcpy(buf + alen + 1, b, blen);
	*len = alen + 1 + blen;
	return 0;
}

int
store_pres_key(char *buf, const char *fulljid, size_t *len)
{
	size_t bl;

	if (fulljid == NULL)
		return SK_EINVAL;
	bl = sk_jid_barelen(fulljid);
	return store_key2(buf, fulljid, bl, fulljid[bl] ? fulljid + bl + 1 : "",
	    fulljid[bl] ? strlen(fulljid + bl + 1) : 0, len);
}

int
store_client_key(char *buf, const char *bare, const char *client, size_t *len)
{
	if (bare == NULL || client == NULL || client[0] == '\0')
		return SK_EINVAL;
	return store_key2(buf, bare, strlen(bare), client, strlen(client), len);
}

int
store_snap_key(char *buf, const char *bare, const char *client, uint64_t txn, size_t *len)
{
	int rc;

	if ((rc = store_client_key(buf, bare, client, len)) != 0)
		return rc;
	buf[(*len)++] = '\0';
	sk_put_be((unsigned char *)buf + *len, txn, 8);
	*len += 8;
	return 0;
}

