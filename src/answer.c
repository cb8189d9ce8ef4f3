/* answer.c - sync results as stanzas, paged to the stanza budget */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "daemon.h"
#include "log.h"
#include "xml.h"

/*
 * Paging (xep/ section 5.4).  An answer larger than the stanza budget is
 * cut into parts: the IQ result carries the first part and more='TOKEN';
 * the client fetches each next part with <sync client='ID' more='TOKEN'/>
 * and gets <sync type='more' [more='NEXT']/>.  Parts wait here 60 s,
 * bound to (bare JID, client ID); at most PARTS_MAX are held, the oldest
 * dropped first.  Sizes are estimated, not serialised, with a margin.
 */
#define PART_TTL_MS	60000
#define PARTS_MAX	4096
#define TOKEN_LEN	22

struct skd_part {
	char		  token[TOKEN_LEN + 1];
	char		  next[TOKEN_LEN + 1];	/* "" for the last part */
	char		 *bare, *client;
	uint64_t	  expires;
	xmpp_stanza_t	**kids;
	size_t		  nkids;
	int		 *is_item;
};

struct child {
	xmpp_stanza_t	*st;
	size_t		 size;
	int		 is_item;
};

static void
part_free(struct skd_part *p)
{
	size_t i;

	for (i = 0; i < p->nkids; i++)
		xmpp_stanza_release(p->kids[i]);
	free(p->kids);
	free(p->is_item);
	free(p->bare);
	free(p->client);
}

static void
part_remove(struct skd *d, size_t i)
{
	part_free(&d->parts[i]);
	memmove(&d->parts[i], &d->parts[i + 1], (d->nparts - i - 1) * sizeof(*d->parts));
	d->nparts--;
}

void
skd_answer_free_all(struct skd *d)
{
	while (d->nparts > 0)
		part_remove(d, d->nparts - 1);
	free(d->parts);
	d->parts = NULL;
	d->capparts = 0;
}

void
skd_answer_tick(struct skd *d)
{
	uint64_t now = d->now_ms();
	size_t i = 0;

	while (i < d->nparts)
		if (d->parts[i].expires <= now)
			part_remove(d, i);
		else
			i++;
}

static void
new_token(char out[TOKEN_LEN + 1])
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char r[TOKEN_LEN];
	size_t i;

	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0, sizeof(r));	/* never: then tokens only repeat */
	for (i = 0; i < TOKEN_LEN; i++)
		out[i] = a[r[i] & 63];
	out[TOKEN_LEN] = '\0';
}

static size_t
slen(const char *s)
{
	return s ? strlen(s) : 0;
}

/* Upper estimates of the serialised size (escaping may double text). */
static size_t
item_size(const struct sk_item *it)
{
	size_t n = 60 + 2 * (slen(it->jid) + slen(it->name)), i;

	for (i = 0; i < it->ngroups; i++)
		n += 16 + 2 * slen(it->groups[i]);
	return n;
}

static size_t
pres_size(const struct sk_pres *p)
{
	return p->xml ? 40 + slen(p->xml) :
	    120 + 2 * (slen(p->jid) + slen(p->show) + slen(p->status));
}

static int
push(struct child **v, size_t *n, size_t *cap, xmpp_stanza_t *st, size_t size, int is_item)
{
	if (st == NULL)
		return -1;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct child *nv = realloc(*v, ncap * sizeof(*nv));

		if (nv == NULL) {
			xmpp_stanza_release(st);
			return -1;
		}
		*v = nv;
		*cap = ncap;
	}
	(*v)[*n].st = st;
	(*v)[*n].size = size;
	(*v)[(*n)++].is_item = is_item;
	return 0;
}

/* The children of a result: items first, then presences. */
static int
children(struct skd *d, const struct sk_sync_result *res, const struct sk_state *live,
    struct child **v, size_t *n)
{
	size_t cap = 0, i;
	int pass;

