/* store.c - the LMDB store: live presence, snapshots, key records (layout in store.h) */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "bytes.h"
#include "error.h"
#include "store.h"

#define MAPSIZE_DEFAULT	(1024UL * 1024 * 1024)
#define PRES_VERSION	1
#define CLIENT_VERSION	1
#define KEYBUF		1100	/* bare JID, client ID, separators, txn */

struct sk_store {
	MDB_env		*env;
	MDB_dbi		 meta, pres, client, snap;
	MDB_txn		*txn;		/* the open batch (or read txn) */
	size_t		 pending;
	int		 rdonly;
	unsigned char	 secret[SK_SECRET_LEN];
};

static int
map_rc(int rc)
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
static int
txn(struct sk_store *s, MDB_txn **out)
{
	int rc;

	if (s->txn == NULL &&
	    (rc = mdb_txn_begin(s->env, NULL, s->rdonly ? MDB_RDONLY : 0, &s->txn)) != 0) {
		s->txn = NULL;
		return map_rc(rc);
	}
	*out = s->txn;
	return 0;
}

/* A write failed: LMDB leaves the txn unusable, so the batch is lost. */
static int
fail(struct sk_store *s, int rc)
{
	if (s->txn != NULL)
		mdb_txn_abort(s->txn);
	s->txn = NULL;
	s->pending = 0;
	return map_rc(rc);
}

static int
put(struct sk_store *s, MDB_dbi dbi, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	MDB_val key = { klen, (void *)k }, val = { vlen, (void *)v };
	MDB_txn *t;
	int rc;

	if (s->rdonly)
		return EROFS;
	if (klen == 0 || klen > (size_t)mdb_env_get_maxkeysize(s->env))
		return klen == 0 ? SK_EINVAL : SK_ETOOBIG;
	if ((rc = txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_put(t, dbi, &key, &val, 0)) != 0)
		return fail(s, rc);
	s->pending++;
	return 0;
}

static int
get(struct sk_store *s, MDB_dbi dbi, const void *k, size_t klen, MDB_val *val)
{
	MDB_val key = { klen, (void *)k };
	MDB_txn *t;
	int rc;

	if (klen == 0 || klen > (size_t)mdb_env_get_maxkeysize(s->env))
		return klen == 0 ? SK_EINVAL : SK_ETOOBIG;
	if ((rc = txn(s, &t)) != 0)
		return rc;
	return map_rc(mdb_get(t, dbi, &key, val));
}

static int
del(struct sk_store *s, MDB_dbi dbi, const void *k, size_t klen)
{
	MDB_val key = { klen, (void *)k };
	MDB_txn *t;
	int rc;

	if (s->rdonly)
		return EROFS;
	if (klen == 0 || klen > (size_t)mdb_env_get_maxkeysize(s->env))
		return klen == 0 ? SK_EINVAL : SK_ETOOBIG;
	if ((rc = txn(s, &t)) != 0)
		return rc;
	rc = mdb_del(t, dbi, &key, NULL);
	if (rc == MDB_NOTFOUND)
		return SK_ENOTFOUND;
	if (rc != 0)
		return fail(s, rc);
	s->pending++;
	return 0;
}

/*
 * Deletes every record whose key starts with prefix (plen bytes); calls
 * keep(key) first when given and skips keys it returns 1 for.
 */
static int
del_prefix(struct sk_store *s, MDB_dbi dbi, const void *prefix, size_t plen,
    size_t *count)
{
	MDB_val key = { plen, (void *)prefix }, val;
	MDB_cursor *c;
	MDB_txn *t;
	int rc;

	if (s->rdonly)
		return EROFS;
	if ((rc = txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(t, dbi, &c)) != 0)
		return fail(s, rc);
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
		return fail(s, rc);
	return 0;
}

/* ---- opening ------------------------------------------------------------ */

