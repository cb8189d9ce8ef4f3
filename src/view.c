/* view.c - each user's live state, kept ready between syncs */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "snap.h"
#include "sync.h"
#include "view.h"

/* ---- one view ------------------------------------------------------------ */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The contacts whose presence change would change the view. */
static int
build_watch(struct sk_view *v)
{
	size_t i;

	if (v->live.nitems > 0 &&
	    (v->watch = malloc(v->live.nitems * sizeof(*v->watch))) == NULL)
		return ENOMEM;
	for (i = 0; i < v->live.nitems; i++) {
		const struct sk_item *it = &v->live.items[i];

		if (sk_sub_receives_presence(it->sub))
			v->watch[v->nwatch++] = sk_snap_h64(it->jid, strlen(it->jid));
	}
	if (v->nwatch > 1)
		qsort(v->watch, v->nwatch, sizeof(*v->watch), cmp_u64);
	return 0;
}

int
sk_view_build(struct sk_store *s, struct sk_state *live,
    const struct sk_strv *hidden, struct sk_view **out)
{
	struct sk_view *v;
	size_t i;
	int rc;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ENOMEM;
	v->live = *live;
	sk_state_init(live);
	/* numbered before the lookups: a change during them is seen as one */
	v->gen = sk_store_pres_gen(s);
	if ((rc = sk_sync_live(s, &v->live)) != 0)
		goto fail;
	for (i = 0; hidden != NULL && i < hidden->n; i++)
		sk_state_del_pres_bare(&v->live, hidden->v[i]);
	if ((rc = build_watch(v)) != 0 ||
	    (rc = sk_snap_build(&v->live, &v->blob, &v->len)) != 0 ||
	    (rc = sk_digest_state_b64(&v->live, v->digest)) != 0)
		goto fail;
	/* the blob holds every string once and 40 bytes a record; the
	   state about as much again, the watch list 8 bytes a contact */
	v->bytes = sizeof(*v) + 2 * v->len + v->nwatch * sizeof(*v->watch);
	*out = v;
	return 0;
fail:
	sk_view_free(v);
	return rc;
}

void
sk_view_free(struct sk_view *v)
{
	if (v == NULL)
		return;
	sk_state_free(&v->live);
	free(v->blob);
	free(v->watch);
	free(v->bare);
	free(v->ver);
	free(v->hidden);
	free(v);
}

/* 1 when no presence of a watched contact changed since v was built. */
static int
still_exact(const struct sk_view *v, const struct sk_store *s)
{
	uint64_t g, h, now = sk_store_pres_gen(s);

	if (v->nwatch == 0)
		return 1;	/* no contact's presence counts */
	for (g = v->gen + 1; g <= now; g++) {
		if (sk_store_pres_change(s, g, &h) != 0)
			return 0;
		if (bsearch(&h, v->watch, v->nwatch, sizeof(h), cmp_u64) != NULL)
			return 0;
	}
	return 1;
}

/*
 * The hidden contacts as one string: sorted, each followed by '\n' (a
 * JID holds no newline), so that two lists compare with strcmp whatever
 * order the server gave them in.  NULL on ENOMEM.
 */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
hidden_key(const struct sk_strv *hidden)
{
	size_t i, len = 1, n = hidden ? hidden->n : 0;
	char **sorted = NULL, *out, *p;

	for (i = 0; i < n; i++)
		len += strlen(hidden->v[i]) + 1;
	if ((out = malloc(len)) == NULL ||
	    (n > 0 && (sorted = malloc(n * sizeof(*sorted))) == NULL)) {
		free(out);
		return NULL;
	}
	if (n > 0) {
		memcpy(sorted, hidden->v, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), cmp_str);
	}
	for (i = 0, p = out; i < n; i++) {
		size_t l = strlen(sorted[i]);

		memcpy(p, sorted[i], l);
		p += l;
		*p++ = '\n';
	}
	*p = '\0';
	free(sorted);
	return out;
}

/* ---- the cache: a hash of bare JIDs and a list from least recent use ---- */

struct sk_views {
	struct sk_view	**bucket;
	size_t		  nbucket;	/* a power of two */
	size_t		  n, bytes, max_bytes;
	struct sk_view	 *oldest, *newest;
};

