/* store_admin.c - walks of the store for synckeyctl: counts, a user's clients, revocation */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "bytes.h"
#include "error.h"
#include "store_admin.h"
#include "store_impl.h"

/* Records in dbi (0 when the database is absent: dbi 0 on a read-only
   store that never had a roster). */
static int
entries(MDB_txn *t, MDB_dbi dbi, size_t *n)
{
	MDB_stat st;
	int rc;

	*n = 0;
	if (dbi == 0)
		return 0;
	if ((rc = mdb_stat(t, dbi, &st)) != 0)
		return store_map_rc(rc);
	*n = st.ms_entries;
	return 0;
}

/* Records of dbi whose key starts with prefix. */
static int
count_prefix(MDB_txn *t, MDB_dbi dbi, const char *prefix, size_t plen, size_t *n)
{
	MDB_val k = { plen, (void *)prefix }, v;
	MDB_cursor *c;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(t, dbi, &c)) != 0)
		return store_map_rc(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	    rc == 0 && k.mv_size >= plen && memcmp(k.mv_data, prefix, plen) == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		(*n)++;
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : store_map_rc(rc);
}

/* Client records and the users they belong to: keys are "bare 0x00
   client", sorted, so one user's records are neighbours. */
static int
count_clients(MDB_txn *t, MDB_dbi dbi, struct sk_store_summary *sum)
{
	MDB_val k, v, last = { 0, NULL };
	struct sk_client_rec r;
	MDB_cursor *c;
	size_t bl;
	int rc;

	if ((rc = mdb_cursor_open(t, dbi, &c)) != 0)
		return store_map_rc(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		bl = strnlen(k.mv_data, k.mv_size);
		if (last.mv_data == NULL || last.mv_size != bl ||
		    memcmp(last.mv_data, k.mv_data, bl) != 0)
			sum->users++;
		last.mv_size = bl;
		last.mv_data = k.mv_data;	/* valid until the txn ends */
		sum->clients++;
		if (store_client_decode(&v, &r) != 0)
			sum->damaged++;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : store_map_rc(rc);
}

int
sk_store_summary(struct sk_store *s, struct sk_store_summary *sum)
{
	char path[PATH_MAX];
	const char *dir;
	MDB_envinfo ei;
	MDB_stat st;
	struct stat sb;
	MDB_txn *t;
	MDB_val v;
	int rc;

	memset(sum, 0, sizeof(*sum));
	if ((rc = store_txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_env_info(s->env, &ei)) != 0 ||
	    (rc = mdb_env_stat(s->env, &st)) != 0 ||
	    (rc = mdb_env_get_path(s->env, &dir)) != 0)
		return store_map_rc(rc);
	sum->map_size = ei.me_mapsize;
	sum->page_size = st.ms_psize;
	sum->map_used = ((uint64_t)ei.me_last_pgno + 1) * st.ms_psize;
	sum->readers = ei.me_numreaders;
	sum->max_readers = ei.me_maxreaders;
	if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path))
		return ENAMETOOLONG;
	if (stat(path, &sb) != 0)
		return errno;
	sum->file_size = (uint64_t)sb.st_size;
	sum->disk_size = (uint64_t)sb.st_blocks * 512;
	if ((rc = entries(t, s->snap, &sum->snapshots)) != 0 ||
	    (rc = entries(t, s->pres, &sum->presence)) != 0 ||
	    (rc = entries(t, s->roster, &sum->rosters)) != 0 ||
	    (rc = count_clients(t, s->client, sum)) != 0 ||
	    (rc = sk_store_epoch(s, &sum->epoch)) != 0 ||
	    (rc = store_get(s, s->meta, "txn", 3, &v)) != 0)
		return rc;
	if (v.mv_size != 8)
		return SK_ECORRUPT;
	sum->txn = sk_get_le64(v.mv_data);
	return 0;
}

void
sk_store_clients_free(struct sk_store_clients *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].id);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Appends the client whose record is k/v (k starts with the plen bytes of
   "bare 0x00"), with its snapshot count. */
