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

/* The record's head: format, version, item count; returns the offset after. */
static size_t
put_head(unsigned char *buf, const char *ver, size_t vlen, size_t nitems)
{
	buf[0] = ROSTER_VERSION;
	buf[1] = (unsigned char)vlen;
	memcpy(buf + 2, ver, vlen);
	sk_put_le32(buf + 2 + vlen, (uint32_t)nitems);
	return 2 + vlen + 4;
}

/* One item at off (jl <= UINT16_MAX); returns the offset after it. */
static size_t
put_item(unsigned char *buf, size_t off, const char *jid, size_t jl,
    const unsigned char *rec, size_t rl)
{
	buf[off] = (unsigned char)(jl & 0xff);
	buf[off + 1] = (unsigned char)(jl >> 8);
	memcpy(buf + off + 2, jid, jl);
	off += 2 + jl;
	sk_put_le32(buf + off, (uint32_t)rl);
	memcpy(buf + off + 4, rec, rl);
	return off + 4 + rl;
}

/* A record's buffer of n bytes: 0, SK_ETOOBIG or ENOMEM. */
static int
record_buf(size_t n, unsigned char **buf)
{
	if (n > UINT32_MAX)
		return SK_ETOOBIG;
	return (*buf = malloc(n)) != NULL ? 0 : ENOMEM;
}

/* The encoded item records of a put or apply (recs may be NULL). */
static void
free_recs(unsigned char **recs, size_t *lens, size_t n)
{
	size_t i;

	for (i = 0; recs && i < n; i++)
		free(recs[i]);
	free(recs);
	free(lens);
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
	if ((rc = record_buf(n, &buf)) != 0)
		goto out;
	off = put_head(buf, ver ? ver : "", vlen, roster->nitems);
	for (i = 0; i < roster->nitems; i++)
		off = put_item(buf, off, roster->items[i].jid, strlen(roster->items[i].jid),
		    recs[i], lens[i]);
	rc = store_put(s, s->roster, key, klen, buf, n);
out:
	free_recs(recs, lens, roster->nitems);
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

/*
 * The item at *off of a record of len bytes: its JID (not terminated) and
 * item record, borrowed; *off moves past it.  0 or SK_ECORRUPT.
 */
static int
next_item(const unsigned char *b, size_t len, size_t *off, const char **jid,
    size_t *jl, const unsigned char **rec, size_t *rl)
{
	size_t o = *off;

	if (len - o < 2 || (*jl = b[o] | (size_t)b[o + 1] << 8) == 0 ||
	    len - o - 2 < *jl + 4 || memchr(b + o + 2, '\0', *jl) != NULL)
		return SK_ECORRUPT;
	*jid = (const char *)b + o + 2;
	o += 2 + *jl;
	if ((*rl = sk_get_le32(b + o)) > len - o - 4)
		return SK_ECORRUPT;
	*rec = b + o + 4;
	*off = o + 4 + *rl;
	return 0;
}

int
sk_store_roster_get(struct sk_store *s, const char *bare, struct sk_state *st)
{
	const unsigned char *b, *rec;
	const char *j;
	char jid[UINT16_MAX + 1];
	size_t off, len, i, count, jl, rl;
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
		if ((rc = next_item(b, len, &off, &j, &jl, &rec, &rl)) != 0)
			return rc;
		memcpy(jid, j, jl);
		jid[jl] = '\0';
		if ((rc = sk_itemrec_decode(jid, rec, rl, st)) != 0)
			return rc;
	}
	return off == len ? 0 : SK_ECORRUPT;
}

