/* ingest.c - presence the server forwards, into the store in batches */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "error.h"
#include "log.h"
#include "xml.h"

/* A presence over a limit is logged at most once a minute. */
static void
limit_log(struct skd *d, const char *jid, const char *what)
{
	if (d->now_ms() - d->last_limit_log_ms < 60000 && d->last_limit_log_ms != 0)
		return;
	log_warnx("presence of %s %s (further such lines held back for a minute)", jid, what);
	d->last_limit_log_ms = d->now_ms();
}

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
		limit_log(d, p->jid, "is too deep or too wide: kept without its extensions");
	if (stored_size(p) > max) {
		free(p->xml);
		free(p->ext);
		p->xml = p->ext = NULL;
		limit_log(d, p->jid, "is over max-presence-bytes: kept without its extensions");
	}
	if (p->status != NULL && stored_size(p) > max) {
		n = max / 2 < strlen(p->status) ? max / 2 : strlen(p->status);
		while (n > 0 && ((unsigned char)p->status[n] & 0xc0) == 0x80)
			n--;
		p->status[n] = '\0';
		limit_log(d, p->jid, "is over max-presence-bytes: status cut");
	}
	if (stored_size(p) > max) {
		/* kept as a bare "available": never a stale earlier presence */
		free(p->status);
		free(p->show);
		p->status = p->show = NULL;
		limit_log(d, p->jid, "is over max-presence-bytes even with its status cut: kept without show and status");
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
			limit_log(d, p->jid, "would pass max-resources: ignored");
			return 1;
		}
	}
	return 0;
}

void
skd_ingest_presence(struct skd *d, xmpp_stanza_t *pres)
{
	struct sk_pres p;
	int avail, rc;

	/* Directed presence (xep/ "The server adapter" "Directed presence"): ejabberd's
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
		log_warnx("presence ignored: %s", sk_strerror(rc));
		return;
	}
	skd_adapter_presence(d);
	if (avail && bound(d, &p) != 0)
		rc = 0;
	else if (avail)
		rc = sk_store_pres_put(d->store, &p);
	else if (strchr(p.jid, '/') != NULL)
		rc = sk_store_pres_del(d->store, p.jid);
	else
		rc = sk_store_pres_del_bare(d->store, p.jid);
	if (rc != 0)
		log_warnx("presence of %s not stored: %s", p.jid, sk_strerror(rc));
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
		log_warnx("store commit failed: %s", sk_strerror(rc));
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
		if (d->now_ms() - d->last_limit_log_ms >= 60000 || d->last_limit_log_ms == 0) {
			log_warnx("the store cannot recover from a lost batch (%s): syncs are "
			    "refused until it does", sk_strerror(rc));
			d->last_limit_log_ms = d->now_ms();
		}
		return rc;
	}
	/* presence is gone until the server replays it */
	memset(d->replayed, 0, sizeof(d->replayed));
	log_warnx("a store batch was lost: presence cleared and epoch bumped, so every "
	    "key gets a full sync; reconnecting for the server's presence");
	d->relink = 1;
	return 0;
}
