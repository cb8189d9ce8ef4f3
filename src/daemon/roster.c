/* roster.c - roster fetches in flight (a view or a privileged roster get) and what their answers run */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "error.h"
#include "key.h"
#include "log.h"
#include "xml.h"

/* A roster fetch in flight for one request; in d->fetches under id. */
struct skd_fetch {
	char		 id[32];	/* our roster get's (or view's) id */
	struct skd_origin *o;		/* where the answer goes (owned) */
	char		*bare, *client, *key;
	char		*ver;		/* the roster version we hold, or NULL */
	char		*from;		/* who answers: the user, or the adapter */
	int		 checkpoint;
	int		 dom;		/* the user's domain (d->adapter[dom]) */
	int		 fresh;		/* asked without a version after a change
					   list was not applied: not asked again */
};

/*
 * Change lists (doc/adapter-protocol.md "Change lists"): with a version, synckeyd asks the
 * adapter for the items changed since it, up to SKD_CHANGES_MAX items of
 * SKD_CHANGES_BYTES bytes of strings; a list beyond is a whole roster.
 */
#define SKD_CHANGES_MAX		256
#define SKD_CHANGES_MAX_S	"256"	/* the same, as the request says it */
#define SKD_CHANGES_BYTES	65536

void
skd_roster_fetch_free(void *data)
{
	struct skd_fetch *f = data;

	if (f == NULL)
		return;
	free(f->o);
	free(f->bare);
	free(f->client);
	free(f->key);
	free(f->ver);
	free(f->from);
	free(f);
}

/* What a fetch holds, about. */
static size_t
fetch_bytes(const struct skd_origin *o, const char *bare, const char *client,
    const char *key, const char *from)
{
	return sizeof(struct skd_fetch) + skd_origin_size(o) + strlen(bare) + strlen(client) +
	    (key ? strlen(key) : 0) + SK_ROSTER_VER_MAX + strlen(from) + 5;
}

/*
 * Whether one more fetch of bytes fits the budgets of requests in flight
 * (max-pending and max-pending-bytes for all, max-user-pending and
 * max-user-pending-bytes for bare): NULL, or the name of the limit.
 */
static const char *
over_budget(const struct skd *d, const char *bare, size_t bytes)
{
	size_t n, held;

	if (d->fetches.n >= d->cfg->max_pending)
		return "max-pending";
	if (d->fetches.bytes + bytes > d->cfg->max_pending_bytes)
		return "max-pending-bytes";
	skd_table_owned(&d->fetches, bare, &n, &held);
	if (n >= d->cfg->max_user_pending)
		return "max-user-pending";
	if (held + bytes > d->cfg->max_user_pending_bytes)
		return "max-user-pending-bytes";
	return NULL;
}

/*
 * Sends the roster get and remembers the request.  With the server
 * adapter (adapter.c) the get is a view: the roster only when it changed
 * since the version stored here (or the items changed since), and the
 * contacts hidden from the user.  fresh: a view without a version.
 */
