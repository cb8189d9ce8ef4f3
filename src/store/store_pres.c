/* store_pres.c - live presence in the store: one record per contact resource */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "bytes.h"
#include "error.h"
#include "snap.h"
#include "store_impl.h"

#define PRES_VERSION	1

static size_t opt_len(const char *s);

/* ---- usage: stored presence per domain ---------------------------------- */

int
sk_store_pres_domain(const char *jid, char *buf, size_t len)
{
	const char *at, *end;
	size_t n, i;

	if (jid == NULL)
		return SK_EINVAL;
	end = jid + strcspn(jid, "/");
	at = memchr(jid, '@', (size_t)(end - jid));
	at = at != NULL ? at + 1 : jid;
	n = (size_t)(end - at);
	if (n >= len)
		return SK_ETOOBIG;
	for (i = 0; i < n; i++)
		buf[i] = at[i] >= 'A' && at[i] <= 'Z' ? (char)(at[i] - 'A' + 'a') : at[i];
	buf[n] = '\0';
	return 0;
}

static size_t
usage_hash(const char *dom)
{
	size_t h = 2166136261u;

	for (; *dom; dom++)
		h = (h ^ (unsigned char)*dom) * 16777619u;
	return h;
}

/* The slot of dom (create: a new one when absent); NULL when absent, or
   on ENOMEM.  Open addressing, kept under half full; slots are never
   freed while the table lives (a domain at 0 keeps its slot). */
static struct pres_usage *
usage_slot(struct sk_store *s, const char *dom, int create)
{
	size_t i;

	if (create && (s->usage_n + 1) * 2 > s->usage_cap) {
		size_t cap = s->usage_cap ? s->usage_cap * 2 : 64, j;
		struct pres_usage *nu = calloc(cap, sizeof(*nu));

		if (nu == NULL)
			return NULL;
		for (j = 0; j < s->usage_cap; j++) {
			if (s->usage[j].domain == NULL)
				continue;
			for (i = usage_hash(s->usage[j].domain) & (cap - 1); nu[i].domain != NULL;
			    i = (i + 1) & (cap - 1))
				;
			nu[i] = s->usage[j];
		}
		free(s->usage);
		s->usage = nu;
		s->usage_cap = cap;
	}
	if (s->usage_cap == 0)
		return NULL;
	for (i = usage_hash(dom) & (s->usage_cap - 1); s->usage[i].domain != NULL;
	    i = (i + 1) & (s->usage_cap - 1))
		if (strcmp(s->usage[i].domain, dom) == 0)
			return &s->usage[i];
	if (!create || (s->usage[i].domain = strdup(dom)) == NULL)
		return NULL;
	s->usage_n++;
	return &s->usage[i];
}

/* Adds (sign 1) or takes away (sign -1) one record of bytes for jid. */
static void
usage_note(struct sk_store *s, const char *jid, size_t bytes, int sign)
{
	char dom[KEYBUF];
	struct pres_usage *u;

	if (!s->usage_ready)
		return;
	if (sk_store_pres_domain(jid, dom, sizeof(dom)) != 0 ||
	    (u = usage_slot(s, dom, sign > 0)) == NULL) {
		if (sign > 0)
			s->usage_ready = 0;	/* no memory: counted again */
		return;
	}
	if (sign > 0) {
		u->count++;
		u->bytes += bytes;
		s->usage_count++;
		s->usage_bytes += bytes;
	} else {
		u->count -= u->count > 0;
		u->bytes -= bytes < u->bytes ? bytes : u->bytes;
		s->usage_count -= s->usage_count > 0;
		s->usage_bytes -= bytes < s->usage_bytes ? bytes : s->usage_bytes;
	}
}

