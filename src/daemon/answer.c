/* answer.c - sync results as stanzas, paged to the stanza budget */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "daemon.h"
#include "log.h"
#include "record.h"
#include "text.h"
#include "xml.h"

/*
 * Paging (xep/ "Paging").  An answer larger than the stanza budget is
 * cut into parts: the IQ result carries the first part and more='TOKEN';
 * the client fetches each next part with <sync client='ID' more='TOKEN'/>
 * and gets <sync type='more' [more='NEXT']/>.  Parts wait here 60 s,
 * bound to (bare JID, client ID).  Held parts are bounded by count
 * (PARTS_MAX, the oldest dropped first) and by bytes: max-page-bytes for
 * all users, max-user-page-bytes for one, so that a user who asks again
 * and again without fetching loses only his own oldest parts, never
 * another user's, and an answer that does not fit is refused with
 * resource-constraint naming the limit.  Answers are written as text:
 * the stored presence stanzas are spliced in without being parsed again.
 */
#define PART_TTL_MS	60000
#define PARTS_MAX	4096
#define TOKEN_LEN	22

struct skd_part {
	char		  token[TOKEN_LEN + 1];
	char		 *bare, *client;
	uint64_t	  expires;
	char		 *xml;		/* the part's children, serialised */
	size_t		  len;
	char		  next[TOKEN_LEN + 1];	/* "" for the last part */
};

/* One child of an answer, serialised, and whether it is a roster item. */
struct child {
	size_t	off, len;	/* in the answer's text buffer */
	int	is_item;
};

void
skd_answer_page_free(void *data)
{
	struct skd_part *p = data;

	if (p == NULL)
		return;
	free(p->xml);
	free(p->bare);
	free(p->client);
	free(p);
}

void
skd_answer_tick(struct skd *d)
{
	skd_table_expire(&d->pages, d->now_ms(), NULL, NULL);
}

/* What a part of len bytes of children holds, about. */
static size_t
part_bytes(const char *bare, const char *client, size_t len)
{
	return sizeof(struct skd_part) + strlen(bare) + strlen(client) + 2 + len;
}

/*
 * Room for need more bytes of parts for bare: his own oldest parts are
 * dropped while he holds more than his share; NULL when it fits, else
 * the sentence of the refusal (static).
 */
