/* view.c - each user's live state, kept ready between syncs */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "snap.h"
#include "view.h"

/* ---- one view ------------------------------------------------------------ */

struct sk_view_watch {
	uint64_t	h;		/* sk_snap_h64 of the contact's JID */
	size_t		item;		/* its index in live.items */
};

int
sk_view_live(struct sk_store *s, struct sk_state *live)
{
	size_t i, n = live->nitems;
	int rc;

	for (i = 0; i < n; i++) {
		if (!sk_sub_receives_presence(live->items[i].sub))
			continue;
		if ((rc = sk_store_pres_get(s, live->items[i].jid, live)) != 0)
			return rc;
	}
	sk_state_sort(live);
	return 0;
}

static int
cmp_watch(const void *a, const void *b)
{
	uint64_t x = ((const struct sk_view_watch *)a)->h;
	uint64_t y = ((const struct sk_view_watch *)b)->h;

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

		if (sk_sub_receives_presence(it->sub)) {
			v->watch[v->nwatch].h = sk_snap_h64(it->jid, strlen(it->jid));
			v->watch[v->nwatch++].item = i;
		}
	}
	if (v->nwatch > 1)
		qsort(v->watch, v->nwatch, sizeof(*v->watch), cmp_watch);
	return 0;
}

/*
 * The blob and size of the view's live state: patched from the blob it
 * had when only the contacts changed[] (n, each once) changed since
 * (sk_snap_patch: their entries made again, the others copied), else
 * built whole (changed NULL).  Version 0's digest is made again when
 * asked; version 1's vector is kept in step by the callers.
 */
static int
seal(struct sk_view *v, const char *const *changed, size_t n)
{
	struct sk_snap old;
	unsigned char *blob = NULL;
	size_t len = 0;
	int rc = SK_ECORRUPT;

	v->have0 = 0;
	if (changed != NULL && v->blob != NULL && sk_snap_view(&old, v->blob, v->len) == 0)
		rc = sk_snap_patch(&old, &v->live, changed, n, &blob, &len);
	/* a blob that is not the state's before these changes: built whole */
	if (rc == SK_ECORRUPT || rc == SK_EINVAL)
		rc = sk_snap_build(&v->live, &blob, &len);
	free(v->blob);
	v->blob = blob;
	v->len = len;
	if (rc != 0)
		return rc;
	/* the blob holds every string once and 40 bytes a record; the
	   state about as much again, the watch list 16 bytes a contact */
	v->bytes = sizeof(*v) + 2 * v->len + v->nwatch * sizeof(*v->watch);
	return 0;
}

/*
 * Version 1's vector follows each record that enters or leaves the live
 * state while it is valid; a failure (OpenSSL out of memory) only makes
 * it invalid, and sk_view_digest makes it whole again.
 */
static void
lt_pres(struct sk_view *v, const struct sk_pres *p, int sign)
{
	if (v->have1 && sk_lthash_pres(&v->lt, p, sign) != 0)
		v->have1 = 0;
}

static void
lt_item(struct sk_view *v, const struct sk_item *it, int sign)
{
	if (v->have1 && sk_lthash_item(&v->lt, it, sign) != 0)
		v->have1 = 0;
}

/* Adds every presence of st (about to be merged into the view). */
static void
lt_add_pres(struct sk_view *v, const struct sk_state *st)
{
	size_t i;

	for (i = 0; i < st->npres && v->have1; i++)
		lt_pres(v, &st->pres[i], 1);
}

int
sk_view_digest(struct sk_view *v, unsigned version, char out[SK_DIGEST_B64])
{
	int rc;

	switch (version) {
	case 0:
		if (!v->have0) {
			if ((rc = sk_digest_state_b64(&v->live, v->digest0)) != 0)
				return rc;
			v->have0 = 1;
		}
		memcpy(out, v->digest0, SK_DIGEST_B64);
		return 0;
	case 1:
		if (!v->have1) {
			if ((rc = sk_lthash_state(&v->live, &v->lt)) != 0)
				return rc;
			v->have1 = 1;
		}
		return sk_lthash_b64(&v->lt, out);
	default:
		return EINVAL;
	}
}

