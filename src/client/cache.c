/* cache.c - the client's local LMDB cache: its state, key and roster version */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <openssl/rand.h>

#include "bytes.h"
#include "cache.h"
#include "digest.h"
#include "error.h"
#include "itemrec.h"
#include "store.h"

#define SK_CACHE_SVC_MAX 3100

struct sk_cache {
	MDB_env	*env;
	MDB_dbi	 meta, item, pres;
	char	 client[SK_CLIENT_MAX + 1];
	char	 key[SK_KEY_MAX + 1];
	char	 ver[256];
	char	 svc[SK_CACHE_SVC_MAX + 1];	/* "FLAGS JID" as stored */
};

static int
map_rc(int rc)
{
	switch (rc) {
	case 0:			return 0;
	case MDB_NOTFOUND:	return SK_ENOTFOUND;
	case MDB_MAP_FULL:	return SK_EFULL;
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_PAGE_NOTFOUND:	return SK_ECORRUPT;
	default:		return rc > 0 ? rc : SK_ESTORE;
	}
}

static int
meta_get(MDB_txn *t, MDB_dbi dbi, const char *name, char *out, size_t cap)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(t, dbi, &k, &v);

	out[0] = '\0';
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return map_rc(rc);
	if (v.mv_size >= cap || memchr(v.mv_data, '\0', v.mv_size))
		return SK_ECORRUPT;
	memcpy(out, v.mv_data, v.mv_size);
	out[v.mv_size] = '\0';
	return 0;
}

static int
meta_put(MDB_txn *t, MDB_dbi dbi, const char *name, const char *val)
{
	MDB_val k = { strlen(name), (void *)name }, v = { strlen(val), (void *)val };

	return map_rc(mdb_put(t, dbi, &k, &v, 0));
}

static void
random_client(char out[SK_CLIENT_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[6];
	size_t i;

	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0x5a, sizeof(r));
	memcpy(out, "synckey-", 8);
	for (i = 0; i < sizeof(r); i++) {
		out[8 + 2 * i] = hex[r[i] >> 4];
		out[9 + 2 * i] = hex[r[i] & 15];
	}
	out[8 + 2 * sizeof(r)] = '\0';
}

/*
 * LMDB maps the file and trusts it: a page past the end of a truncated
 * file is a SIGBUS.  The meta page names the last page in use; the file
 * must hold it.  (MDB_* from LMDB pass through: map_rc maps them.)
 */
static int
covered(MDB_env *env, const char *path)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat sb;
	int rc;

	if ((rc = mdb_env_info(env, &info)) != 0 || (rc = mdb_env_stat(env, &st)) != 0)
		return rc;
	if (stat(path, &sb) != 0)
		return errno;
	if (((uint64_t)info.me_last_pgno + 1) * st.ms_psize > (uint64_t)sb.st_size)
		return MDB_CORRUPTED;
	return 0;
}

