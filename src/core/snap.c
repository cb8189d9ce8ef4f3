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

/* The record id of item i / presence i of st (h64 not yet computed). */
static void
item_rid(const struct sk_state *st, size_t i, struct rid *r)
{
	const struct sk_item *it = &st->items[i];

	r->bare = it->jid;
	r->barelen = strlen(it->jid);
	r->res = "";
	r->reslen = 0;
	r->kind = SK_SNAP_ROSTER;
	r->ref = (uint32_t)i;
	r->hash = it->hash;
}

static void
pres_rid(const struct sk_state *st, size_t i, struct rid *r)
{
	const struct sk_pres *p = &st->pres[i];
	size_t bl = sk_jid_barelen(p->jid);

	r->bare = p->jid;
	r->barelen = bl;
	r->res = p->jid[bl] == '/' ? p->jid + bl + 1 : p->jid + bl;
	r->reslen = strlen(r->res);
	r->kind = SK_SNAP_PRES;
	r->ref = (uint32_t)i;
	r->hash = p->hash;
}

/* Checks the lengths of a record id and computes its h64. */
static int
finish_rid(struct rid *r)
{
	if (r->barelen > UINT16_MAX || r->reslen > UINT16_MAX)
		return SK_EINVAL;
	r->h64 = sk_snap_h64(r->bare, r->barelen);
	return 0;
}

/* The blob of ids, sorted by cmp_rid (snap.h "Layout"). */
static int
write_blob(const struct rid *ids, size_t n, unsigned char **blob, size_t *len)
{
	size_t i, strtotal = 0, total, nb;
	unsigned char *b, *bk, *xt, *en, *sp;
	unsigned bits;
	uint32_t off = 0;

	for (i = 0; i < n; i++)
		strtotal += ids[i].barelen + ids[i].reslen;
	bits = bits_for(n);
	nb = (size_t)1 << bits;
	total = SK_SNAP_HDR + nb * SK_SNAP_BUCKET + n * SK_SNAP_ENTRY + strtotal;
	if (total > UINT32_MAX)
		return SK_ETOOBIG;
	if ((b = calloc(1, total)) == NULL)
		return ENOMEM;
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
	*blob = b;
	*len = total;
	return 0;
}

int
sk_snap_build(const struct sk_state *st, unsigned char **blob, size_t *len)
{
	size_t n = st->nitems + st->npres, i;
	struct rid *ids;
	int rc = 0;

	*blob = NULL;
	*len = 0;
	if ((ids = malloc((n ? n : 1) * sizeof(*ids))) == NULL)
		return ENOMEM;
	for (i = 0; i < st->nitems; i++)
		item_rid(st, i, &ids[i]);
	for (i = 0; i < st->npres; i++)
		pres_rid(st, i, &ids[st->nitems + i]);
	for (i = 0; i < n && rc == 0; i++)
		rc = finish_rid(&ids[i]);
	if (rc == 0)
		rc = sort_rids(&ids, n);
	if (rc == 0)
		rc = write_blob(ids, n, blob, len);
	free(ids);
	return rc;
}

/* ---- sk_snap_patch ------------------------------------------------------- */

/* A changed contact, in entry order. */
struct ckey {
	uint64_t	 h64;
	const char	*bare;
	size_t		 len;
};

static int
cmp_ckey(const void *va, const void *vb)
{
	const struct ckey *a = va, *b = vb;

	if (a->h64 != b->h64)
		return a->h64 < b->h64 ? -1 : 1;
	return sk_cmp_bytes(a->bare, a->len, b->bare, b->len);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * map[o] for each old index o of n: its index after the records of old
 * indices gone[] (sorted) left and those of new indices came[] (sorted)
 * arrived, for a record that stayed (the order of those that stay does
 * not change).  The indices of records that left are not used.
 */
static void
renumber(uint32_t *map, size_t n, const uint32_t *gone, size_t ngone,
    const uint32_t *came, size_t ncame)
{
	size_t o, g = 0, c = 0;
	uint32_t at = 0;

	for (o = 0; o < n; o++) {
		if (g < ngone && gone[g] == o) {
			g++;
			continue;
		}
		while (c < ncame && came[c] == at) {
			c++;
			at++;
		}
		map[o] = at++;
	}
}

/* Record ids, grown as they come: the changed contacts' records are
   few, so they get no array the size of the state. */
struct rids {
	struct rid	*v;
	size_t		 n, cap;
};

static struct rid *
rids_next(struct rids *r)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct rid *v = realloc(r->v, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		r->v = v;
		r->cap = cap;
	}
	return &r->v[r->n++];
}