/* Counts usage from the database: one pass over the presence records. */
static int
usage_count(struct sk_store *s)
{
	MDB_val k, v;
	MDB_cursor *c;
	MDB_txn *t;
	int rc;

	if (s->usage_ready)
		return 0;
	store_usage_free(s);
	if ((rc = store_txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(t, s->pres, &c)) != 0)
		return store_map_rc(rc);
	s->usage_ready = 1;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && s->usage_ready;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		char jid[KEYBUF];
		size_t n = strnlen(k.mv_data, k.mv_size);	/* the bare JID */

		if (n >= sizeof(jid))
			continue;
		memcpy(jid, k.mv_data, n);
		jid[n] = '\0';
		usage_note(s, jid, k.mv_size + v.mv_size, 1);
	}
	mdb_cursor_close(c);
	if (!s->usage_ready)
		return ENOMEM;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : (s->usage_ready = 0, store_map_rc(rc));
}

int
sk_store_pres_usage(struct sk_store *s, const char *domain, size_t *count, size_t *bytes)
{
	char dom[KEYBUF];
	struct pres_usage *u;
	int rc;

	*count = *bytes = 0;
	if ((rc = usage_count(s)) != 0)
		return rc;
	if (domain == NULL) {
		*count = s->usage_count;
		*bytes = s->usage_bytes;
		return 0;
	}
	if ((rc = sk_store_pres_domain(domain, dom, sizeof(dom))) != 0)
		return rc;
	if ((u = usage_slot(s, dom, 0)) != NULL) {
		*count = u->count;
		*bytes = u->bytes;
	}
	return 0;
}

int
sk_store_pres_size(const struct sk_pres *p, size_t *bytes)
{
	char key[KEYBUF];
	const char *f[4] = { p->show, p->status, p->ext, p->xml };
	size_t klen, i, n = 1 + SK_HASH_LEN + 4;
	int rc;

	if ((rc = store_pres_key(key, p->jid, &klen)) != 0)
		return rc;
	for (i = 0; i < 4; i++)
		n += 4 + opt_len(f[i]);
	*bytes = klen + n;
	return 0;
}

int
sk_store_pres_stored(struct sk_store *s, const char *fulljid, size_t *bytes)
{
	char key[KEYBUF];
	MDB_val v;
	size_t klen;
	int rc;

	*bytes = 0;
	if ((rc = store_pres_key(key, fulljid, &klen)) != 0)
		return rc;
	if ((rc = store_get(s, s->pres, key, klen, &v)) != 0)
		return rc;
	*bytes = klen + v.mv_size;
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
	size_t klen, vlen, old;
	int rc;

	if ((rc = store_pres_key(key, p->jid, &klen)) != 0)
		return rc;
	if ((rc = sk_store_pres_encode(p, &val, &vlen)) != 0)
		return rc;
	store_note_change(s, p->jid, sk_jid_barelen(p->jid));
	if (s->usage_ready && (rc = sk_store_pres_stored(s, p->jid, &old)) != SK_ENOTFOUND) {
		if (rc != 0) {
			free(val);
			return rc;
		}
		usage_note(s, p->jid, old, -1);
	}
	if ((rc = store_put(s, s->pres, key, klen, val, vlen)) == 0)
		usage_note(s, p->jid, klen + vlen, 1);
	free(val);
	return rc;
}

int
sk_store_pres_del(struct sk_store *s, const char *fulljid)
{
	char key[KEYBUF];
	size_t klen, old = 0;
	int rc;

	if ((rc = store_pres_key(key, fulljid, &klen)) != 0)
		return rc;
	store_note_change(s, fulljid, sk_jid_barelen(fulljid));
	if (s->usage_ready && (rc = sk_store_pres_stored(s, fulljid, &old)) != 0)
		return rc == SK_ENOTFOUND ? 0 : rc;
	if ((rc = store_del(s, s->pres, key, klen)) == 0 && s->usage_ready)
		usage_note(s, fulljid, old, -1);
	return rc == SK_ENOTFOUND ? 0 : rc;
}

