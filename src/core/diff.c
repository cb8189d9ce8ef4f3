/* diff.c - changed records between two snapshot blobs (see diff.h) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "diff.h"
#include "error.h"

void
sk_changes_init(struct sk_changes *c)
{
	memset(c, 0, sizeof(*c));
}

void
sk_changes_free(struct sk_changes *c)
{
	free(c->v);
	sk_changes_init(c);
}

static int
add(struct sk_changes *c, enum sk_change_kind kind, const struct sk_snap_entry *e)
{
	struct sk_change *ch;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 32;
		struct sk_change *nv = realloc(c->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return ENOMEM;
		c->v = nv;
		c->cap = ncap;
	}
	ch = &c->v[c->n++];
	ch->kind = kind;
	ch->ref = e->ref;
	ch->bare = e->bare;
	ch->barelen = e->barelen;
	ch->res = e->res;
	ch->reslen = kind == SK_CH_PRES_GONE ? e->reslen : 0;
	return 0;
}

/* Order of contacts: (h64, bare). */
static int
cmp_contact(const struct sk_snap_entry *a, const struct sk_snap_entry *b)
{
	if (a->h64 != b->h64)
		return a->h64 < b->h64 ? -1 : 1;
	return sk_cmp_bytes(a->bare, a->barelen, b->bare, b->barelen);
}

/* Order of records within a contact: (kind, resource). */
static int
cmp_record(const struct sk_snap_entry *a, const struct sk_snap_entry *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return sk_cmp_bytes(a->res, a->reslen, b->res, b->reslen);
}

/* A cursor over one side's entries [i, end). */
struct side {
	const struct sk_snap	*v;
	uint32_t		 i, end;
	struct sk_snap_entry	 cur;	/* entry i when i < end */
	int			 have;
};

static int
side_load(struct side *s)
{
	s->have = 0;
	if (s->i >= s->end)
		return 0;
	if (sk_snap_entry(s->v, s->i, &s->cur) != 0)
		return SK_ECORRUPT;
	s->have = 1;
	return 0;
}

/* Moves to the next entry; the blob must be strictly increasing. */
static int
side_next(struct side *s)
{
	struct sk_snap_entry prev = s->cur;
	int c;

	s->i++;
	if (side_load(s) != 0)
		return SK_ECORRUPT;
	if (s->have) {
		c = cmp_contact(&prev, &s->cur);
		if (c > 0 || (c == 0 && cmp_record(&prev, &s->cur) >= 0))
			return SK_ECORRUPT;
	}
	return 0;
}

/* 1 when the side's current entry belongs to contact c. */
static int
in_contact(const struct side *s, const struct sk_snap_entry *c)
{
	return s->have && cmp_contact(&s->cur, c) == 0;
}

/*
 * Compares one contact's records on both sides.  `c` names the contact;
 * each side's cursor stands on its first record of c, if it has any.
 */
static int
diff_contact(struct side *o, struct side *l, const struct sk_snap_entry *c,
    struct sk_changes *out)
{
	struct sk_snap_entry contact = *c;
	size_t before = out->n, ngone = 0, nlive_pres = 0, first_gone;
	int rc, cmp;

