/* request.c - sync and checkpoint requests: checks, roster fetch, engine */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "error.h"
#include "key.h"
#include "log.h"
#include "xml.h"

/* A privileged roster get in flight for one request. */
struct skd_pending {
	char		 id[32];	/* our roster get's id */
	char		*to, *req_id;	/* where the answer goes */
	char		*bare, *client, *key;
	char		*ver;		/* the roster version we hold, or NULL */
	char		*from;		/* who answers: the user, or the adapter */
	int		 checkpoint;
	uint64_t	 deadline;	/* ms, monotonic */
};

static void
pending_free(struct skd_pending *p)
{
	free(p->to);
	free(p->req_id);
	free(p->bare);
	free(p->client);
	free(p->key);
	free(p->ver);
	free(p->from);
}

static void
pending_remove(struct skd *d, size_t i)
{
	pending_free(&d->pending[i]);
	d->pending[i] = d->pending[--d->npending];
}

void
skd_request_free_all(struct skd *d)
{
	while (d->npending > 0)
		pending_remove(d, d->npending - 1);
	free(d->pending);
	d->pending = NULL;
	d->cappending = 0;
}

static char *
bare_of(const char *jid)
{
	return strndup(jid, sk_jid_barelen(jid));
}

/*
 * Sends the roster get and remembers the request.  With the server
 * adapter (adapter.c) the get is a view: the roster only when it changed
 * since the version stored here, and the contacts hidden from the user.
 * 0, SK_EFULL (max-pending) or ENOMEM.
 */
static int
fetch_roster(struct skd *d, int dom, const char *from, const char *id, const char *bare,
    const char *client, const char *key, int checkpoint)
{
	char ver[SK_ROSTER_VER_MAX + 1] = "", adapter[SKD_JID_MAX];
	struct skd_pending *p;
	xmpp_stanza_t *iq, *q;
	int view;

	if (d->npending >= d->cfg->max_pending)
		return SK_EFULL;
	if (d->npending == d->cappending) {
		size_t ncap = d->cappending ? d->cappending * 2 : 16;
		struct skd_pending *nv = realloc(d->pending, ncap * sizeof(*nv));

		if (nv == NULL)
			return ENOMEM;
		d->pending = nv;
		d->cappending = ncap;
	}
	p = &d->pending[d->npending];
	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "roster%lu", ++d->next_id);
	p->to = strdup(from);
	p->req_id = strdup(id);
	p->bare = strdup(bare);
	p->client = strdup(client);
	p->key = key ? strdup(key) : NULL;
	p->checkpoint = checkpoint;
	p->deadline = d->now_ms() + (uint64_t)d->cfg->roster_timeout * 1000;
	/* a view is asked of the adapter, with the user named inside */
	view = d->adapter[dom] && skd_adapter_jid(d, dom, adapter, sizeof(adapter)) == 0;
	p->from = strdup(view ? adapter : bare);
	if (!p->to || !p->req_id || !p->bare || !p->client || (key && !p->key) || !p->from) {
		pending_free(p);
		return ENOMEM;
	}
	if ((iq = skd_iq_new(d, "get", p->from, p->id)) == NULL ||
	    (q = xmpp_stanza_new(d->ctx)) == NULL) {
		if (iq)
			xmpp_stanza_release(iq);
		pending_free(p);
		return ENOMEM;
	}
	if (view) {
		xmpp_stanza_set_name(q, "view");
		xmpp_stanza_set_ns(q, SK_NS_ADAPTER);
		xmpp_stanza_set_attribute(q, "jid", bare);
		if (sk_store_roster_ver(d->store, bare, ver) == 0 && ver[0] != '\0') {
			xmpp_stanza_set_attribute(q, "ver", ver);
			p->ver = strdup(ver);	/* NULL: only no view is used again */
		}
	} else {
		xmpp_stanza_set_name(q, "query");
		xmpp_stanza_set_ns(q, SK_NS_ROSTER);
	}
	xmpp_stanza_add_child(iq, q);
	xmpp_stanza_release(q);
	d->npending++;
	skd_send(d, iq);
	xmpp_stanza_release(iq);
	return 0;
}

