/* privilege.c - XEP-0356 permissions the server grants the component */
#include <string.h>

#include "daemon.h"
#include "log.h"

/*
 * The advertisement comes in the namespace the server speaks: Prosody's
 * mod_privilege uses urn:xmpp:privilege:2, ejabberd 23.01 :1.  Both carry
 * <perm access='roster' type='get|both'/> and <perm access='presence'
 * type='roster'/>; the table is the one place that knows the versions.
 */
static const char *const namespaces[] = {
	"urn:xmpp:privilege:2",
	"urn:xmpp:privilege:1",
};

void
skd_privilege_reset(struct skd *d)
{
	memset(d->priv_roster, 0, sizeof(d->priv_roster));
	memset(d->priv_presence, 0, sizeof(d->priv_presence));
	memset(d->adapter, 0, sizeof(d->adapter));
	memset(d->probing, 0, sizeof(d->probing));
	memset(d->replayed, 0, sizeof(d->replayed));
	memset(d->decided, 0, sizeof(d->decided));
}

int
skd_privilege_message(struct skd *d, xmpp_stanza_t *msg)
{
	const char *from = xmpp_stanza_get_from(msg);
	xmpp_stanza_t *priv = NULL, *perm;
	size_t i, k;
	int roster = 0, presence = 0;

	for (k = 0; priv == NULL && k < sizeof(namespaces) / sizeof(namespaces[0]); k++)
		priv = xmpp_stanza_get_child_by_name_and_ns(msg, "privilege", namespaces[k]);
	if (priv == NULL || from == NULL)
		return 0;
	for (perm = xmpp_stanza_get_children(priv); perm; perm = xmpp_stanza_get_next(perm)) {
		const char *access = xmpp_stanza_get_attribute(perm, "access");
		const char *type = xmpp_stanza_get_type(perm);

		if (access == NULL || type == NULL)
			continue;
		if (strcmp(access, "roster") == 0)
			roster = strcmp(type, "get") == 0 || strcmp(type, "both") == 0;
		else if (strcmp(access, "presence") == 0)
			presence = strcmp(type, "roster") == 0;
	}
	for (i = 0; i < d->cfg->ndomains; i++)
		if (strcmp(d->cfg->domains[i], from) == 0)
			break;
	if (i == d->cfg->ndomains) {
		log_warnx("privileges advertised by %s, a domain not served (--domain): ignored", from);
		return 1;
	}
	d->priv_roster[i] = roster;
	d->priv_presence[i] = presence;
	log_info("privileges for %s (%s): roster get %s, presence roster %s", from,
	    xmpp_stanza_get_ns(priv), roster ? "granted" : "NOT granted",
	    presence ? "granted" : "NOT granted");
	skd_adapter_probe(d, (int)i);
	return 1;
}

const char *
skd_privilege_missing(const struct skd *d, int i)
{
	if (!d->priv_roster[i] && !d->priv_presence[i])
		return "the server has not granted the sync service its privileges "
		    "(XEP-0356 roster get and presence roster)";
	if (!d->priv_roster[i])
		return "the server has not granted the sync service roster access "
		    "(XEP-0356 roster get)";
	if (!d->priv_presence[i])
		return "the server has not granted the sync service presence access "
		    "(XEP-0356 presence roster)";
	return NULL;
}
