/* state.c - roster and presence records of one user, kept sorted */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "record.h"
#include "state.h"

int
sk_sub_receives_presence(enum sk_sub sub)
{
	return sub == SK_SUB_TO || sub == SK_SUB_BOTH;
}

size_t
sk_jid_barelen(const char *jid)
{
	const char *slash = strchr(jid, '/');

	return slash ? (size_t)(slash - jid) : strlen(jid);
}

void
sk_state_init(struct sk_state *st)
{
	memset(st, 0, sizeof(*st));
}

void
sk_item_free(struct sk_item *item)
{
	size_t i;

	free(item->jid);
	free(item->name);
	for (i = 0; i < item->ngroups; i++)
		free(item->groups[i]);
	free(item->groups);
	memset(item, 0, sizeof(*item));
}

void
sk_pres_free(struct sk_pres *p)
{
	free(p->jid);
	free(p->show);
	free(p->status);
	free(p->ext);
	free(p->xml);
	memset(p, 0, sizeof(*p));
}

void
sk_state_clear(struct sk_state *st)
{
	size_t i;

	for (i = 0; i < st->nitems; i++)
		sk_item_free(&st->items[i]);
	for (i = 0; i < st->npres; i++)
		sk_pres_free(&st->pres[i]);
	st->nitems = st->npres = 0;
}

void
sk_state_free(struct sk_state *st)
{
	sk_state_clear(st);
	free(st->items);
	free(st->pres);
	sk_state_init(st);
}

void
sk_item_hash(struct sk_item *item)
{
	sk_record_item_hash(item, item->hash);
}

void
sk_pres_hash(struct sk_pres *p)
{
	sk_record_pres_hash(p, p->hash);
}

static int
dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst == NULL ? ENOMEM : 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sk_item_copy(struct sk_item *dst, const struct sk_item *src)
{
	size_t i, n;

	memset(dst, 0, sizeof(*dst));
	if (src->jid == NULL || src->jid[0] == '\0')
		return SK_EINVAL;
	dst->sub = src->sub;
	dst->ask = src->ask ? 1 : 0;
	if (dup_opt(&dst->jid, src->jid) || dup_opt(&dst->name, src->name))
		goto nomem;
	if (src->ngroups > 0) {
		dst->groups = calloc(src->ngroups, sizeof(char *));
		if (dst->groups == NULL)
			goto nomem;
		for (i = 0; i < src->ngroups; i++) {
			if (dup_opt(&dst->groups[i], src->groups[i] ? src->groups[i] : ""))
				goto nomem;
			dst->ngroups = i + 1;
		}
		qsort(dst->groups, dst->ngroups, sizeof(char *), cmp_str);
		for (i = 1, n = 1; i < dst->ngroups; i++) {
			if (strcmp(dst->groups[i], dst->groups[n - 1]) == 0)
				free(dst->groups[i]);
			else
				dst->groups[n++] = dst->groups[i];
		}
		dst->ngroups = n;
	}
	sk_item_hash(dst);
	return 0;
nomem:
	sk_item_free(dst);
	return ENOMEM;
}

int
sk_pres_copy(struct sk_pres *dst, const struct sk_pres *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src->jid == NULL || src->jid[0] == '\0')
		return SK_EINVAL;
	dst->priority = src->priority;
	if (dup_opt(&dst->jid, src->jid) || dup_opt(&dst->show, src->show) ||
	    dup_opt(&dst->status, src->status) || dup_opt(&dst->ext, src->ext) ||
	    dup_opt(&dst->xml, src->xml)) {
		sk_pres_free(dst);
		return ENOMEM;
	}
	sk_pres_hash(dst);
	return 0;
}

static int
grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	nv = realloc(*v, ncap * size);
	if (nv == NULL)
		return ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

int
sk_state_add_item(struct sk_state *st, const struct sk_item *item)
{
	int rc;

	if ((rc = grow((void **)&st->items, &st->capitems, st->nitems,
	    sizeof(*st->items))) != 0)
		return rc;
	if ((rc = sk_item_copy(&st->items[st->nitems], item)) != 0)
		return rc;
	st->nitems++;
	return 0;
}

