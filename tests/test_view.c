/* test_view.c - views kept between syncs: used again only while exact */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "store.h"
#include "sync.h"
#include "view.h"
#include "testutil.h"

#define NOW 1700000000ULL
#define USER "u@a.test"

struct fx {
	char		*dir;
	struct sk_store	*s;
	struct sk_views	*c;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tmpdir_new();
	assert_int_equal(sk_store_open(f->dir, 0, &f->s), 0);
	assert_int_equal(sk_views_new(64u << 20, 64u << 20, &f->c), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	sk_views_free(f->c);
	sk_store_close(f->s);
	tmpdir_free(f->dir);
	free(f);
	return 0;
}

/* A roster of n contacts c0..c(n-1)@a.test, every fourth one "from"
   (their presence does not count for the user). */
static void
roster(struct sk_state *st, unsigned n)
{
	char jid[64];
	unsigned i;

	sk_state_init(st);
	for (i = 0; i < n; i++) {
		struct sk_item it = { .jid = jid, .sub = i % 4 == 3 ? SK_SUB_FROM : SK_SUB_BOTH };

		snprintf(jid, sizeof(jid), "c%u@a.test", i);
		assert_int_equal(sk_state_put_item(st, &it), 0);
	}
}

/* Builds the view of a roster of n contacts and keeps it under ver. */
static struct sk_view *
keep(struct fx *f, unsigned n, const char *ver, const struct sk_strv *hidden)
{
	struct sk_state st;
	struct sk_view *v;

	roster(&st, n);
	assert_int_equal(sk_view_build(f->s, &st, hidden, &v), 0);
	assert_int_equal(st.nitems, 0);		/* moved into the view */
	assert_int_equal(sk_views_put(f->c, USER, ver, hidden, v), 0);
	return v;
}

/* Both versions' digests of v are those of fresh (v's vector of version
   1 kept in step record by record, fresh's made whole). */
static void
assert_same_digests(struct sk_view *v, struct sk_view *fresh)
{
	char a[SK_DIGEST_B64], b[SK_DIGEST_B64];
	unsigned version;

	for (version = 0; version <= 1; version++) {
		assert_int_equal(sk_view_digest(v, version, a), 0);
		assert_int_equal(sk_view_digest(fresh, version, b), 0);
		assert_string_equal(a, b);
	}
}

/* The view a fresh build gives now: what a kept view must equal. */
static void
assert_same_as_fresh(struct fx *f, struct sk_view *v, unsigned n,
    const struct sk_strv *hidden)
{
	struct sk_state st;
	struct sk_view *fresh;

	roster(&st, n);
	assert_int_equal(sk_view_build(f->s, &st, hidden, &fresh), 0);
	assert_same_digests(v, fresh);
	assert_int_equal(v->len, fresh->len);
	assert_memory_equal(v->blob, fresh->blob, v->len);
	sk_view_free(fresh);
}

static void
a_view_is_used_again_and_follows_its_contacts_changes(void **state)
{
	struct fx *f = *state;
	struct sk_view *v, *again;
	char jid[64];
	unsigned i;

	pres(f->s, "c0@a.test/r", "one");
	v = keep(f, 200, "7", NULL);
	assert_int_equal(v->live.npres, 1);
	assert_ptr_equal(sk_views_get(f->c, f->s, USER, "7", NULL), v);
	/* a contact outside the roster, and one whose presence the user does
	   not receive (subscription from): nothing to take again */
	pres(f->s, "stranger@b.test/r", "x");
	pres(f->s, "c3@a.test/r", "from-only");
	again = sk_views_get(f->c, f->s, USER, "7", NULL);
	assert_ptr_equal(again, v);
	assert_same_as_fresh(f, again, 200, NULL);
	/* a watched contact: the same view, brought up to date */
	pres(f->s, "c1@a.test/r", "two");
	pres(f->s, "c0@a.test/r", "one again");
	v = sk_views_get(f->c, f->s, USER, "7", NULL);
	assert_ptr_equal(v, again);
	assert_int_equal(v->live.npres, 2);
	assert_same_as_fresh(f, v, 200, NULL);
	/* resources going away count as much */
	assert_int_equal(sk_store_pres_del(f->s, "c0@a.test/r"), 0);
	v = sk_views_get(f->c, f->s, USER, "7", NULL);
	assert_non_null(v);
	assert_int_equal(v->live.npres, 1);
	assert_same_as_fresh(f, v, 200, NULL);
	assert_int_equal(sk_store_pres_del_bare(f->s, "c1@a.test"), 0);
	v = sk_views_get(f->c, f->s, USER, "7", NULL);
	assert_non_null(v);
	assert_int_equal(v->live.npres, 0);
	assert_same_as_fresh(f, v, 200, NULL);
	/* so many contacts changed that a build is cheaper: dropped */
	for (i = 0; i < 100; i++) {
		snprintf(jid, sizeof(jid), "c%u@a.test/r", i);
		pres(f->s, jid, "many");
	}
	assert_null(sk_views_get(f->c, f->s, USER, "7", NULL));
}

static void
another_roster_version_or_hidden_list_is_another_view(void **state)
{
	struct fx *f = *state;
	struct sk_strv h1, h2;
	struct sk_view *v;

	sk_strv_init(&h1);
	sk_strv_init(&h2);
	assert_int_equal(sk_strv_add(&h1, "c1@a.test", 9), 0);
	assert_int_equal(sk_strv_add(&h1, "c0@a.test", 9), 0);
	assert_int_equal(sk_strv_add(&h2, "c0@a.test", 9), 0);
	assert_int_equal(sk_strv_add(&h2, "c1@a.test", 9), 0);
	pres(f->s, "c0@a.test/r", "zero");
	pres(f->s, "c2@a.test/r", "two");
	v = keep(f, 8, "7", &h1);
	assert_int_equal(v->live.npres, 1);	/* c0 hidden, c2 not */
	/* the same contacts hidden in another order: the same view */
	assert_ptr_equal(sk_views_get(f->c, f->s, USER, "7", &h2), v);
	/* a hidden contact's change is taken again and stays hidden */
	pres(f->s, "c0@a.test/r2", "zero-2");
	pres(f->s, "c2@a.test/r", "two-2");
	assert_ptr_equal(sk_views_get(f->c, f->s, USER, "7", &h2), v);
	assert_int_equal(v->live.npres, 1);
	assert_same_as_fresh(f, v, 8, &h1);
	/* fewer hidden, or none */
	assert_null(sk_views_get(f->c, f->s, USER, "7", NULL));
	v = keep(f, 8, "7", &h1);
	assert_int_equal(sk_strv_add(&h2, "c2@a.test", 9), 0);
	assert_null(sk_views_get(f->c, f->s, USER, "7", &h2));
	/* another roster version; no version at all is never kept */
	keep(f, 8, "7", &h1);
	assert_null(sk_views_get(f->c, f->s, USER, "8", &h1));
	keep(f, 8, NULL, &h1);
	assert_null(sk_views_get(f->c, f->s, USER, NULL, &h1));
	assert_null(sk_views_get(f->c, f->s, USER, "7", &h1));
	sk_strv_free(&h1);
	sk_strv_free(&h2);
}

static void
cleared_presence_lost_batches_and_old_changes_make_views_stale(void **state)
{
	struct fx *f = *state;
	char jid[64];
	unsigned i, n;

	keep(f, 8, "7", NULL);
	assert_int_equal(sk_store_pres_clear(f->s), 0);
	assert_null(sk_views_get(f->c, f->s, USER, "7", NULL));
	/* more changes than the store remembers, none of them watched:
	   nothing tells they were not, so the view is stale */
	for (n = 65536; n <= 65537; n++) {
		keep(f, 8, "7", NULL);
		for (i = 0; i < n; i++) {
			snprintf(jid, sizeof(jid), "other%u@b.test/r", i % 100);
			pres(f->s, jid, "x");
		}
		if (n == 65536)
			assert_non_null(sk_views_get(f->c, f->s, USER, "7", NULL));
		else
			assert_null(sk_views_get(f->c, f->s, USER, "7", NULL));
	}
	/* recovery from a lost batch clears presence: views built before go */
	keep(f, 8, "7", NULL);
	assert_int_equal(sk_store_flush(f->s), 0);
	assert_ptr_not_equal(sk_views_get(f->c, f->s, USER, "7", NULL), NULL);
	assert_int_equal(sk_store_recover(f->s), 0);	/* clears, as after a loss */
	assert_null(sk_views_get(f->c, f->s, USER, "7", NULL));
}

/* The bytes of a view of 100 contacts; f's cache replaced by one of
   max views of that size, max_user for one user. */
static size_t
small_views(struct fx *f, double max, double max_user)
{
	struct sk_state st;
	struct sk_view *v;
	size_t one;

	sk_views_free(f->c);
	roster(&st, 100);
	assert_int_equal(sk_view_build(f->s, &st, NULL, &v), 0);
	one = v->bytes;
	sk_view_free(v);
	assert_int_equal(sk_views_new((size_t)(max * one), (size_t)(max_user * one), &f->c), 0);
	return one;
}

/* Keeps a view of 100 contacts for user uI@a.test; with use_u0, u0's
   view is used after each. */
static void
keep_small(struct fx *f, unsigned i, int use_u0)
{
	struct sk_state st;
	struct sk_view *v;
	char user[32];

	snprintf(user, sizeof(user), "u%u@a.test", i);
	roster(&st, 100);
	assert_int_equal(sk_view_build(f->s, &st, NULL, &v), 0);
	assert_int_equal(sk_views_put(f->c, user, "1", NULL, v), 0);
	if (use_u0)
		(void)sk_views_get(f->c, f->s, "u0@a.test", "1", NULL);
}

static void
the_cache_stays_within_its_bound(void **state)
{
	struct fx *f = *state;
	struct sk_state st;
	struct sk_view *v;
	size_t n, bytes, one = small_views(f, 3.5, 3.5);
	unsigned i;

	for (i = 0; i < 10; i++)
		keep_small(f, i, 1);	/* u0 is used each time: the least recently used go first */
	sk_views_stats(f->c, &n, &bytes);
	assert_int_equal(n, 3);
	assert_true(bytes <= (size_t)(3.5 * one));
	assert_non_null(sk_views_get(f->c, f->s, "u0@a.test", "1", NULL));
	assert_non_null(sk_views_get(f->c, f->s, "u9@a.test", "1", NULL));
	assert_null(sk_views_get(f->c, f->s, "u1@a.test", "1", NULL));
	/* a view over the whole bound is not kept */
	roster(&st, 2000);
	assert_int_equal(sk_view_build(f->s, &st, NULL, &v), 0);
	assert_int_equal(sk_views_put(f->c, "big@a.test", "1", NULL, v), SK_EFULL);
	assert_null(sk_views_get(f->c, f->s, "big@a.test", "1", NULL));
}

/* Issue 17: one user's view is kept only within his share of the bound,
   so a user with a huge roster cannot push out everyone else's views. */
static void
one_user_keeps_no_more_than_his_share(void **state)
{
	struct fx *f = *state;
	struct sk_state st;
	struct sk_view *v;
	/* room for ten small views; one user's share is two of them */
	size_t n, bytes, one = small_views(f, 10.5, 2.5);
	char user[32];
	unsigned i;

	for (i = 0; i < 8; i++)
		keep_small(f, i, 0);
	/* mallory's roster is five times as large: his view is not kept,
	   and no one else's is pushed out for it */
	roster(&st, 500);
	assert_int_equal(sk_view_build(f->s, &st, NULL, &v), 0);
	assert_true(v->bytes > 2 * one + one / 2 && v->bytes < 10 * one);
	assert_int_equal(sk_views_put(f->c, "mallory@a.test", "1", NULL, v), SK_EFULL);
	assert_null(sk_views_get(f->c, f->s, "mallory@a.test", "1", NULL));
	sk_views_stats(f->c, &n, &bytes);
	assert_int_equal(n, 8);
	for (i = 0; i < 8; i++) {
		snprintf(user, sizeof(user), "u%u@a.test", i);
		assert_non_null(sk_views_get(f->c, f->s, user, "1", NULL));
	}
}

/* The engine answers from a kept view exactly as from a state built
   now: every step's digest and changes match, over random changes. */
static void
syncs_from_kept_views_equal_syncs_from_fresh_states(void **state)
{
	struct fx *f = *state;
	char k1[SK_KEY_MAX + 1] = "", k2[SK_KEY_MAX + 1] = "", jid[64], st_[16];
	unsigned step, seed = 12345;

	for (step = 0; step < 200; step++) {
		struct sk_sync_result r1, r2;
		struct sk_state st;
		struct sk_view *v, *fresh;
		unsigned j, nch = (seed = seed * 1103515245 + 12345) >> 16 & 3;

		for (j = 0; j < nch; j++) {
			seed = seed * 1103515245 + 12345;
			snprintf(jid, sizeof(jid), "c%u@a.test/r%u", (seed >> 16) % 40, (seed >> 8) % 2);
			snprintf(st_, sizeof(st_), "s%u", step);
			if ((seed >> 4) % 5 == 0)
				assert_int_equal(sk_store_pres_del(f->s, jid), 0);
			else
				pres(f->s, jid, st_);
		}
		if ((v = sk_views_get(f->c, f->s, USER, "1", NULL)) == NULL)
			v = keep(f, 32, "1", NULL);
		roster(&st, 32);
		assert_int_equal(sk_view_build(f->s, &st, NULL, &fresh), 0);
		assert_int_equal(sk_sync_run_view(f->s, &(struct sk_sync_cfg){ SK_SYNC_TTL_DEFAULT, 4 },
		    USER, "kept", k1[0] ? k1 : NULL, v, step % 3 != 0, NOW + step, &r1), 0);
		assert_int_equal(sk_sync_run_view(f->s, &(struct sk_sync_cfg){ SK_SYNC_TTL_DEFAULT, 4 },
		    USER, "fresh", k2[0] ? k2 : NULL, fresh, step % 3 != 0, NOW + step, &r2), 0);
		assert_string_equal(r1.digest, r2.digest);
		assert_int_equal(r1.full, r2.full);
		assert_int_equal(r1.changes.n, r2.changes.n);
		memcpy(k1, r1.key, sizeof(k1));
		memcpy(k2, r2.key, sizeof(k2));
		sk_sync_result_free(&r1);
		sk_sync_result_free(&r2);
		sk_view_free(fresh);
	}
}

/* ---- change lists (doc/adapter-protocol.md "Change lists") ---------------------------------- */

static unsigned
rnd(unsigned *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return *seed >> 16 & 0x7fff;
}

/* A random item of contact c (c0..c39@a.test): any subscription, a name
   or none, zero to two groups. */
static void
random_item(unsigned *seed, unsigned c, struct sk_item *it, char *jid, char *name,
    char **groups)
{
	static char *pool[] = { "Friends", "Work", "Family" };

	memset(it, 0, sizeof(*it));
	snprintf(jid, 64, "c%u@a.test", c);
	it->jid = jid;
	it->sub = (enum sk_sub)(rnd(seed) % 4);
	it->ask = rnd(seed) % 5 == 0;
	if (rnd(seed) % 3) {
		snprintf(name, 32, "n%u", rnd(seed) % 7);
		it->name = name;
	}
	it->ngroups = rnd(seed) % 3;
	groups[0] = pool[rnd(seed) % 3];
	groups[1] = pool[(rnd(seed) % 2 + 1 + (unsigned)(groups[0] - pool[0])) % 3];
	it->groups = groups;
}

/* The digest of the items alone (the roster, presence left out). */
static void
items_digest(const struct sk_state *st, char out[SK_DIGEST_B64])
{
	struct sk_state items;
	size_t i;

	sk_state_init(&items);
	for (i = 0; i < st->nitems; i++)
		assert_int_equal(sk_state_add_item(&items, &st->items[i]), 0);
	sk_state_sort(&items);
	assert_int_equal(sk_digest_state_b64(&items, out), 0);
	sk_state_free(&items);
}

/*
 * A random model over many steps: the roster changes (items added,
 * changed, removed; a change list each step), presence changes, and the
 * stored roster and the kept view, both changed by the lists, always
 * equal a roster stored and a view built fresh from the model.  Prints
 * its seed (SK_TEST_SEED replays one).
 */
static void
views_and_stored_rosters_after_change_lists_equal_fresh_ones(void **state)
{
	struct fx *f = *state;
	const char *env = getenv("SK_TEST_SEED");
	unsigned seed0 = env ? (unsigned)strtoul(env, NULL, 10) : 4242, seed = seed0, step, patched = 0;
	struct sk_strv hidden;
	struct sk_state model;
	char ver[16], since[16], jid[64], name[32], st_[16], d1[SK_DIGEST_B64], d2[SK_DIGEST_B64];
	char *groups[2];

	print_message("change lists: seed %u\n", seed0);
	sk_strv_init(&hidden);
	assert_int_equal(sk_strv_add(&hidden, "c5@a.test", 9), 0);
	assert_int_equal(sk_strv_add(&hidden, "c6@a.test/r1", 12), 0);
	sk_state_init(&model);
	for (step = 0; step < 20; step++) {
		struct sk_item it;

		random_item(&seed, step, &it, jid, name, groups);
		assert_int_equal(sk_state_put_item(&model, &it), 0);
	}
	assert_int_equal(sk_store_roster_put(f->s, USER, "0", &model), 0);
	for (step = 1; step <= 300; step++) {
		struct sk_state ch, stored, copy;
		struct sk_view *v, *fresh;
		unsigned j, n = rnd(&seed) % 4;

		/* presence of some contacts, a roster contact or not */
		for (j = 0; j < n; j++) {
			snprintf(jid, sizeof(jid), "c%u@a.test/r%u", rnd(&seed) % 45, rnd(&seed) % 2);
			snprintf(st_, sizeof(st_), "s%u", step);
			if (rnd(&seed) % 4 == 0)
				assert_int_equal(sk_store_pres_del(f->s, jid), 0);
			else
				pres(f->s, jid, st_);
		}
		/* one to five contacts changed or removed, each once */
		sk_state_init(&ch);
		for (j = 0, n = rnd(&seed) % 5 + 1; j < n; j++) {
			struct sk_item it;

			random_item(&seed, rnd(&seed) % 40, &it, jid, name, groups);
			if (sk_state_find_item(&ch, jid) != NULL)
				continue;
			if (rnd(&seed) % 4 == 0) {
				it.sub = SK_SUB_REMOVE;
				sk_state_del_item(&model, jid);
			} else {
				assert_int_equal(sk_state_put_item(&model, &it), 0);
			}
			assert_int_equal(sk_state_put_item(&ch, &it), 0);
		}
		snprintf(since, sizeof(since), "%u", step - 1);
		snprintf(ver, sizeof(ver), "%u", step);
		assert_int_equal(sk_store_roster_apply(f->s, USER, since, ver, &ch), 0);
		/* the kept view for since, changed; else one built from the store */
		if ((v = sk_views_apply(f->c, f->s, USER, since, ver, &hidden, &ch)) != NULL) {
			patched++;
		} else {
			sk_state_init(&stored);
			assert_int_equal(sk_store_roster_get(f->s, USER, &stored), 0);
			assert_int_equal(sk_view_build(f->s, &stored, &hidden, &v), 0);
			assert_int_equal(sk_views_put(f->c, USER, ver, &hidden, v), 0);
		}
		sk_state_free(&ch);
		/* the stored roster is the model's */
		sk_state_init(&stored);
		assert_int_equal(sk_store_roster_get(f->s, USER, &stored), 0);
		items_digest(&stored, d1);
		items_digest(&model, d2);
		assert_string_equal(d1, d2);
		sk_state_free(&stored);
		/* the view equals one built now from the model */
		assert_int_equal(sk_state_copy(&copy, &model), 0);
		assert_int_equal(sk_view_build(f->s, &copy, &hidden, &fresh), 0);
		sk_state_free(&copy);
		{
			char a[SK_DIGEST_B64], b[SK_DIGEST_B64];
			unsigned version;

			for (version = 0; version <= 1; version++) {
				assert_int_equal(sk_view_digest(v, version, a), 0);
				assert_int_equal(sk_view_digest(fresh, version, b), 0);
				if (strcmp(a, b) != 0)
					fail_msg("step %u (seed %u): the changed view's digest %u differs "
					    "from a fresh one's", step, seed0, version);
			}
		}
		assert_int_equal(v->len, fresh->len);
		assert_memory_equal(v->blob, fresh->blob, v->len);
		sk_view_free(fresh);
	}
	/* most steps patch the kept view (the others: presence of too many
	   contacts changed, so the view was dropped) */
	assert_true(patched > 150);
	sk_state_free(&model);
	sk_strv_free(&hidden);
}

/* A change list for another version than the kept view's, or another
   hidden list, changes nothing and gives no view. */
static void
a_change_list_applies_only_to_the_view_of_its_version(void **state)
{
	struct fx *f = *state;
	struct sk_state ch;
	struct sk_item gone = { .jid = "c1@a.test", .sub = SK_SUB_REMOVE };
	struct sk_strv hidden;
	struct sk_view *v;

	sk_strv_init(&hidden);
	assert_int_equal(sk_strv_add(&hidden, "c0@a.test", 9), 0);
	sk_state_init(&ch);
	assert_int_equal(sk_state_put_item(&ch, &gone), 0);
	v = keep(f, 8, "7", NULL);
	assert_null(sk_views_apply(f->c, f->s, USER, "6", "8", NULL, &ch));
	v = keep(f, 8, "7", NULL);
	assert_null(sk_views_apply(f->c, f->s, USER, "7", "8", &hidden, &ch));
	v = keep(f, 8, "7", NULL);
	assert_null(sk_views_apply(f->c, f->s, USER, "7", NULL, NULL, &ch));
	v = keep(f, 8, "7", NULL);
	assert_ptr_equal(sk_views_apply(f->c, f->s, USER, "7", "8", NULL, &ch), v);
	assert_int_equal(v->live.nitems, 7);
	assert_ptr_equal(sk_views_get(f->c, f->s, USER, "8", NULL), v);
	assert_null(sk_views_get(f->c, f->s, USER, "7", NULL));	/* and dropped */
	sk_state_free(&ch);
	sk_strv_free(&hidden);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(a_view_is_used_again_and_follows_its_contacts_changes),
		T(another_roster_version_or_hidden_list_is_another_view),
		T(cleared_presence_lost_batches_and_old_changes_make_views_stale),
		T(the_cache_stays_within_its_bound),
		T(one_user_keeps_no_more_than_his_share),
		T(syncs_from_kept_views_equal_syncs_from_fresh_states),
		T(views_and_stored_rosters_after_change_lists_equal_fresh_ones),
		T(a_change_list_applies_only_to_the_view_of_its_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
