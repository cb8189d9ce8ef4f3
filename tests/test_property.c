/* test_property.c - random roster/presence histories: the client always ends at the live state */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "apply.h"
#include "digest.h"
#include "error.h"
#include "model.h"
#include "snap.h"
#include "store.h"
#include "sync.h"
#include "testutil.h"

#define STEPS 10000

static uint64_t
seed_from_env(uint64_t fixed)
{
	const char *s = getenv("SK_SEED");

	return s && *s ? strtoull(s, NULL, 0) : fixed;
}

/* The records a state holds for one contact, as (kind, jid, hash). */
static int
contact_same(const struct sk_state *a, const struct sk_state *b,
    const char *bare, size_t blen)
{
	size_t i, na = 0, nb = 0;
	const struct sk_item *ia = NULL, *ib = NULL;

	for (i = 0; i < a->nitems; i++)
		if (strlen(a->items[i].jid) == blen && !memcmp(a->items[i].jid, bare, blen))
			ia = &a->items[i];
	for (i = 0; i < b->nitems; i++)
		if (strlen(b->items[i].jid) == blen && !memcmp(b->items[i].jid, bare, blen))
			ib = &b->items[i];
	if ((ia == NULL) != (ib == NULL))
		return 0;
	if (ia && memcmp(ia->hash, ib->hash, SK_HASH_LEN) != 0)
		return 0;
	for (i = 0; i < a->npres; i++) {
		const struct sk_pres *p = &a->pres[i], *q;

		if (sk_jid_barelen(p->jid) != blen || memcmp(p->jid, bare, blen))
			continue;
		na++;
		q = sk_state_find_pres(b, p->jid);
		if (q == NULL || memcmp(p->hash, q->hash, SK_HASH_LEN) != 0)
			return 0;
	}
	for (i = 0; i < b->npres; i++)
		if (sk_jid_barelen(b->pres[i].jid) == blen &&
		    !memcmp(b->pres[i].jid, bare, blen))
			nb++;
	return na == nb;
}

static void
assert_digests_equal(const struct sk_state *a, const struct sk_state *b)
{
	char da[SK_DIGEST_B64], db[SK_DIGEST_B64];

	assert_int_equal(sk_digest_state_b64(a, da), 0);
	assert_int_equal(sk_digest_state_b64(b, db), 0);
	assert_string_equal(da, db);
}

/* Every contact in a delta differs between what the client held and live. */
static void
assert_only_changed_sent(const struct sk_changes *ch, const struct sk_state *client,
    const struct sk_state *live)
{
	size_t i;

	for (i = 0; i < ch->n; i++)
		assert_false(contact_same(client, live, ch->v[i].bare, ch->v[i].barelen));
}

/*
 * Pure layer: snapshot blobs, diff, apply.  10 000 random steps with a
 * sync after every few; after each sync the client's copy digests equal
 * to live and no unchanged contact was sent.
 */
static void
run_pure(uint64_t seed)
{
	struct sk_state client, live, old_client;
	unsigned char *sblob = NULL, *lblob;
	size_t slen = 0, llen, step, syncs = 0, sent = 0;
	struct model m;

	print_message("property (pure): seed %llu (replay with SK_SEED=%llu)\n",
	    (unsigned long long)seed, (unsigned long long)seed);
	model_init(&m, seed, 40);
	sk_state_init(&client);
	assert_int_equal(model_live(&m, &live), 0);
	assert_int_equal(sk_snap_build(&live, &sblob, &slen), 0);
	sk_state_free(&live);

	for (step = 0; step < STEPS; step++) {
		struct sk_snap vo, vl;
		struct sk_sync_result r;
		struct sk_update u;

		assert_true(model_step(&m) >= 0);
		if (model_rand(&m) % 4 != 0)
			continue;
		assert_int_equal(model_live(&m, &live), 0);
		assert_int_equal(sk_snap_build(&live, &lblob, &llen), 0);
		assert_int_equal(sk_snap_view(&vo, sblob, slen), 0);
		assert_int_equal(sk_snap_view(&vl, lblob, llen), 0);
		sk_sync_result_init(&r);
		assert_int_equal(sk_diff(&vo, &vl, &r.changes), 0);
		assert_only_changed_sent(&r.changes, &client, &live);
		sent += r.changes.ncontacts;
		assert_int_equal(sk_sync_to_update(&r, &live, &u), 0);
		assert_int_equal(sk_state_copy(&old_client, &client), 0);
		assert_int_equal(sk_apply(&client, &u), 0);
		assert_digests_equal(&client, &live);
		sk_update_free(&u);
		sk_sync_result_free(&r);
		sk_state_free(&old_client);
		sk_state_free(&live);
		free(sblob);
		sblob = lblob;
		slen = llen;
		syncs++;
	}
	print_message("property (pure): %zu steps, %zu syncs, %zu contacts sent\n",
	    (size_t)STEPS, syncs, sent);
	assert_true(syncs > STEPS / 8);
	free(sblob);
	sk_state_free(&client);
	model_free(&m);
}

