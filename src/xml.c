/* xml.c - roster items, presence and sync results as libstrophe stanzas */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "text.h"
#include "xml.h"

static int
cmp_attr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Canonical text of one element: name, namespace, attributes sorted by
 * name, children in order, text escaped.  Deterministic whatever order
 * libstrophe keeps attributes in, so equal children give equal text.
 */
static void
canon(struct sk_text *b, xmpp_stanza_t *st)
{
	const char *attrs[64], *ns;
	xmpp_stanza_t *c;
	int n, i;

	if (xmpp_stanza_is_text(st)) {
		const char *t = xmpp_stanza_get_text_ptr(st);

		t = t ? t : "";
		sk_text_esc(b, t, strlen(t));
		return;
	}
	sk_text_str(b, "<");
	sk_text_str(b, xmpp_stanza_get_name(st) ? xmpp_stanza_get_name(st) : "");
	if ((ns = xmpp_stanza_get_ns(st)) != NULL) {
		sk_text_str(b, " xmlns=\"");
		sk_text_esc(b, ns, strlen(ns));
		sk_text_str(b, "\"");
	}
	n = xmpp_stanza_get_attributes(st, attrs, 64);
	if (n > 64)
		n = 64;
	qsort(attrs, (size_t)n / 2, 2 * sizeof(char *), cmp_attr);
	for (i = 0; i + 1 < n; i += 2) {
		if (strcmp(attrs[i], "xmlns") == 0)
			continue;
		sk_text_str(b, " ");
		sk_text_str(b, attrs[i]);
		sk_text_str(b, "=\"");
		sk_text_esc(b, attrs[i + 1], strlen(attrs[i + 1]));
		sk_text_str(b, "\"");
	}
	sk_text_str(b, ">");
	for (c = xmpp_stanza_get_children(st); c; c = xmpp_stanza_get_next(c))
		canon(b, c);
	sk_text_str(b, "</>");
}

static char *
child_text(xmpp_stanza_t *st, const char *name)
{
	xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(st, name);

	return c ? xmpp_stanza_get_text(c) : NULL;
}

/* ---- roster items --------------------------------------------------------- */

int
sk_xml_item_parse(xmpp_stanza_t *item, struct sk_item *out)
{
	xmpp_ctx_t *ctx = xmpp_stanza_get_context(item);
	const char *jid = xmpp_stanza_get_attribute(item, "jid");
	const char *ask = xmpp_stanza_get_attribute(item, "ask");
	static char empty[] = "";
	char *groups[256];
	struct sk_item it = { 0 };
	xmpp_stanza_t *c;
	size_t i;
	int sub, rc;

	memset(out, 0, sizeof(*out));
	sub = sk_sub_parse(xmpp_stanza_get_attribute(item, "subscription"));
	if (jid == NULL || jid[0] == '\0' || sub < 0)
		return SK_EINVAL;
	it.jid = (char *)jid;
	it.name = (char *)xmpp_stanza_get_attribute(item, "name");
	it.sub = (enum sk_sub)sub;
	it.ask = ask != NULL && strcmp(ask, "subscribe") == 0;
	it.groups = groups;
	for (c = xmpp_stanza_get_children(item); c && it.ngroups < 256;
	    c = xmpp_stanza_get_next(c)) {
		const char *name = xmpp_stanza_get_name(c);

		if (name && strcmp(name, "group") == 0) {
			char *t = xmpp_stanza_get_text(c);

			groups[it.ngroups++] = t ? t : NULL;
		}
	}
	for (i = 0; i < it.ngroups; i++)
		if (groups[i] == NULL)
			groups[i] = empty;	/* <group/>: an empty name */
	rc = sk_item_copy(out, &it);
	for (i = 0; i < it.ngroups; i++)
		if (groups[i] != empty)
			xmpp_free(ctx, groups[i]);
	return rc;
}

xmpp_stanza_t *
sk_xml_item_new(xmpp_ctx_t *ctx, const struct sk_item *it)
{
	xmpp_stanza_t *item = xmpp_stanza_new(ctx), *g, *t;
	size_t i;

	if (item == NULL)
		return NULL;
	xmpp_stanza_set_name(item, "item");
	xmpp_stanza_set_attribute(item, "jid", it->jid);
	if (it->name != NULL && it->sub != SK_SUB_REMOVE)
		xmpp_stanza_set_attribute(item, "name", it->name);
	xmpp_stanza_set_attribute(item, "subscription", sk_sub_name(it->sub));
	if (it->ask && it->sub != SK_SUB_REMOVE)
		xmpp_stanza_set_attribute(item, "ask", "subscribe");
	for (i = 0; it->sub != SK_SUB_REMOVE && i < it->ngroups; i++) {
		g = xmpp_stanza_new(ctx);
		t = xmpp_stanza_new(ctx);
		xmpp_stanza_set_name(g, "group");
		xmpp_stanza_set_text(t, it->groups[i]);
		xmpp_stanza_add_child(g, t);
		xmpp_stanza_add_child(item, g);
		xmpp_stanza_release(t);
		xmpp_stanza_release(g);
	}
	return item;
}