static int
add_client(MDB_txn *t, struct sk_store *s, struct sk_store_clients *l,
    size_t *cap, const MDB_val *k, const MDB_val *v, size_t plen)
{
	struct sk_store_client *e;
	char snapkey[KEYBUF];
	int rc;

	if (l->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct sk_store_client *nv = reallocarray(l->v, ncap, sizeof(*nv));

		if (nv == NULL)
			return ENOMEM;
		l->v = nv;
		*cap = ncap;
	}
	e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	if ((e->id = strndup((const char *)k->mv_data + plen, k->mv_size - plen)) == NULL)
		return ENOMEM;
	l->n++;
	if (store_client_decode(v, &e->rec) != 0) {
		memset(&e->rec, 0, sizeof(e->rec));
		e->damaged = 1;
	}
	/* Its snapshots: "bare 0x00 client 0x00 txn". */
	memcpy(snapkey, k->mv_data, k->mv_size);
	snapkey[k->mv_size] = '\0';
	if ((rc = count_prefix(t, s->snap, snapkey, k->mv_size + 1, &e->snapshots)) != 0)
		return rc;
	return 0;
}

int
sk_store_clients(struct sk_store *s, const char *bare, struct sk_store_clients *out)
{
	char prefix[KEYBUF];
	size_t plen, cap = 0;
	MDB_cursor *c;
	MDB_txn *t;
	MDB_val k, v;
	int rc;

	memset(out, 0, sizeof(*out));
	if (bare == NULL)
		return SK_EINVAL;
	if ((rc = store_key2(prefix, bare, strlen(bare), "", 0, &plen)) != 0 ||
	    (rc = store_txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(t, s->client, &c)) != 0)
		return store_map_rc(rc);
	k.mv_size = plen;
	k.mv_data = prefix;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	    rc == 0 && k.mv_size > plen && memcmp(k.mv_data, prefix, plen) == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if ((rc = add_client(t, s, out, &cap, &k, &v, plen)) != 0)
			break;
	mdb_cursor_close(c);
	rc = rc == MDB_NOTFOUND ? 0 : store_map_rc(rc);
	if (rc != 0)
		sk_store_clients_free(out);
	return rc;
}

/* Keeps in l only the client id (when listed). */
static void
keep_only(struct sk_store_clients *l, const char *id)
{
	size_t i, kept = 0;

	for (i = 0; i < l->n; i++) {
		if (kept == 0 && strcmp(l->v[i].id, id) == 0) {
			struct sk_store_client e = l->v[i];

			l->v[i] = l->v[0];
			l->v[0] = e;
			kept = 1;
		}
	}
	for (i = kept; i < l->n; i++)
		free(l->v[i].id);
	l->n = kept;
}

int
sk_store_revoke(struct sk_store *s, const char *bare, const char *client,
    struct sk_store_clients *removed)
{
	char key[KEYBUF];
	size_t klen, snaps = 0;
	int rc;

	memset(removed, 0, sizeof(*removed));
	if (s->rdonly)
		return EROFS;
	if (bare == NULL || (client != NULL && client[0] == '\0'))
		return SK_EINVAL;
	/* The list, the deletions and the commit in one write transaction:
	   synckeyd cannot slip a sync in between. */
	if ((rc = sk_store_clients(s, bare, removed)) != 0)
		goto fail;
	if (client != NULL) {
		keep_only(removed, client);
		rc = store_client_key(key, bare, client, &klen);
	} else {
		rc = store_key2(key, bare, strlen(bare), "", 0, &klen);
	}
	if (rc != 0)
		goto fail;
	/* The records: "bare 0x00 client", or all under "bare 0x00"; then
	   the snapshots under the same prefix plus 0x00 for one client
	   (also those whose record is already gone). */
	if (client != NULL && removed->n > 0)
		rc = store_del(s, s->client, key, klen);
	else if (client == NULL)
		rc = store_del_prefix(s, s->client, key, klen, NULL);
	if (rc != 0)
		goto fail;
	if (client != NULL)
		key[klen++] = '\0';
	if ((rc = store_del_prefix(s, s->snap, key, klen, &snaps)) != 0)
		goto fail;
	if (removed->n == 0 && snaps == 0) {
		rc = SK_ENOTFOUND;
		goto fail;
	}
	if ((rc = sk_store_flush(s)) != 0)
		goto fail;
	return 0;
fail:
	(void)sk_store_flush(s);	/* nothing written, or already aborted */
	sk_store_clients_free(removed);
	return rc;
}