/* The change of jid (jl bytes) in the sorted changes, or NULL. */
static const struct sk_item *
change_of(const struct sk_state *ch, const char *jid, size_t jl)
{
	size_t lo = 0, hi = ch->nitems;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *c = ch->items[mid].jid;
		int d = strncmp(c, jid, jl);

		if (d == 0)
			d = c[jl] != '\0';	/* c is longer: after jid */
		if (d == 0)
			return &ch->items[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * One pass over the stored record: the stored items the changes do not
 * name, copied as they are, then the changed items that remain (not
 * removals), encoded.  With buf NULL it only measures (*n bytes, *count
 * items); with buf, *count is the measured count.
 */
static int
splice(const unsigned char *b, size_t len, const struct sk_state *ch,
    unsigned char **recs, const size_t *lens, const char *ver, size_t vlen,
    unsigned char *buf, size_t *n, size_t *count)
{
	const unsigned char *rec;
	const char *jid;
	size_t off = 2 + b[1], stored, i, jl, rl, out;
	int rc;

	stored = sk_get_le32(b + off);
	off += 4;
	out = buf ? put_head(buf, ver, vlen, *count) : 2 + vlen + 4;
	*count = 0;
	for (i = 0; i < stored; i++) {
		if ((rc = next_item(b, len, &off, &jid, &jl, &rec, &rl)) != 0)
			return rc;
		if (change_of(ch, jid, jl) != NULL)
			continue;	/* written below, or removed */
		out = buf ? put_item(buf, out, jid, jl, rec, rl) : out + 2 + jl + 4 + rl;
		(*count)++;
	}
	if (off != len)
		return SK_ECORRUPT;
	for (i = 0; i < ch->nitems; i++) {
		size_t cl = strlen(ch->items[i].jid);

		if (ch->items[i].sub == SK_SUB_REMOVE)
			continue;
		out = buf ? put_item(buf, out, ch->items[i].jid, cl, recs[i], lens[i]) :
		    out + 2 + cl + 4 + lens[i];
		(*count)++;
	}
	*n = out;
	return 0;
}

int
sk_store_roster_apply(struct sk_store *s, const char *bare, const char *since,
    const char *ver, const struct sk_state *changes)
{
	unsigned char **recs = NULL, *buf = NULL;
	size_t *lens = NULL, i, n, count = 0, vlen = ver ? strlen(ver) : 0, klen;
	char key[KEYBUF], held[SK_ROSTER_VER_MAX + 1];
	MDB_val v;
	int rc;

	if (since == NULL || ver == NULL || vlen > SK_ROSTER_VER_MAX)
		return since == NULL || ver == NULL ? SK_EINVAL : SK_ETOOBIG;
	if ((rc = sk_store_roster_ver(s, bare, held)) != 0)
		return rc;
	if (strcmp(held, since) != 0)
		return SK_ENOTFOUND;	/* not the version the changes follow */
	if ((recs = calloc(changes->nitems + 1, sizeof(*recs))) == NULL ||
	    (lens = calloc(changes->nitems + 1, sizeof(*lens))) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	for (i = 0; i < changes->nitems; i++) {
		const struct sk_item *it = &changes->items[i];

		if (strlen(it->jid) > UINT16_MAX ||
		    (i > 0 && strcmp(changes->items[i - 1].jid, it->jid) >= 0)) {
			rc = SK_EINVAL;	/* unsorted or twice */
			goto out;
		}
		if (it->sub != SK_SUB_REMOVE &&
		    (rc = sk_itemrec_encode(it, &recs[i], &lens[i])) != 0)
			goto out;
	}
	/* the record is read again after the version: both borrow the map */
	if ((rc = roster_record(s, bare, &v)) != 0 ||
	    (rc = splice(v.mv_data, v.mv_size, changes, recs, lens, ver, vlen, NULL,
	    &n, &count)) != 0)
		goto out;
	if ((rc = record_buf(n, &buf)) != 0)
		goto out;
	if ((rc = splice(v.mv_data, v.mv_size, changes, recs, lens, ver, vlen, buf,
	    &n, &count)) != 0 ||
	    (rc = roster_key(bare, key, &klen)) != 0)
		goto out;
	rc = store_put(s, s->roster, key, klen, buf, n);
out:
	free_recs(recs, lens, changes->nitems);
	free(buf);
	return rc;
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