int
sk_xml_roster_parse(xmpp_stanza_t *query, struct sk_state *st, size_t *skipped)
{
	xmpp_stanza_t *c;
	int rc;

	if (skipped)
		*skipped = 0;
	for (c = xmpp_stanza_get_children(query); c; c = xmpp_stanza_get_next(c)) {
		const char *name = xmpp_stanza_get_name(c);
		struct sk_item it;

		if (name == NULL || strcmp(name, "item") != 0)
			continue;
		if (sk_xml_item_parse(c, &it) != 0) {
			if (skipped)
				(*skipped)++;
			continue;
		}
		if ((rc = sk_state_adopt_item(st, &it)) != 0) {
			sk_item_free(&it);
			return rc;
		}
	}
	return 0;
}

/* ---- presence --------------------------------------------------------------- */

static const char *
lang_of(xmpp_stanza_t *st)
{
	const char *l = xmpp_stanza_get_attribute(st, "xml:lang");

	/* libstrophe keeps a received xml:lang as plain "lang" */
	return l ? l : xmpp_stanza_get_attribute(st, "lang");
}

/* protocol.md: the <status/> without xml:lang, else the first one. */
static xmpp_stanza_t *
pick_status(xmpp_stanza_t *pres)
{
	xmpp_stanza_t *c, *first = NULL;

	for (c = xmpp_stanza_get_children(pres); c; c = xmpp_stanza_get_next(c)) {
		const char *name = xmpp_stanza_get_name(c);

		if (name == NULL || strcmp(name, "status") != 0)
			continue;
		if (lang_of(c) == NULL)
			return c;
		if (first == NULL)
			first = c;
	}
	return first;
}

static int
is_delay(xmpp_stanza_t *c)
{
	const char *ns = xmpp_stanza_get_ns(c);

	return ns && (strcmp(ns, SK_NS_DELAY) == 0 || strcmp(ns, "jabber:x:delay") == 0);
}

/*
 * A presence forwarded to a component arrives in jabber:component:accept
 * (and libstrophe keeps that namespace on every child it parsed); the
 * client receives it in jabber:client.  libstrophe also keeps a received
 * xml:lang as "lang": put it back.
 */
static void
to_client_ns(xmpp_stanza_t *st)
{
	const char *ns = xmpp_stanza_get_ns(st), *lang;
	xmpp_stanza_t *c;

	if (xmpp_stanza_is_text(st))
		return;
	if (ns != NULL && strcmp(ns, "jabber:component:accept") == 0)
		xmpp_stanza_set_ns(st, SK_NS_CLIENT);
	if ((lang = xmpp_stanza_get_attribute(st, "lang")) != NULL) {
		char *l = strdup(lang);

		if (l != NULL) {
			xmpp_stanza_del_attribute(st, "lang");
			xmpp_stanza_set_attribute(st, "xml:lang", l);
			free(l);
		}
	}
	for (c = xmpp_stanza_get_children(st); c; c = xmpp_stanza_get_next(c))
		to_client_ns(c);
}

int
sk_xml_pres_parse(xmpp_stanza_t *pres, struct sk_pres *out, int *available)
{
	xmpp_ctx_t *ctx = xmpp_stanza_get_context(pres);
	const char *from = xmpp_stanza_get_attribute(pres, "from");
	const char *type = xmpp_stanza_get_type(pres);
	char *show = NULL, *status = NULL, *prio = NULL, *xml = NULL;
	xmpp_stanza_t *c, *copy = NULL;
	struct sk_text ext = { 0 };
	struct sk_pres p = { 0 };
	size_t len;
	long pr;
	int rc = ENOMEM;

	memset(out, 0, sizeof(*out));
	if (from == NULL || from[0] == '\0')
		return SK_EINVAL;
	if (type != NULL && strcmp(type, "unavailable") == 0) {
		*available = 0;
		return (out->jid = strdup(from)) ? 0 : ENOMEM;
	}
	if (type != NULL)
		return SK_ENOTFOUND;	/* subscription, probe, error: not state */
	*available = 1;
	show = child_text(pres, "show");
	if ((c = pick_status(pres)) != NULL)
		status = xmpp_stanza_get_text(c);
	prio = child_text(pres, "priority");
	pr = prio ? strtol(prio, NULL, 10) : 0;
	if ((copy = xmpp_stanza_copy(pres)) == NULL)
		goto out;
	xmpp_stanza_del_attribute(copy, "to");
	xmpp_stanza_set_ns(copy, SK_NS_CLIENT);
	to_client_ns(copy);
	/* Equality counts every child but <delay/>, in the client's terms. */
	for (c = xmpp_stanza_get_children(copy); c; c = xmpp_stanza_get_next(c))
		if (!xmpp_stanza_is_text(c) && !is_delay(c))
			canon(&ext, c);
	if (ext.oom)
		goto out;
	if (xmpp_stanza_to_text(copy, &xml, &len) != XMPP_EOK)
		goto out;
	p.jid = (char *)from;
	p.show = show;
	p.status = status ? status : (pick_status(pres) ? "" : NULL);
	p.priority = pr < -128 ? -128 : pr > 127 ? 127 : (int)pr;
	p.ext = ext.s;
	p.xml = xml;
	rc = sk_pres_copy(out, &p);
out:
	if (copy)
		xmpp_stanza_release(copy);
	if (xml)
		xmpp_free(ctx, xml);
	if (show)
		xmpp_free(ctx, show);
	if (status)
		xmpp_free(ctx, status);
	if (prio)
		xmpp_free(ctx, prio);
	sk_text_free(&ext);
	return rc;
}

