/* deleg.c - XEP-0355 namespace delegation: requests a server forwards, answers wrapped back */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "text.h"
#include "xml.h"

#define NS_FORWARD	"urn:xmpp:forward:0"
#define DELEG_TTL_MS	(10 * 60 * 1000)

/*
 * A client may send its sync request to its own account (XEP-0355): the
 * server forwards it inside <delegation><forwarded><iq/>..., and the
 * component answers inside the same wrapping, to the server, with the
 * inner IQ addressed back to the client.  Prosody speaks
 * urn:xmpp:delegation:2, ejabberd :1; the answer uses the request's.
 *
 * The request code answers the inner IQ as if it had come directly (to
 * the user's full JID, with its id); skd_send and answer.c look up that
 * (to, id) here and wrap the answer.  Entries live until answered, or
 * DELEG_TTL_MS (a request that got no answer: the link dropped).
 */
static const char *const namespaces[] = {
	"urn:xmpp:delegation:2",
	"urn:xmpp:delegation:1",
};

struct skd_deleg {
	char		*user, *id;		/* the inner IQ's from and id */
	char		*server, *outer_id;	/* the outer IQ's from and id */
	char		*reply_from;		/* the inner IQ's to, or the user's bare JID */
	const char	*ns;
	uint64_t	 expires;
};

static void
entry_free(struct skd_deleg *e)
{
	free(e->user);
	free(e->id);
	free(e->server);
	free(e->outer_id);
	free(e->reply_from);
}

static void
entry_remove(struct skd *d, size_t i)
{
	entry_free(&d->delegs[i]);
	if (i != --d->ndelegs)
		d->delegs[i] = d->delegs[d->ndelegs];
}

void
skd_deleg_free_all(struct skd *d)
{
	while (d->ndelegs > 0)
		entry_remove(d, d->ndelegs - 1);
	free(d->delegs);
	d->delegs = NULL;
	d->capdelegs = 0;
}

void
skd_deleg_tick(struct skd *d)
{
	uint64_t now = d->now_ms();
	size_t i = 0;

	while (i < d->ndelegs)
		if (d->delegs[i].expires <= now)
			entry_remove(d, i);
		else
			i++;
}

const char *
skd_deleg_ns(xmpp_stanza_t *child)
{
	const char *ns = xmpp_stanza_get_ns(child), *name = xmpp_stanza_get_name(child);
	size_t k;

	if (ns == NULL || name == NULL || strcmp(name, "delegation") != 0)
		return NULL;
	for (k = 0; k < sizeof(namespaces) / sizeof(namespaces[0]); k++)
		if (strcmp(ns, namespaces[k]) == 0)
			return namespaces[k];
	return NULL;
}