static int
load_secret(struct sk_store *s, const char *dir)
{
	char path[PATH_MAX];
	struct stat sb;
	ssize_t n;
	int fd, rc = 0;

	if (snprintf(path, sizeof(path), "%s/secret", dir) >= (int)sizeof(path))
		return ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !s->rdonly) {
		/* First start: a new deployment secret, readable only by us. */
		if (RAND_bytes(s->secret, SK_SECRET_LEN) != 1)
			return SK_ESECRET;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return errno;
		if (write(fd, s->secret, SK_SECRET_LEN) != SK_SECRET_LEN || fsync(fd) != 0)
			rc = errno ? errno : EIO;
		close(fd);
		return rc;
	}
	if (fd < 0)
		return errno == ENOENT ? SK_ESECRET : errno;
	if (fstat(fd, &sb) != 0)
		rc = errno;
	else if (!S_ISREG(sb.st_mode) || sb.st_size != SK_SECRET_LEN ||
	    (sb.st_mode & 077) != 0)
		rc = SK_ESECRET;	/* wrong size, or group/world access */
	else if ((n = read(fd, s->secret, SK_SECRET_LEN)) != SK_SECRET_LEN)
		rc = n < 0 ? errno : SK_ESECRET;
	close(fd);
	return rc;
}

/* Opens the four databases and checks (or, on a new map, writes) the schema. */
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
		return map_rc(rc);
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
		return map_rc(rc);
	return 0;
out:
	mdb_txn_abort(t);
	return rc == SK_ESCHEMA ? rc : map_rc(rc);
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
	if ((rc = load_secret(s, dir)) != 0)
		goto fail;
	if (env != NULL && *env != '\0')
		mapsize = (size_t)strtoull(env, NULL, 10);
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 4)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, mapsize)) != 0 ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NOMETASYNC |
	    (s->rdonly ? MDB_RDONLY : 0), 0600)) != 0) {
		rc = map_rc(rc);
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
	else
		rc = mdb_txn_commit(s->txn);
	s->txn = NULL;
	s->pending = 0;
	return map_rc(rc);
}

size_t
sk_store_pending(const struct sk_store *s)
{
	return s->pending;
}

/* ---- meta --------------------------------------------------------------- */

int
sk_store_epoch(struct sk_store *s, uint32_t *epoch)
{
	MDB_val v;
	int rc;

	if ((rc = get(s, s->meta, "epoch", 5, &v)) != 0)
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
	if ((rc = put(s, s->meta, "epoch", 5, buf, 4)) != 0)
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

	if ((rc = get(s, s->meta, "txn", 3, &v)) != 0)
		return rc == SK_ENOTFOUND ? SK_ECORRUPT : rc;
	if (v.mv_size != 8)
		return SK_ECORRUPT;
	n = sk_get_le64(v.mv_data) + 1;
	sk_put_le64(buf, n);
	if ((rc = put(s, s->meta, "txn", 3, buf, 8)) != 0)
		return rc;
	*txnp = n;
	return 0;
}

/* ---- keys --------------------------------------------------------------- */

/* bare 0x00 tail: presence (tail = resource) and client (tail = ID) keys. */
static int
key2(char *buf, const char *a, size_t alen, const char *b, size_t blen, size_t *len)
{
	if (alen == 0 || alen + 1 + blen > KEYBUF - 10)
		return alen == 0 ? SK_EINVAL : SK_ETOOBIG;
	memcpy(buf, a, alen);
	buf[alen] = '\0';
	memcpy(buf + alen + 1, b, blen);
	*len = alen + 1 + blen;
	return 0;
}

static int
pres_key(char *buf, const char *fulljid, size_t *len)
{
	size_t bl;

	if (fulljid == NULL)
		return SK_EINVAL;
	bl = sk_jid_barelen(fulljid);
	return key2(buf, fulljid, bl, fulljid[bl] ? fulljid + bl + 1 : "",
	    fulljid[bl] ? strlen(fulljid + bl + 1) : 0, len);
}

static int
client_key(char *buf, const char *bare, const char *client, size_t *len)
{
	if (bare == NULL || client == NULL || client[0] == '\0')
		return SK_EINVAL;
	return key2(buf, bare, strlen(bare), client, strlen(client), len);
}

static int
snap_key(char *buf, const char *bare, const char *client, uint64_t txn, size_t *len)
{
	int rc;

	if ((rc = client_key(buf, bare, client, len)) != 0)
		return rc;
	buf[(*len)++] = '\0';
	sk_put_be((unsigned char *)buf + *len, txn, 8);
	*len += 8;
	return 0;
}

/* ---- presence ----------------------------------------------------------- */

#define PRES_NULL 0xffffffffu

static size_t
opt_len(const char *s)
{
	return s ? strlen(s) : 0;
}

