/* store_client.c - client records, snapshots and garbage collection in the store */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "bytes.h"
#include "error.h"
#include "store_impl.h"

#define CLIENT_VERSION	1

/* ---- client records ------------------------------------------------------- */

#define CLIENT_REC 41

static void
client_encode(unsigned char *b, const struct sk_client_rec *r)
{
	b[0] = CLIENT_VERSION;
	sk_put_le64(b + 1, r->session);
	sk_put_le64(b + 9, r->cur);
	sk_put_le64(b + 17, r->prev);
	sk_put_le64(b + 25, r->created);
	sk_put_le64(b + 33, r->used);
}

int
store_client_decode(const MDB_val *v, struct sk_client_rec *r)
{
	const unsigned char *b = v->mv_data;

	if (v->mv_size != CLIENT_REC || b[0] != CLIENT_VERSION)
		return SK_ECORRUPT;
	r->session = sk_get_le64(b + 1);
	r->cur = sk_get_le64(b + 9);
	r->prev = sk_get_le64(b + 17);
	r->created = sk_get_le64(b + 25);
	r->used = sk_get_le64(b + 33);
	return 0;
}

int
sk_store_client_get(struct sk_store *s, const char *bare, const char *client,
    struct sk_client_rec *rec)
{
	char key[KEYBUF];
	size_t klen;
	MDB_val v;
	int rc;

	if ((rc = store_client_key(key, bare, client, &klen)) != 0 ||
	    (rc = store_get(s, s->client, key, klen, &v)) != 0)
		return rc;
	return store_client_decode(&v, rec);
}

int
sk_store_client_put(struct sk_store *s, const char *bare, const char *client,
    const struct sk_client_rec *rec)
{
	unsigned char val[CLIENT_REC];
	char key[KEYBUF];
	size_t klen;
	int rc;

	if ((rc = store_client_key(key, bare, client, &klen)) != 0)
		return rc;
	client_encode(val, rec);
	return store_put(s, s->client, key, klen, val, sizeof(val));
}

int
sk_store_client_del(struct sk_store *s, const char *bare, const char *client)
{
	char key[KEYBUF];
	size_t klen;
	int rc;

	if ((rc = store_client_key(key, bare, client, &klen)) != 0)
		return rc;
	if ((rc = store_del(s, s->client, key, klen)) != 0 && rc != SK_ENOTFOUND)
		return rc;
	key[klen++] = '\0';
	return store_del_prefix(s, s->snap, key, klen, NULL);
}

int
sk_store_client_evict(struct sk_store *s, const char *bare, unsigned max,
    int adding, size_t *evicted)
{
	char prefix[KEYBUF], victim[KEYBUF];
	size_t plen, n, limit = adding ? (max ? max - 1 : 0) : max;
	int rc;

	if (evicted)
		*evicted = 0;
	if (bare == NULL || (rc = store_key2(prefix, bare, strlen(bare), "", 0, &plen)) != 0)
		return bare == NULL ? SK_EINVAL : rc;
	for (;;) {
		struct sk_client_rec r, best = { 0 };
		MDB_val k = { plen, prefix }, v;
		MDB_cursor *c;
		MDB_txn *t;

		/* Few clients per user: one scan per eviction is cheap. */
		if ((rc = store_txn(s, &t)) != 0)
			return rc;
		if ((rc = mdb_cursor_open(t, s->client, &c)) != 0)
			return store_map_rc(rc);
		n = 0;
		victim[0] = '\0';
		for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		    rc == 0 && k.mv_size > plen && memcmp(k.mv_data, prefix, plen) == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (store_client_decode(&v, &r) != 0)
				memset(&r, 0, sizeof(r));	/* damaged: evict first */
			if (n == 0 || r.used < best.used ||
			    (r.used == best.used && r.created < best.created)) {
				best = r;
				memcpy(victim, (char *)k.mv_data + plen, k.mv_size - plen);
				victim[k.mv_size - plen] = '\0';
			}
			n++;
		}
		mdb_cursor_close(c);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return store_map_rc(rc);
		if (n <= limit)
			return 0;
		if ((rc = sk_store_client_del(s, bare, victim)) != 0)
			return rc;
		if (evicted)
			(*evicted)++;
	}
}

int
sk_store_gc(struct sk_store *s, uint64_t now, uint64_t ttl, size_t *removed)
{
	MDB_val k, v;
	MDB_cursor *c;
	MDB_txn *t;
	int rc;

	if (removed)
		*removed = 0;
	if (s->rdonly)
		return EROFS;
	if ((rc = store_txn(s, &t)) != 0)
		return rc;
	/* Expired client records. */
	if ((rc = mdb_cursor_open(t, s->client, &c)) != 0)
		return store_fail(s, rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;) {
		struct sk_client_rec r;

		if (store_client_decode(&v, &r) != 0 || r.used + ttl < now) {
			if ((rc = mdb_cursor_del(c, 0)) != 0)
				break;
			s->pending++;
			if (removed)
				(*removed)++;
			rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
			if (rc == 0)
				continue;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND && rc != 0 && rc != EINVAL)
		return store_fail(s, rc);
	/* Snapshots whose record is gone or no longer names them. */
	if ((rc = mdb_cursor_open(t, s->snap, &c)) != 0)
		return store_fail(s, rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;) {
		const char *kb = k.mv_data;
		struct sk_client_rec r;
		MDB_val ck, cv;
		uint64_t txnid;
		int keep = 0;

		if (k.mv_size > 9 && kb[k.mv_size - 9] == '\0') {
			ck.mv_size = k.mv_size - 9;
			ck.mv_data = k.mv_data;
			txnid = sk_get_be((const unsigned char *)kb + k.mv_size - 8, 8);
			keep = mdb_get(t, s->client, &ck, &cv) == 0 &&
			    store_client_decode(&cv, &r) == 0 &&
			    (txnid == r.cur || txnid == r.prev);
		}
		if (!keep) {
			if ((rc = mdb_cursor_del(c, 0)) != 0)
				break;
			s->pending++;
			rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
			if (rc == 0)
				continue;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND && rc != 0 && rc != EINVAL)
		return store_fail(s, rc);
	return 0;
}

/* ---- snapshots -------------------------------------------------------------- */

int
sk_store_snap_put(struct sk_store *s, const char *bare, const char *client,
    uint64_t txnid, const void *blob, size_t len)
{
	char key[KEYBUF];
	size_t klen;
	int rc;

	if ((rc = store_snap_key(key, bare, client, txnid, &klen)) != 0)
		return rc;
	return store_put(s, s->snap, key, klen, blob, len);
}

int
sk_store_snap_get(struct sk_store *s, const char *bare, const char *client,
    uint64_t txnid, const void **blob, size_t *len)
{
	char key[KEYBUF];
	size_t klen;
	MDB_val v;
	int rc;

	if ((rc = store_snap_key(key, bare, client, txnid, &klen)) != 0 ||
	    (rc = store_get(s, s->snap, key, klen, &v)) != 0)
		return rc;
	*blob = v.mv_data;
	*len = v.mv_size;
	return 0;
}

int
sk_store_snap_del(struct sk_store *s, const char *bare, const char *client,
    uint64_t txnid)
{
	char key[KEYBUF];
	size_t klen;
	int rc;

	if ((rc = store_snap_key(key, bare, client, txnid, &klen)) != 0)
		return rc;
	return store_del(s, s->snap, key, klen);
}

