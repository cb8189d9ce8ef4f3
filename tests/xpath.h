/* xpath.h - asserting the structure of a serialised stanza, for the C tests
 *
 * A small XPath-like language, after biboumi's expect_stanza():
 *
 *   /iq[@type='result']/sync[@type='full']/presence[@from='bob@p.test/b']
 *   //error/forbidden            // : at any depth below (or at) that point
 *   !//sync/query/item            ! : true when nothing matches
 *   //text[~'needs the key']      [~'x'] : the element's text holds x
 *   /iq/sync[@key]                [@a] : the attribute is present
 *   /iq/sync[@xmlns='urn:xmpp:synckey:0']   xmlns: the element's namespace
 *
 * A step is a name or *, then predicates.  xp_count() counts the nodes the
 * last step reaches.  The stanza is parsed with libstrophe, so attribute
 * order and quoting do not matter, and a path says exactly where a thing
 * is.  The search is a depth-first walk with an explicit stack; paths are
 * written by tests, at most XP_STEPS steps.
 */
#ifndef SK_TEST_XPATH_H
#define SK_TEST_XPATH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strophe.h>

#define XP_STEPS	16
#define XP_PREDS	6
#define XP_STACK	4096

struct xp_pred {
	char	 kind;			/* '@' attribute, '~' text contains */
	char	 name[64];
	char	 val[256];
	int	 has_val;
};

struct xp_step {
	int		 deep;		/* reached by // */
	char		 name[64];	/* "*" for any */
	struct xp_pred	 pred[XP_PREDS];
	int		 npred;
};

/* Parses path into steps; the count, or -1 on a malformed path. */
static int
xp_parse(const char *path, struct xp_step *st)
{
	int n = 0;

	while (*path) {
		struct xp_step *s;
		size_t k;

		if (*path != '/' || n == XP_STEPS)
			return -1;
		s = &st[n++];
		memset(s, 0, sizeof(*s));
		path++;
		if (*path == '/') {
			s->deep = 1;
			path++;
		}
		for (k = 0; *path && *path != '/' && *path != '[' && k < sizeof(s->name) - 1; k++)
			s->name[k] = *path++;
		while (*path == '[') {
			struct xp_pred *p;
			const char *e;

			if (s->npred == XP_PREDS)
				return -1;
			p = &s->pred[s->npred++];
			p->kind = *++path;
			path++;
			for (k = 0; p->kind == '@' && *path && *path != '=' && *path != ']' &&
			    k < sizeof(p->name) - 1; k++)
				p->name[k] = *path++;
			if (*path == '=')
				path++;
			if (*path == '\'') {
				if ((e = strchr(path + 1, '\'')) == NULL ||
				    (size_t)(e - path - 1) >= sizeof(p->val))
					return -1;
				memcpy(p->val, path + 1, (size_t)(e - path - 1));
				p->has_val = 1;
				path = e + 1;
			}
			if (*path++ != ']')
				return -1;
		}
	}
	return n;
}

static int
xp_step_ok(xmpp_stanza_t *el, const struct xp_step *s)
{
	const char *name = xmpp_stanza_get_name(el);
	int i;

	if (name == NULL || xmpp_stanza_is_text(el) ||
	    (strcmp(s->name, "*") != 0 && strcmp(s->name, name) != 0))
		return 0;
	for (i = 0; i < s->npred; i++) {
		const struct xp_pred *p = &s->pred[i];

		if (p->kind == '@') {
			const char *v = strcmp(p->name, "xmlns") == 0 ? xmpp_stanza_get_ns(el) :
			    xmpp_stanza_get_attribute(el, p->name);

			if (v == NULL || (p->has_val && strcmp(v, p->val) != 0))
				return 0;
		} else if (p->kind == '~') {
			char *t = xmpp_stanza_get_text(el);
			int found = t != NULL && strstr(t, p->val) != NULL;

			if (t != NULL)
				xmpp_free(xmpp_stanza_get_context(el), t);
			if (!found)
				return 0;
		}
	}
	return 1;
}

/* Nodes matching the whole path, counted (at most `limit`). */
static int
xp_walk(xmpp_stanza_t *root, const struct xp_step *st, int n, int limit)
{
	/* (element, index of the step it must match) */
	struct { xmpp_stanza_t *el; int step; } stack[XP_STACK];
	int top = 0, found = 0;

	stack[top].el = root;
	stack[top++].step = 0;
	while (top > 0 && found < limit) {
		xmpp_stanza_t *el = stack[--top].el, *c;
		int k = stack[top].step;

		if (xp_step_ok(el, &st[k])) {
			if (k + 1 == n)
				found++;
			else
				for (c = xmpp_stanza_get_children(el); c && top < XP_STACK;
				    c = xmpp_stanza_get_next(c)) {
					stack[top].el = c;
					stack[top++].step = k + 1;
				}
		}
		/* a deep step may match further down */
		if (st[k].deep)
			for (c = xmpp_stanza_get_children(el); c && top < XP_STACK;
			    c = xmpp_stanza_get_next(c)) {
				stack[top].el = c;
				stack[top++].step = k;
			}
	}
	return found;
}

/* How many nodes of the stanza xml the path reaches; -1 when xml does not
   parse or the path is malformed. */
static int
xp_count(xmpp_ctx_t *ctx, const char *xml, const char *path)
{
	struct xp_step st[XP_STEPS];
	xmpp_stanza_t *root;
	int n, found;

	if (*path == '!')
		path++;
	if ((n = xp_parse(path, st)) <= 0 ||
	    (root = xmpp_stanza_new_from_string(ctx, xml)) == NULL)
		return -1;
	found = xp_walk(root, st, n, 1 << 20);
	xmpp_stanza_release(root);
	return found;
}

/* 1 when path (or "!path": nothing) holds for xml, else 0 after saying
   why on stderr. */
static int
xp_match(xmpp_ctx_t *ctx, const char *xml, const char *path)
{
	int found = xp_count(ctx, xml, path), want_none = path[0] == '!';

	if (found >= 0 && (want_none ? found == 0 : found > 0))
		return 1;
	fprintf(stderr, "xpath: %s %s in\n  %s\n", path,
	    found < 0 ? "is malformed, or the stanza does not parse" :
	    want_none ? "matches" : "matches nothing", xml);
	return 0;
}

#endif