int
sk_views_new(size_t max_bytes, struct sk_views **out)
{
	struct sk_views *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ENOMEM;
	c->nbucket = 64;
	if ((c->bucket = calloc(c->nbucket, sizeof(*c->bucket))) == NULL) {
		free(c);
		return ENOMEM;
	}
	c->max_bytes = max_bytes;
	*out = c;
	return 0;
}

static struct sk_view **
slot(const struct sk_views *c, const char *bare)
{
	struct sk_view **p;

	p = &c->bucket[sk_snap_h64(bare, strlen(bare)) & (c->nbucket - 1)];
	while (*p != NULL && strcmp((*p)->bare, bare) != 0)
		p = &(*p)->next_in_bucket;
	return p;
}

static void
unlink_lru(struct sk_views *c, struct sk_view *v)
{
	if (v->older)
		v->older->newer = v->newer;
	else
		c->oldest = v->newer;
	if (v->newer)
		v->newer->older = v->older;
	else
		c->newest = v->older;
	v->older = v->newer = NULL;
}

static void
link_newest(struct sk_views *c, struct sk_view *v)
{
	v->older = c->newest;
	v->newer = NULL;
	if (c->newest)
		c->newest->newer = v;
	else
		c->oldest = v;
	c->newest = v;
}

static void
remove_view(struct sk_views *c, struct sk_view **p)
{
	struct sk_view *v = *p;

	*p = v->next_in_bucket;
	unlink_lru(c, v);
	c->n--;
	c->bytes -= v->bytes;
	sk_view_free(v);
}

void
sk_views_drop(struct sk_views *c, const char *bare)
{
	struct sk_view **p = slot(c, bare);

	if (*p != NULL)
		remove_view(c, p);
}

struct sk_view *
sk_views_get(struct sk_views *c, const struct sk_store *s, const char *bare,
    const char *ver, const struct sk_strv *hidden)
{
	struct sk_view **p = slot(c, bare), *v = *p;
	char *hk;
	int same;

	if (v == NULL)
		return NULL;
	if ((hk = hidden_key(hidden)) == NULL)
		return NULL;
	same = ver != NULL && strcmp(v->ver, ver) == 0 && strcmp(v->hidden, hk) == 0;
	free(hk);
	if (!same || !still_exact(v, s)) {
		remove_view(c, p);
		return NULL;
	}
	unlink_lru(c, v);
	link_newest(c, v);
	return v;
}

/* Doubles the table when it holds more views than buckets. */
static void
grow(struct sk_views *c)
{
	size_t i, nb = c->nbucket * 2;
	struct sk_view **b, *v, *next;

	if (c->n < c->nbucket || (b = calloc(nb, sizeof(*b))) == NULL)
		return;		/* without memory the chains only get longer */
	for (i = 0; i < c->nbucket; i++)
		for (v = c->bucket[i]; v != NULL; v = next) {
			size_t j = sk_snap_h64(v->bare, strlen(v->bare)) & (nb - 1);

			next = v->next_in_bucket;
			v->next_in_bucket = b[j];
			b[j] = v;
		}
	free(c->bucket);
	c->bucket = b;
	c->nbucket = nb;
}

int
sk_views_put(struct sk_views *c, const char *bare, const char *ver,
    const struct sk_strv *hidden, struct sk_view *v)
{
	struct sk_view **p;

	sk_views_drop(c, bare);
	if (v->bytes > c->max_bytes || ver == NULL) {
		sk_view_free(v);
		return 0;
	}
	if ((v->bare = strdup(bare)) == NULL || (v->ver = strdup(ver)) == NULL ||
	    (v->hidden = hidden_key(hidden)) == NULL) {
		sk_view_free(v);
		return ENOMEM;
	}
	while (c->oldest != NULL && c->bytes + v->bytes > c->max_bytes)
		sk_views_drop(c, c->oldest->bare);
	p = slot(c, bare);
	v->next_in_bucket = NULL;
	*p = v;
	link_newest(c, v);
	c->n++;
	c->bytes += v->bytes;
	grow(c);
	return 0;
}

void
sk_views_free(struct sk_views *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nbucket; i++)
		while (c->bucket[i] != NULL)
			remove_view(c, &c->bucket[i]);
	free(c->bucket);
	free(c);
}

void
sk_views_stats(const struct sk_views *c, size_t *n, size_t *bytes)
{
	*n = c->n;
	*bytes = c->bytes;
}