	*v = NULL;
	*n = 0;
	if (res->full) {
		for (i = 0; i < live->nitems; i++)
			if (push(v, n, &cap, sk_xml_item_new(d->ctx, &live->items[i]),
			    item_size(&live->items[i]), 1) != 0)
				return -1;
		for (i = 0; i < live->npres; i++)
			if (push(v, n, &cap, sk_xml_pres_new(d->ctx, &live->pres[i]),
			    pres_size(&live->pres[i]), 0) != 0)
				return -1;
		return 0;
	}
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < res->changes.n; i++) {
			const struct sk_change *c = &res->changes.v[i];
			char jid[3200];
			int rc = 0;

			if (pass == 0 && c->kind == SK_CH_ITEM) {
				rc = push(v, n, &cap, sk_xml_item_new(d->ctx, &live->items[c->ref]),
				    item_size(&live->items[c->ref]), 1);
			} else if (pass == 0 && c->kind == SK_CH_ITEM_REMOVE) {
				struct sk_item gone = { .jid = jid, .sub = SK_SUB_REMOVE };

				snprintf(jid, sizeof(jid), "%.*s", (int)c->barelen, c->bare);
				rc = push(v, n, &cap, sk_xml_item_new(d->ctx, &gone), 80 + 2 * c->barelen, 1);
			} else if (pass == 1 && c->kind == SK_CH_PRES) {
				rc = push(v, n, &cap, sk_xml_pres_new(d->ctx, &live->pres[c->ref]),
				    pres_size(&live->pres[c->ref]), 0);
			} else if (pass == 1 && (c->kind == SK_CH_PRES_GONE ||
			    c->kind == SK_CH_PRES_GONE_ALL)) {
				int len = c->reslen ?
				    snprintf(jid, sizeof(jid), "%.*s/%.*s", (int)c->barelen,
				    c->bare, (int)c->reslen, c->res) :
				    snprintf(jid, sizeof(jid), "%.*s", (int)c->barelen, c->bare);

				rc = push(v, n, &cap, sk_xml_unavailable_new(d->ctx, jid, (size_t)len),
				    100 + 2 * (size_t)len, 0);
			}
			if (rc != 0)
				return -1;
		}
	}
	return 0;
}

/* Adds kids [lo, hi) to el: items inside one roster <query/>. */
static void
fill(struct skd *d, xmpp_stanza_t *el, xmpp_stanza_t **kids, const int *is_item,
    size_t lo, size_t hi)
{
	xmpp_stanza_t *q = NULL;
	size_t i;

	for (i = lo; i < hi; i++) {
		if (is_item[i]) {
			if (q == NULL) {
				q = xmpp_stanza_new(d->ctx);
				xmpp_stanza_set_name(q, "query");
				xmpp_stanza_set_ns(q, SK_NS_ROSTER);
				xmpp_stanza_add_child(el, q);
			}
			xmpp_stanza_add_child(q, kids[i]);
		} else {
			xmpp_stanza_add_child(el, kids[i]);
		}
	}
	if (q)
		xmpp_stanza_release(q);
}

static xmpp_stanza_t *
sync_el(struct skd *d, const char *type)
{
	xmpp_stanza_t *s = xmpp_stanza_new(d->ctx);

	xmpp_stanza_set_name(s, "sync");
	xmpp_stanza_set_ns(s, SK_NS_SYNC);
	xmpp_stanza_set_type(s, type);
	return s;
}

static void
send_result(struct skd *d, const char *to, const char *id, xmpp_stanza_t *s)
{
	xmpp_stanza_t *iq = skd_iq_new(d, "result", to, id);

	if (iq != NULL) {
		xmpp_stanza_add_child(iq, s);
		skd_send(d, iq);
		xmpp_stanza_release(iq);
	}
}

