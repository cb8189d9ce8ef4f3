/* store_roster.c - users' rosters with the server's version (server adapter mode) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "bytes.h"
#include "error.h"
#include "itemrec.h"
#include "store_impl.h"

/*
 * Record, key the bare JID: u8 ROSTER_VERSION, u8 length of the roster
 * version, its bytes, u32 number of items, then per item u16 length of
 * the JID, the JID, u32 length of its item record (itemrec.h), the record.
 */
#define ROSTER_VERSION	1

static int
roster_key(const char *bare, char *key, size_t *klen)
{
	if (bare == NULL || bare[0] == '\0')
		return SK_EINVAL;
	return store_key2(key, bare, strlen(bare), "", 0, klen);
}

int
sk_store_roster_put(struct sk_store *s, const char *bare, const char *ver,
    const struct sk_state *roster)
{
	unsigned char **recs = NULL, *buf = NULL;
	size_t *lens = NULL, n = 2 + 4, off, i, vlen = ver ? strlen(ver) : 0, klen;
	char key[KEYBUF];
	int rc;

	if ((rc = roster_key(bare, key, &klen)) != 0)
		return rc;
	if (vlen > SK_ROSTER_VER_MAX)
		return SK_ETOOBIG;
	if ((recs = calloc(roster->nitems + 1, sizeof(*recs))) == NULL ||
	    (lens = calloc(roster->nitems + 1, sizeof(*lens))) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	n += vlen;
	for (i = 0; i < roster->nitems; i++) {
		const struct sk_item *it = &roster->items[i];

		if (it->sub == SK_SUB_REMOVE || strlen(it->jid) > UINT16_MAX) {
			rc = SK_EINVAL;
			goto out;
		}
		if ((rc = sk_itemrec_encode(it, &recs[i], &lens[i])) != 0)
			goto out;
		n += 2 + strlen(it->jid) + 4 + lens[i];
	}
	if (n > UINT32_MAX) {
		rc = SK_ETOOBIG;
		goto out;
	}
	if ((buf = malloc(n)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	buf[0] = ROSTER_VERSION;
	buf[1] = (unsigned char)vlen;
	memcpy(buf + 2, ver ? ver : "", vlen);
	off = 2 + vlen;
	sk_put_le32(buf + off, (uint32_t)roster->nitems);
	off += 4;
	for (i = 0; i < roster->nitems; i++) {
		size_t jl = strlen(roster->items[i].jid);

		buf[off] = (unsigned char)(jl & 0xff);
		buf[off + 1] = (unsigned char)(jl >> 8);
		memcpy(buf + off + 2, roster->items[i].jid, jl);
		off += 2 + jl;
		sk_put_le32(buf + off, (uint32_t)lens[i]);
		memcpy(buf + off + 4, recs[i], lens[i]);
		off += 4 + lens[i];
	}
	rc = store_put(s, s->roster, key, klen, buf, n);
out:
	for (i = 0; recs && i < roster->nitems; i++)
		free(recs[i]);
	free(recs);
	free(lens);
	free(buf);
	return rc;
}

/* The record of bare, checked as far as its version. */
static int
roster_record(struct sk_store *s, const char *bare, MDB_val *v)
{
	char key[KEYBUF];
	size_t klen;
	int rc;

	if ((rc = roster_key(bare, key, &klen)) != 0 ||
	    (rc = store_get(s, s->roster, key, klen, v)) != 0)
		return rc;
	if (v->mv_size < 6 || ((unsigned char *)v->mv_data)[0] != ROSTER_VERSION ||
	    (size_t)((unsigned char *)v->mv_data)[1] + 6 > v->mv_size)
		return SK_ECORRUPT;
	return 0;
}

int
sk_store_roster_ver(struct sk_store *s, const char *bare, char *ver)
{
	MDB_val v;
	size_t vlen;
	int rc;

	ver[0] = '\0';
	if ((rc = roster_record(s, bare, &v)) != 0)
		return rc;
	vlen = ((unsigned char *)v.mv_data)[1];
	memcpy(ver, (unsigned char *)v.mv_data + 2, vlen);
	ver[vlen] = '\0';
	return memchr(ver, '\0', vlen) ? SK_ECORRUPT : 0;
}

int
sk_store_roster_get(struct sk_store *s, const char *bare, struct sk_state *st)
{
	const unsigned char *b;
	char jid[UINT16_MAX + 1];
	size_t off, len, i, count;
	MDB_val v;
	int rc;

	if ((rc = roster_record(s, bare, &v)) != 0)
		return rc;
	b = v.mv_data;
	len = v.mv_size;
	off = 2 + b[1];
	count = sk_get_le32(b + off);
	off += 4;
	for (i = 0; i < count; i++) {
		size_t jl, rl;

		if (len - off < 2 || (jl = b[off] | (size_t)b[off + 1] << 8) == 0 ||
		    len - off - 2 < jl + 4)
			return SK_ECORRUPT;
		memcpy(jid, b + off + 2, jl);
		jid[jl] = '\0';
		off += 2 + jl;
		if ((rl = sk_get_le32(b + off)) > len - off - 4 || memchr(jid, '\0', jl))
			return SK_ECORRUPT;
		if ((rc = sk_itemrec_decode(jid, b + off + 4, rl, st)) != 0)
			return rc;
		off += 4 + rl;
	}
	return off == len ? 0 : SK_ECORRUPT;
}

int
sk_store_roster_del(struct sk_store *s, const char *bare)
{
	char key[KEYBUF];
	size_t klen;
	int rc;

	if ((rc = roster_key(bare, key, &klen)) != 0)
		return rc;
	rc = store_del(s, s->roster, key, klen);
	return rc == SK_ENOTFOUND ? 0 : rc;
}
