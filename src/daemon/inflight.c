/* inflight.c - one table of things in flight: keyed by id, with a deadline */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

/*
 * Roster fetches wait for the server's answer, answer pages wait for the
 * client's next fetch: each is an entry under an id (ours or the page
 * token), owned by the table until taken or expired.  Entries stay in the
 * order they were added, so the oldest is first; tables are small (the
 * max-pending and page limits) and looked up linearly.  Each entry also
 * names its owner and its bytes, so that budgets can be kept per user
 * (skd_table_owned) and overall (t->bytes).
 */

void
skd_table_init(struct skd_table *t, void (*free_data)(void *))
{
	memset(t, 0, sizeof(*t));
	t->free_data = free_data;
}

int
skd_table_add(struct skd_table *t, const char *key, uint64_t deadline, void *data,
    const char *owner, size_t bytes)
{
	struct skd_inflight *e;

	if (strlen(key) >= sizeof(e->key))
		return EINVAL;
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct skd_inflight *nv = realloc(t->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return ENOMEM;
		t->v = nv;
		t->cap = ncap;
	}
	e = &t->v[t->n++];
	memcpy(e->key, key, strlen(key) + 1);
	e->deadline = deadline;
	e->data = data;
	e->owner = owner;
	e->bytes = bytes;
	t->bytes += bytes;
	return 0;
}

void
skd_table_owned(const struct skd_table *t, const char *owner, size_t *n, size_t *bytes)
{
	size_t i;

	*n = *bytes = 0;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].owner, owner) == 0) {
			(*n)++;
			*bytes += t->v[i].bytes;
		}
}

static long
find(const struct skd_table *t, const char *key)
{
	size_t i;

	for (i = 0; key != NULL && i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0)
			return (long)i;
	return -1;
}

void *
skd_table_get(const struct skd_table *t, const char *key)
{
	long i = find(t, key);

	return i < 0 ? NULL : t->v[i].data;
}

static void *
take_at(struct skd_table *t, size_t i)
{
	void *data = t->v[i].data;

	t->bytes -= t->v[i].bytes;
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
	return data;
}

void *
skd_table_take(struct skd_table *t, const char *key)
{
	long i = find(t, key);

	return i < 0 ? NULL : take_at(t, (size_t)i);
}

void *
skd_table_take_oldest(struct skd_table *t)
{
	return t->n == 0 ? NULL : take_at(t, 0);
}

void
skd_table_expire(struct skd_table *t, uint64_t now,
    void (*expired)(void *ctx, void *data), void *ctx)
{
	size_t i = 0;
	void *data;

	while (i < t->n) {
		if (t->v[i].deadline > now) {
			i++;
			continue;
		}
		data = take_at(t, i);

		if (expired != NULL)
			expired(ctx, data);
		t->free_data(data);
	}
}

void
skd_table_clear(struct skd_table *t)
{
	while (t->n > 0)
		t->free_data(take_at(t, t->n - 1));
}

void
skd_table_free(struct skd_table *t)
{
	skd_table_clear(t);
	free(t->v);
	t->v = NULL;
	t->cap = 0;
}
