/* ingest.c - presence the server forwards, into the store in batches */
#include <string.h>

#include "daemon.h"
#include "error.h"
#include "log.h"
#include "xml.h"

void
skd_ingest_presence(struct skd *d, xmpp_stanza_t *pres)
{
	struct sk_pres p;
	int avail, rc;

	rc = sk_xml_pres_parse(pres, &p, &avail);
	if (rc == SK_ENOTFOUND)
		return;		/* subscription, probe, error: not state */
	if (rc != 0) {
		log_warnx("presence ignored: %s", sk_strerror(rc));
		return;
	}
	if (avail && p.xml == NULL && d->now_ms() - d->last_shape_log_ms >= 60000) {
		/* xml.c dropped its extensions; at most one line a minute */
		log_warnx("presence of %s deeper than %d levels or with more than %d "
		    "attributes on one element: kept without its extensions",
		    p.jid, SK_XML_DEPTH_MAX, SK_XML_ATTRS_MAX);
		d->last_shape_log_ms = d->now_ms();
	}
	if (avail)
		rc = sk_store_pres_put(d->store, &p);
	else if (strchr(p.jid, '/') != NULL)
		rc = sk_store_pres_del(d->store, p.jid);
	else
		rc = sk_store_pres_del_bare(d->store, p.jid);
	if (rc != 0)
		log_warnx("presence of %s not stored: %s", p.jid, sk_strerror(rc));
	sk_pres_free(&p);
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
		log_warnx("store commit failed (%s): the batch is lost, "
		    "its clients get a full sync", sk_strerror(rc));
	d->last_flush_ms = now;
}
