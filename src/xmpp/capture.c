/* capture.c - a roster <query/>'s items taken from expat's events into records, O(1) each */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "error.h"
#include "text.h"
#include "xitem.h"

/*
 * libstrophe appends each child by walking its parent's list of children
 * to the end (xmpp_stanza_add_child_ex, 0.12 to 0.14), so a <query/> of
 * n items costs n^2/2 steps before any handler runs: 780 ms at 20 000
 * items, 5 s at 50 000.  Here the items become records as expat reports
 * them, appended to an array, and libstrophe only sees an empty <query/>.
 *
 * Equal to the tree path by construction: an item is a child element
 * whose local name is "item" (any namespace), its attributes are read by
 * local name with the last of a name winning (as libstrophe keeps them),
 * a group is a direct child named "group" whose text is the text directly
 * inside it, the first SK_ITEM_GROUPS_MAX count, and sk_xitem_make
 * (xitem.c) turns them into the record as sk_xml_item_parse does.
 * Everything else inside the query is dropped, as the tree path ignores it.
 *
 * Held: SK_CAPTURE_HELD captures in a table, each found by its id, the
 * oldest dropped first when the table or SK_CAPTURE_HELD_BYTES is full,
 * each freed when taken.  A capture belongs to its parser until the
 * stanza around it closes; should the parse fail first (the stanza never
 * comes), it is dropped then (found by fuzzing: the query of a stanza
 * that never closed stayed held).  A capture normally lives from its <query/> to
 * the handler that parses it, in the same stanza callback; a stanza kept
 * past that (cloned, or made by xmpp_stanza_new_from_string) keeps its
 * capture until 63 newer ones came, then its parse fails with
 * SK_ENOTFOUND rather than give an empty roster.
 */
struct cap {
	uint64_t	 id;		/* 0: free */
	const void	*owner;		/* the stanza's parser until settled */
	int		 open, err;	/* err: SK_ETOOBIG or ENOMEM, the rest ignored */
	struct sk_item	*items;
	size_t		 n, cap, bad, bytes;
	struct acc	*acc;		/* while open */
};

/* The item being read. */
struct acc {
	int		 in_item, in_group;
	char		*jid, *name, *sub, *ask;
	char		*groups[SK_ITEM_GROUPS_MAX];
	size_t		 ngroups;
	struct sk_text	 text;		/* the open group's */
};

static struct cap held[SK_CAPTURE_HELD];
static uint64_t last_id;
static size_t held_bytes;
static size_t items_max = SK_CAPTURE_ITEMS_MAX, bytes_max = SK_CAPTURE_BYTES_MAX;

static const char *
local(const char *name)
{
	const char *sep = strchr(name, '\x1F');

	return sep ? sep + 1 : name;
}

static void
acc_clear(struct acc *a)
{
	size_t i;

	free(a->jid);
	free(a->name);
	free(a->sub);
	free(a->ask);
	for (i = 0; i < a->ngroups; i++)
		free(a->groups[i]);
	sk_text_free(&a->text);
	memset(a, 0, sizeof(*a));
}

static void
cap_free(struct cap *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		sk_item_free(&c->items[i]);
	free(c->items);
	if (c->acc != NULL) {
		acc_clear(c->acc);
		free(c->acc);
	}
	held_bytes -= c->bytes;
	memset(c, 0, sizeof(*c));
}

static struct cap *
find(uint64_t id)
{
	size_t i;

	for (i = 0; id != 0 && i < SK_CAPTURE_HELD; i++)
		if (held[i].id == id)
			return &held[i];
	return NULL;
}

/* The oldest capture other than keep, closed ones first; NULL if none. */
static struct cap *
oldest(const struct cap *keep)
{
	struct cap *o = NULL;
	size_t i;

	for (i = 0; i < SK_CAPTURE_HELD; i++) {
		struct cap *c = &held[i];

		if (c->id == 0 || c == keep)
			continue;
		if (o == NULL || (o->open && !c->open) || (o->open == c->open && c->id < o->id))
			o = c;
	}
	return o;
}

/* Counts n more bytes for c; 0, or sets c->err and returns it. */
static int
charge(struct cap *c, size_t n)
{
	struct cap *o;

	if (c->err != 0)
		return c->err;
	if (c->bytes > bytes_max || n > bytes_max - c->bytes)
		return c->err = SK_ETOOBIG;
	while (held_bytes + n > SK_CAPTURE_HELD_BYTES && (o = oldest(c)) != NULL)
		cap_free(o);
	c->bytes += n;
	held_bytes += n;
	return 0;
}

static char *
dup_charged(struct cap *c, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d;

	if (charge(c, n) != 0)
		return NULL;
	if ((d = malloc(n)) == NULL) {
		c->err = ENOMEM;
		return NULL;
	}
	return memcpy(d, s, n);
}

uint64_t
sk_capture_open(const void *owner)
{
	struct cap *c = NULL, *o;
	size_t i;

	for (i = 0; c == NULL && i < SK_CAPTURE_HELD; i++)
		if (held[i].id == 0)
			c = &held[i];
	if (c == NULL) {
		if ((o = oldest(NULL)) == NULL)
			return 0;
		cap_free(o);
		c = o;
	}
	if ((c->acc = calloc(1, sizeof(*c->acc))) == NULL)
		return 0;
	c->id = ++last_id;
	c->open = 1;
	c->owner = owner;
	return c->id;
}

void
sk_capture_mark(uint64_t id, char *buf, size_t len)
{
	char t[24];
	size_t i = sizeof(t);

	t[--i] = '\0';
	do
		t[--i] = (char)('0' + id % 10);
	while ((id /= 10) != 0 && i > 0);
	if (len > 0) {
		strncpy(buf, &t[i], len - 1);
		buf[len - 1] = '\0';
	}
}