static void
pure_fixed_seed_client_always_matches_live(void **state)
{
	(void)state;
	run_pure(20261125);
}

static void
pure_env_seed_client_always_matches_live(void **state)
{
	uint64_t seed = seed_from_env(0);

	(void)state;
	if (seed == 0)
		seed = (uint64_t)getpid() * 2654435761u ^ (uint64_t)time(NULL);
	run_pure(seed);
}

/*
 * Through the engine and the store: keys, the predecessor rule and lost
 * answers.  Sometimes the answer is "lost" (the client keeps its old key
 * and state); the next sync with the old key must still be a delta.
 */
static void
run_engine(uint64_t seed)
{
	struct sk_sync_cfg cfg = { SK_SYNC_TTL_DEFAULT, 4 };
	char key[SK_KEY_MAX + 1] = "";
	struct sk_state client, live;
	struct sk_store *s;
	struct model m;
	size_t step, deltas = 0, fulls = 0, lost = 0;
	char *dir = tmpdir_new();
	uint64_t now = 1700000000;

	print_message("property (engine): seed %llu\n", (unsigned long long)seed);
	assert_int_equal(sk_store_open(dir, 0, &s), 0);
	model_init(&m, seed, 24);
	sk_state_init(&client);
	for (step = 0; step < STEPS / 2; step++) {
		struct sk_sync_result r;
		struct sk_update u;

		assert_true(model_step(&m) >= 0);
		if (model_rand(&m) % 5 != 0)
			continue;
		now += 60;
		assert_int_equal(model_live(&m, &live), 0);
		assert_int_equal(sk_sync_run(s, &cfg, "u@a.test", "dev-1",
		    key[0] ? key : NULL, &live, now, &r), 0);
		if (key[0] != '\0' && r.full)
			fail_msg("key %s unexpectedly gave a full sync (%s) at step %zu",
			    key, sk_reason_name(r.reason), step);
		if (r.full)
			fulls++;
		else {
			deltas++;
			assert_only_changed_sent(&r.changes, &client, &live);
		}
		if (model_rand(&m) % 7 == 0) {
			lost++;		/* the answer never reaches the client */
		} else {
			assert_int_equal(sk_sync_to_update(&r, &live, &u), 0);
			assert_int_equal(sk_apply(&client, &u), 0);
			assert_digests_equal(&client, &live);
			sk_update_free(&u);
			strcpy(key, r.key);
		}
		sk_sync_result_free(&r);
		sk_state_free(&live);
		if (model_rand(&m) % 3 == 0)
			assert_int_equal(sk_store_flush(s), 0);
	}
	print_message("property (engine): %zu deltas, %zu full, %zu answers lost\n",
	    deltas, fulls, lost);
	assert_true(fulls >= 1);
	assert_true(deltas > 0 && lost > 0);
	sk_state_free(&client);
	model_free(&m);
	sk_store_close(s);
	tmpdir_free(dir);
}

static void
engine_keys_and_lost_answers_keep_deltas_exact(void **state)
{
	(void)state;
	run_engine(seed_from_env(7));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pure_fixed_seed_client_always_matches_live),
		cmocka_unit_test(pure_env_seed_client_always_matches_live),
		cmocka_unit_test(engine_keys_and_lost_answers_keep_deltas_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
