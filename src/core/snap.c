/* snap.c - building and reading snapshot blobs (layout in snap.h) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "error.h"
#include "snap.h"

uint64_t
sk_snap_h64(const char *bare, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a 64 */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)bare[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* A record id while building: what the entries are sorted by. */
struct rid {
	uint64_t		 h64;
	const char		*bare, *res;
	size_t			 barelen, reslen;
	uint32_t		 ref;
	enum sk_snap_kind	 kind;
	const unsigned char	*hash;
};

static int
cmp_rid(const void *va, const void *vb)
{
	const struct rid *a = va, *b = vb;
	int c;

	if (a->h64 != b->h64)
		return a->h64 < b->h64 ? -1 : 1;
	if ((c = sk_cmp_bytes(a->bare, a->barelen, b->bare, b->barelen)) != 0)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return sk_cmp_bytes(a->res, a->reslen, b->res, b->reslen);
}

/*
 * Sorts ids by cmp_rid.  qsort's comparisons and its moves of 64-byte
 * records were most of a build's time; the order is by h64 first, so an
 * LSD radix sort of (h64, index) pairs (eight stable 8-bit passes, a pass
 * skipped when every key shares its byte) and one move of each record
 * give it in O(n), and only the rare runs of equal h64 need cmp_rid.
 * *idsp is replaced by the sorted array.  0 or ENOMEM.
 */
struct hpair {
	uint64_t	h;
	size_t		i;
};

static int
sort_rids(struct rid **idsp, size_t n)
{
	struct hpair *a, *t, *tmp;
	struct rid *ids = *idsp, *out;
	size_t cnt[256], i, j, shift;

	if (n < 64) {
		qsort(ids, n, sizeof(*ids), cmp_rid);
		return 0;
	}
	a = malloc(2 * n * sizeof(*a));
	out = malloc(n * sizeof(*out));
	if (a == NULL || out == NULL) {
		free(a);
		free(out);
		return ENOMEM;
	}
	t = a + n;
	for (i = 0; i < n; i++) {
		a[i].h = ids[i].h64;
		a[i].i = i;
	}
	for (shift = 0; shift < 64; shift += 8) {
		size_t sum = 0;

		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(a[i].h >> shift) & 0xff]++;
		if (cnt[(a[0].h >> shift) & 0xff] == n)
			continue;
		for (j = 0; j < 256; j++) {
			size_t c = cnt[j];

			cnt[j] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			t[cnt[(a[i].h >> shift) & 0xff]++] = a[i];
		tmp = a;
		a = t;
		t = tmp;
	}
	for (i = 0; i < n; i++)
		out[i] = ids[a[i].i];
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && out[j].h64 == out[i].h64; j++)
			;
		if (j - i > 1)
			qsort(out + i, j - i, sizeof(*out), cmp_rid);
	}
	free(a < t ? a : t);	/* the block malloc returned */
	free(ids);
	*idsp = out;
	return 0;
}

static unsigned
bits_for(size_t n)
{
	unsigned bits = 0;

	/* About 8 entries a bucket. */
	while (bits < SK_SNAP_MAXBITS && ((size_t)8 << bits) < n)
		bits++;
	return bits;
}

