/* reply.c - sending stanzas from the component, and IQ errors */
#include <stdio.h>
#include <string.h>

#include "daemon.h"

#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

void
skd_send(struct skd *d, xmpp_stanza_t *st)
{
	/* ejabberd closes the stream on a stanza without from */
	if (xmpp_stanza_get_from(st) == NULL)
		xmpp_stanza_set_from(st, d->cfg->jid);
	if (skd_deleg_wrap(d, st))
		return;		/* an answer to a delegated request, wrapped */
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

void
skd_send_error(struct skd *d, const char *to, const char *id, const char *type,
    const char *cond, const char *text)
{
	xmpp_stanza_t *iq = skd_iq_new(d, "error", to, id);
	xmpp_stanza_t *err = xmpp_stanza_new(d->ctx);
	xmpp_stanza_t *c = xmpp_stanza_new(d->ctx);
	xmpp_stanza_t *t = xmpp_stanza_new(d->ctx);
	xmpp_stanza_t *body = xmpp_stanza_new(d->ctx);

	if (iq && err && c && t && body) {
		xmpp_stanza_set_name(err, "error");
		xmpp_stanza_set_type(err, type);
		xmpp_stanza_set_name(c, cond);
		xmpp_stanza_set_ns(c, NS_STANZAS);
		xmpp_stanza_set_name(t, "text");
		xmpp_stanza_set_ns(t, NS_STANZAS);
		xmpp_stanza_set_text(body, text);
		xmpp_stanza_add_child(t, body);
		xmpp_stanza_add_child(err, c);
		xmpp_stanza_add_child(err, t);
		xmpp_stanza_add_child(iq, err);
		skd_send(d, iq);
	}
	if (body) xmpp_stanza_release(body);
	if (t) xmpp_stanza_release(t);
	if (c) xmpp_stanza_release(c);
	if (err) xmpp_stanza_release(err);
	if (iq) xmpp_stanza_release(iq);
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