int
sk_store_pres_del_bare(struct sk_store *s, const char *bare)
{
	char key[KEYBUF];
	size_t klen;
	int rc;

	if (bare == NULL || (rc = store_key2(key, bare, strlen(bare), "", 0, &klen)) != 0)
		return bare == NULL ? SK_EINVAL : rc;
	store_note_change(s, bare, strlen(bare));
	if (s->usage_ready) {
		size_t n = 0, b = 0;
		struct sk_state st;

		/* what goes: the resources of bare, before they go */
		sk_state_init(&st);
		if ((rc = sk_store_pres_get(s, bare, &st)) == 0) {
			size_t i, one;

			for (i = 0; i < st.npres; i++)
				if (sk_store_pres_size(&st.pres[i], &one) == 0) {
					n++;
					b += one;
				}
		}
		sk_state_free(&st);
		if (rc != 0)
			return rc;
		if ((rc = store_del_prefix(s, s->pres, key, klen, NULL)) == 0)
			for (; n > 0; n--)
				usage_note(s, bare, n == 1 ? b : 0, -1);
		return rc;
	}
	return store_del_prefix(s, s->pres, key, klen, NULL);
}

int
sk_store_pres_clear(struct sk_store *s)
{
	MDB_txn *t;
	int rc;

	if (s->rdonly)
		return EROFS;
	if ((rc = store_txn(s, &t)) != 0)
		return rc;
	store_forget_changes(s);
	if ((rc = mdb_drop(t, s->pres, 0)) != 0)
		return store_fail(s, rc);
	s->pending++;
	return 0;
}

int
sk_store_pres_has(struct sk_store *s, const char *fulljid)
{
	size_t bytes;

	return sk_store_pres_stored(s, fulljid, &bytes);
}

int
sk_store_pres_resources(struct sk_store *s, const char *bare, size_t *n)
{
	char key[KEYBUF];
	MDB_val k, v;
	MDB_cursor *c;
	MDB_txn *t;
	size_t klen;
	int rc;

	*n = 0;
	if (bare == NULL || (rc = store_key2(key, bare, strlen(bare), "", 0, &klen)) != 0)
		return bare == NULL ? SK_EINVAL : rc;
	if ((rc = store_txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(t, s->pres, &c)) != 0)
		return store_map_rc(rc);
	k.mv_size = klen;
	k.mv_data = key;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	    rc == 0 && k.mv_size >= klen && memcmp(k.mv_data, key, klen) == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		(*n)++;
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_map_rc(rc);
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

	if (bare == NULL || (rc = store_key2(key, bare, strlen(bare), "", 0, &plen)) != 0)
		return bare == NULL ? SK_EINVAL : rc;
	bl = plen - 1;
	if ((rc = store_txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(t, s->pres, &c)) != 0)
		return store_map_rc(rc);
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
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : store_map_rc(rc);
}

int
sk_store_pres_count(struct sk_store *s, size_t *n)
{
	MDB_stat st;
	MDB_txn *t;
	int rc;

	if ((rc = store_txn(s, &t)) != 0)
		return rc;
	if ((rc = mdb_stat(t, s->pres, &st)) != 0)
		return store_map_rc(rc);
	*n = st.ms_entries;
	return 0;
}

int
sk_store_pres_reset(struct sk_store *s, uint32_t *epoch)
{
	int rc;

	if ((rc = sk_store_pres_clear(s)) != 0 ||
	    (rc = sk_store_epoch_bump(s, epoch)) != 0 ||
	    (rc = sk_store_flush(s)) != 0)
		return rc;
	return 0;
}

int
sk_store_recover(struct sk_store *s)
{
	int rc;

	if (s->txn != NULL) {	/* whatever came after the loss goes too */
		mdb_txn_abort(s->txn);
		s->txn = NULL;
		s->pending = 0;
	}
	if ((rc = sk_store_pres_reset(s, NULL)) != 0) {
		s->lost = 1;
		return rc;
	}
	s->lost = 0;
	return 0;
}