void
skd_request(struct skd *d, xmpp_stanza_t *iq, xmpp_stanza_t *child)
{
	const char *from = xmpp_stanza_get_from(iq), *id = xmpp_stanza_get_id(iq);
	const char *type = xmpp_stanza_get_type(iq), *name = xmpp_stanza_get_name(child);
	const char *client = xmpp_stanza_get_attribute(child, "client");
	const char *key = xmpp_stanza_get_attribute(child, "key");
	const char *more = xmpp_stanza_get_attribute(child, "more");
	const char *missing;
	char *bare = NULL, text[256];
	int dom, checkpoint;

	/* Every IQ get/set gets exactly one answer: each check below sends
	   its error and returns; the success path sends the roster get. */
	if (from == NULL || id == NULL) {
		log_warnx("request without from or id dropped");
		return;
	}
	if ((dom = skd_user_domain(d, from)) < 0) {
		log_info("request from %s refused: not a user of a served domain", from);
		skd_send_error(d, from, id, "auth", "forbidden",
		    "this sync service serves only the users of its own domains");
		return;
	}
	checkpoint = strcmp(name, "checkpoint") == 0;
	if (!checkpoint && strcmp(name, "sync") != 0) {
		snprintf(text, sizeof(text), "unknown request <%.64s/> in %s", name, SK_NS_SYNC);
		skd_send_error(d, from, id, "modify", "bad-request", text);
		return;
	}
	if (strcmp(type, checkpoint ? "set" : "get") != 0) {
		snprintf(text, sizeof(text), "<%s/> must be sent in an IQ of type '%s'",
		    name, checkpoint ? "set" : "get");
		skd_send_error(d, from, id, "modify", "bad-request", text);
		return;
	}
	if (client == NULL || !sk_key_client_ok(client)) {
		skd_send_error(d, from, id, "modify", "bad-request", client == NULL ?
		    "the client attribute is missing" :
		    "the client attribute must be 1-64 characters of A-Z a-z 0-9 . _ -");
		return;
	}
	if ((bare = bare_of(from)) == NULL) {
		skd_send_error(d, from, id, "wait", "resource-constraint", "out of memory");
		return;
	}
	if (!checkpoint && more != NULL) {
		skd_answer_more(d, from, id, bare, client, more);
		goto out;
	}
	if (checkpoint && key == NULL) {
		skd_send_error(d, from, id, "modify", "bad-request",
		    "a checkpoint needs the key attribute");
		goto out;
	}
	if ((missing = skd_privilege_missing(d, dom)) != NULL ||
	    (missing = skd_adapter_missing(d, dom)) != NULL) {
		log_warnx("request from %s refused: %s", from, missing);
		skd_send_error(d, from, id, "cancel", "service-unavailable", missing);
		goto out;
	}
	switch (fetch_roster(d, dom, from, id, bare, client, key, checkpoint)) {
	case 0:
		break;
	case SK_EFULL:
		log_warnx("request from %s refused: %u requests wait for a roster (max-pending)",
		    from, d->cfg->max_pending);
		skd_send_error(d, from, id, "wait", "resource-constraint",
		    "too many sync requests are waiting; try again in a few seconds");
		break;
	default:
		skd_send_error(d, from, id, "wait", "resource-constraint", "out of memory");
	}
out:
	free(bare);
}

static void
run_checkpoint(struct skd *d, struct skd_pending *p, const struct sk_view *v)
{
	char newkey[SK_KEY_MAX + 1], text[160];
	xmpp_stanza_t *iq, *cp;
	int rc;

	rc = sk_sync_checkpoint_view(d->store, &d->sync, p->bare, p->client, p->key, v,
	    (uint64_t)d->now_s(), newkey);
	if (rc == SK_EKEY || rc == SK_EEXPIRED || rc == SK_ERESET || rc == SK_ENOTFOUND) {
		snprintf(text, sizeof(text), "the key cannot be used for a checkpoint (%s): "
		    "keep the key you have and sync", sk_strerror(rc));
		skd_send_error(d, p->to, p->req_id, "cancel", "item-not-found", text);
		return;
	}
	if (rc != 0) {
		log_warnx("checkpoint of %s/%s failed: %s", p->bare, p->client, sk_strerror(rc));
		skd_send_error(d, p->to, p->req_id, "wait", "internal-server-error",
		    "the sync store failed; try again later");
		return;
	}
	if ((iq = skd_iq_new(d, "result", p->to, p->req_id)) == NULL ||
	    (cp = xmpp_stanza_new(d->ctx)) == NULL) {
		if (iq)
			xmpp_stanza_release(iq);
		return;
	}
	xmpp_stanza_set_name(cp, "checkpoint");
	xmpp_stanza_set_ns(cp, SK_NS_SYNC);
	xmpp_stanza_set_attribute(cp, "key", newkey);
	xmpp_stanza_add_child(iq, cp);
	xmpp_stanza_release(cp);
	skd_send(d, iq);
	xmpp_stanza_release(iq);
}