/* Keeps kids [lo, hi) as a part to fetch later; returns its token. */
static const char *
hold(struct skd *d, const char *bare, const char *client, struct child *v,
    size_t lo, size_t hi, const char *next)
{
	struct skd_part *p;
	size_t i;

	if (d->nparts == PARTS_MAX) {
		log_warnx("%d answer parts held: the oldest is dropped", PARTS_MAX);
		part_remove(d, 0);
	}
	if (d->nparts == d->capparts) {
		size_t ncap = d->capparts ? d->capparts * 2 : 16;
		struct skd_part *nv = realloc(d->parts, ncap * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		d->parts = nv;
		d->capparts = ncap;
	}
	p = &d->parts[d->nparts];
	memset(p, 0, sizeof(*p));
	new_token(p->token);
	snprintf(p->next, sizeof(p->next), "%s", next ? next : "");
	p->bare = strdup(bare);
	p->client = strdup(client);
	p->kids = calloc(hi - lo, sizeof(*p->kids));
	p->is_item = calloc(hi - lo, sizeof(*p->is_item));
	if (!p->bare || !p->client || !p->kids || !p->is_item) {
		part_free(p);
		return NULL;
	}
	for (i = lo; i < hi; i++) {
		p->kids[i - lo] = xmpp_stanza_clone(v[i].st);
		p->is_item[i - lo] = v[i].is_item;
	}
	p->nkids = hi - lo;
	p->expires = d->now_ms() + PART_TTL_MS;
	d->nparts++;
	return p->token;
}

void
skd_answer_sync(struct skd *d, const char *to, const char *id, const char *bare,
    const char *client, const struct sk_sync_result *res, const struct sk_state *live)
{
	size_t budget = d->cfg->stanza_budget - d->cfg->stanza_budget / 10 - 512;
	size_t n = 0, i, first_end, nbreaks = 0, *breaks = NULL, acc;
	struct child *v = NULL;
	xmpp_stanza_t *s, **kids = NULL;
	int *is_item = NULL;
	const char *token = NULL;

	if (children(d, res, live, &v, &n) != 0 ||
	    (breaks = calloc(n + 1, sizeof(*breaks))) == NULL) {
		skd_send_error(d, to, id, "wait", "resource-constraint", "out of memory");
		goto out;
	}
	/* Part boundaries: a part ends before the child that would push it
	   past the budget; a child larger than the budget goes alone. */
	for (i = 0, acc = 0; i < n; i++) {
		if (acc > 0 && acc + v[i].size > budget) {
			breaks[nbreaks++] = i;
			acc = 0;
		}
		acc += v[i].size;
	}
	breaks[nbreaks] = n;
	first_end = nbreaks ? breaks[0] : n;
	/* Later parts are held from the last back, each naming the next. */
	for (i = nbreaks; i-- > 0;) {
		size_t lo = breaks[i], hi = breaks[i + 1];

		if ((token = hold(d, bare, client, v, lo, hi, token)) == NULL) {
			skd_send_error(d, to, id, "wait", "resource-constraint", "out of memory");
			goto out;
		}
	}
	s = sync_el(d, res->full ? "full" : "delta");
	if (res->full)
		xmpp_stanza_set_attribute(s, "reason", sk_reason_name(res->reason));
	xmpp_stanza_set_attribute(s, "key", res->key);
	xmpp_stanza_set_attribute(s, "digest", res->digest);
	if (token)
		xmpp_stanza_set_attribute(s, "more", token);
	kids = malloc((n + 1) * sizeof(*kids));
	is_item = malloc((n + 1) * sizeof(*is_item));
	if (kids && is_item) {
		for (i = 0; i < first_end; i++) {
			kids[i] = v[i].st;
			is_item[i] = v[i].is_item;
		}
		fill(d, s, kids, is_item, 0, first_end);
		send_result(d, to, id, s);
	} else {
		skd_send_error(d, to, id, "wait", "resource-constraint", "out of memory");
	}
	xmpp_stanza_release(s);
	if (nbreaks)
		log_debug("answer to %s/%s in %zu parts", bare, client, nbreaks + 1);
out:
	for (i = 0; i < n; i++)
		xmpp_stanza_release(v[i].st);
	free(v);
	free(breaks);
	free(kids);
	free(is_item);
}

void
skd_answer_more(struct skd *d, const char *to, const char *id, const char *bare,
    const char *client, const char *token)
{
	struct skd_part *p = NULL;
	xmpp_stanza_t *s;
	size_t i;

	skd_answer_tick(d);
	for (i = 0; i < d->nparts; i++)
		if (strcmp(d->parts[i].token, token) == 0) {
			p = &d->parts[i];
			break;
		}
	if (p == NULL || strcmp(p->bare, bare) != 0 || strcmp(p->client, client) != 0) {
		skd_send_error(d, to, id, "cancel", "item-not-found",
		    "unknown or expired page token: sync again with your previous key");
		return;
	}
	s = sync_el(d, "more");
	if (p->next[0] != '\0')
		xmpp_stanza_set_attribute(s, "more", p->next);
	fill(d, s, p->kids, p->is_item, 0, p->nkids);
	send_result(d, to, id, s);
	xmpp_stanza_release(s);
	part_remove(d, i);
}