xmpp_stanza_t *
skd_deleg_open(struct skd *d, xmpp_stanza_t *iq, xmpp_stanza_t *deleg)
{
	const char *server = xmpp_stanza_get_from(iq), *id = xmpp_stanza_get_id(iq);
	const char *ns = skd_deleg_ns(deleg), *user, *to, *iid;
	char adapter[SKD_JID_MAX];
	xmpp_stanza_t *fwd, *inner;
	struct skd_deleg *e;
	size_t i;
	int dom = -1;

	/* the server itself, or the adapter delegating in its place (an
	   ejabberd whose mod_delegation cannot be used, adapter.c) */
	for (i = 0; server != NULL && i < d->cfg->ndomains; i++)
		if (strcmp(d->cfg->domains[i], server) == 0 ||
		    (skd_adapter_jid(d, (int)i, adapter, sizeof(adapter)) == 0 &&
		    strcmp(adapter, server) == 0))
			dom = (int)i;
	if (dom < 0) {
		skd_send_error(d, server, id, "auth", "forbidden",
		    "only a served domain's server may delegate requests to this service");
		return NULL;
	}
	fwd = xmpp_stanza_get_child_by_name_and_ns(deleg, "forwarded", NS_FORWARD);
	inner = fwd ? xmpp_stanza_get_child_by_name(fwd, "iq") : NULL;
	user = inner ? xmpp_stanza_get_from(inner) : NULL;
	iid = inner ? xmpp_stanza_get_id(inner) : NULL;
	if (inner == NULL || iid == NULL || skd_user_domain(d, user) != dom) {
		skd_send_error(d, server, id, "modify", "bad-request",
		    "a delegated request needs <forwarded/> with an <iq/> from a user of that domain");
		return NULL;
	}
	if (d->ndelegs >= d->cfg->max_pending) {
		skd_send_error(d, server, id, "wait", "resource-constraint",
		    "too many delegated requests are waiting; try again in a few seconds");
		return NULL;
	}
	if (d->ndelegs == d->capdelegs) {
		size_t ncap = d->capdelegs ? d->capdelegs * 2 : 16;
		struct skd_deleg *nv = realloc(d->delegs, ncap * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		d->delegs = nv;
		d->capdelegs = ncap;
	}
	e = &d->delegs[d->ndelegs];
	memset(e, 0, sizeof(*e));
	to = xmpp_stanza_get_to(inner);
	e->user = strdup(user);
	e->id = strdup(iid);
	e->server = strdup(server);
	e->outer_id = strdup(id);
	e->reply_from = to ? strdup(to) : strndup(user, sk_jid_barelen(user));
	e->ns = ns;
	e->expires = d->now_ms() + DELEG_TTL_MS;
	if (!e->user || !e->id || !e->server || !e->outer_id || !e->reply_from) {
		entry_free(e);
		return NULL;
	}
	d->ndelegs++;
	return inner;
}

/* The open delegation answered by (to, id), or -1. */
static long
find(const struct skd *d, const char *to, const char *id)
{
	size_t i;

	for (i = 0; to != NULL && id != NULL && i < d->ndelegs; i++)
		if (strcmp(d->delegs[i].user, to) == 0 && strcmp(d->delegs[i].id, id) == 0)
			return (long)i;
	return -1;
}

/* The outer IQ around an answer to delegation i, written up to (open)
   or after (close) the inner answer. */
static void
outer_open(struct skd *d, const struct skd_deleg *e, struct sk_text *t)
{
	sk_text_str(t, "<iq type=\"result\" from=\"");
	sk_text_esc(t, d->cfg->jid, strlen(d->cfg->jid));
	sk_text_str(t, "\" to=\"");
	sk_text_esc(t, e->server, strlen(e->server));
	sk_text_str(t, "\" id=\"");
	sk_text_esc(t, e->outer_id, strlen(e->outer_id));
	sk_text_str(t, "\"><delegation xmlns=\"");
	sk_text_str(t, e->ns);
	sk_text_str(t, "\"><forwarded xmlns=\"" NS_FORWARD "\">");
}

int
skd_deleg_wrap_text(struct skd *d, const char *to, const char *id, const char *type,
    const char *body, size_t blen, struct sk_text *out)
{
	long i = find(d, to, id);
	struct skd_deleg *e;

	if (i < 0)
		return 0;
	e = &d->delegs[i];
	outer_open(d, e, out);
	sk_text_str(out, "<iq xmlns=\"" SK_NS_CLIENT "\" type=\"");
	sk_text_str(out, type);
	sk_text_str(out, "\" from=\"");
	sk_text_esc(out, e->reply_from, strlen(e->reply_from));
	sk_text_str(out, "\" to=\"");
	sk_text_esc(out, e->user, strlen(e->user));
	sk_text_str(out, "\" id=\"");
	sk_text_esc(out, e->id, strlen(e->id));
	sk_text_str(out, "\">");
	sk_text_add(out, body, blen);
	sk_text_str(out, "</iq></forwarded></delegation></iq>");
	entry_remove(d, (size_t)i);
	return 1;
}

int
skd_deleg_wrap(struct skd *d, xmpp_stanza_t *iq)
{
	const char *type = xmpp_stanza_get_type(iq), *name = xmpp_stanza_get_name(iq);
	struct sk_text body = { 0 }, out = { 0 };
	xmpp_stanza_t *c;
	char *s;
	size_t n;

	if (name == NULL || strcmp(name, "iq") != 0 || type == NULL ||
	    (strcmp(type, "result") != 0 && strcmp(type, "error") != 0) ||
	    find(d, xmpp_stanza_get_to(iq), xmpp_stanza_get_id(iq)) < 0)
		return 0;
	for (c = xmpp_stanza_get_children(iq); c; c = xmpp_stanza_get_next(c)) {
		if (xmpp_stanza_to_text(c, &s, &n) != XMPP_EOK)
			continue;
		sk_text_add(&body, s, n);
		xmpp_free(d->ctx, s);
	}
	if (skd_deleg_wrap_text(d, xmpp_stanza_get_to(iq), xmpp_stanza_get_id(iq), type,
	    body.s ? body.s : "", body.n, &out) && !out.oom && !body.oom)
		d->send_text(d, out.s, out.n);
	sk_text_free(&body);
	sk_text_free(&out);
	return 1;
}
