/* reply.c - sending stanzas from the component; answers, plain or wrapped */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "text.h"
#include "xml.h"

#define NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_FORWARD	"urn:xmpp:forward:0"

void
skd_send(struct skd *d, xmpp_stanza_t *st)
{
	/* ejabberd closes the stream on a stanza without from */
	if (xmpp_stanza_get_from(st) == NULL)
		xmpp_stanza_set_from(st, d->cfg->jid);
	d->send(d, st);
}

xmpp_stanza_t *
skd_iq_new(struct skd *d, const char *type, const char *to, const char *id)
{
	xmpp_stanza_t *iq = xmpp_iq_new(d->ctx, type, id);

	if (iq == NULL)
		return NULL;
	xmpp_stanza_set_from(iq, d->cfg->jid);
	if (to != NULL)
		xmpp_stanza_set_to(iq, to);
	return iq;
}

static void
attr(struct sk_text *t, const char *name, const char *val, size_t len)
{
	sk_text_str(t, " ");
	sk_text_str(t, name);
	sk_text_str(t, "=\"");
	sk_text_esc(t, val, len);
	sk_text_str(t, "\"");
}

/*
 * A delegated request (XEP-0355) is answered inside the server's
 * wrapping: an IQ result to the server (or its adapter) with the outer
 * id, <delegation><forwarded> and the inner answer, addressed back to the
 * user from the JID the user asked (her bare JID).  The same text for
 * every answer: sync results are written as text (answer.c) and spliced
 * in whole.
 */
void
skd_reply(struct skd *d, const struct skd_origin *o, const char *type,
    const char *body, size_t blen)
{
	struct sk_text t = { 0 };

	if (o->server != NULL) {
		sk_text_str(&t, "<iq type=\"result\"");
		attr(&t, "from", d->cfg->jid, strlen(d->cfg->jid));
		attr(&t, "to", o->server, strlen(o->server));
		attr(&t, "id", o->outer_id, strlen(o->outer_id));
		sk_text_str(&t, "><delegation xmlns=\"");
		sk_text_str(&t, o->ns);
		sk_text_str(&t, "\"><forwarded xmlns=\"" NS_FORWARD "\">");
		sk_text_str(&t, "<iq xmlns=\"" SK_NS_CLIENT "\" type=\"");
		sk_text_str(&t, type);
		sk_text_str(&t, "\"");
		if (o->reply_from != NULL)
			attr(&t, "from", o->reply_from, strlen(o->reply_from));
		else
			attr(&t, "from", o->to, sk_jid_barelen(o->to));
	} else {
		sk_text_str(&t, "<iq type=\"");
		sk_text_str(&t, type);
		sk_text_str(&t, "\"");
		attr(&t, "from", d->cfg->jid, strlen(d->cfg->jid));
	}
	attr(&t, "to", o->to, strlen(o->to));
	attr(&t, "id", o->id, strlen(o->id));
	sk_text_str(&t, ">");
	sk_text_add(&t, body, blen);
	sk_text_str(&t, o->server != NULL ? "</iq></forwarded></delegation></iq>" : "</iq>");
	if (!t.oom)
		d->send_text(d, t.s, t.n);
	sk_text_free(&t);
}

void
skd_reply_stanza(struct skd *d, const struct skd_origin *o, const char *type,
    xmpp_stanza_t *child)
{
	char *s = NULL;
	size_t n = 0;

	if (child != NULL && xmpp_stanza_to_text(child, &s, &n) != XMPP_EOK)
		return;
	skd_reply(d, o, type, s ? s : "", n);
	if (s != NULL)
		xmpp_free(d->ctx, s);
}

/* <error type=...><cond/><text>...</text></error> */
static void
error_text(struct sk_text *t, const char *type, const char *cond, const char *text)
{
	sk_text_str(t, "<error type=\"");
	sk_text_str(t, type);
	sk_text_str(t, "\"><");
	sk_text_str(t, cond);
	sk_text_str(t, " xmlns=\"" NS_STANZAS "\"/><text xmlns=\"" NS_STANZAS "\">");
	sk_text_esc(t, text, strlen(text));
	sk_text_str(t, "</text></error>");
}

void
skd_reply_error(struct skd *d, const struct skd_origin *o, const char *type,
    const char *cond, const char *text)
{
	struct sk_text t = { 0 };

	error_text(&t, type, cond, text);
	if (!t.oom)
		skd_reply(d, o, "error", t.s, t.n);
	sk_text_free(&t);
}

void
skd_send_error(struct skd *d, const char *to, const char *id, const char *type,
    const char *cond, const char *text)
{
	struct skd_origin o = { .to = to, .id = id };

	if (to != NULL && id != NULL)
		skd_reply_error(d, &o, type, cond, text);
}

static const char *
put(char **p, const char *s)
{
	const char *r = *p;
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	memcpy(*p, s, n);
	*p += n;
	return r;
}

size_t
skd_origin_size(const struct skd_origin *o)
{
	const char *const s[] = { o->to, o->id, o->server, o->outer_id, o->reply_from };
	size_t len = sizeof(struct skd_origin), i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		len += s[i] ? strlen(s[i]) + 1 : 0;
	return len;
}

struct skd_origin *
skd_origin_dup(const struct skd_origin *o)
{
	struct skd_origin *c;
	char *p;

	if ((c = malloc(skd_origin_size(o))) == NULL)
		return NULL;
	p = (char *)(c + 1);
	c->to = put(&p, o->to);
	c->id = put(&p, o->id);
	c->server = put(&p, o->server);
	c->outer_id = put(&p, o->outer_id);
	c->reply_from = put(&p, o->reply_from);
	c->ns = o->ns;		/* a static string */
	c->version = o->version;
	return c;
}

int
skd_user_domain(const struct skd *d, const char *jid)
{
	const char *at, *slash, *dom;
	size_t len, i;

	if (jid == NULL || (at = strchr(jid, '@')) == NULL || at == jid)
		return -1;
	slash = strchr(jid, '/');
	if (slash != NULL && slash < at)
		return -1;
	dom = at + 1;
	len = slash ? (size_t)(slash - dom) : strlen(dom);
	for (i = 0; i < d->cfg->ndomains; i++)
		if (strlen(d->cfg->domains[i]) == len &&
		    strncmp(d->cfg->domains[i], dom, len) == 0)
			return (int)i;
	return -1;
}