int
sk_cache_open(const char *dir, const char *owner, const char *client_id,
    int create, struct sk_cache **out)
{
	char path[4200], buf[3200];
	struct sk_cache *c;
	struct stat sb;
	MDB_txn *t = NULL;
	int rc, fresh = 0;

	*out = NULL;
	if (dir == NULL || owner == NULL || owner[0] == '\0' ||
	    (client_id != NULL && !sk_key_client_ok(client_id)))
		return SK_EINVAL;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &sb) != 0) {
		if (!create)
			return SK_ENOTFOUND;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return errno;
		fresh = 1;
	} else if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
		return SK_ECORRUPT;	/* an empty file is no new cache */
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ENOMEM;
	if ((rc = mdb_env_create(&c->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(c->env, 3)) != 0 ||
	    (rc = mdb_env_set_mapsize(c->env, 256UL << 20)) != 0 ||
	    (rc = mdb_env_open(c->env, dir, MDB_NOTLS, 0600)) != 0 ||
	    (!fresh && (rc = covered(c->env, path)) != 0) ||
	    (rc = mdb_txn_begin(c->env, NULL, 0, &t)) != 0 ||
	    (rc = mdb_dbi_open(t, "meta", MDB_CREATE, &c->meta)) != 0 ||
	    (rc = mdb_dbi_open(t, "item", MDB_CREATE, &c->item)) != 0 ||
	    (rc = mdb_dbi_open(t, "pres", MDB_CREATE, &c->pres)) != 0) {
		rc = map_rc(rc);
		goto fail;
	}
	if ((rc = meta_get(t, c->meta, "schema", buf, sizeof(buf))) != 0)
		goto fail;
	if (buf[0] == '\0' && !fresh) {
		rc = SK_ECORRUPT;	/* a file we did not write */
		goto fail;
	}
	if (buf[0] == '\0') {
		/* a new cache */
		if (client_id)
			snprintf(c->client, sizeof(c->client), "%s", client_id);
		else
			random_client(c->client);
		snprintf(buf, sizeof(buf), "%d", SK_CACHE_SCHEMA);
		if ((rc = meta_put(t, c->meta, "schema", buf)) != 0 ||
		    (rc = meta_put(t, c->meta, "owner", owner)) != 0 ||
		    (rc = meta_put(t, c->meta, "client", c->client)) != 0 ||
		    (rc = meta_put(t, c->meta, "digest",
		    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")) != 0)
			goto fail;
	} else if (atoi(buf) != SK_CACHE_SCHEMA) {
		rc = SK_ESCHEMA;
		goto fail;
	} else {
		if ((rc = meta_get(t, c->meta, "owner", buf, sizeof(buf))) != 0)
			goto fail;
		if (strcmp(buf, owner) != 0) {
			rc = SK_EFOREIGN;
			goto fail;
		}
		if ((rc = meta_get(t, c->meta, "client", c->client, sizeof(c->client))) != 0 ||
		    (rc = meta_get(t, c->meta, "key", c->key, sizeof(c->key))) != 0 ||
		    (rc = meta_get(t, c->meta, "ver", c->ver, sizeof(c->ver))) != 0 ||
		    (rc = meta_get(t, c->meta, "service", c->svc, sizeof(c->svc))) != 0)
			goto fail;
		if (!sk_key_client_ok(c->client)) {
			rc = SK_ECORRUPT;
			goto fail;
		}
	}
	if ((rc = map_rc(mdb_txn_commit(t))) != 0) {
		t = NULL;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	if (t)
		mdb_txn_abort(t);
	if (c->env)
		mdb_env_close(c->env);
	free(c);
	return rc;
}

void
sk_cache_close(struct sk_cache *c)
{
	if (c == NULL)
		return;
	mdb_env_close(c->env);
	free(c);
}

const char *
sk_cache_client(const struct sk_cache *c)
{
	return c->client;
}

const char *
sk_cache_key(const struct sk_cache *c)
{
	return c->key;
}

const char *
sk_cache_ver(const struct sk_cache *c)
{
	return c->ver;
}

int
sk_cache_load(struct sk_cache *c, struct sk_state *st)
{
	char want[SK_DIGEST_B64 + 8], got[SK_DIGEST_B64], jid[3200];
	MDB_cursor *cur = NULL;
	MDB_txn *t;
	MDB_val k, v;
	int rc;

	sk_state_init(st);
	if ((rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &t)) != 0)
		return map_rc(rc);
	if ((rc = meta_get(t, c->meta, "digest", want, sizeof(want))) != 0)
		goto out;
	if ((rc = mdb_cursor_open(t, c->item, &cur)) != 0)
		goto out_map;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size == 0 || k.mv_size >= sizeof(jid)) {
			rc = SK_ECORRUPT;
			goto out;
		}
		memcpy(jid, k.mv_data, k.mv_size);
		jid[k.mv_size] = '\0';
		if ((rc = sk_itemrec_decode(jid, v.mv_data, v.mv_size, st)) != 0)
			goto out;
	}
	if (rc != MDB_NOTFOUND)
		goto out_map;	/* the item walk failed: keep its error */
	mdb_cursor_close(cur);
	cur = NULL;
	if ((rc = mdb_cursor_open(t, c->pres, &cur)) != 0)
		goto out_map;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct sk_pres p;

		if (k.mv_size == 0 || k.mv_size >= sizeof(jid)) {
			rc = SK_ECORRUPT;
			goto out;
		}
		memcpy(jid, k.mv_data, k.mv_size);
		jid[k.mv_size] = '\0';
		if ((rc = sk_store_pres_decode(jid, v.mv_data, v.mv_size, &p)) != 0)
			goto out;
		sk_pres_hash(&p);
		if ((rc = sk_state_adopt_pres(st, &p)) != 0) {
			sk_pres_free(&p);
			goto out;
		}
	}
	if (rc != MDB_NOTFOUND)
		goto out_map;
	sk_state_sort(st);
	/* A cache edited behind our back no longer matches its digest. */
	if ((rc = sk_digest_state_b64(st, got)) == 0 && strcmp(got, want) != 0)
		rc = SK_ECORRUPT;
	goto out;
out_map:
	rc = map_rc(rc);
out:
	if (cur)
		mdb_cursor_close(cur);
	mdb_txn_abort(t);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0)
		sk_state_free(st);
	return rc;
}