int
sk_snap_build(const struct sk_state *st, unsigned char **blob, size_t *len)
{
	size_t n = st->nitems + st->npres, i, strtotal = 0, total, nb;
	unsigned char *b, *bk, *xt, *en, *sp;
	struct rid *ids;
	unsigned bits;
	uint32_t off = 0;

	*blob = NULL;
	*len = 0;
	if ((ids = malloc((n ? n : 1) * sizeof(*ids))) == NULL)
		return ENOMEM;
	for (i = 0; i < st->nitems; i++) {
		const struct sk_item *it = &st->items[i];
		struct rid *r = &ids[i];

		r->bare = it->jid;
		r->barelen = strlen(it->jid);
		r->res = "";
		r->reslen = 0;
		r->kind = SK_SNAP_ROSTER;
		r->ref = (uint32_t)i;
		r->hash = it->hash;
	}
	for (i = 0; i < st->npres; i++) {
		const struct sk_pres *p = &st->pres[i];
		struct rid *r = &ids[st->nitems + i];
		size_t bl = sk_jid_barelen(p->jid);

		r->bare = p->jid;
		r->barelen = bl;
		r->res = p->jid[bl] == '/' ? p->jid + bl + 1 : p->jid + bl;
		r->reslen = strlen(r->res);
		r->kind = SK_SNAP_PRES;
		r->ref = (uint32_t)i;
		r->hash = p->hash;
	}
	for (i = 0; i < n; i++) {
		if (ids[i].barelen > UINT16_MAX || ids[i].reslen > UINT16_MAX) {
			free(ids);
			return SK_EINVAL;
		}
		ids[i].h64 = sk_snap_h64(ids[i].bare, ids[i].barelen);
		strtotal += ids[i].barelen + ids[i].reslen;
	}
	if (sort_rids(&ids, n) != 0) {
		free(ids);
		return ENOMEM;
	}

	bits = bits_for(n);
	nb = (size_t)1 << bits;
	total = SK_SNAP_HDR + nb * SK_SNAP_BUCKET + n * SK_SNAP_ENTRY + strtotal;
	if (total > UINT32_MAX) {
		free(ids);
		return SK_ETOOBIG;
	}
	if ((b = calloc(1, total)) == NULL) {
		free(ids);
		return ENOMEM;
	}
	memcpy(b, "SKS1", 4);
	b[4] = (unsigned char)bits;
	sk_put_le32(b + 8, (uint32_t)n);
	sk_put_le32(b + 12, (uint32_t)strtotal);
	bk = b + SK_SNAP_HDR;
	xt = bk + nb * 4;
	en = bk + nb * SK_SNAP_BUCKET;
	sp = en + n * SK_SNAP_ENTRY;

	/* Every bucket's `first` starts at n (empty); fill from the back
	   so each bucket ends up holding its first entry's index. */
	for (i = 0; i < nb; i++)
		sk_put_le32(bk + i * 4, (uint32_t)n);
	for (i = n; i-- > 0;) {
		uint64_t bi = bits ? ids[i].h64 >> (64 - bits) : 0;

		sk_put_le32(bk + bi * 4, (uint32_t)i);
	}
	/* An empty bucket starts where the next non-empty one does, so
	   bucket b spans [first(b), first(b + 1)). */
	for (i = nb - 1; i-- > 0;)
		if (sk_get_le32(bk + i * 4) > sk_get_le32(bk + (i + 1) * 4))
			sk_put_le32(bk + i * 4, sk_get_le32(bk + (i + 1) * 4));

	for (i = 0; i < n; i++) {
		unsigned char *e = en + i * SK_SNAP_ENTRY;
		uint64_t bi = bits ? ids[i].h64 >> (64 - bits) : 0;
		unsigned char *x = xt + bi * SK_HASH_LEN;
		size_t k;

		sk_put_le64(e, ids[i].h64);
		sk_put_le32(e + 8, off);
		e[12] = ids[i].barelen & 0xff; e[13] = ids[i].barelen >> 8;
		e[14] = ids[i].reslen & 0xff; e[15] = ids[i].reslen >> 8;
		sk_put_le32(e + 16, ids[i].ref);
		e[20] = (unsigned char)ids[i].kind;
		memcpy(e + 24, ids[i].hash, SK_HASH_LEN);
		for (k = 0; k < SK_HASH_LEN; k++)
			x[k] ^= ids[i].hash[k];
		memcpy(sp + off, ids[i].bare, ids[i].barelen);
		memcpy(sp + off + ids[i].barelen, ids[i].res, ids[i].reslen);
		off += (uint32_t)(ids[i].barelen + ids[i].reslen);
	}
	free(ids);
	*blob = b;
	*len = total;
	return 0;
}

int
sk_snap_view(struct sk_snap *v, const void *blob, size_t len)
{
	const unsigned char *b = blob;
	size_t nb, need;

	memset(v, 0, sizeof(*v));
	if (b == NULL || len < SK_SNAP_HDR || memcmp(b, "SKS1", 4) != 0 ||
	    b[4] > SK_SNAP_MAXBITS)
		return SK_ECORRUPT;
	v->bits = b[4];
	v->n = sk_get_le32(b + 8);
	v->strlen = sk_get_le32(b + 12);
	nb = (size_t)1 << v->bits;
	need = SK_SNAP_HDR + nb * SK_SNAP_BUCKET + (size_t)v->n * SK_SNAP_ENTRY +
	    v->strlen;
	if (need != len)
		return SK_ECORRUPT;
	v->buckets = b + SK_SNAP_HDR;
	v->xors = v->buckets + nb * 4;
	v->entries = v->buckets + nb * SK_SNAP_BUCKET;
	v->strings = v->entries + (size_t)v->n * SK_SNAP_ENTRY;
	return 0;
}

int
sk_snap_entry(const struct sk_snap *v, uint32_t i, struct sk_snap_entry *e)
{
	const unsigned char *p;
	uint32_t off;

	if (i >= v->n)
		return SK_ECORRUPT;
	p = v->entries + (size_t)i * SK_SNAP_ENTRY;
	e->h64 = sk_get_le64(p);
	off = sk_get_le32(p + 8);
	e->barelen = (uint16_t)(p[12] | p[13] << 8);
	e->reslen = (uint16_t)(p[14] | p[15] << 8);
	e->ref = sk_get_le32(p + 16);
	e->kind = p[20] ? SK_SNAP_PRES : SK_SNAP_ROSTER;
	e->hash = p + 24;
	if ((size_t)off + e->barelen + e->reslen > v->strlen || p[20] > 1)
		return SK_ECORRUPT;
	e->bare = (const char *)v->strings + off;
	e->res = e->bare + e->barelen;
	return 0;
}

uint32_t
sk_snap_bucket_first(const struct sk_snap *v, uint32_t b)
{
	if (b >= (1u << v->bits))
		return v->n;
	return sk_get_le32(v->buckets + (size_t)b * 4);
}

const unsigned char *
sk_snap_bucket_xor(const struct sk_snap *v, uint32_t b)
{
	return v->xors + (size_t)b * SK_HASH_LEN;
}