/*
 * Takes out of st what one hidden JID hides (doc/adapter-protocol.md "Hidden contacts"): a
 * bare JID every resource of that contact, a full JID that resource
 * alone (XEP-0191 blocks a full JID by itself; "a@b/phone" does not
 * hide "a@b/phone/2").  st is sorted.
 */
static void
hide(struct sk_state *st, const char *jid)
{
	if (strchr(jid, '/') != NULL)
		sk_state_del_pres(st, jid);
	else
		sk_state_del_pres_bare(st, jid);
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
	if ((rc = sk_view_live(s, &v->live)) != 0)
		goto fail;
	for (i = 0; hidden != NULL && i < hidden->n; i++)
		hide(&v->live, hidden->v[i]);
	if ((rc = build_watch(v)) != 0 || (rc = seal(v, NULL, 0)) != 0)
		goto fail;
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

/*
 * A refresh costs one pass over the presence, a lookup per changed
 * contact and a merge; a build, a lookup per contact and the sorts.  Past
 * a quarter of the watched contacts changed, a build is as cheap.
 */
#define REFRESH_SHARE 4

#define SK_VIEW_JID_MAX	3072	/* RFC 7622: 3 x 1023 + "@" + "/" + NUL */

/* 1 when the sorted '\n'-terminated list hk holds jid. */
static int
listed(const char *hk, const char *jid)
{
	size_t n = strlen(jid);
	const char *p;

	for (p = hk; (p = strstr(p, jid)) != NULL; p += n)
		if ((p == hk || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* The changed contacts of a refresh: their items, by sk_snap_h64. */
struct changed {
	struct sk_view		*v;
	struct sk_view_watch	*w;	/* sorted by h */
	size_t			 n;
};

/* sk_state_del_pres_if: a presence of a changed contact (taken out of
   the view's vector too). */
static int
of_changed(const struct sk_pres *p, void *arg)
{
	const struct changed *ch = arg;
	size_t bl = sk_jid_barelen(p->jid);
	struct sk_view_watch key = { 0 }, *w;

	key.h = sk_snap_h64(p->jid, bl);
	if ((w = bsearch(&key, ch->w, ch->n, sizeof(key), cmp_watch)) == NULL)
		return 0;
	while (w > ch->w && w[-1].h == key.h)
		w--;
	for (; w < ch->w + ch->n && w->h == key.h; w++) {
		const char *jid = ch->v->live.items[w->item].jid;

		if (strlen(jid) == bl && memcmp(jid, p->jid, bl) == 0) {
			lt_pres(ch->v, p, -1);
			return 1;
		}
	}
	return 0;	/* another JID of the same hash */
}

/*
 * The watched contacts that changed since v was built, each once, sorted
 * by hash: 0; SK_ENOTFOUND when the changes are no longer known or too
 * many contacts changed for a refresh to beat a build; or ENOMEM.
 */
static int
changed_since(struct sk_view *v, const struct sk_store *s, uint64_t now,
    struct changed *ch)
{
	size_t limit = v->nwatch / REFRESH_SHARE + 1;
	unsigned char *seen;
	uint64_t g;
	int rc = 0;

	ch->v = v;
	ch->n = 0;
	if ((seen = calloc(v->live.nitems / 8 + 1, 1)) == NULL ||
	    (ch->w = malloc(limit * sizeof(*ch->w))) == NULL) {
		free(seen);
		return ENOMEM;
	}
	for (g = v->gen + 1; g <= now && rc == 0; g++) {
		struct sk_view_watch key = { 0 }, *w;

		if ((rc = sk_store_pres_change(s, g, &key.h)) != 0)
			break;
		if ((w = bsearch(&key, v->watch, v->nwatch, sizeof(key), cmp_watch)) == NULL)
			continue;
		while (w > v->watch && w[-1].h == key.h)	/* every contact of that hash */
			w--;
		for (; w < v->watch + v->nwatch && w->h == key.h && rc == 0; w++) {
			if (seen[w->item / 8] & (1u << (w->item % 8)))
				continue;
			seen[w->item / 8] |= 1u << (w->item % 8);
			if (ch->n == limit)
				rc = SK_ENOTFOUND;	/* a build costs no more */
			else
				ch->w[ch->n++] = *w;
		}
	}
	free(seen);
	if (rc == 0 && ch->n > 1)
		qsort(ch->w, ch->n, sizeof(*ch->w), cmp_watch);
	if (rc != 0)
		free(ch->w);
	return rc;
}

/*
 * Takes the presence of the watched contacts that changed since v was
 * built from the store again (one pass to take theirs out, a merge to put
 * the stored ones back) and seals v anew when any did.  0; SK_ENOTFOUND
 * (a build is due: unknown or too many changes); or a store error.  On
 * error v is unusable.
 */
static int
refresh(struct sk_view *v, struct sk_store *s)
{
	uint64_t now = sk_store_pres_gen(s);
	struct sk_state fresh;
	struct changed ch;
	const char **names;
	size_t i;
	int rc;

	if (v->nwatch == 0 || now == v->gen) {
		v->gen = now;
		return 0;	/* no contact's presence counts, or none changed */
	}
	if ((rc = changed_since(v, s, now, &ch)) != 0)
		return rc;
	sk_state_del_pres_if(&v->live, of_changed, &ch);
	sk_state_init(&fresh);
	for (i = 0; i < ch.n && rc == 0; i++) {
		const char *jid = v->live.items[ch.w[i].item].jid;

		if (!listed(v->hidden, jid))
			rc = sk_store_pres_get(s, jid, &fresh);
	}
	if (rc == 0) {
		const char *p, *nl;
		char jid[SK_VIEW_JID_MAX];

		sk_state_sort(&fresh);
		/* hidden resources of the contacts taken again (full JIDs) */
		for (p = v->hidden; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
			if (memchr(p, '/', (size_t)(nl - p)) != NULL &&
			    (size_t)(nl - p) < sizeof(jid)) {
				memcpy(jid, p, (size_t)(nl - p));
				jid[nl - p] = '\0';
				sk_state_del_pres(&fresh, jid);
			}
		lt_add_pres(v, &fresh);
		rc = sk_state_merge_pres(&v->live, &fresh);
	}
	sk_state_free(&fresh);
	if (rc != 0 || ch.n == 0) {
		free(ch.w);
		if (rc == 0)
			v->gen = now;
		return rc;
	}
	/* the items did not change: their JIDs name the changed contacts */
	if ((names = malloc(ch.n * sizeof(*names))) == NULL) {
		free(ch.w);
		return ENOMEM;
	}
	for (i = 0; i < ch.n; i++)
		names[i] = v->live.items[ch.w[i].item].jid;
	free(ch.w);
	v->gen = now;
	rc = seal(v, names, ch.n);
	free(names);
	return rc;
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
	size_t		  n, bytes, max_bytes, max_user_bytes;
	struct sk_view	 *oldest, *newest;
};

int
sk_views_new(size_t max_bytes, size_t max_user_bytes, struct sk_views **out)
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
	c->max_user_bytes = max_user_bytes;
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

/* Takes the view at *p out of the cache; the caller's now. */
static struct sk_view *
take_view(struct sk_views *c, struct sk_view **p)
{
	struct sk_view *v = *p;

	*p = v->next_in_bucket;
	v->next_in_bucket = NULL;
	unlink_lru(c, v);
	c->n--;
	c->bytes -= v->bytes;
	return v;
}

static void
remove_view(struct sk_views *c, struct sk_view **p)
{
	sk_view_free(take_view(c, p));
}

void
sk_views_drop(struct sk_views *c, const char *bare)
{
	struct sk_view **p = slot(c, bare);

	if (*p != NULL)
		remove_view(c, p);
}

struct sk_view *
sk_views_get(struct sk_views *c, struct sk_store *s, const char *bare,
    const char *ver, const struct sk_strv *hidden)
{
	struct sk_view **p = slot(c, bare), *v = *p;
	size_t before;
	char *hk;
	int same;

	if (v == NULL)
		return NULL;
	if ((hk = hidden_key(hidden)) == NULL)
		return NULL;
	same = ver != NULL && strcmp(v->ver, ver) == 0 && strcmp(v->hidden, hk) == 0;
	free(hk);
	before = v->bytes;
	if (!same || refresh(v, s) != 0 || v->bytes > c->max_user_bytes) {
		v->bytes = before;	/* as counted when kept */
		remove_view(c, p);
		return NULL;
	}
	c->bytes = c->bytes - before + v->bytes;
	unlink_lru(c, v);
	link_newest(c, v);
	while (c->bytes > c->max_bytes && c->oldest != v)
		sk_views_drop(c, c->oldest->bare);
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
	if (ver == NULL || v->bytes > c->max_bytes || v->bytes > c->max_user_bytes) {
		sk_view_free(v);
		return ver == NULL ? 0 : SK_EFULL;
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

/* sk_state_del_pres_if: a presence of one contact (taken out of the
   view's vector too). */
struct of_bare {
	struct sk_view	*v;
	const char	*bare;
	size_t		 len;
};

static int
of_bare(const struct sk_pres *p, void *arg)
{
	const struct of_bare *ob = arg;

	if (sk_jid_barelen(p->jid) != ob->len || memcmp(p->jid, ob->bare, ob->len) != 0)
		return 0;
	lt_pres(ob->v, p, -1);
	return 1;
}

/*
 * Changes v's roster items as changes say and takes the presence of each
 * changed contact from the store again (none for a removed one, nor for
 * one whose subscription does not bring presence, nor a hidden one).  The
 * items are patched in place (a put in a sorted array each); the watch
 * list, blob and digest are built again, which is O(roster) but needs no
 * store read but the changed contacts' presence.  On error v is unusable.
 */
static int
patch(struct sk_view *v, struct sk_store *s, const struct sk_state *changes)
{
	const char *p, *nl;
	char jid[SK_VIEW_JID_MAX];
	struct sk_state fresh;
	size_t i;
	int rc = 0;

	sk_state_init(&fresh);
	for (i = 0; i < changes->nitems && rc == 0; i++) {
		const struct sk_item *it = &changes->items[i];
		struct of_bare ob = { v, it->jid, strlen(it->jid) };
		const struct sk_item *old = sk_state_find_item(&v->live, it->jid);

		sk_state_del_pres_if(&v->live, of_bare, &ob);
		if (old != NULL)
			lt_item(v, old, -1);
		if (it->sub == SK_SUB_REMOVE)
			sk_state_del_item(&v->live, it->jid);
		else if ((rc = sk_state_put_item(&v->live, it)) == 0) {
			lt_item(v, it, 1);
			if (sk_sub_receives_presence(it->sub) && !listed(v->hidden, it->jid))
				rc = sk_store_pres_get(s, it->jid, &fresh);
		}
	}
	sk_state_sort(&fresh);
	/* what the hidden full JIDs hide of the contacts taken again */
	for (p = v->hidden; rc == 0 && (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if ((size_t)(nl - p) < sizeof(jid)) {
			memcpy(jid, p, (size_t)(nl - p));
			jid[nl - p] = '\0';
			hide(&fresh, jid);
		}
	if (rc == 0) {
		lt_add_pres(v, &fresh);
		rc = sk_state_merge_pres(&v->live, &fresh);
	}
	sk_state_free(&fresh);
	free(v->watch);
	v->watch = NULL;
	v->nwatch = 0;
	if (rc == 0 && (rc = build_watch(v)) == 0) {
		const char **names = malloc((changes->nitems ? changes->nitems : 1) * sizeof(*names));

		if (names == NULL)
			return ENOMEM;
		for (i = 0; i < changes->nitems; i++)
			names[i] = changes->items[i].jid;
		rc = seal(v, names, changes->nitems);
		free(names);
	}
	return rc;
}

struct sk_view *
sk_views_apply(struct sk_views *c, struct sk_store *s, const char *bare,
    const char *since, const char *ver, const struct sk_strv *hidden,
    const struct sk_state *changes)
{
	struct sk_view *v;

	if (ver == NULL || sk_views_get(c, s, bare, since, hidden) == NULL)
		return NULL;	/* none kept for since, or dropped */
	v = take_view(c, slot(c, bare));
	if (patch(v, s, changes) != 0) {
		sk_view_free(v);
		return NULL;
	}
	free(v->bare);
	free(v->ver);
	free(v->hidden);
	v->bare = v->ver = v->hidden = NULL;
	/* kept again under ver, within the cache's bound (it may be freed) */
	if (sk_views_put(c, bare, ver, hidden, v) != 0)
		return NULL;
	return *slot(c, bare);
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