int
sk_state_add_pres(struct sk_state *st, const struct sk_pres *p)
{
	int rc;

	if ((rc = grow((void **)&st->pres, &st->cappres, st->npres,
	    sizeof(*st->pres))) != 0)
		return rc;
	if ((rc = sk_pres_copy(&st->pres[st->npres], p)) != 0)
		return rc;
	st->npres++;
	return 0;
}

int
sk_state_adopt_item(struct sk_state *st, struct sk_item *it)
{
	int rc;

	if ((rc = grow((void **)&st->items, &st->capitems, st->nitems,
	    sizeof(*st->items))) != 0)
		return rc;
	st->items[st->nitems++] = *it;
	memset(it, 0, sizeof(*it));
	return 0;
}

int
sk_state_adopt_pres(struct sk_state *st, struct sk_pres *p)
{
	int rc;

	if ((rc = grow((void **)&st->pres, &st->cappres, st->npres,
	    sizeof(*st->pres))) != 0)
		return rc;
	st->pres[st->npres++] = *p;
	memset(p, 0, sizeof(*p));
	return 0;
}

static int
cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct sk_item *)a)->jid, ((const struct sk_item *)b)->jid);
}

static int
cmp_pres(const void *a, const void *b)
{
	return strcmp(((const struct sk_pres *)a)->jid, ((const struct sk_pres *)b)->jid);
}

void
sk_state_sort(struct sk_state *st)
{
	if (st->nitems > 1)
		qsort(st->items, st->nitems, sizeof(*st->items), cmp_item);
	if (st->npres > 1)
		qsort(st->pres, st->npres, sizeof(*st->pres), cmp_pres);
}

/* Index of the first element whose JID is >= jid (binary search). */
#define LOWER_BOUND(arr, n, key_, out) do {				\
	size_t lo_ = 0, hi_ = (n);					\
	while (lo_ < hi_) {						\
		size_t mid_ = lo_ + (hi_ - lo_) / 2;			\
		if (strcmp((arr)[mid_].jid, (key_)) < 0)		\
			lo_ = mid_ + 1;					\
		else							\
			hi_ = mid_;					\
	}								\
	(out) = lo_;							\
} while (0)

struct sk_item *
sk_state_find_item(const struct sk_state *st, const char *jid)
{
	size_t i;

	LOWER_BOUND(st->items, st->nitems, jid, i);
	if (i < st->nitems && strcmp(st->items[i].jid, jid) == 0)
		return &st->items[i];
	return NULL;
}

struct sk_pres *
sk_state_find_pres(const struct sk_state *st, const char *fulljid)
{
	size_t i;

	LOWER_BOUND(st->pres, st->npres, fulljid, i);
	if (i < st->npres && strcmp(st->pres[i].jid, fulljid) == 0)
		return &st->pres[i];
	return NULL;
}

int
sk_state_put_item(struct sk_state *st, const struct sk_item *item)
{
	struct sk_item copy;
	size_t i;
	int rc;

	if ((rc = sk_item_copy(&copy, item)) != 0)
		return rc;
	LOWER_BOUND(st->items, st->nitems, copy.jid, i);
	if (i < st->nitems && strcmp(st->items[i].jid, copy.jid) == 0) {
		sk_item_free(&st->items[i]);
		st->items[i] = copy;
		return 0;
	}
	if ((rc = grow((void **)&st->items, &st->capitems, st->nitems,
	    sizeof(*st->items))) != 0) {
		sk_item_free(&copy);
		return rc;
	}
	memmove(&st->items[i + 1], &st->items[i], (st->nitems - i) * sizeof(*st->items));
	st->items[i] = copy;
	st->nitems++;
	return 0;
}