static int
fetch(struct skd *d, int dom, const struct skd_origin *o, const char *bare,
    const char *client, const char *key, int checkpoint, int fresh, const char **limit)
{
	char ver[SK_ROSTER_VER_MAX + 1] = "", adapter[SKD_JID_MAX];
	struct skd_fetch *f;
	xmpp_stanza_t *iq = NULL, *q = NULL;
	size_t bytes;
	int view, rc = ENOMEM;

	/* a view is asked of the adapter, with the user named inside */
	view = d->adapter[dom] && skd_adapter_jid(d, dom, adapter, sizeof(adapter)) == 0;
	bytes = fetch_bytes(o, bare, client, key, view ? adapter : bare);
	if ((*limit = over_budget(d, bare, bytes)) != NULL)
		return SK_EFULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return ENOMEM;
	snprintf(f->id, sizeof(f->id), "roster%lu", ++d->next_id);
	f->o = skd_origin_dup(o);
	f->bare = strdup(bare);
	f->client = strdup(client);
	f->key = key ? strdup(key) : NULL;
	f->from = strdup(view ? adapter : bare);
	f->checkpoint = checkpoint;
	f->dom = dom;
	f->fresh = fresh;
	if (!f->o || !f->bare || !f->client || (key && !f->key) || !f->from ||
	    (iq = skd_iq_new(d, "get", f->from, f->id)) == NULL ||
	    (q = xmpp_stanza_new(d->ctx)) == NULL)
		goto fail;
	if (view) {
		xmpp_stanza_set_name(q, "view");
		xmpp_stanza_set_ns(q, SK_NS_ADAPTER);
		xmpp_stanza_set_attribute(q, "jid", bare);
		if (!fresh && sk_store_roster_ver(d->store, bare, ver) == 0 && ver[0] != '\0') {
			xmpp_stanza_set_attribute(q, "ver", ver);
			xmpp_stanza_set_attribute(q, "changes", SKD_CHANGES_MAX_S);
			f->ver = strdup(ver);	/* NULL: only no view is used again */
		}
	} else {
		xmpp_stanza_set_name(q, "query");
		xmpp_stanza_set_ns(q, SK_NS_ROSTER);
	}
	xmpp_stanza_add_child(iq, q);
	if ((rc = skd_table_add(&d->fetches, f->id,
	    d->now_ms() + (uint64_t)d->cfg->roster_timeout * 1000, f, f->bare, bytes)) != 0)
		goto fail;
	skd_send(d, iq);
	xmpp_stanza_release(q);
	xmpp_stanza_release(iq);
	return 0;
fail:
	if (q)
		xmpp_stanza_release(q);
	if (iq)
		xmpp_stanza_release(iq);
	skd_roster_fetch_free(f);
	return rc;
}

int
skd_roster_fetch(struct skd *d, int dom, const struct skd_origin *o, const char *bare,
    const char *client, const char *key, int checkpoint, const char **limit)
{
	return fetch(d, dom, o, bare, client, key, checkpoint, 0, limit);
}

static void
run_checkpoint(struct skd *d, const struct skd_fetch *f, struct sk_view *v)
{
	char newkey[SK_KEY_MAX + 1], text[160];
	int rc;

	rc = sk_sync_checkpoint_view(d->store, &d->sync, f->bare, f->client, f->key, v,
	    (uint64_t)d->now_s(), newkey);
	if (rc == SK_EKEY || rc == SK_EEXPIRED || rc == SK_ERESET || rc == SK_ENOTFOUND) {
		snprintf(text, sizeof(text), "the key cannot be used for a checkpoint (%s): "
		    "keep the key you have and sync", sk_strerror(rc));
		skd_reply_error(d, f->o, "cancel", "item-not-found", text);
	} else if (rc != 0) {
		log_limited(LOG_LVL_WARN, "checkpoint failed", "checkpoint of %s/%s failed: %s", f->bare, f->client, sk_strerror(rc));
		skd_reply_error(d, f->o, "wait", "internal-server-error",
		    "the sync store failed; try again later");
	} else {
		skd_answer_checkpoint(d, f->o, newkey);
	}
}