static void
run_sync(struct skd *d, struct skd_pending *p, const struct sk_view *v)
{
	struct sk_sync_result res;
	int rc;

	rc = sk_sync_run_view(d->store, &d->sync, p->bare, p->client, p->key, v,
	    (uint64_t)d->now_s(), &res);
	if (rc != 0) {
		log_warnx("sync of %s/%s failed: %s", p->bare, p->client, sk_strerror(rc));
		skd_send_error(d, p->to, p->req_id, "wait", "internal-server-error",
		    "the sync store failed; try again later");
		return;
	}
	log_debug("sync %s/%s: %s%s%s, %zu changes", p->bare, p->client,
	    res.full ? "full" : "delta", res.full ? " " : "",
	    res.full ? sk_reason_name(res.reason) : "", res.changes.n);
	skd_answer_sync(d, p->to, p->req_id, p->bare, p->client, &res, &v->live);
	sk_sync_result_free(&res);
}

/* The contacts the adapter's view hides from the user (blocking). */
static int
answer_hidden(xmpp_stanza_t *view, struct sk_strv *hidden)
{
	xmpp_stanza_t *c;
	int rc;

	for (c = view ? xmpp_stanza_get_children(view) : NULL; c; c = xmpp_stanza_get_next(c)) {
		const char *name = xmpp_stanza_get_name(c), *jid = xmpp_stanza_get_attribute(c, "jid");

		if (name && strcmp(name, "hidden") == 0 && jid && (rc = sk_strv_add(hidden, jid, strlen(jid))) != 0)
			return rc;
	}
	return 0;
}

/*
 * The user's roster into live from the answer: a privileged roster
 * result, or the adapter's view (the roster, or "unchanged" and the one
 * stored here; stored again when it changed).  *ver is the version of
 * the roster (borrowed from iq or p), NULL when unversioned.  0 or an
 * error of error.h.
 */
static int
answer_roster(struct skd *d, const struct skd_pending *p, xmpp_stanza_t *iq,
    xmpp_stanza_t *view, struct sk_state *live, const char **ver, size_t *skipped)
{
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name_and_ns(view ? view : iq, "query", SK_NS_ROSTER);
	int rc;

	*ver = NULL;
	if (view != NULL && xmpp_stanza_get_child_by_name(view, "unchanged") != NULL) {
		if ((rc = sk_store_roster_get(d->store, p->bare, live)) != 0) {
			/* asked with a version we no longer hold: ask afresh */
			log_warnx("stored roster of %s unusable (%s): dropped", p->bare, sk_strerror(rc));
			(void)sk_store_roster_del(d->store, p->bare);
			return rc;
		}
		*ver = p->ver;
	} else if (view != NULL && q == NULL) {
		return SK_EINVAL;	/* neither the roster nor "unchanged" */
	} else if (q != NULL && (rc = sk_xml_roster_parse(q, live, skipped)) != 0) {
		return rc;
	} else if (view != NULL) {
		/* kept for the next "changed since?"; without a version, not */
		*ver = xmpp_stanza_get_attribute(view, "ver");
		if (*ver == NULL || strlen(*ver) > SK_ROSTER_VER_MAX) {
			*ver = NULL;
			rc = sk_store_roster_del(d->store, p->bare);
		} else {
			rc = sk_store_roster_put(d->store, p->bare, *ver, live);
		}
		if (rc != 0) {
			log_warnx("roster of %s not stored: %s", p->bare, sk_strerror(rc));
			*ver = NULL;
		}
	}
	return 0;
}

/*
 * The view to answer from: the one kept for the user when the roster is
 * the version it was built from (the adapter said "unchanged") and it
 * is still exact, else one built now (*owned, the caller's).
 */
static int
view_for(struct skd *d, const struct skd_pending *p, xmpp_stanza_t *iq,
    const struct sk_strv *hidden, struct sk_view **v, struct sk_view **owned,
    const char **ver)
{
	xmpp_stanza_t *view = xmpp_stanza_get_child_by_name_and_ns(iq, "view", SK_NS_ADAPTER);
	struct sk_state live;
	size_t skipped = 0;
	int rc;

	*owned = NULL;
	if (view != NULL && p->ver != NULL &&
	    xmpp_stanza_get_child_by_name(view, "unchanged") != NULL &&
	    (*v = sk_views_get(d->views, d->store, p->bare, p->ver, hidden)) != NULL) {
		*ver = p->ver;
		return 0;
	}
	sk_state_init(&live);
	if ((rc = answer_roster(d, p, iq, view, &live, ver, &skipped)) == 0)
		rc = sk_view_build(d->store, &live, hidden, owned);
	sk_state_free(&live);
	if (skipped)
		log_warnx("roster of %s: %zu malformed items left out", p->bare, skipped);
	*v = *owned;
	return rc;
}

