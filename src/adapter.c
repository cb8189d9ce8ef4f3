/* adapter.c - the server adapter: found by disco#info on each served domain */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "xml.h"

#define NS_DISCO_INFO	"http://jabber.org/protocol/disco#info"
#define PROBE_ID	"adapter-"

/*
 * A server with the synckey adapter (adapters/prosody, xep/ "The server
 * adapter") lists SK_NS_ADAPTER in its disco#info.  Then synckeyd asks it
 * for a user's view (roster by version, hidden contacts) instead of the
 * privileged roster get.  Without it synckeyd runs in privilege-only
 * mode and says so, with what that mode cannot know.
 */
void
skd_adapter_probe(struct skd *d, int i)
{
	char id[32];
	xmpp_stanza_t *iq, *q;

	snprintf(id, sizeof(id), PROBE_ID "%d", i);
	if ((iq = skd_iq_new(d, "get", d->cfg->domains[i], id)) == NULL ||
	    (q = xmpp_stanza_new(d->ctx)) == NULL) {
		if (iq)
			xmpp_stanza_release(iq);
		return;
	}
	xmpp_stanza_set_name(q, "query");
	xmpp_stanza_set_ns(q, NS_DISCO_INFO);
	xmpp_stanza_add_child(iq, q);
	xmpp_stanza_release(q);
	d->probing[i] = 1;
	skd_send(d, iq);
	xmpp_stanza_release(iq);
}

/*
 * The presence store is emptied when the link comes up (handler.c); what
 * was online before comes back only if the server replays it (xep/ 10
 * "Presence replay").  Prosody's mod_privilege does, right after its
 * privilege advertisement and so before the answer to the disco#info
 * that the advertisement makes us send; ejabberd 23.01 never does, and
 * an adapter does (the ejabberd one itself).  A presence in that window
 * is the replay; an adapter found vouches for it.  With nobody online
 * there is nothing to replay, and that cannot be told from no replay:
 * such a domain stays partial until the next connect, which errs on the
 * side of saying less.
 */
void
skd_adapter_presence(struct skd *d)
{
	size_t i;

	for (i = 0; i < d->cfg->ndomains; i++)
		if (d->probing[i])
			d->replayed[i] = 1;
}

int
skd_presence_partial(const struct skd *d)
{
	size_t i;

	for (i = 0; i < d->cfg->ndomains; i++)
		if (!d->replayed[i])
			return 1;
	return 0;
}

static int
has_adapter(xmpp_stanza_t *iq)
{
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name_and_ns(iq, "query", NS_DISCO_INFO), *f;

	for (f = q ? xmpp_stanza_get_children(q) : NULL; f; f = xmpp_stanza_get_next(f)) {
		const char *name = xmpp_stanza_get_name(f), *var = xmpp_stanza_get_attribute(f, "var");

		if (name && strcmp(name, "feature") == 0 && var && strcmp(var, SK_NS_ADAPTER) == 0)
			return 1;
	}
	return 0;
}

int
skd_adapter_result(struct skd *d, xmpp_stanza_t *iq)
{
	const char *id = xmpp_stanza_get_id(iq), *from = xmpp_stanza_get_from(iq);
	const char *type = xmpp_stanza_get_type(iq);
	char *end;
	long i;

	if (id == NULL || strncmp(id, PROBE_ID, strlen(PROBE_ID)) != 0)
		return 0;
	i = strtol(id + strlen(PROBE_ID), &end, 10);
	if (*end != '\0' || i < 0 || (size_t)i >= d->cfg->ndomains ||
	    from == NULL || strcmp(from, d->cfg->domains[i]) != 0)
		return 0;
	d->adapter[i] = type != NULL && strcmp(type, "result") == 0 && has_adapter(iq);
	d->probing[i] = 0;
	if (d->adapter[i])
		d->replayed[i] = 1;
	if (!d->replayed[i])
		log_info("%s: no presence replayed at connect: answers carry presence='partial' "
		    "until the next connect", from);
	if (d->adapter[i])
		log_info("%s: server adapter present (%s): rosters by version, blocking "
		    "applied, going online without the presence flood", from, SK_NS_ADAPTER);
	else
		log_info("%s: privilege-only mode (no server adapter): blocking (XEP-0191) "
		    "is not applied and clients going online get the presence flood", from);
	return 1;
}
