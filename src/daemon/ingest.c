/* ingest.c - presence the server forwards, into the store in batches */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"
#include "error.h"
#include "log.h"
#include "xml.h"

/*
 * Every line here can be caused by a peer, once per stanza: each goes
 * through log_limited with the cause as its key (log.h), so a flood
 * writes one line a minute per cause, with the count held back.
 */
#define limit_log(d, jid, key, what) \
	((void)(d), log_limited(LOG_LVL_WARN, "presence " key, "presence of %s %s", (jid), (what)))

static size_t
stored_size(const struct sk_pres *p)
{
	return (p->show ? strlen(p->show) : 0) + (p->status ? strlen(p->status) : 0) +
	    (p->ext ? strlen(p->ext) : 0) + (p->xml ? strlen(p->xml) : 0);
}

/*
 * What one sender can store is bounded: a presence over
 * max_presence_bytes loses its extensions, then its status is cut (at a
 * UTF-8 boundary); a contact gets at most max_resources resources.
 * 0 to store p, 1 to drop it.
 */
static int
bound(struct skd *d, struct sk_pres *p)
{
	size_t max = d->cfg->max_presence_bytes, n;
	char *slash = strchr(p->jid, '/');
	int rc;

	if (p->xml == NULL)
		limit_log(d, p->jid, "too deep", "is too deep or too wide: kept without its extensions");
	if (stored_size(p) > max) {
		free(p->xml);
		free(p->ext);
		p->xml = p->ext = NULL;
		limit_log(d, p->jid, "over max-presence-bytes",
		    "is over max-presence-bytes: kept without its extensions");
	}
	if (p->status != NULL && stored_size(p) > max) {
		n = max / 2 < strlen(p->status) ? max / 2 : strlen(p->status);
		while (n > 0 && ((unsigned char)p->status[n] & 0xc0) == 0x80)
			n--;
		p->status[n] = '\0';
		limit_log(d, p->jid, "status cut", "is over max-presence-bytes: status cut");
	}
	if (stored_size(p) > max) {
		/* kept as a bare "available": never a stale earlier presence */
		free(p->status);
		free(p->show);
		p->status = p->show = NULL;
		limit_log(d, p->jid, "show and status dropped",
		    "is over max-presence-bytes even with its status cut: kept without show and status");
	}
	sk_pres_hash(p);
	if (slash != NULL) {
		size_t have = 0;
		char *bare = strndup(p->jid, (size_t)(slash - p->jid));

		if (bare == NULL)
			return 1;
		rc = sk_store_pres_resources(d->store, bare, &have);
		free(bare);
		if (rc == 0 && have >= d->cfg->max_resources &&
		    sk_store_pres_has(d->store, p->jid) == SK_ENOTFOUND) {
			limit_log(d, p->jid, "over max-resources", "would pass max-resources: ignored");
			return 1;
		}
	}
	return 0;
}

/*
 * What remote servers can store (issue 17 #4): presence of a contact of
 * a domain synckeyd does not serve is capped per domain and for every
 * such domain together, in records and bytes (max-domain-presence[-bytes],
 * max-remote-presence[-bytes]; 0 means no cap).  A served domain's
 * presence is the server's own (its accounts), bounded by bound() only.
 * 0 to store p; 1 when refused: then the resource's earlier presence is
 * removed too, so that a sync never serves a stale one.
 */
int
skd_remote_usage(struct skd *d, size_t *n, size_t *bytes)
{
	size_t ln, lb, i;
	int rc;

	/* the whole store less the served domains */
	if ((rc = sk_store_pres_usage(d->store, NULL, n, bytes)) != 0)
		return rc;
	for (i = 0; i < d->cfg->ndomains; i++) {
		if ((rc = sk_store_pres_usage(d->store, d->cfg->domains[i], &ln, &lb)) != 0)
			return rc;
		*n -= ln < *n ? ln : *n;
		*bytes -= lb < *bytes ? lb : *bytes;
	}
	return 0;
}