int
sk_store_pres_encode(const struct sk_pres *p, unsigned char **bufp, size_t *lenp)
{
	const char *f[4] = { p->show, p->status, p->ext, p->xml };
	size_t len = 1 + SK_HASH_LEN + 4, off, i;
	unsigned char *buf;

	for (i = 0; i < 4; i++)
		len += 4 + opt_len(f[i]);
	if (len > UINT32_MAX)
		return SK_ETOOBIG;
	if ((buf = malloc(len)) == NULL)
		return ENOMEM;
	buf[0] = PRES_VERSION;
	memcpy(buf + 1, p->hash, SK_HASH_LEN);
	sk_put_le32(buf + 1 + SK_HASH_LEN, (uint32_t)p->priority);
	off = 1 + SK_HASH_LEN + 4;
	for (i = 0; i < 4; i++) {
		size_t n = opt_len(f[i]);

		sk_put_le32(buf + off, f[i] ? (uint32_t)n : PRES_NULL);
		memcpy(buf + off + 4, f[i] ? f[i] : "", n);
		off += 4 + n;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int
sk_store_pres_decode(const char *fulljid, const void *data, size_t len,
    struct sk_pres *p)
{
	const unsigned char *b = data;
	char **f[4] = { &p->show, &p->status, &p->ext, &p->xml };
	size_t off = 1 + SK_HASH_LEN + 4, i;

	memset(p, 0, sizeof(*p));
	if (fulljid == NULL || len < off || b[0] != PRES_VERSION)
		return SK_ECORRUPT;
	memcpy(p->hash, b + 1, SK_HASH_LEN);
	p->priority = (int32_t)sk_get_le32(b + 1 + SK_HASH_LEN);
	for (i = 0; i < 4; i++) {
		uint32_t n;

		if (len - off < 4)
			goto corrupt;
		n = sk_get_le32(b + off);
		off += 4;
		if (n == PRES_NULL)
			continue;
		if (n > len - off || memchr(b + off, '\0', n) != NULL)
			goto corrupt;
		if ((*f[i] = strndup((const char *)b + off, n)) == NULL) {
			sk_pres_free(p);
			return ENOMEM;
		}
		off += n;
	}
	if (off != len)
		goto corrupt;
	if ((p->jid = strdup(fulljid)) == NULL) {
		sk_pres_free(p);
		return ENOMEM;
	}
	return 0;
corrupt:
	sk_pres_free(p);
	return SK_ECORRUPT;
}

int
sk_store_pres_put(struct sk_store *s, const struct sk_pres *p)
{
	char key[KEYBUF];
	unsigned char *val;
	size_t klen, vlen;
	int rc;

	if ((rc = pres_key(key, p->jid, &klen)) != 0)
		return rc;
	if ((rc = sk_store_pres_encode(p, &val, &vlen)) != 0)
		return rc;
	rc = put(s, s->pres, key, klen, val, vlen);
	free(val);
	return rc;
}

int
sk_store_pres_del(struct sk_store *s, const char *fulljid)
{
	char key[KEYBUF];
	size_t klen;
	int rc;

	if ((rc = pres_key(key, fulljid, &klen)) != 0)
		return rc;
	rc = del(s, s->pres, key, klen);
	return rc == SK_ENOTFOUND ? 0 : rc;
}

int
sk_store_pres_del_bare(struct sk_store *s, const char *bare)
{
	char key[KEYBUF];
	size_t klen;
	int rc;

	if (bare == NULL || (rc = key2(key, bare, strlen(bare), "", 0, &klen)) != 0)
		return bare == NULL ? SK_EINVAL : rc;
	return del_prefix(s, s->pres, key, klen, NULL);
}

int
sk_store_pres_clear(struct sk_store *s)
{
	MDB_txn *t;
	int rc;

	if (s->rdonly)
		return EROFS;
	if ((rc = txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_drop(t, s->pres, 0)) != 0)
		return fail(s, rc);
	s->pending++;
	return 0;
}

int
sk_store_pres_get(struct sk_store *s, const char *bare, struct sk_state *st)
{
	char key[KEYBUF], full[KEYBUF];
	MDB_val k, v;
	MDB_cursor *c;
	MDB_txn *t;
	size_t plen, bl;
	int rc;

	if (bare == NULL || (rc = key2(key, bare, strlen(bare), "", 0, &plen)) != 0)
		return bare == NULL ? SK_EINVAL : rc;
	bl = plen - 1;
	if ((rc = txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(t, s->pres, &c)) != 0)
		return map_rc(rc);
	k.mv_size = plen;
	k.mv_data = key;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	    rc == 0 && k.mv_size >= plen && memcmp(k.mv_data, key, plen) == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		size_t rl = k.mv_size - plen;
		struct sk_pres p;
		int rc2;

		/* The full JID back from bare 0x00 resource. */
		memcpy(full, bare, bl);
		if (rl > 0) {
			full[bl] = '/';
			memcpy(full + bl + 1, (char *)k.mv_data + plen, rl);
			full[bl + 1 + rl] = '\0';
		} else {
			full[bl] = '\0';
		}
		if ((rc2 = sk_store_pres_decode(full, v.mv_data, v.mv_size, &p)) != 0 ||
		    (rc2 = sk_state_adopt_pres(st, &p)) != 0) {
			sk_pres_free(&p);
			mdb_cursor_close(c);
			return rc2;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_rc(rc);
}

int
sk_store_pres_count(struct sk_store *s, size_t *n)
{
	MDB_stat st;
	MDB_txn *t;
	int rc;

	if ((rc = txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_stat(t, s->pres, &st)) != 0)
		return map_rc(rc);
	*n = st.ms_entries;
	return 0;
}

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

static int
client_decode(const MDB_val *v, struct sk_client_rec *r)
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

	if ((rc = client_key(key, bare, client, &klen)) != 0 ||
	    (rc = get(s, s->client, key, klen, &v)) != 0)
		return rc;
	return client_decode(&v, rec);
}

int
sk_store_client_put(struct sk_store *s, const char *bare, const char *client,
    const struct sk_client_rec *rec)
{
	unsigned char val[CLIENT_REC];
	char key[KEYBUF];
	size_t klen;
	int rc;

	if ((rc = client_key(key, bare, client, &klen)) != 0)
		return rc;
	client_encode(val, rec);
	return put(s, s->client, key, klen, val, sizeof(val));
}

int
sk_store_client_del(struct sk_store *s, const char *bare, const char *client)
{
	char key[KEYBUF];
	size_t klen;
	int rc;

	if ((rc = client_key(key, bare, client, &klen)) != 0)
		return rc;
	if ((rc = del(s, s->client, key, klen)) != 0 && rc != SK_ENOTFOUND)
		return rc;
	key[klen++] = '\0';
	return del_prefix(s, s->snap, key, klen, NULL);
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
	if (bare == NULL || (rc = key2(prefix, bare, strlen(bare), "", 0, &plen)) != 0)
		return bare == NULL ? SK_EINVAL : rc;
	for (;;) {
		struct sk_client_rec r, best = { 0 };
		MDB_val k = { plen, prefix }, v;
		MDB_cursor *c;
		MDB_txn *t;

		/* Few clients per user: one scan per eviction is cheap. */
		if ((rc = txn(s, &t)) != 0)
			return rc;
		if ((rc = mdb_cursor_open(t, s->client, &c)) != 0)
			return map_rc(rc);
		n = 0;
		victim[0] = '\0';
		for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		    rc == 0 && k.mv_size > plen && memcmp(k.mv_data, prefix, plen) == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (client_decode(&v, &r) != 0)
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
			return map_rc(rc);
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
	if ((rc = txn(s, &t)) != 0)
		return rc;
	/* Expired client records. */
	if ((rc = mdb_cursor_open(t, s->client, &c)) != 0)
		return fail(s, rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;) {
		struct sk_client_rec r;

		if (client_decode(&v, &r) != 0 || r.used + ttl < now) {
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
		return fail(s, rc);
	/* Snapshots whose record is gone or no longer names them. */
	if ((rc = mdb_cursor_open(t, s->snap, &c)) != 0)
		return fail(s, rc);
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
			    client_decode(&cv, &r) == 0 &&
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
		return fail(s, rc);
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

	if ((rc = snap_key(key, bare, client, txnid, &klen)) != 0)
		return rc;
	return put(s, s->snap, key, klen, blob, len);
}

int
sk_store_snap_get(struct sk_store *s, const char *bare, const char *client,
    uint64_t txnid, const void **blob, size_t *len)
{
	char key[KEYBUF];
	size_t klen;
	MDB_val v;
	int rc;

	if ((rc = snap_key(key, bare, client, txnid, &klen)) != 0 ||
	    (rc = get(s, s->snap, key, klen, &v)) != 0)
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

	if ((rc = snap_key(key, bare, client, txnid, &klen)) != 0)
		return rc;
	return del(s, s->snap, key, klen);
}