int
sk_cache_commit(struct sk_cache *c, const struct sk_state *st, const char *key,
    const char *ver)
{
	char digest[SK_DIGEST_B64];
	MDB_txn *t;
	size_t i;
	int rc;

	if ((key && strlen(key) > SK_KEY_MAX) || (ver && strlen(ver) >= sizeof(c->ver)))
		return SK_ETOOBIG;
	if ((rc = sk_digest_state_b64(st, digest)) != 0)
		return rc;
	if ((rc = mdb_txn_begin(c->env, NULL, 0, &t)) != 0)
		return map_rc(rc);
	if ((rc = mdb_drop(t, c->item, 0)) != 0 || (rc = mdb_drop(t, c->pres, 0)) != 0) {
		rc = map_rc(rc);
		goto fail;
	}
	for (i = 0; i < st->nitems; i++) {
		const struct sk_item *it = &st->items[i];
		MDB_val k = { strlen(it->jid), it->jid }, v;
		unsigned char *b;

		if ((rc = sk_itemrec_encode(it, &b, &v.mv_size)) != 0)
			goto fail;
		v.mv_data = b;
		rc = map_rc(mdb_put(t, c->item, &k, &v, 0));
		free(b);
		if (rc != 0)
			goto fail;
	}
	for (i = 0; i < st->npres; i++) {
		const struct sk_pres *p = &st->pres[i];
		MDB_val k = { strlen(p->jid), p->jid }, v;
		unsigned char *b;

		if ((rc = sk_store_pres_encode(p, &b, &v.mv_size)) != 0)
			goto fail;
		v.mv_data = b;
		rc = map_rc(mdb_put(t, c->pres, &k, &v, 0));
		free(b);
		if (rc != 0)
			goto fail;
	}
	if ((rc = meta_put(t, c->meta, "digest", digest)) != 0 ||
	    (rc = meta_put(t, c->meta, "key", key ? key : "")) != 0 ||
	    (rc = meta_put(t, c->meta, "ver", ver ? ver : "")) != 0)
		goto fail;
	if ((rc = map_rc(mdb_txn_commit(t))) != 0)
		return rc;
	snprintf(c->key, sizeof(c->key), "%s", key ? key : "");
	snprintf(c->ver, sizeof(c->ver), "%s", ver ? ver : "");
	return 0;
fail:
	mdb_txn_abort(t);
	return rc;
}

int
sk_cache_set_key(struct sk_cache *c, const char *key)
{
	MDB_txn *t;
	int rc;

	if (key && strlen(key) > SK_KEY_MAX)
		return SK_ETOOBIG;
	if ((rc = mdb_txn_begin(c->env, NULL, 0, &t)) != 0)
		return map_rc(rc);
	if ((rc = meta_put(t, c->meta, "key", key ? key : "")) != 0) {
		mdb_txn_abort(t);
		return rc;
	}
	if ((rc = map_rc(mdb_txn_commit(t))) != 0)
		return rc;
	snprintf(c->key, sizeof(c->key), "%s", key ? key : "");
	return 0;
}

const char *
sk_cache_service(const struct sk_cache *c, unsigned *flags)
{
	const char *sp = strchr(c->svc, ' ');

	*flags = 0;
	if (sp == NULL)
		return "";
	*flags = (unsigned)strtoul(c->svc, NULL, 10);
	return sp + 1;
}

int
sk_cache_set_service(struct sk_cache *c, const char *svc, unsigned flags)
{
	char buf[SK_CACHE_SVC_MAX + 1];
	MDB_txn *t;
	int rc;

	buf[0] = '\0';
	if (svc != NULL && svc[0] != '\0' &&
	    (size_t)snprintf(buf, sizeof(buf), "%u %s", flags, svc) >= sizeof(buf))
		return SK_ETOOBIG;
	if ((rc = mdb_txn_begin(c->env, NULL, 0, &t)) != 0)
		return map_rc(rc);
	if ((rc = meta_put(t, c->meta, "service", buf)) != 0) {
		mdb_txn_abort(t);
		return rc;
	}
	if ((rc = map_rc(mdb_txn_commit(t))) != 0)
		return rc;
	memcpy(c->svc, buf, sizeof(buf));
	return 0;
}