static void
run_sync(struct skd *d, const struct skd_fetch *p, struct sk_view *v)
{
	struct sk_sync_result res;
	int rc;

	rc = sk_sync_run_view(d->store, &d->sync, p->bare, p->client, p->key, v,
	    p->o->version, (uint64_t)d->now_s(), &res);
	if (rc != 0) {
		log_limited(LOG_LVL_WARN, "sync failed", "sync of %s/%s failed: %s", p->bare, p->client, sk_strerror(rc));
		skd_reply_error(d, p->o, "wait", "internal-server-error",
		    "the sync store failed; try again later");
		return;
	}
	log_debug("sync %s/%s: %s%s%s, %zu changes", p->bare, p->client,
	    res.full ? "full" : "delta", res.full ? " " : "",
	    res.full ? sk_reason_name(res.reason) : "", res.changes.n);
	skd_answer_sync(d, p->o, p->bare, p->client, &res, &v->live);
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
answer_roster(struct skd *d, const struct skd_fetch *p, xmpp_stanza_t *iq,
    xmpp_stanza_t *view, struct sk_state *live, const char **ver, size_t *skipped)
{
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name_and_ns(view ? view : iq, "query", SK_NS_ROSTER);
	int rc;

	*ver = NULL;
	if (view != NULL && xmpp_stanza_get_child_by_name(view, "unchanged") != NULL) {
		if ((rc = sk_store_roster_get(d->store, p->bare, live)) != 0) {
			/* asked with a version we no longer hold: ask afresh */
			log_limited(LOG_LVL_WARN, "roster store", "stored roster of %s unusable (%s): dropped", p->bare, sk_strerror(rc));
			(void)sk_store_roster_del(d->store, p->bare);
			return rc;
		}
		*ver = p->ver;
	} else if (view != NULL && q == NULL) {
		return SK_EINVAL;	/* neither the roster nor "unchanged" */
	} else if (q != NULL && (rc = sk_xml_roster_parse(q, live, skipped)) != 0) {
		return rc;
	} else if (view != NULL) {
		if (p->ver != NULL && xmpp_stanza_get_attribute(view, "why") != NULL)
			log_debug("roster of %s: the whole roster since %s (%.120s)", p->bare, p->ver,
			    xmpp_stanza_get_attribute(view, "why"));
		/* kept for the next "changed since?"; without a version, not */
		*ver = xmpp_stanza_get_attribute(view, "ver");
		if (*ver == NULL || strlen(*ver) > SK_ROSTER_VER_MAX) {
			*ver = NULL;
			rc = sk_store_roster_del(d->store, p->bare);
		} else {
			rc = sk_store_roster_put(d->store, p->bare, *ver, live);
		}
		if (rc != 0) {
			log_limited(LOG_LVL_WARN, "roster store", "roster of %s not stored: %s", p->bare, sk_strerror(rc));
			*ver = NULL;
		}
	}
	return 0;
}

/*
 * The items of a change list into ch, sorted: every <item/> of its
 * jabber:iq:roster <query/> must parse (a left-out item would be a wrong
 * delta), each JID once, at most SKD_CHANGES_MAX items and
 * SKD_CHANGES_BYTES bytes of strings.  0, or why not (a static string).
 */
static const char *
changes_parse(xmpp_stanza_t *changes, struct sk_state *ch)
{
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name_and_ns(changes, "query", SK_NS_ROSTER);
	size_t bytes = 0, skipped = 0, i, g;
	int rc;

	if (q == NULL)
		return "no roster query in it";
	/* through the roster parser: in synckeyd the query's items were
	   captured from expat (xml.h), its tree holds none */
	if ((rc = sk_xml_roster_parse(q, ch, &skipped)) != 0)
		return rc == ENOMEM ? "out of memory" : "its items cannot be read";
	if (skipped > 0)
		return "a malformed item";
	if (ch->nitems > SKD_CHANGES_MAX)
		return "more items than asked for (" SKD_CHANGES_MAX_S ")";
	for (i = 0; i < ch->nitems; i++) {
		const struct sk_item *it = &ch->items[i];

		bytes += strlen(it->jid) + (it->name ? strlen(it->name) : 0);
		for (g = 0; g < it->ngroups; g++)
			bytes += strlen(it->groups[g]) + 1;
	}
	if (bytes > SKD_CHANGES_BYTES)
		return "over the byte bound";
	sk_state_sort(ch);
	for (i = 1; i < ch->nitems; i++)
		if (strcmp(ch->items[i - 1].jid, ch->items[i].jid) == 0)
			return "an item twice";
	return NULL;
}

/*
 * The adapter's change list (<changes since='V'/>): applied to the roster
 * stored here and to the kept view only when V is the version synckeyd
 * asked with and still holds; the view then answers from the kept view
 * changed, or one built from the changed stored roster (*owned).  NULL,
 * or why not (static): the caller then asks for the whole roster.
 */
static const char *
view_changed(struct skd *d, const struct skd_fetch *p, xmpp_stanza_t *view,
    xmpp_stanza_t *changes, const struct sk_strv *hidden, struct sk_view **v,
    struct sk_view **owned, const char **ver)
{
	const char *since = xmpp_stanza_get_attribute(changes, "since"), *why;
	const char *nver = xmpp_stanza_get_attribute(view, "ver");
	struct sk_state ch, live;
	int rc;

	if (p->ver == NULL)
		return "asked without a version";
	if (since == NULL || strcmp(since, p->ver) != 0)
		return "changes since another version than the one asked with";
	if (nver == NULL || nver[0] == '\0' || strlen(nver) > SK_ROSTER_VER_MAX)
		return "no usable new version";
	sk_state_init(&ch);
	sk_state_init(&live);
	if ((why = changes_parse(changes, &ch)) != NULL)
		goto out;
	if ((rc = sk_store_roster_apply(d->store, p->bare, since, nver, &ch)) != 0) {
		why = rc == SK_ENOTFOUND ? "the stored roster is no longer of that version" :
		    "the stored roster cannot be changed";
		goto out;
	}
	if ((*v = sk_views_apply(d->views, d->store, p->bare, since, nver, hidden, &ch)) == NULL) {
		/* no view kept for since: built from the changed roster */
		if (sk_store_roster_get(d->store, p->bare, &live) != 0 ||
		    sk_view_build(d->store, &live, hidden, owned) != 0) {
			why = "the changed roster cannot be read";
			goto out;
		}
		*v = *owned;
	}
	*ver = nver;
	log_debug("roster of %s: %zu changes since %s applied (%s)", p->bare, ch.nitems, since,
	    *owned ? "view built from the stored roster" : "kept view changed");
out:
	sk_state_free(&ch);
	sk_state_free(&live);
	return why;
}

/*
 * The view to answer from: the one kept for the user when the roster is
 * the version it was built from (the adapter said "unchanged") and it
 * is still exact, else one built now (*owned, the caller's).
 */
static int
view_for(struct skd *d, const struct skd_fetch *p, xmpp_stanza_t *iq,
    const struct sk_strv *hidden, struct sk_view **v, struct sk_view **owned,
    const char **ver, int *again)
{
	xmpp_stanza_t *view = xmpp_stanza_get_child_by_name_and_ns(iq, "view", SK_NS_ADAPTER);
	xmpp_stanza_t *changes = view ? xmpp_stanza_get_child_by_name(view, "changes") : NULL;
	struct sk_state live;
	size_t skipped = 0;
	const char *why;
	int rc;

	*owned = NULL;
	*again = 0;
	if (changes != NULL) {
		if ((why = view_changed(d, p, view, changes, hidden, v, owned, ver)) == NULL)
			return 0;
		/* never a wrong delta: the whole roster, asked afresh */
		log_limited(LOG_LVL_WARN, "roster changes refused", "change list for %s since %s not applied (%s): "
		    "asking for the whole roster", p->bare, p->ver ? p->ver : "(none)", why);
		sk_view_free(*owned);
		*owned = NULL;
		sk_views_drop(d->views, p->bare);
		(void)sk_store_roster_del(d->store, p->bare);
		*again = 1;
		return SK_EINVAL;
	}
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
		log_limited(LOG_LVL_WARN, "roster malformed items", "roster of %s: %zu malformed items left out", p->bare, skipped);
	*v = *owned;
	return rc;
}

int
skd_roster_result(struct skd *d, xmpp_stanza_t *iq)
{
	const char *id = xmpp_stanza_get_id(iq), *from = xmpp_stanza_get_from(iq);
	struct sk_view *v, *owned;
	struct skd_fetch *p;
	struct sk_strv hidden;
	const char *ver, *limit = NULL;
	char text[256];
	int rc, again = 0;

	if ((p = skd_table_get(&d->fetches, id)) == NULL)
		return 0;
	if (from == NULL || strcmp(from, p->from) != 0) {
		log_limited(LOG_LVL_WARN, "roster answer from elsewhere", "roster answer %s from %s, not from %s: ignored", id,
		    from ? from : "(none)", p->from);
		return 1;		/* keep waiting */
	}
	(void)skd_table_take(&d->fetches, id);	/* p is ours now */
	if (strcmp(xmpp_stanza_get_type(iq), "error") == 0) {
		xmpp_stanza_t *e = xmpp_stanza_get_child_by_name(iq, "error");
		xmpp_stanza_t *c = e ? xmpp_stanza_get_children(e) : NULL;

		snprintf(text, sizeof(text), "the server refused to give the sync service the roster (%s)",
		    c && xmpp_stanza_get_name(c) ? xmpp_stanza_get_name(c) : "no condition");
		log_limited(LOG_LVL_WARN, "roster fetch error", "roster fetch for %s: %s", p->bare, text);
		skd_reply_error(d, p->o, "cancel", "service-unavailable", text);
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
		skd_reply_error(d, p->o, "wait", "resource-constraint",
		    "the sync store cannot be written (full or failing); try again later");
		goto out;
	}
	sk_strv_init(&hidden);
	if ((rc = answer_hidden(xmpp_stanza_get_child_by_name_and_ns(iq, "view", SK_NS_ADAPTER),
	    &hidden)) == 0 &&
	    (rc = view_for(d, p, iq, &hidden, &v, &owned, &ver, &again)) != 0 && again &&
	    !p->fresh && (rc = fetch(d, p->dom, p->o, p->bare, p->client, p->key,
	    p->checkpoint, 1, &limit)) == 0) {
		/* the answer goes out when the whole roster came */
	} else if (rc != 0) {
		log_limited(LOG_LVL_WARN, "roster store", "roster of %s not usable: %s", p->bare, sk_strerror(rc));
		skd_reply_error(d, p->o, "wait", "internal-server-error",
		    "the sync service could not read the roster; try again later");
	} else {
		if (p->checkpoint)
			run_checkpoint(d, p, v);
		else
			run_sync(d, p, v);
		/* kept for the next sync while exact (a versioned roster) */
		size_t vbytes = owned != NULL ? owned->bytes : 0;

		if (owned != NULL && (rc = sk_views_put(d->views, p->bare, ver, &hidden, owned)) == SK_EFULL)
			log_limited(LOG_LVL_INFO, "max-user-view-bytes", "view of %s (%zu bytes) not kept: "
			    "over max-user-view-bytes (%zu) or max-view-bytes (%zu)", p->bare, vbytes,
			    d->cfg->max_user_view_bytes, d->cfg->max_view_bytes);
		else if (owned != NULL && rc != 0)
			log_limited(LOG_LVL_WARN, "roster store", "view of %s not kept: %s", p->bare, sk_strerror(rc));
		skd_ingest_flush(d, 0);
	}
	sk_strv_free(&hidden);
out:
	skd_roster_fetch_free(p);
	return 1;
}

static void
timed_out(void *ctx, void *data)
{
	struct skd *d = ctx;
	struct skd_fetch *p = data;
	char text[160];

	snprintf(text, sizeof(text), "the server did not answer the roster fetch "
	    "within %u s; try again", d->cfg->roster_timeout);
	log_limited(LOG_LVL_WARN, "roster timeout", "roster fetch for %s timed out", p->bare);
	skd_reply_error(d, p->o, "wait", "remote-server-timeout", text);
}

void
skd_roster_tick(struct skd *d)
{
	skd_table_expire(&d->fetches, d->now_ms(), timed_out, d);
}