/* An attribute value kept as libstrophe keeps it: the last of a name. */
static void
keep_attr(struct cap *c, char **slot, const char *value)
{
	char *v = dup_charged(c, value);

	if (v == NULL)
		return;
	free(*slot);
	*slot = v;
}

void
sk_capture_start(uint64_t id, size_t depth, const char *name, const char **attrs)
{
	struct cap *c = find(id);
	struct acc *a;
	size_t i;

	if (c == NULL || !c->open || c->err != 0)
		return;
	a = c->acc;
	if (depth == 1 && strcmp(local(name), "item") == 0) {
		a->in_item = 1;
		for (i = 0; attrs != NULL && attrs[i] != NULL && attrs[i + 1] != NULL; i += 2) {
			const char *n = local(attrs[i]);

			if (strcmp(n, "jid") == 0)
				keep_attr(c, &a->jid, attrs[i + 1]);
			else if (strcmp(n, "name") == 0)
				keep_attr(c, &a->name, attrs[i + 1]);
			else if (strcmp(n, "subscription") == 0)
				keep_attr(c, &a->sub, attrs[i + 1]);
			else if (strcmp(n, "ask") == 0)
				keep_attr(c, &a->ask, attrs[i + 1]);
		}
	} else if (depth == 2 && a->in_item && a->ngroups < SK_ITEM_GROUPS_MAX &&
	    strcmp(local(name), "group") == 0) {
		a->in_group = 1;
		sk_text_free(&a->text);
	}
}

void
sk_capture_chars(uint64_t id, size_t depth, const char *s, size_t len)
{
	struct cap *c = find(id);

	if (c == NULL || !c->open || c->err != 0 || depth != 2 || !c->acc->in_group)
		return;
	if (charge(c, len) != 0)
		return;
	sk_text_add(&c->acc->text, s, len);
	if (c->acc->text.oom)
		c->err = ENOMEM;
}

/* The item read is complete: its record, or counted as malformed. */
static void
item_done(struct cap *c)
{
	struct acc *a = c->acc;
	struct sk_item it;
	int rc;

	rc = sk_xitem_make(a->jid, a->name, a->sub, a->ask, a->groups, a->ngroups, &it);
	if (rc == ENOMEM) {
		c->err = ENOMEM;
	} else if (rc != 0) {
		c->bad++;
	} else if (c->n >= items_max || charge(c, sizeof(it)) != 0) {
		sk_item_free(&it);
		c->err = SK_ETOOBIG;
	} else if (c->n == c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 64;
		struct sk_item *v = realloc(c->items, ncap * sizeof(*v));

		if (v == NULL) {
			sk_item_free(&it);
			c->err = ENOMEM;
		} else {
			c->items = v;
			c->cap = ncap;
			c->items[c->n++] = it;
		}
	} else {
		c->items[c->n++] = it;
	}
	acc_clear(a);
}

void
sk_capture_end(uint64_t id, size_t depth)
{
	struct cap *c = find(id);
	struct acc *a;

	if (c == NULL || !c->open || c->err != 0)
		return;
	a = c->acc;
	if (depth == 2 && a->in_group) {
		/* no text is an empty name, as in sk_xml_item_parse */
		a->groups[a->ngroups++] = a->text.s ? a->text.s : dup_charged(c, "");
		memset(&a->text, 0, sizeof(a->text));
		a->in_group = 0;
		if (a->groups[a->ngroups - 1] == NULL)
			a->ngroups--;	/* c->err is set */
	} else if (depth == 1 && a->in_item) {
		item_done(c);
	}
}

void
sk_capture_close(uint64_t id, int complete)
{
	struct cap *c = find(id);

	if (c == NULL)
		return;
	if (!complete) {
		cap_free(c);
		return;
	}
	acc_clear(c->acc);
	free(c->acc);
	c->acc = NULL;
	c->open = 0;
}

void
sk_capture_settle(const void *owner, int keep)
{
	size_t i;

	for (i = 0; owner != NULL && i < SK_CAPTURE_HELD; i++) {
		if (held[i].id == 0 || held[i].owner != owner)
			continue;
		if (keep && !held[i].open)
			held[i].owner = NULL;
		else
			cap_free(&held[i]);
	}
}

int
sk_capture_take(const char *mark, struct sk_state *st, size_t *bad)
{
	struct cap *c;
	char *end;
	unsigned long long id;
	size_t i;
	int rc = 0;

	if (bad != NULL)
		*bad = 0;
	id = strtoull(mark, &end, 10);
	if (*mark == '\0' || *end != '\0' || (c = find((uint64_t)id)) == NULL || c->open ||
	    c->owner != NULL)
		return SK_ENOTFOUND;
	if (c->err != 0) {
		rc = c->err;
		cap_free(c);
		return rc;
	}
	for (i = 0; i < c->n && rc == 0; i++)
		rc = sk_state_adopt_item(st, &c->items[i]);	/* leaves the slot zeroed */
	if (bad != NULL)
		*bad = c->bad;
	cap_free(c);
	return rc;
}

void
sk_capture_reset(void)
{
	size_t i;

	for (i = 0; i < SK_CAPTURE_HELD; i++)
		if (held[i].id != 0)
			cap_free(&held[i]);
}

size_t
sk_capture_held(void)
{
	size_t i, n = 0;

	for (i = 0; i < SK_CAPTURE_HELD; i++)
		n += held[i].id != 0;
	return n;
}

void
sk_capture_set_limits(size_t items, size_t bytes)
{
	items_max = items ? items : SK_CAPTURE_ITEMS_MAX;
	bytes_max = bytes ? bytes : SK_CAPTURE_BYTES_MAX;
}