int
sk_state_put_pres(struct sk_state *st, const struct sk_pres *p)
{
	struct sk_pres copy;
	size_t i;
	int rc;

	if ((rc = sk_pres_copy(&copy, p)) != 0)
		return rc;
	LOWER_BOUND(st->pres, st->npres, copy.jid, i);
	if (i < st->npres && strcmp(st->pres[i].jid, copy.jid) == 0) {
		sk_pres_free(&st->pres[i]);
		st->pres[i] = copy;
		return 0;
	}
	if ((rc = grow((void **)&st->pres, &st->cappres, st->npres,
	    sizeof(*st->pres))) != 0) {
		sk_pres_free(&copy);
		return rc;
	}
	memmove(&st->pres[i + 1], &st->pres[i], (st->npres - i) * sizeof(*st->pres));
	st->pres[i] = copy;
	st->npres++;
	return 0;
}

void
sk_state_del_item(struct sk_state *st, const char *jid)
{
	struct sk_item *it = sk_state_find_item(st, jid);
	size_t i;

	if (it == NULL)
		return;
	i = (size_t)(it - st->items);
	sk_item_free(it);
	memmove(&st->items[i], &st->items[i + 1], (st->nitems - i - 1) * sizeof(*st->items));
	st->nitems--;
}

void
sk_state_del_pres(struct sk_state *st, const char *fulljid)
{
	struct sk_pres *p = sk_state_find_pres(st, fulljid);
	size_t i;

	if (p == NULL)
		return;
	i = (size_t)(p - st->pres);
	sk_pres_free(p);
	memmove(&st->pres[i], &st->pres[i + 1], (st->npres - i - 1) * sizeof(*st->pres));
	st->npres--;
}

void
sk_state_del_pres_bare(struct sk_state *st, const char *bare)
{
	size_t blen = strlen(bare), i, n = 0;

	/* Resources of one bare JID are not contiguous in full-JID order
	   ("a@b/x" sorts after "a@b.c/y"), so filter the whole array. */
	for (i = 0; i < st->npres; i++) {
		const char *jid = st->pres[i].jid;

		if (strncmp(jid, bare, blen) == 0 &&
		    (jid[blen] == '\0' || jid[blen] == '/'))
			sk_pres_free(&st->pres[i]);
		else
			st->pres[n++] = st->pres[i];
	}
	st->npres = n;
}

void
sk_state_del_pres_if(struct sk_state *st,
    int (*drop)(const struct sk_pres *p, void *arg), void *arg)
{
	size_t i, n = 0;

	for (i = 0; i < st->npres; i++) {
		if (drop(&st->pres[i], arg))
			sk_pres_free(&st->pres[i]);
		else
			st->pres[n++] = st->pres[i];
	}
	st->npres = n;
}

int
sk_state_merge_pres(struct sk_state *st, struct sk_state *add)
{
	size_t i = 0, j = 0, n = 0, cap = st->npres + add->npres;
	struct sk_pres *out;

	if (add->npres == 0)
		return 0;
	if ((out = malloc(cap * sizeof(*out))) == NULL)
		return ENOMEM;
	while (i < st->npres || j < add->npres) {
		int c = i == st->npres ? 1 : j == add->npres ? -1 :
		    strcmp(st->pres[i].jid, add->pres[j].jid);

		if (c == 0)
			sk_pres_free(&st->pres[i++]);	/* replaced */
		out[n++] = c < 0 ? st->pres[i++] : add->pres[j++];
	}
	free(st->pres);
	st->pres = out;
	st->npres = n;
	st->cappres = cap;
	add->npres = 0;
	return 0;
}

int
sk_state_copy(struct sk_state *dst, const struct sk_state *src)
{
	size_t i;
	int rc;

	sk_state_init(dst);
	for (i = 0; i < src->nitems; i++)
		if ((rc = sk_state_add_item(dst, &src->items[i])) != 0)
			goto fail;
	for (i = 0; i < src->npres; i++)
		if ((rc = sk_state_add_pres(dst, &src->pres[i])) != 0)
			goto fail;
	return 0;
fail:
	sk_state_free(dst);
	return rc;
}
