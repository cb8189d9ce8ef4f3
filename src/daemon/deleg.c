/* deleg.c - XEP-0355 namespace delegation: a request the server forwards, unwrapped */
#include <string.h>

#include "daemon.h"
#include "xml.h"

#define NS_FORWARD	"urn:xmpp:forward:0"

/*
 * A client may send its sync request to its own account (XEP-0355): the
 * server forwards it inside <delegation><forwarded><iq/>..., and the
 * component answers inside the same wrapping, to the server, with the
 * inner IQ addressed back to the client.  Prosody speaks
 * urn:xmpp:delegation:2, ejabberd :1, the ejabberd adapter :2 (it
 * delegates in ejabberd's place, adapter.c); the answer uses the
 * request's.  This file only unwraps: the envelope goes into the
 * request's origin, and reply.c wraps the answer from it.
 */
static const char *const namespaces[] = {
	"urn:xmpp:delegation:2",
	"urn:xmpp:delegation:1",
};

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
skd_deleg_open(struct skd *d, xmpp_stanza_t *iq, xmpp_stanza_t *deleg, struct skd_origin *o)
{
	const char *server = xmpp_stanza_get_from(iq), *id = xmpp_stanza_get_id(iq);
	char adapter[SKD_JID_MAX];
	xmpp_stanza_t *fwd, *inner;
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
	memset(o, 0, sizeof(*o));
	o->to = inner ? xmpp_stanza_get_from(inner) : NULL;
	o->id = inner ? xmpp_stanza_get_id(inner) : NULL;
	if (inner == NULL || o->id == NULL || skd_user_domain(d, o->to) != dom) {
		skd_send_error(d, server, id, "modify", "bad-request",
		    "a delegated request needs <forwarded/> with an <iq/> from a user of that domain");
		return NULL;
	}
	o->server = server;
	o->outer_id = id;
	o->reply_from = xmpp_stanza_get_to(inner);
	o->ns = skd_deleg_ns(deleg);
	return inner;
}