/* Appends the record ids of bare's item and presence in st to out. */
static int
contact_rids(const struct sk_state *st, const char *bare, struct rids *out)
{
	size_t bl = strlen(bare), lo = 0, hi = st->npres;
	const struct sk_item *it = sk_state_find_item(st, bare);
	struct rid *r;
	int rc;

	if (it != NULL) {
		if ((r = rids_next(out)) == NULL)
			return ENOMEM;
		item_rid(st, (size_t)(it - st->items), r);
		if ((rc = finish_rid(r)) != 0)
			return rc;
	}
	while (lo < hi) {	/* the first presence not below bare */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(st->pres[mid].jid, bare) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* every JID that starts with bare follows; some are of another
	   bare JID ("a@b.c/x" after "a@b"), skipped */
	for (; lo < st->npres && strncmp(st->pres[lo].jid, bare, bl) == 0; lo++) {
		if (sk_jid_barelen(st->pres[lo].jid) != bl)
			continue;
		if ((r = rids_next(out)) == NULL)
			return ENOMEM;
		pres_rid(st, lo, r);
		if ((rc = finish_rid(r)) != 0)
			return rc;
	}
	return 0;
}

int
sk_snap_patch(const struct sk_snap *old, const struct sk_state *st,
    const char *const *changed, size_t nchanged, unsigned char **blob, size_t *len)
{
	size_t nfresh, nkept = 0, nold[2] = { 0, 0 }, ngone[2] = { 0, 0 }, ncame[2] = { 0, 0 };
	size_t i, j, c, k, n;
	struct ckey *ck = NULL;
	struct rids fr = { NULL, 0, 0 };
	struct rid *fresh, *kept = NULL, *out = NULL;
	uint32_t *gone[2] = { NULL, NULL }, *came[2] = { NULL, NULL }, *map[2] = { NULL, NULL };
	int rc = ENOMEM;

	*blob = NULL;
	*len = 0;
	if ((ck = malloc((nchanged ? nchanged : 1) * sizeof(*ck))) == NULL ||
	    (kept = malloc((old->n ? old->n : 1) * sizeof(*kept))) == NULL)
		goto out;
	for (i = 0; i < nchanged; i++) {
		ck[i].bare = changed[i];
		ck[i].len = strlen(changed[i]);
		ck[i].h64 = sk_snap_h64(changed[i], ck[i].len);
	}
	qsort(ck, nchanged, sizeof(*ck), cmp_ckey);
	for (i = 0; i < nchanged; i++) {
		if (i > 0 && cmp_ckey(&ck[i - 1], &ck[i]) == 0) {
			rc = SK_EINVAL;		/* a contact named twice */
			goto out;
		}
		if ((rc = contact_rids(st, ck[i].bare, &fr)) != 0)
			goto out;
	}
	/* the changed contacts' records now */
	fresh = fr.v;
	nfresh = fr.n;
	rc = ENOMEM;
	if (nfresh > 1)
		qsort(fresh, nfresh, sizeof(*fresh), cmp_rid);
	/* the old entries: the other contacts' kept, the changed ones' gone */
	for (k = 0; k < 2; k++)
		if ((gone[k] = malloc((old->n ? old->n : 1) * sizeof(**gone))) == NULL ||
		    (came[k] = malloc((nfresh ? nfresh : 1) * sizeof(**came))) == NULL)
			goto out;
	for (i = 0, c = 0; i < old->n; i++) {
		struct sk_snap_entry e;
		struct ckey key;

		if ((rc = sk_snap_entry(old, (uint32_t)i, &e)) != 0)
			goto out;
		k = e.kind == SK_SNAP_PRES;
		nold[k]++;
		key.h64 = e.h64;
		key.bare = e.bare;
		key.len = e.barelen;
		while (c < nchanged && cmp_ckey(&ck[c], &key) < 0)
			c++;
		if (c < nchanged && cmp_ckey(&ck[c], &key) == 0) {
			gone[k][ngone[k]++] = e.ref;
			continue;
		}
		kept[nkept].h64 = e.h64;
		kept[nkept].bare = e.bare;
		kept[nkept].barelen = e.barelen;
		kept[nkept].res = e.res;
		kept[nkept].reslen = e.reslen;
		kept[nkept].kind = e.kind;
		kept[nkept].ref = e.ref;
		kept[nkept++].hash = e.hash;
	}
	rc = ENOMEM;
	for (i = 0; i < nfresh; i++) {
		k = fresh[i].kind == SK_SNAP_PRES;
		came[k][ncame[k]++] = fresh[i].ref;
	}
	/* the kept records' indices in st: theirs in the old state, moved
	   by those that left and came before them */
	for (k = 0; k < 2; k++) {
		if ((map[k] = malloc((nold[k] ? nold[k] : 1) * sizeof(**map))) == NULL)
			goto out;
		qsort(gone[k], ngone[k], sizeof(**gone), cmp_u32);
		qsort(came[k], ncame[k], sizeof(**came), cmp_u32);
		renumber(map[k], nold[k], gone[k], ngone[k], came[k], ncame[k]);
	}
	n = nkept + nfresh;
	if (n != st->nitems + st->npres) {
		rc = SK_ECORRUPT;	/* old is not the blob of st before these changes */
		goto out;
	}
	if ((out = malloc((n ? n : 1) * sizeof(*out))) == NULL)
		goto out;
	for (i = 0, j = 0, c = 0; c < n; c++) {
		if (j == nfresh || (i < nkept && cmp_rid(&kept[i], &fresh[j]) < 0)) {
			out[c] = kept[i++];
			k = out[c].kind == SK_SNAP_PRES;
			if (out[c].ref >= nold[k]) {
				rc = SK_ECORRUPT;
				goto out;
			}
			out[c].ref = map[k][out[c].ref];
		} else {
			out[c] = fresh[j++];
		}
	}
	rc = write_blob(out, n, blob, len);
out:
	for (k = 0; k < 2; k++) {
		free(gone[k]);
		free(came[k]);
		free(map[k]);
	}
	free(out);
	free(kept);
	free(fr.v);
	free(ck);
	return rc;
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
