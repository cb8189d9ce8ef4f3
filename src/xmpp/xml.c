/* xml.c - roster items, presence and sync results as libstrophe stanzas */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "error.h"
#include "record.h"
#include "text.h"
#include "xitem.h"
#include "xml.h"

/*
 * The one XML writer for received trees, without recursion.  It writes a
 * presence as a client receives it (W_CLIENT: xmlns='jabber:client' on
 * top and wherever the server's jabber:component:accept was, no `to` on
 * top, libstrophe's "lang" back to xml:lang, namespaces only where they
 * change), or the canonical text of one child that presence equality
 * compares (W_CANON: namespace on every element, attributes sorted by
 * name, "</>" for every end tag).  A tree deeper than SK_XML_DEPTH_MAX or
 * an element with more than SK_XML_ATTRS_MAX attributes is refused with
 * SK_ETOOBIG; what was written by then is the caller's to drop.
 */
enum wmode { W_CLIENT, W_CANON };

#define NS_XML	"http://www.w3.org/XML/1998/namespace"

static int
cmp_attr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *
client_ns(xmpp_stanza_t *st)
{
	const char *ns = xmpp_stanza_get_ns(st);

	return ns && strcmp(ns, "jabber:component:accept") == 0 ? SK_NS_CLIENT : ns;
}

static int
open_tag(struct sk_text *b, xmpp_stanza_t *st, const char *parent_ns, int top, enum wmode m)
{
	const char *attrs[2 * SK_XML_ATTRS_MAX], *ns = client_ns(st);
	const char *name = xmpp_stanza_get_name(st);
	int n, i;

	if (xmpp_stanza_get_attribute_count(st) > SK_XML_ATTRS_MAX)
		return SK_ETOOBIG;
	/* <xml:x/> is well-formed, but its namespace may never be declared
	   as a default one: such a tree is not written (found by fuzzing) */
	if (ns != NULL && strcmp(ns, NS_XML) == 0)
		return SK_EINVAL;
	n = xmpp_stanza_get_attributes(st, attrs, 2 * SK_XML_ATTRS_MAX);
	for (i = 0; i + 1 < n; i += 2)
		if (strcmp(attrs[i], "lang") == 0)
			attrs[i] = "xml:lang";
	if (m == W_CANON)
		qsort(attrs, (size_t)n / 2, 2 * sizeof(char *), cmp_attr);
	sk_text_str(b, "<");
	sk_text_str(b, name ? name : "");
	if (top && m == W_CLIENT)
		ns = SK_NS_CLIENT;
	if (ns != NULL && (m == W_CANON || parent_ns == NULL || strcmp(ns, parent_ns) != 0)) {
		sk_text_str(b, " xmlns=\"");
		sk_text_esc(b, ns, strlen(ns));
		sk_text_str(b, "\"");
	}
	for (i = 0; i + 1 < n; i += 2) {
		if (strcmp(attrs[i], "xmlns") == 0 || (top && m == W_CLIENT && strcmp(attrs[i], "to") == 0))
			continue;
		sk_text_str(b, " ");
		sk_text_str(b, attrs[i]);
		sk_text_str(b, "=\"");
		sk_text_esc(b, attrs[i + 1], strlen(attrs[i + 1]));
		sk_text_str(b, "\"");
	}
	if (m == W_CANON)
		sk_text_str(b, ">");
	else
		sk_text_str(b, xmpp_stanza_get_children(st) ? ">" : "/>");
	return 0;
}

static void
close_tag(struct sk_text *b, xmpp_stanza_t *st, enum wmode m)
{
	const char *name = xmpp_stanza_get_name(st);

	if (m == W_CANON) {
		sk_text_str(b, "</>");
	} else if (xmpp_stanza_get_children(st) != NULL) {
		sk_text_str(b, "</");
		sk_text_str(b, name ? name : "");
		sk_text_str(b, ">");
	}
}

static int
write_tree(struct sk_text *b, xmpp_stanza_t *top, enum wmode m)
{
	xmpp_stanza_t *path[SK_XML_DEPTH_MAX], *cur;
	const char *ns[SK_XML_DEPTH_MAX];
	size_t d = 0;
	int rc;

	if (xmpp_stanza_is_text(top)) {
		const char *t = xmpp_stanza_get_text_ptr(top);

		sk_text_esc(b, t ? t : "", t ? strlen(t) : 0);
		return 0;
	}
	if ((rc = open_tag(b, top, NULL, 1, m)) != 0)
		return rc;
	path[0] = top;
	ns[0] = m == W_CLIENT ? SK_NS_CLIENT : client_ns(top);
	cur = xmpp_stanza_get_children(top);
	for (;;) {
		if (cur == NULL) {
			close_tag(b, path[d], m);
			if (d == 0)
				return 0;
			cur = xmpp_stanza_get_next(path[d--]);
		} else if (xmpp_stanza_is_text(cur)) {
			const char *t = xmpp_stanza_get_text_ptr(cur);

			sk_text_esc(b, t ? t : "", t ? strlen(t) : 0);
			cur = xmpp_stanza_get_next(cur);
		} else {
			if (d + 1 == SK_XML_DEPTH_MAX)
				return SK_ETOOBIG;
			if ((rc = open_tag(b, cur, ns[d], 0, m)) != 0)
				return rc;
			path[++d] = cur;
			ns[d] = client_ns(cur) ? client_ns(cur) : ns[d - 1];
			cur = xmpp_stanza_get_children(cur);
		}
	}
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
	char *groups[SK_ITEM_GROUPS_MAX];
	xmpp_stanza_t *c;
	size_t i, n = 0;
	int rc;

	for (c = xmpp_stanza_get_children(item); c && n < SK_ITEM_GROUPS_MAX;
	    c = xmpp_stanza_get_next(c)) {
		const char *name = xmpp_stanza_get_name(c);

		if (name && strcmp(name, "group") == 0)
			groups[n++] = xmpp_stanza_get_text(c);	/* NULL: no text */
	}
	rc = sk_xitem_make(xmpp_stanza_get_attribute(item, "jid"),
	    xmpp_stanza_get_attribute(item, "name"), xmpp_stanza_get_attribute(item, "subscription"),
	    xmpp_stanza_get_attribute(item, "ask"), groups, n, out);
	for (i = 0; i < n; i++)
		if (groups[i] != NULL)
			xmpp_free(ctx, groups[i]);
	return rc;
}

