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
 * A server with the synckey adapter (adapters/, xep/ "The server
 * adapter") answers at DOMAIN/synckey: its disco#info lists
 * SK_NS_ADAPTER, and synckeyd asks it there for a user's view (roster by
 * version, hidden contacts) instead of the privileged roster get.  A full
 * JID, not the domain: ejabberd 24.10-24.12's mod_privilege drops every
 * IQ get or result a privileged component sends to a bare JID or domain
 * (but roster queries), and Prosody routes DOMAIN/anything to the host.
 *
 * The probe is answered within roster-timeout or taken as "no adapter":
 * synckeyd always decides its mode, and says why.  Without an adapter it
 * runs in privilege-only mode, unless the adapter is required (adapter =
 * required), when it refuses syncs for that domain and says so.
 */
int
skd_adapter_jid(const struct skd *d, int i, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", d->cfg->domains[i], SKD_ADAPTER_RESOURCE);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

void
skd_adapter_probe(struct skd *d, int i)
{
	char id[32], to[SKD_JID_MAX];
	xmpp_stanza_t *iq, *q;

	snprintf(id, sizeof(id), PROBE_ID "%d", i);
	if (skd_adapter_jid(d, i, to, sizeof(to)) != 0 ||
	    (iq = skd_iq_new(d, "get", to, id)) == NULL)
		return;
	if ((q = xmpp_stanza_new(d->ctx)) == NULL) {
		xmpp_stanza_release(iq);
		return;
	}
	xmpp_stanza_set_name(q, "query");
	xmpp_stanza_set_ns(q, NS_DISCO_INFO);
	xmpp_stanza_add_child(iq, q);
	xmpp_stanza_release(q);
	d->probing[i] = 1;
	d->decided[i] = 0;
	d->probe_deadline[i] = d->now_ms() + (uint64_t)d->cfg->roster_timeout * 1000;
	skd_send(d, iq);
	xmpp_stanza_release(iq);
}

/*
 * The presence store is emptied when the link comes up (handler.c); what
 * was online before comes back only if the server replays it (xep/ "The component and the server"
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

/* The mode of domain i is known: log it, loudly when it is not the one required. */
static void
decide(struct skd *d, int i, int adapter, const char *why)
{
	const char *dom = d->cfg->domains[i];

	d->probing[i] = 0;
	d->decided[i] = 1;
	d->adapter[i] = adapter;
	if (adapter)
		d->replayed[i] = 1;
	if (!d->replayed[i])
		log_info("%s: no presence replayed at connect: answers carry presence='partial' "
		    "until the next connect", dom);
	if (adapter)
		log_info("%s: server adapter present (%s at %s/%s): rosters by version, "
		    "blocking applied, going online without the presence flood", dom,
		    SK_NS_ADAPTER, dom, SKD_ADAPTER_RESOURCE);
	else if (d->cfg->adapter_required)
		log_warnx("%s: NO server adapter (%s), but adapter = required: sync and "
		    "checkpoint refused for this domain until an adapter answers at the next "
		    "connect", dom, why);
	else
		log_warnx("%s: privilege-only mode (%s): blocking (XEP-0191) is not applied "
		    "and clients going online get the presence flood; set adapter = required "
		    "to refuse syncs instead", dom, why);
}

int
skd_adapter_result(struct skd *d, xmpp_stanza_t *iq)
{
	const char *id = xmpp_stanza_get_id(iq), *from = xmpp_stanza_get_from(iq);
	const char *type = xmpp_stanza_get_type(iq);
	char jid[SKD_JID_MAX], *end;
	long i;

	if (id == NULL || strncmp(id, PROBE_ID, strlen(PROBE_ID)) != 0)
		return 0;
	i = strtol(id + strlen(PROBE_ID), &end, 10);
	if (*end != '\0' || i < 0 || (size_t)i >= d->cfg->ndomains || !d->probing[i] ||
	    skd_adapter_jid(d, (int)i, jid, sizeof(jid)) != 0 ||
	    from == NULL || strcmp(from, jid) != 0)
		return 0;
	if (type != NULL && strcmp(type, "result") == 0 && has_adapter(iq))
		decide(d, (int)i, 1, NULL);
	else
		decide(d, (int)i, 0, type != NULL && strcmp(type, "error") == 0 ?
		    "the probe was answered with an error" :
		    "the probe's answer does not list the adapter");
	return 1;
}

void
skd_adapter_tick(struct skd *d)
{
	uint64_t now = d->now_ms();
	size_t i;

	for (i = 0; i < d->cfg->ndomains; i++)
		if (d->probing[i] && d->probe_deadline[i] <= now)
			decide(d, (int)i, 0, "no answer to the probe within roster-timeout");
}

const char *
skd_adapter_missing(const struct skd *d, int i)
{
	if (!d->cfg->adapter_required || d->adapter[i])
		return NULL;
	return d->decided[i] ?
	    "the server adapter is required (adapter = required) but the server has none" :
	    "the sync service is still looking for the server adapter; try again in a few seconds";
}