	/* Roster item: kind R sorts first within a contact. */
	{
		int ho = in_contact(o, &contact) && o->cur.kind == SK_SNAP_ROSTER;
		int hl = in_contact(l, &contact) && l->cur.kind == SK_SNAP_ROSTER;

		if (hl && (!ho || memcmp(o->cur.hash, l->cur.hash, SK_HASH_LEN) != 0))
			if ((rc = add(out, SK_CH_ITEM, &l->cur)) != 0)
				return rc;
		if (ho && !hl)
			if ((rc = add(out, SK_CH_ITEM_REMOVE, &o->cur)) != 0)
				return rc;
		if (ho && (rc = side_next(o)) != 0)
			return rc;
		if (hl && (rc = side_next(l)) != 0)
			return rc;
	}
	/* Presence: merge the resources. Gone ones are recorded as
	   SK_CH_PRES_GONE and folded into one bare unavailable below when
	   no live resource remains. */
	first_gone = out->n;
	while (in_contact(o, &contact) || in_contact(l, &contact)) {
		int ho = in_contact(o, &contact), hl = in_contact(l, &contact);

		cmp = !ho ? 1 : !hl ? -1 : cmp_record(&o->cur, &l->cur);
		if (cmp < 0) {
			if ((rc = add(out, SK_CH_PRES_GONE, &o->cur)) != 0)
				return rc;
			ngone++;
			if ((rc = side_next(o)) != 0)
				return rc;
			continue;
		}
		nlive_pres++;
		if (cmp > 0 || memcmp(o->cur.hash, l->cur.hash, SK_HASH_LEN) != 0)
			if ((rc = add(out, SK_CH_PRES, &l->cur)) != 0)
				return rc;
		if (cmp == 0 && (rc = side_next(o)) != 0)
			return rc;
		if ((rc = side_next(l)) != 0)
			return rc;
	}
	if (ngone > 0 && nlive_pres == 0) {
		/* Every resource went away: one bare unavailable replaces the
		   per-resource ones (they are the only entries since first_gone). */
		out->n = first_gone;
		if ((rc = add(out, SK_CH_PRES_GONE_ALL, &contact)) != 0)
			return rc;
	}
	if (out->n > before)
		out->ncontacts++;
	return 0;
}

/*
 * The XOR of coarse bucket b: the stored one when the blob has exactly
 * that many buckets (the common case, no copy), else the fold of its 2^d
 * finer buckets into x.
 */
static const unsigned char *
bucket_xor(const struct sk_snap *v, uint32_t b, unsigned d, unsigned char x[SK_HASH_LEN])
{
	uint32_t f, lo = b << d, hi = (b + 1) << d;
	size_t k;

	if (d == 0)
		return sk_snap_bucket_xor(v, b);
	memset(x, 0, SK_HASH_LEN);
	for (f = lo; f < hi; f++) {
		const unsigned char *y = sk_snap_bucket_xor(v, f);

		for (k = 0; k < SK_HASH_LEN; k++)
			x[k] ^= y[k];
	}
	return x;
}

static int
range(const struct sk_snap *v, uint32_t b, unsigned d, uint32_t *lo, uint32_t *hi)
{
	*lo = sk_snap_bucket_first(v, b << d);
	*hi = sk_snap_bucket_first(v, (b + 1) << d);
	return *lo <= *hi && *hi <= v->n ? 0 : SK_ECORRUPT;
}

#define RUN 16	/* buckets compared at once */

int
sk_diff(const struct sk_snap *old, const struct sk_snap *live, struct sk_changes *out)
{
	unsigned bits = old->bits < live->bits ? old->bits : live->bits;
	unsigned dold = old->bits - bits, dlive = live->bits - bits;
	unsigned char xo[SK_HASH_LEN], xl[SK_HASH_LEN];
	struct side o = { .v = old }, l = { .v = live };
	uint32_t b, nb = 1u << bits;
	int rc;

	for (b = 0; b < nb; b++) {
		/* Same bucket count: skip equal runs of the XOR table with one
		   memcmp (most of it, when few contacts changed). */
		if (dold == 0 && dlive == 0 && (b % RUN) == 0 && b + RUN <= nb &&
		    memcmp(old->xors + (size_t)b * SK_HASH_LEN,
		    live->xors + (size_t)b * SK_HASH_LEN, RUN * SK_HASH_LEN) == 0) {
			b += RUN - 1;
			continue;
		}
		if (memcmp(bucket_xor(old, b, dold, xo), bucket_xor(live, b, dlive, xl),
		    SK_HASH_LEN) == 0)
			continue;	/* same records: nothing to merge */
		if (range(old, b, dold, &o.i, &o.end) != 0 ||
		    range(live, b, dlive, &l.i, &l.end) != 0)
			return SK_ECORRUPT;
		if (side_load(&o) != 0 || side_load(&l) != 0)
			return SK_ECORRUPT;
		while (o.have || l.have) {
			struct sk_snap_entry c;

			if (!o.have)
				c = l.cur;
			else if (!l.have)
				c = o.cur;
			else
				c = cmp_contact(&o.cur, &l.cur) <= 0 ? o.cur : l.cur;
			if ((rc = diff_contact(&o, &l, &c, out)) != 0)
				return rc;
		}
	}
	return 0;
}