static int
remote_cap(struct skd *d, const struct sk_pres *p)
{
	const struct skd_config *c = d->cfg;
	size_t size, old = 0, dn, db, tn, tb;
	char dom[SKD_JID_MAX];
	const char *why = NULL;
	int rc, had;

	if (skd_user_domain(d, p->jid) >= 0)
		return 0;
	if ((rc = sk_store_pres_domain(p->jid, dom, sizeof(dom))) != 0 ||
	    (rc = sk_store_pres_size(p, &size)) != 0 ||
	    ((rc = sk_store_pres_stored(d->store, p->jid, &old)) != 0 && rc != SK_ENOTFOUND))
		goto error;
	had = rc == 0;
	if ((rc = sk_store_pres_usage(d->store, dom, &dn, &db)) != 0 ||
	    (rc = skd_remote_usage(d, &tn, &tb)) != 0)
		goto error;
	if (!had) {
		dn++;
		tn++;
	}
	db = db - (old < db ? old : db) + size;
	tb = tb - (old < tb ? old : tb) + size;
	if (c->max_domain_presence && dn > c->max_domain_presence)
		why = "max-domain-presence";
	else if (c->max_domain_presence_bytes && db > c->max_domain_presence_bytes)
		why = "max-domain-presence-bytes";
	else if (c->max_remote_presence && tn > c->max_remote_presence)
		why = "max-remote-presence";
	else if (c->max_remote_presence_bytes && tb > c->max_remote_presence_bytes)
		why = "max-remote-presence-bytes";
	if (why == NULL)
		return 0;
	log_limited(LOG_LVL_WARN, why, "presence of %s refused: %s would pass %s "
	    "(%zu presences, %zu bytes stored for %s)", p->jid,
	    strncmp(why, "max-domain", 10) == 0 ? "its domain" : "remote presence", why,
	    dn - !had, db + old - size, dom);
	if (had && (rc = sk_store_pres_del(d->store, p->jid)) != 0)
		goto error;
	return 1;
error:
	log_limited(LOG_LVL_WARN, "presence remote cap", "presence of %s refused: remote caps "
	    "cannot be checked: %s", p->jid, sk_strerror(rc));
	(void)sk_store_pres_del(d->store, p->jid);
	return 1;
}

void
skd_ingest_presence(struct skd *d, xmpp_stanza_t *pres)
{
	const char *to = xmpp_stanza_get_to(pres);
	struct sk_pres p;
	int avail, rc;

	/* Only what the server forwards counts (xep/ "The component and the server"): it
	   addresses that to the component's own JID.  Presence to
	   COMPONENT/resource or user@COMPONENT was sent there by a user. */
	if (to != NULL && strcasecmp(to, d->cfg->jid) != 0) {
		log_limited(LOG_LVL_DEBUG, "presence to another address", "presence from %s "
		    "to %s ignored: not the component's own JID", xmpp_stanza_get_from(pres) ?
		    xmpp_stanza_get_from(pres) : "?", to);
		return;
	}
	/* Directed presence (doc/adapter-protocol.md "Directed presence"): ejabberd's
	   mod_privilege forwards what a session receives, a presence meant
	   for that one contact included, in the shape of a broadcast.  The
	   adapter marks those; they are not the sender's state for anyone
	   else, available or unavailable. */
	if (xmpp_stanza_get_child_by_name_and_ns(pres, "directed", SK_NS_ADAPTER) != NULL)
		return;
	rc = sk_xml_pres_parse(pres, &p, &avail);
	if (rc == SK_ENOTFOUND)
		return;		/* subscription, probe, error: not state */
	if (rc != 0) {
		log_limited(LOG_LVL_WARN, "presence unreadable", "presence ignored: %s",
		    sk_strerror(rc));
		return;
	}
	skd_adapter_presence(d);
	if (avail && (bound(d, &p) != 0 || remote_cap(d, &p) != 0))
		rc = 0;
	else if (avail)
		rc = sk_store_pres_put(d->store, &p);
	else if (strchr(p.jid, '/') != NULL)
		rc = sk_store_pres_del(d->store, p.jid);
	else
		rc = sk_store_pres_del_bare(d->store, p.jid);
	if (rc != 0)
		log_limited(LOG_LVL_WARN, "presence not stored", "presence of %s not stored: %s",
		    p.jid, sk_strerror(rc));
	sk_pres_free(&p);
	if (skd_store_check(d) == 0)
		skd_ingest_flush(d, 0);
}

void
skd_ingest_flush(struct skd *d, int force)
{
	uint64_t now = d->now_ms();
	int rc;

	if (sk_store_pending(d->store) == 0) {
		d->last_flush_ms = now;
		return;
	}
	if (!force && sk_store_pending(d->store) < d->cfg->batch_events &&
	    now - d->last_flush_ms < d->cfg->batch_ms)
		return;
	if ((rc = sk_store_flush(d->store)) != 0)
		log_limited(LOG_LVL_WARN, "store commit", "store commit failed: %s", sk_strerror(rc));
	d->last_flush_ms = now;
	(void)skd_store_check(d);
}

int
skd_store_check(struct skd *d)
{
	int rc;

	if (!sk_store_lost(d->store))
		return 0;
	if ((rc = sk_store_recover(d->store)) != 0) {
		log_limited(LOG_LVL_WARN, "store unrecoverable", "the store cannot recover "
		    "from a lost batch (%s): syncs are refused until it does", sk_strerror(rc));
		return rc;
	}
	/* presence is gone until the server replays it */
	memset(d->replayed, 0, sizeof(d->replayed));
	log_warnx("a store batch was lost: presence cleared and epoch bumped, so every "
	    "key gets a full sync; reconnecting for the server's presence");
	d->relink = 1;
	return 0;
}