/* The items of a roster <query/>: captured by nodefer.c (capture.h), else
   the tree's children.  *bad counts the malformed ones left out. */
static int
query_items(xmpp_stanza_t *query, struct sk_state *st, size_t *bad)
{
	const char *mark = xmpp_stanza_get_attribute(query, SK_CAPTURE_ATTR);
	xmpp_stanza_t *c;
	int rc;

	*bad = 0;
	if (mark != NULL)
		return sk_capture_take(mark, st, bad);
	for (c = xmpp_stanza_get_children(query); c; c = xmpp_stanza_get_next(c)) {
		const char *name = xmpp_stanza_get_name(c);
		struct sk_item it;

		if (name == NULL || strcmp(name, "item") != 0)
			continue;
		if ((rc = sk_xml_item_parse(c, &it)) == ENOMEM)
			return rc;
		if (rc != 0) {
			(*bad)++;
			continue;
		}
		if ((rc = sk_state_adopt_item(st, &it)) != 0) {
			sk_item_free(&it);
			return rc;
		}
	}
	return 0;
}

int
sk_xml_roster_parse(xmpp_stanza_t *query, struct sk_state *st, size_t *skipped)
{
	size_t bad;
	int rc = query_items(query, st, &bad);

	if (skipped)
		*skipped = bad;
	return rc;
}

/* ---- presence --------------------------------------------------------------- */

static const char *
lang_of(xmpp_stanza_t *st)
{
	const char *l = xmpp_stanza_get_attribute(st, "xml:lang");

	/* libstrophe keeps a received xml:lang as plain "lang" */
	return l ? l : xmpp_stanza_get_attribute(st, "lang");
}

/* xep/ "Field values, byte-exact": the <status/> without xml:lang, else the first one. */
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

int
sk_xml_pres_parse(xmpp_stanza_t *pres, struct sk_pres *out, int *available)
{
	xmpp_ctx_t *ctx = xmpp_stanza_get_context(pres);
	const char *from = xmpp_stanza_get_attribute(pres, "from");
	const char *type = xmpp_stanza_get_type(pres);
	char *show = NULL, *status = NULL, *prio = NULL;
	struct sk_text ext = { 0 }, xml = { 0 };
	struct sk_pres p = { 0 };
	xmpp_stanza_t *c;
	long pr;
	int rc = ENOMEM, whole;

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
	/* Equality counts every child but <delay/>, in the client's terms. */
	whole = write_tree(&xml, pres, W_CLIENT) == 0;
	for (c = xmpp_stanza_get_children(pres); c && whole; c = xmpp_stanza_get_next(c))
		if (!xmpp_stanza_is_text(c) && !is_delay(c))
			whole = write_tree(&ext, c, W_CANON) == 0;
	if (xml.oom || ext.oom)
		goto out;
	p.jid = (char *)from;
	p.show = show;
	p.status = status ? status : (pick_status(pres) ? "" : NULL);
	p.priority = pr < -128 ? -128 : pr > 127 ? 127 : (int)pr;
	/* Too deep or too wide: kept without its extensions, written from
	   the fields (xml.h). */
	p.ext = whole ? ext.s : NULL;
	p.xml = whole ? xml.s : NULL;
	rc = sk_pres_copy(out, &p);
out:
	if (show)
		xmpp_free(ctx, show);
	if (status)
		xmpp_free(ctx, status);
	if (prio)
		xmpp_free(ctx, prio);
	sk_text_free(&ext);
	sk_text_free(&xml);
	return rc;
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
			size_t bad;

			/* a malformed item fails the whole answer */
			if ((rc = query_items(c, &u->put, &bad)) == 0 && bad > 0)
				rc = SK_EINVAL;
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

int
sk_xml_pres_mark(xmpp_stanza_t *pres)
{
	const char *name = xmpp_stanza_get_name(pres);
	xmpp_stanza_t *m;
	int rc;

	if (name == NULL || strcmp(name, "presence") != 0 ||
	    xmpp_stanza_get_child_by_name_and_ns(pres, "sync-presence", SK_NS_SYNC) != NULL)
		return SK_EINVAL;
	if ((m = xmpp_stanza_new(xmpp_stanza_get_context(pres))) == NULL)
		return ENOMEM;
	rc = xmpp_stanza_set_name(m, "sync-presence") == XMPP_EOK &&
	    xmpp_stanza_set_ns(m, SK_NS_SYNC) == XMPP_EOK &&
	    xmpp_stanza_add_child(pres, m) == XMPP_EOK ? 0 : ENOMEM;
	xmpp_stanza_release(m);	/* pres holds its own reference */
	return rc;
}

int
sk_xml_sync_version(const char *ns)
{
	if (ns == NULL)
		return -1;
	return strcmp(ns, SK_NS_SYNC) == 0 ? 0 : strcmp(ns, SK_NS_SYNC1) == 0 ? 1 : -1;
}

const char *
sk_xml_sync_ns(unsigned version)
{
	return version == 1 ? SK_NS_SYNC1 : SK_NS_SYNC;
}
