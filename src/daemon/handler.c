/* handler.c - every stanza the server sends synckeyd: dispatch, disco, ping */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "daemon.h"
#include "error.h"
#include "log.h"
#include "xml.h"

#define NS_DISCO_INFO	"http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS	"http://jabber.org/protocol/disco#items"
#define NS_PING		"urn:xmpp:ping"

static time_t
wall_s(void)
{
	return time(NULL);
}

static void
send_conn(struct skd *d, xmpp_stanza_t *st)
{
	if (d->conn != NULL && d->connected)
		xmpp_send(d->conn, st);
}

static void
send_conn_text(struct skd *d, const char *xml, size_t len)
{
	if (d->conn != NULL && d->connected)
		xmpp_send_raw(d->conn, xml, len);
}

int
skd_init(struct skd *d, struct skd_config *cfg, xmpp_ctx_t *ctx)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	d->ctx = ctx;
	d->sync.ttl = (uint64_t)cfg->key_ttl_days * 24 * 3600;
	d->sync.max_clients = cfg->max_clients;
	d->send = send_conn;
	d->send_text = send_conn_text;
	d->now_ms = sk_clock_ms;
	d->now_s = wall_s;
	skd_table_init(&d->fetches, skd_roster_fetch_free);
	skd_table_init(&d->pages, skd_answer_page_free);
	if ((rc = sk_views_new(cfg->max_view_bytes, cfg->max_user_view_bytes, &d->views)) != 0)
		return rc;
	return sk_store_open(cfg->db, 0, &d->store);
}

void
skd_free(struct skd *d)
{
	int rc;

	skd_table_free(&d->fetches);
	skd_table_free(&d->pages);
	if (d->store != NULL && (rc = sk_store_flush(d->store)) != 0)
		log_warnx("final store commit failed: %s", sk_strerror(rc));
	sk_store_close(d->store);
	d->store = NULL;
	sk_views_free(d->views);
	d->views = NULL;
}

void
skd_link_up(struct skd *d)
{
	uint32_t epoch = 0;
	int rc;

	/* Presence may have been missed while the link was down: start the
	   live presence again from the server's burst, and make every older
	   key a full sync with reason='reset'.  A server may send no burst
	   (ejabberd 23.01): answers say presence='partial' until one is seen
	   (adapter.c). */
	d->connected = 1;
	skd_privilege_reset(d);
	if ((rc = sk_store_pres_reset(d->store, &epoch)) != 0)
		log_warnx("store reset after connecting failed: %s", sk_strerror(rc));
	else
		log_info("connected as %s; epoch %u: earlier keys get a full sync", d->cfg->jid, epoch);
}

void
skd_link_down(struct skd *d)
{
	d->connected = 0;
	skd_privilege_reset(d);
	/* Their answers could not be delivered any more. */
	skd_table_clear(&d->fetches);
	skd_ingest_flush(d, 1);
}

void
skd_tick(struct skd *d)
{
	(void)skd_store_check(d);
	skd_roster_tick(d);
	skd_adapter_tick(d);
	skd_answer_tick(d);
	skd_ingest_flush(d, 0);
}

static void
add_child_attrs(struct skd *d, xmpp_stanza_t *parent, const char *name,
    const char *a1, const char *v1, const char *a2, const char *v2,
    const char *a3, const char *v3)
{
	xmpp_stanza_t *c = xmpp_stanza_new(d->ctx);

	xmpp_stanza_set_name(c, name);
	if (a1) xmpp_stanza_set_attribute(c, a1, v1);
	if (a2) xmpp_stanza_set_attribute(c, a2, v2);
	if (a3) xmpp_stanza_set_attribute(c, a3, v3);
	xmpp_stanza_add_child(parent, c);
	xmpp_stanza_release(c);
}

/*
 * The disco#info nodes a server asks about a delegated namespace
 * (XEP-0355 "nesting"): "urn:xmpp:delegation:N::NS" for the server's own
 * disco#info and "urn:xmpp:delegation:N:bare:NS" for its accounts'.  The
 * synckey namespace is the only one this service can take.
 */
static int
delegation_node(const char *node)
{
	static const char *const prefixes[] = {
		"urn:xmpp:delegation:2::", "urn:xmpp:delegation:2:bare:",
		"urn:xmpp:delegation:1::", "urn:xmpp:delegation:1:bare:",
	};
	size_t k, n;

	for (k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
		n = strlen(prefixes[k]);
		if (strncmp(node, prefixes[k], n) == 0 && sk_xml_sync_version(node + n) >= 0)
			return 1;
	}
	return 0;
}