static void
add_text_child(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name, const char *text)
{
	xmpp_stanza_t *c = xmpp_stanza_new(ctx), *t = xmpp_stanza_new(ctx);

	xmpp_stanza_set_name(c, name);
	xmpp_stanza_set_text(t, text);
	xmpp_stanza_add_child(c, t);
	xmpp_stanza_add_child(parent, c);
	xmpp_stanza_release(t);
	xmpp_stanza_release(c);
}

xmpp_stanza_t *
sk_xml_pres_new(xmpp_ctx_t *ctx, const struct sk_pres *p)
{
	xmpp_stanza_t *st = NULL;

	if (p->xml != NULL)
		st = xmpp_stanza_new_from_string(ctx, p->xml);
	if (st != NULL) {
		xmpp_stanza_del_attribute(st, "to");
		xmpp_stanza_set_ns(st, SK_NS_CLIENT);
		return st;
	}
	if ((st = xmpp_stanza_new(ctx)) == NULL)
		return NULL;
	xmpp_stanza_set_name(st, "presence");
	xmpp_stanza_set_ns(st, SK_NS_CLIENT);
	xmpp_stanza_set_attribute(st, "from", p->jid);
	if (p->show)
		add_text_child(ctx, st, "show", p->show);
	if (p->status)
		add_text_child(ctx, st, "status", p->status);
	if (p->priority != 0) {
		char num[16];

		snprintf(num, sizeof(num), "%d", p->priority);
		add_text_child(ctx, st, "priority", num);
	}
	return st;
}

xmpp_stanza_t *
sk_xml_unavailable_new(xmpp_ctx_t *ctx, const char *jid, size_t len)
{
	xmpp_stanza_t *st = xmpp_stanza_new(ctx);
	char *from = strndup(jid, len);

	if (st == NULL || from == NULL) {
		if (st)
			xmpp_stanza_release(st);
		free(from);
		return NULL;
	}
	xmpp_stanza_set_name(st, "presence");
	xmpp_stanza_set_ns(st, SK_NS_CLIENT);
	xmpp_stanza_set_attribute(st, "from", from);
	xmpp_stanza_set_type(st, "unavailable");
	free(from);
	return st;
}

/* ---- sync results ------------------------------------------------------------ */

int
sk_xml_update_parse(xmpp_stanza_t *sync, struct sk_update *u)
{
	xmpp_stanza_t *c;
	int rc = 0;

	for (c = xmpp_stanza_get_children(sync); c && rc == 0; c = xmpp_stanza_get_next(c)) {
		const char *name = xmpp_stanza_get_name(c);

		if (name == NULL)
			continue;
		if (strcmp(name, "query") == 0) {
			xmpp_stanza_t *i;

			for (i = xmpp_stanza_get_children(c); i && rc == 0; i = xmpp_stanza_get_next(i)) {
				struct sk_item it;
				const char *iname = xmpp_stanza_get_name(i);

				if (iname == NULL || strcmp(iname, "item") != 0)
					continue;
				if ((rc = sk_xml_item_parse(i, &it)) != 0)
					break;
				if ((rc = sk_state_adopt_item(&u->put, &it)) != 0)
					sk_item_free(&it);
			}
		} else if (strcmp(name, "presence") == 0) {
			struct sk_pres p;
			int avail;

			if ((rc = sk_xml_pres_parse(c, &p, &avail)) != 0)
				break;
			if (avail)
				rc = sk_state_adopt_pres(&u->put, &p);
			else if (strchr(p.jid, '/') != NULL)
				rc = sk_strv_add(&u->gone, p.jid, strlen(p.jid));
			else
				rc = sk_strv_add(&u->gone_all, p.jid, strlen(p.jid));
			sk_pres_free(&p);
		}
	}
	return rc;
}
