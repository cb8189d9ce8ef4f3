/* apply.c - applying a full or delta sync result to a stored state */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"

void
sk_strv_init(struct sk_strv *sv)
{
	memset(sv, 0, sizeof(*sv));
}

void
sk_strv_free(struct sk_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sk_strv_init(sv);
}

int
sk_strv_add(struct sk_strv *sv, const char *s, size_t len)
{
	char *copy;

	if (sv->n == sv->cap) {
		size_t ncap = sv->cap ? sv->cap * 2 : 8;
		char **nv = realloc(sv->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return ENOMEM;
		sv->v = nv;
		sv->cap = ncap;
	}
	if ((copy = malloc(len + 1)) == NULL)
		return ENOMEM;
	memcpy(copy, s, len);
	copy[len] = '\0';
	sv->v[sv->n++] = copy;
	return 0;
}

void
sk_update_init(struct sk_update *u)
{
	u->full = 0;
	sk_state_init(&u->put);
	sk_strv_init(&u->gone);
	sk_strv_init(&u->gone_all);
}

void
sk_update_free(struct sk_update *u)
{
	sk_state_free(&u->put);
	sk_strv_free(&u->gone);
	sk_strv_free(&u->gone_all);
	u->full = 0;
}

int
sk_apply(struct sk_state *st, const struct sk_update *u)
{
	size_t i;
	int rc;

	if (u->full) {
		/* Append and sort once: inserting one by one is quadratic. */
		sk_state_clear(st);
		for (i = 0; i < u->put.nitems; i++)
			if (u->put.items[i].sub != SK_SUB_REMOVE &&
			    (rc = sk_state_add_item(st, &u->put.items[i])) != 0)
				return rc;
		for (i = 0; i < u->put.npres; i++)
			if ((rc = sk_state_add_pres(st, &u->put.pres[i])) != 0)
				return rc;
		sk_state_sort(st);
		return 0;
	}
	/* Unavailables first: a delta may remove every resource of a
	   contact and then announce a new one. */
	for (i = 0; i < u->gone_all.n; i++)
		sk_state_del_pres_bare(st, u->gone_all.v[i]);
	for (i = 0; i < u->gone.n; i++)
		sk_state_del_pres(st, u->gone.v[i]);
	for (i = 0; i < u->put.nitems; i++) {
		const struct sk_item *it = &u->put.items[i];

		if (it->sub == SK_SUB_REMOVE)
			sk_state_del_item(st, it->jid);
		else if ((rc = sk_state_put_item(st, it)) != 0)
			return rc;
	}
	for (i = 0; i < u->put.npres; i++)
		if ((rc = sk_state_put_pres(st, &u->put.pres[i])) != 0)
			return rc;
	return 0;
}