static void
answer_disco(struct skd *d, const struct skd_origin *o, const char *ns, const char *node)
{
	xmpp_stanza_t *q = xmpp_stanza_new(d->ctx);

	if (q == NULL)
		return;
	xmpp_stanza_set_name(q, "query");
	xmpp_stanza_set_ns(q, ns);
	if (node)
		xmpp_stanza_set_attribute(q, "node", node);
	if (node != NULL && strcmp(ns, NS_DISCO_INFO) == 0) {
		/* the features the server shows for the delegated namespace */
		add_child_attrs(d, q, "feature", "var", SK_NS_SYNC, NULL, NULL, NULL, NULL);
		add_child_attrs(d, q, "feature", "var", SK_NS_SYNC1, NULL, NULL, NULL, NULL);
	} else if (strcmp(ns, NS_DISCO_INFO) == 0) {
		add_child_attrs(d, q, "identity", "category", "component", "type", "presence",
		    "name", "synckey");
		add_child_attrs(d, q, "feature", "var", NS_DISCO_INFO, NULL, NULL, NULL, NULL);
		add_child_attrs(d, q, "feature", "var", NS_DISCO_ITEMS, NULL, NULL, NULL, NULL);
		add_child_attrs(d, q, "feature", "var", SK_NS_SYNC, NULL, NULL, NULL, NULL);
		add_child_attrs(d, q, "feature", "var", SK_NS_SYNC1, NULL, NULL, NULL, NULL);
		add_child_attrs(d, q, "feature", "var", NS_PING, NULL, NULL, NULL, NULL);
	}
	skd_reply_stanza(d, o, "result", q);
	xmpp_stanza_release(q);
}

/* An IQ get or set: answered through o (plain, or wrapped when the
   server delegated it; a delegation is never nested). */
static void
handle_request(struct skd *d, xmpp_stanza_t *iq, const struct skd_origin *o)
{
	const char *type = xmpp_stanza_get_type(iq), *from = o->to, *ns;
	xmpp_stanza_t *child;

	if (strcmp(type, "get") != 0 && strcmp(type, "set") != 0) {
		skd_reply_error(d, o, "modify", "bad-request", "unknown IQ type");
		return;
	}
	for (child = xmpp_stanza_get_children(iq); child; child = xmpp_stanza_get_next(child))
		if (!xmpp_stanza_is_text(child))
			break;
	ns = child ? xmpp_stanza_get_ns(child) : NULL;
	if (ns == NULL) {
		skd_reply_error(d, o, "modify", "bad-request", "an IQ needs one child element");
		return;
	}
	if (sk_xml_sync_version(ns) >= 0) {
		struct skd_origin vo = *o;

		vo.version = (unsigned)sk_xml_sync_version(ns);
		skd_request(d, &vo, iq, child);
	} else if (strcmp(type, "set") == 0 && strcmp(ns, SK_NS_ROSTER) == 0 &&
	    o->server == NULL && skd_user_domain(d, from) >= 0 && strchr(from, '/') == NULL) {
		/* a roster push to the privileged entity (XEP-0356): taken;
		   synckeyd reads rosters when a sync asks for them */
		skd_reply(d, o, "result", "", 0);
	} else if (strcmp(type, "set") == 0 && skd_deleg_ns(child) != NULL && o->server == NULL) {
		struct skd_origin inner_o;
		xmpp_stanza_t *inner = skd_deleg_open(d, iq, child, &inner_o);
		const char *itype = inner ? xmpp_stanza_get_type(inner) : NULL;

		/* answers are never answered, delegated ones neither */
		if (itype != NULL && strcmp(itype, "result") != 0 && strcmp(itype, "error") != 0)
			handle_request(d, inner, &inner_o);
	} else if (strcmp(type, "get") == 0 &&
	    (strcmp(ns, NS_DISCO_INFO) == 0 || strcmp(ns, NS_DISCO_ITEMS) == 0)) {
		const char *node = xmpp_stanza_get_attribute(child, "node");

		if (node != NULL && !delegation_node(node))
			skd_reply_error(d, o, "cancel", "item-not-found",
			    "this sync service has no such disco node");
		else
			answer_disco(d, o, ns, node);
	} else if (strcmp(type, "get") == 0 && strcmp(ns, NS_PING) == 0) {
		skd_reply(d, o, "result", "", 0);
	} else {
		skd_reply_error(d, o, "cancel", "service-unavailable",
		    "this sync service does not offer that request");
	}
}

static void
handle_iq(struct skd *d, xmpp_stanza_t *iq)
{
	const char *type = xmpp_stanza_get_type(iq), *from = xmpp_stanza_get_from(iq);
	struct skd_origin o = { .to = from, .id = xmpp_stanza_get_id(iq) };

	if (type == NULL || strcmp(type, "result") == 0 || strcmp(type, "error") == 0) {
		/* answers are never answered */
		if (type != NULL && !skd_adapter_result(d, iq) && !skd_roster_result(d, iq))
			log_debug("unexpected IQ %s from %s ignored", type, from ? from : "?");
		return;
	}
	if (o.to != NULL && o.id != NULL)
		handle_request(d, iq, &o);
}

void
skd_handle(struct skd *d, xmpp_stanza_t *st)
{
	const char *name = xmpp_stanza_get_name(st);

	if (name == NULL)
		return;
	if (strcmp(name, "iq") == 0)
		handle_iq(d, st);
	else if (strcmp(name, "presence") == 0)
		skd_ingest_presence(d, st);
	else if (strcmp(name, "message") == 0 && !skd_privilege_message(d, st))
		log_debug("message from %s ignored", xmpp_stanza_get_from(st) ?
		    xmpp_stanza_get_from(st) : "?");
}