static const char *
make_room(struct skd *d, const char *bare, size_t need)
{
	size_t held, nheld, i = 0;

	skd_table_owned(&d->pages, bare, &nheld, &held);
	if (need > d->cfg->max_user_page_bytes)
		return "the answer is larger than the sync service holds for one user "
		    "(max-user-page-bytes); try again with your key";
	while (held + need > d->cfg->max_user_page_bytes && i < d->pages.n) {
		struct skd_part *p = d->pages.v[i].data;

		if (strcmp(p->bare, bare) != 0) {
			i++;
			continue;
		}
		held -= d->pages.v[i].bytes;
		skd_answer_page_free(skd_table_take(&d->pages, p->token));
	}
	if (d->pages.bytes + need > d->cfg->max_page_bytes)
		return "the sync service holds too many answer pages (max-page-bytes); "
		    "try again in a minute";
	return NULL;
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

/* ---- the children, written as text ------------------------------------ */

static void
attr(struct sk_text *t, const char *name, const char *val, size_t len)
{
	sk_text_str(t, " ");
	sk_text_str(t, name);
	sk_text_str(t, "=\"");
	sk_text_esc(t, val, len);
	sk_text_str(t, "\"");
}

static void
item_text(struct sk_text *t, const struct sk_item *it)
{
	size_t i;

	sk_text_str(t, "<item");
	attr(t, "jid", it->jid, strlen(it->jid));
	if (it->name && it->sub != SK_SUB_REMOVE)
		attr(t, "name", it->name, strlen(it->name));
	sk_text_str(t, " subscription=\"");
	sk_text_str(t, sk_sub_name(it->sub));
	sk_text_str(t, it->ask && it->sub != SK_SUB_REMOVE ? "\" ask=\"subscribe\"" : "\"");
	if (it->ngroups == 0 || it->sub == SK_SUB_REMOVE) {
		sk_text_str(t, "/>");
		return;
	}
	sk_text_str(t, ">");
	for (i = 0; i < it->ngroups; i++) {
		sk_text_str(t, "<group>");
		sk_text_esc(t, it->groups[i], strlen(it->groups[i]));
		sk_text_str(t, "</group>");
	}
	sk_text_str(t, "</item>");
}

/*
 * A presence as the server delivered it: the text xml.c's writer stored
 * (which always opens with SK_XML_PRES_OPEN), or one built from the
 * fields when none was kept.
 */
static void
pres_text(struct sk_text *t, const struct sk_pres *p)
{
	char num[48];

	if (p->xml != NULL && strncmp(p->xml, SK_XML_PRES_OPEN, strlen(SK_XML_PRES_OPEN)) == 0) {
		sk_text_str(t, p->xml);
		return;
	}
	sk_text_str(t, SK_XML_PRES_OPEN);
	attr(t, "from", p->jid, strlen(p->jid));
	sk_text_str(t, ">");
	if (p->show) {
		sk_text_str(t, "<show>");
		sk_text_esc(t, p->show, strlen(p->show));
		sk_text_str(t, "</show>");
	}
	if (p->status) {
		sk_text_str(t, "<status>");
		sk_text_esc(t, p->status, strlen(p->status));
		sk_text_str(t, "</status>");
	}
	if (p->priority != 0) {
		snprintf(num, sizeof(num), "<priority>%d</priority>", p->priority);
		sk_text_str(t, num);
	}
	sk_text_str(t, "</presence>");
}

static void
unavailable_text(struct sk_text *t, const char *bare, size_t blen, const char *res, size_t rlen)
{
	sk_text_str(t, SK_XML_PRES_OPEN " from=\"");
	sk_text_esc(t, bare, blen);
	if (rlen > 0) {
		sk_text_str(t, "/");
		sk_text_esc(t, res, rlen);
	}
	sk_text_str(t, "\" type=\"unavailable\"/>");
}

static int
push(struct child **v, size_t *n, size_t *cap, size_t off, size_t end, int is_item)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct child *nv = realloc(*v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[*n].off = off;
	(*v)[*n].len = end - off;
	(*v)[(*n)++].is_item = is_item;
	return 0;
}

/* The children of a result into t: items first, then presences. */
static int
children(const struct sk_sync_result *res, const struct sk_state *live,
    struct sk_text *t, struct child **v, size_t *n)
{
	size_t cap = 0, i, off;
	int pass;

	*v = NULL;
	*n = 0;
	for (pass = 0; pass < 2; pass++) {
		size_t count = res->full ? (pass ? live->npres : live->nitems) : res->changes.n;

		for (i = 0; i < count; i++) {
			const struct sk_change *c = res->full ? NULL : &res->changes.v[i];

			off = t->n;
			if (res->full && pass == 0) {
				item_text(t, &live->items[i]);
			} else if (res->full) {
				pres_text(t, &live->pres[i]);
			} else if (pass == 0 && c->kind == SK_CH_ITEM) {
				item_text(t, &live->items[c->ref]);
			} else if (pass == 0 && c->kind == SK_CH_ITEM_REMOVE) {
				sk_text_str(t, "<item jid=\"");
				sk_text_esc(t, c->bare, c->barelen);
				sk_text_str(t, "\" subscription=\"remove\"/>");
			} else if (pass == 1 && c->kind == SK_CH_PRES) {
				pres_text(t, &live->pres[c->ref]);
			} else if (pass == 1 && (c->kind == SK_CH_PRES_GONE ||
			    c->kind == SK_CH_PRES_GONE_ALL)) {
				unavailable_text(t, c->bare, c->barelen, c->res, c->reslen);
			} else {
				continue;
			}
			if (t->oom || push(v, n, &cap, off, t->n, pass == 0) != 0)
				return -1;
		}
	}
	return 0;
}

/* Writes children [lo, hi) of v (text in src) into out: items in one
   roster <query/>, then presences. */
static void
fill(struct sk_text *out, const char *src, const struct child *v, size_t lo, size_t hi)
{
	size_t i;
	int q = 0;

	for (i = lo; i < hi; i++) {
		if (v[i].is_item && !q) {
			sk_text_str(out, "<query xmlns=\"" SK_NS_ROSTER "\">");
			q = 1;
		} else if (!v[i].is_item && q) {
			sk_text_str(out, "</query>");
			q = 0;
		}
		sk_text_add(out, src + v[i].off, v[i].len);
	}
	if (q)
		sk_text_str(out, "</query>");
}

/* The result: <sync .../> or <sync ...>body</sync>, answered through o. */
static void
send_result(struct skd *d, const struct skd_origin *o, const char *attrs,
    const char *body, size_t blen)
{
	struct sk_text s = { 0 };

	sk_text_str(&s, "<sync xmlns=\"");
	sk_text_str(&s, sk_xml_sync_ns(o->version));
	sk_text_str(&s, "\"");
	sk_text_str(&s, attrs);
	if (blen == 0) {
		sk_text_str(&s, "/>");
	} else {
		sk_text_str(&s, ">");
		sk_text_add(&s, body, blen);
		sk_text_str(&s, "</sync>");
	}
	if (s.oom)
		skd_reply_error(d, o, "wait", "resource-constraint", "out of memory");
	else
		skd_reply(d, o, "result", s.s, s.n);
	sk_text_free(&s);
}

void
skd_answer_checkpoint(struct skd *d, const struct skd_origin *o, const char *key)
{
	struct sk_text s = { 0 };

	sk_text_str(&s, "<checkpoint xmlns=\"");
	sk_text_str(&s, sk_xml_sync_ns(o->version));
	sk_text_str(&s, "\"");
	attr(&s, "key", key, strlen(key));
	sk_text_str(&s, "/>");
	if (s.oom)
		skd_reply_error(d, o, "wait", "resource-constraint", "out of memory");
	else
		skd_reply(d, o, "result", s.s, s.n);
	sk_text_free(&s);
}

/*
 * Keeps children [lo, hi) as a part to fetch later, naming next ("" for
 * the last part), and copies its token to token (never a pointer into
 * the pages table, which moves).  ENOMEM.
 */
static int
hold(struct skd *d, const char *bare, const char *client, const char *src,
    const struct child *v, size_t lo, size_t hi, char token[TOKEN_LEN + 1])
{
	struct sk_text body = { 0 };
	struct skd_part *p;

	if (d->pages.n == PARTS_MAX) {
		log_limited(LOG_LVL_WARN, "parts held", "%d answer parts held: the oldest is dropped", PARTS_MAX);
		skd_answer_page_free(skd_table_take_oldest(&d->pages));
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ENOMEM;
	fill(&body, src, v, lo, hi);
	new_token(p->token);
	memcpy(p->next, token, sizeof(p->next));
	p->bare = strdup(bare);
	p->client = strdup(client);
	p->xml = body.s;
	p->len = body.n;
	if (body.oom || !p->bare || !p->client ||
	    skd_table_add(&d->pages, p->token, d->now_ms() + PART_TTL_MS, p, p->bare,
	    part_bytes(bare, client, p->len)) != 0) {
		skd_answer_page_free(p);
		return ENOMEM;
	}
	memcpy(token, p->token, TOKEN_LEN + 1);
	return 0;
}

void
skd_answer_sync(struct skd *d, const struct skd_origin *o, const char *bare,
    const char *client, const struct sk_sync_result *res, const struct sk_state *live)
{
	/* the children's share: a tenth and 512 bytes for the <sync/>
	   attributes and a delegation's wrapping, and the addresses */
	size_t env = d->cfg->stanza_budget / 10 + 512 + 2 * (strlen(o->to) + strlen(o->id));
	size_t budget = d->cfg->stanza_budget > env + 512 ? d->cfg->stanza_budget - env : 512;
	size_t n = 0, i, first_end, nbreaks = 0, *breaks = NULL, acc;
	struct sk_text text = { 0 }, first = { 0 }, attrs = { 0 };
	struct child *v = NULL;
	char token[TOKEN_LEN + 1] = "";
	const char *full;

	if (children(res, live, &text, &v, &n) != 0 ||
	    (breaks = calloc(n + 1, sizeof(*breaks))) == NULL) {
		skd_reply_error(d, o, "wait", "resource-constraint", "out of memory");
		goto out;
	}
	/* Part boundaries: a part ends before the child that would push it
	   past the budget; a child larger than the budget goes alone. */
	for (i = 0, acc = 0; i < n; i++) {
		if (acc > 0 && acc + v[i].len > budget) {
			breaks[nbreaks++] = i;
			acc = 0;
		}
		acc += v[i].len;
	}
	breaks[nbreaks] = n;
	first_end = nbreaks ? breaks[0] : n;
	if (nbreaks > 0 && (full = make_room(d, bare, text.n - (v[first_end].off - v[0].off) +
	    nbreaks * part_bytes(bare, client, 0))) != NULL) {
		log_limited(LOG_LVL_WARN, "answer refused", "answer to %s refused: %s", bare, full);
		skd_reply_error(d, o, "wait", "resource-constraint", full);
		goto out;
	}
	/* Later parts are held from the last back, each naming the next. */
	for (i = nbreaks; i-- > 0;) {
		if (hold(d, bare, client, text.s, v, breaks[i], breaks[i + 1], token) != 0) {
			skd_reply_error(d, o, "wait", "resource-constraint", "out of memory");
			goto out;
		}
	}
	sk_text_str(&attrs, res->full ? " type=\"full\"" : " type=\"delta\"");
	if (res->full) {
		sk_text_str(&attrs, " reason=\"");
		sk_text_str(&attrs, sk_reason_name(res->reason));
		sk_text_str(&attrs, "\"");
	}
	/* never an empty store passed off as nobody online (xep/ "Sync result") */
	if (skd_presence_partial(d))
		sk_text_str(&attrs, " presence=\"partial\"");
	attr(&attrs, "key", res->key, strlen(res->key));
	attr(&attrs, "digest", res->digest, strlen(res->digest));
	if (token[0] != '\0')
		attr(&attrs, "more", token, strlen(token));
	fill(&first, text.s, v, 0, first_end);
	if (attrs.oom || first.oom)
		skd_reply_error(d, o, "wait", "resource-constraint", "out of memory");
	else
		send_result(d, o, attrs.s, first.s, first.n);
	if (nbreaks)
		log_debug("answer to %s/%s in %zu parts", bare, client, nbreaks + 1);
out:
	sk_text_free(&text);
	sk_text_free(&first);
	sk_text_free(&attrs);
	free(v);
	free(breaks);
}

void
skd_answer_more(struct skd *d, const struct skd_origin *o, const char *bare,
    const char *client, const char *token)
{
	struct sk_text attrs = { 0 };
	struct skd_part *p;

	skd_answer_tick(d);
	p = skd_table_get(&d->pages, token);
	if (p == NULL || strcmp(p->bare, bare) != 0 || strcmp(p->client, client) != 0) {
		skd_reply_error(d, o, "cancel", "item-not-found",
		    "unknown or expired page token: sync again with your previous key");
		return;
	}
	sk_text_str(&attrs, " type=\"more\"");
	if (p->next[0] != '\0')
		attr(&attrs, "more", p->next, strlen(p->next));
	if (attrs.oom)
		skd_reply_error(d, o, "wait", "resource-constraint", "out of memory");
	else
		send_result(d, o, attrs.s, p->xml, p->len);
	sk_text_free(&attrs);
	skd_answer_page_free(skd_table_take(&d->pages, token));
}