int
skd_request_result(struct skd *d, xmpp_stanza_t *iq)
{
	const char *id = xmpp_stanza_get_id(iq), *from = xmpp_stanza_get_from(iq);
	struct sk_view *v, *owned;
	struct skd_pending p;
	struct sk_strv hidden;
	const char *ver;
	char text[256];
	size_t i;
	int rc;

	for (i = 0; id != NULL && i < d->npending; i++)
		if (strcmp(d->pending[i].id, id) == 0)
			break;
	if (id == NULL || i == d->npending)
		return 0;
	p = d->pending[i];
	d->pending[i] = d->pending[--d->npending];	/* p owns the strings now */
	if (from == NULL || strcmp(from, p.from) != 0) {
		log_warnx("roster answer %s from %s, not from %s: ignored", id,
		    from ? from : "(none)", p.from);
		d->pending[d->npending++] = p;		/* keep waiting */
		return 1;
	}
	if (strcmp(xmpp_stanza_get_type(iq), "error") == 0) {
		xmpp_stanza_t *e = xmpp_stanza_get_child_by_name(iq, "error");
		xmpp_stanza_t *c = e ? xmpp_stanza_get_children(e) : NULL;

		snprintf(text, sizeof(text), "the server refused to give the sync service the roster (%s)",
		    c && xmpp_stanza_get_name(c) ? xmpp_stanza_get_name(c) : "no condition");
		log_warnx("roster fetch for %s: %s", p.bare, text);
		skd_send_error(d, p.to, p.req_id, "cancel", "service-unavailable", text);
		if (c != NULL && xmpp_stanza_get_name(c) && strcmp(xmpp_stanza_get_name(c), "forbidden") == 0) {
			/* ejabberd drops a domain's privileges when any connection
			   of that component name closes: a new handshake regains
			   them (one synckeyd per component name, synckeyd(8)) */
			log_warnx("privileged request refused (forbidden): privileges lost; "
			    "reconnecting to regain them");
			d->relink = 1;
		}
		goto out;
	}
	if (skd_store_check(d) != 0) {
		skd_send_error(d, p.to, p.req_id, "wait", "resource-constraint",
		    "the sync store cannot be written (full or failing); try again later");
		goto out;
	}
	sk_strv_init(&hidden);
	if ((rc = answer_hidden(xmpp_stanza_get_child_by_name_and_ns(iq, "view", SK_NS_ADAPTER),
	    &hidden)) != 0 ||
	    (rc = view_for(d, &p, iq, &hidden, &v, &owned, &ver)) != 0) {
		log_warnx("roster of %s not usable: %s", p.bare, sk_strerror(rc));
		skd_send_error(d, p.to, p.req_id, "wait", "internal-server-error",
		    "the sync service could not read the roster; try again later");
	} else {
		if (p.checkpoint)
			run_checkpoint(d, &p, v);
		else
			run_sync(d, &p, v);
		/* kept for the next sync while exact (a versioned roster) */
		if (owned != NULL && (rc = sk_views_put(d->views, p.bare, ver, &hidden, owned)) != 0)
			log_warnx("view of %s not kept: %s", p.bare, sk_strerror(rc));
		skd_ingest_flush(d, 0);
	}
	sk_strv_free(&hidden);
out:
	pending_free(&p);
	return 1;
}

void
skd_request_tick(struct skd *d)
{
	uint64_t now = d->now_ms();
	size_t i = 0;
	char text[160];

	while (i < d->npending) {
		struct skd_pending *p = &d->pending[i];

		if (now < p->deadline) {
			i++;
			continue;
		}
		snprintf(text, sizeof(text), "the server did not answer the roster fetch "
		    "within %u s; try again", d->cfg->roster_timeout);
		log_warnx("roster fetch for %s timed out", p->bare);
		skd_send_error(d, p->to, p->req_id, "wait", "remote-server-timeout", text);
		pending_remove(d, i);
	}
}
