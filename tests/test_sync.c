/* test_sync.c - the sync engine: reasons, key lifecycle, eviction, checkpoint */
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
#include "testutil.h"

#define NOW 1700000000ULL

struct fx {
	char			*dir;
	struct sk_store		*s;
	struct sk_state		 live;
	struct sk_sync_cfg	 cfg;
};

static void
item(struct sk_state *st, const char *jid, const char *name)
{
	struct sk_item it = { .jid = (char *)jid, .name = (char *)name, .sub = SK_SUB_BOTH };

	assert_int_equal(sk_state_put_item(st, &it), 0);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tmpdir_new();
	assert_int_equal(sk_store_open(f->dir, 0, &f->s), 0);
	f->cfg.ttl = SK_SYNC_TTL_DEFAULT;
	f->cfg.max_clients = 3;
	item(&f->live, "ann@a.test", "Ann");
	item(&f->live, "bob@a.test", "Bob");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	sk_state_free(&f->live);
	sk_store_close(f->s);
	tmpdir_free(f->dir);
	free(f);
	return 0;
}

/* One sync; returns the reason (NONE for a delta) and copies the key. */
static enum sk_reason
sync_as(struct fx *f, const char *user, const char *client, const char *key,
    uint64_t now, char out[SK_KEY_MAX + 1], size_t *nchanges)
{
	struct sk_sync_result r;
	enum sk_reason reason;

	assert_int_equal(sk_sync_run(f->s, &f->cfg, user, client, key, &f->live, now, &r), 0);
	assert_true(strlen(r.key) > 0 && strlen(r.key) <= SK_KEY_MAX);
	assert_int_equal(strlen(r.digest), 44);
	reason = r.reason;
	assert_int_equal(r.full, reason != SK_REASON_NONE);
	if (out)
		strcpy(out, r.key);
	if (nchanges)
		*nchanges = r.changes.n;
	sk_sync_result_free(&r);
	return reason;
}

static void
no_key_gives_full_then_key_gives_null_delta(void **state)
{
	struct fx *f = *state;
	char k1[SK_KEY_MAX + 1], k2[SK_KEY_MAX + 1];
	size_t n;

	assert_int_equal(sync_as(f, "u@a.test", "c1", NULL, NOW, k1, NULL), SK_REASON_NO_KEY);
	assert_int_equal(sync_as(f, "u@a.test", "c1", k1, NOW + 1, k2, &n), SK_REASON_NONE);
	assert_int_equal(n, 0);
	assert_string_not_equal(k1, k2);
}

static void
a_change_gives_exactly_that_contact(void **state)
{
	struct fx *f = *state;
	char k[SK_KEY_MAX + 1];
	size_t n;

	sync_as(f, "u@a.test", "c1", NULL, NOW, k, NULL);
	item(&f->live, "bob@a.test", "Robert");
	assert_int_equal(sync_as(f, "u@a.test", "c1", k, NOW + 1, k, &n), SK_REASON_NONE);
	assert_int_equal(n, 1);
}

static void
foreign_and_damaged_keys_are_invalid(void **state)
{
	struct fx *f = *state;
	char k[SK_KEY_MAX + 1], bad[SK_KEY_MAX + 1];

	sync_as(f, "u@a.test", "c1", NULL, NOW, k, NULL);
	assert_int_equal(sync_as(f, "v@a.test", "c1", k, NOW, NULL, NULL), SK_REASON_INVALID_KEY);
	assert_int_equal(sync_as(f, "u@a.test", "c2", k, NOW, NULL, NULL), SK_REASON_INVALID_KEY);
	strcpy(bad, k);
	bad[10] = bad[10] == 'A' ? 'B' : 'A';
	assert_int_equal(sync_as(f, "u@a.test", "c1", bad, NOW, NULL, NULL), SK_REASON_INVALID_KEY);
	assert_int_equal(sync_as(f, "u@a.test", "c1", "", NOW, NULL, NULL), SK_REASON_INVALID_KEY);
	assert_int_equal(sync_as(f, "u@a.test", "c1", "not a key!", NOW, NULL, NULL), SK_REASON_INVALID_KEY);
}

static void
old_keys_expire(void **state)
{
	struct fx *f = *state;
	char k[SK_KEY_MAX + 1];

	sync_as(f, "u@a.test", "c1", NULL, NOW, k, NULL);
	assert_int_equal(sync_as(f, "u@a.test", "c1", k, NOW + f->cfg.ttl + 1, NULL, NULL),
	    SK_REASON_EXPIRED);
}

static void
an_epoch_bump_resets_keys(void **state)
{
	struct fx *f = *state;
	char k[SK_KEY_MAX + 1];
	uint32_t e;

	sync_as(f, "u@a.test", "c1", NULL, NOW, k, NULL);
	assert_int_equal(sk_store_epoch_bump(f->s, &e), 0);
	assert_int_equal(sync_as(f, "u@a.test", "c1", k, NOW, k, NULL), SK_REASON_RESET);
	assert_int_equal(sync_as(f, "u@a.test", "c1", k, NOW, NULL, NULL), SK_REASON_NONE);
}

static void
predecessor_stays_valid_until_successor_is_used(void **state)
{
	struct fx *f = *state;
	char k1[SK_KEY_MAX + 1], k2[SK_KEY_MAX + 1], k3[SK_KEY_MAX + 1];

	sync_as(f, "u@a.test", "c1", NULL, NOW, k1, NULL);
	/* the answer carrying k2 is lost: k1 still works, once more */
	assert_int_equal(sync_as(f, "u@a.test", "c1", k1, NOW, k2, NULL), SK_REASON_NONE);
	assert_int_equal(sync_as(f, "u@a.test", "c1", k1, NOW, k2, NULL), SK_REASON_NONE);
	/* k2 used: k1 is gone, k2 stays until k3 is used */
	assert_int_equal(sync_as(f, "u@a.test", "c1", k2, NOW, k3, NULL), SK_REASON_NONE);
	assert_int_equal(sync_as(f, "u@a.test", "c1", k1, NOW, NULL, NULL), SK_REASON_UNKNOWN_KEY);
}

static void
survives_reopen(void **state)
{
	struct fx *f = *state;
	char k[SK_KEY_MAX + 1];

	sync_as(f, "u@a.test", "c1", NULL, NOW, k, NULL);
	assert_int_equal(sk_store_flush(f->s), 0);
	sk_store_close(f->s);
	assert_int_equal(sk_store_open(f->dir, 0, &f->s), 0);
	assert_int_equal(sync_as(f, "u@a.test", "c1", k, NOW, NULL, NULL), SK_REASON_NONE);
}

static void
oldest_client_is_evicted_past_the_limit(void **state)
{
	struct fx *f = *state;
	char ka[SK_KEY_MAX + 1], kb[SK_KEY_MAX + 1];

	sync_as(f, "u@a.test", "a", NULL, NOW, ka, NULL);
	sync_as(f, "u@a.test", "b", NULL, NOW + 1, kb, NULL);
	sync_as(f, "u@a.test", "c", NULL, NOW + 2, NULL, NULL);
	sync_as(f, "u@a.test", "d", NULL, NOW + 3, NULL, NULL);	/* evicts a */
	assert_int_equal(sync_as(f, "u@a.test", "a", ka, NOW + 4, NULL, NULL), SK_REASON_UNKNOWN_KEY);
	assert_int_equal(sync_as(f, "u@a.test", "b", kb, NOW + 5, NULL, NULL), SK_REASON_UNKNOWN_KEY);
	/* another user's clients do not count */
	assert_int_equal(sync_as(f, "w@a.test", "a", NULL, NOW, NULL, NULL), SK_REASON_NO_KEY);
}

static void
checkpoint_needs_a_usable_key_and_moves_the_base(void **state)
{
	struct fx *f = *state;
	char k[SK_KEY_MAX + 1], ck[SK_KEY_MAX + 1] = "";
	size_t n;

	assert_int_equal(sk_sync_checkpoint(f->s, &f->cfg, "u@a.test", "c1", "junk",
	    &f->live, NOW, ck), SK_EKEY);
	assert_int_equal(sk_sync_checkpoint(f->s, &f->cfg, "u@a.test", "c1", NULL,
	    &f->live, NOW, ck), SK_EKEY);
	sync_as(f, "u@a.test", "c1", NULL, NOW, k, NULL);
	item(&f->live, "cid@a.test", NULL);		/* the client saw this live */
	assert_int_equal(sk_sync_checkpoint(f->s, &f->cfg, "u@a.test", "c1", k,
	    &f->live, NOW, ck), 0);
	item(&f->live, "dan@a.test", NULL);		/* while away */
	assert_int_equal(sync_as(f, "u@a.test", "c1", ck, NOW, NULL, &n), SK_REASON_NONE);
	assert_int_equal(n, 1);
	assert_int_equal(sk_sync_checkpoint(f->s, &f->cfg, "u@a.test", "c1", k,
	    &f->live, NOW + f->cfg.ttl + 5, ck), SK_EEXPIRED);
}

static void
gc_drops_clients_unused_past_the_ttl(void **state)
{
	struct fx *f = *state;
	char k[SK_KEY_MAX + 1];
	size_t removed = 0;

	sync_as(f, "u@a.test", "c1", NULL, NOW, k, NULL);
	sync_as(f, "u@a.test", "c2", NULL, NOW + f->cfg.ttl, NULL, NULL);
	assert_int_equal(sk_store_gc(f->s, NOW + f->cfg.ttl + 10, f->cfg.ttl, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(sync_as(f, "u@a.test", "c1", k, NOW + 1, NULL, NULL), SK_REASON_UNKNOWN_KEY);
}

/* The names the protocol gives the reasons of a full sync (xep/ "Sync result"). */
static void
reasons_have_their_protocol_names(void **state)
{
	(void)state;
	assert_null(sk_reason_name(SK_REASON_NONE));
	assert_string_equal(sk_reason_name(SK_REASON_NO_KEY), "no-key");
	assert_string_equal(sk_reason_name(SK_REASON_UNKNOWN_KEY), "unknown-key");
	assert_string_equal(sk_reason_name(SK_REASON_EXPIRED), "expired");
	assert_string_equal(sk_reason_name(SK_REASON_INVALID_KEY), "invalid-key");
	assert_string_equal(sk_reason_name(SK_REASON_RESET), "reset");
	assert_null(sk_reason_name((enum sk_reason)(SK_REASON_RESET + 1)));
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(no_key_gives_full_then_key_gives_null_delta),
		T(a_change_gives_exactly_that_contact),
		T(foreign_and_damaged_keys_are_invalid),
		T(old_keys_expire),
		T(an_epoch_bump_resets_keys),
		T(predecessor_stays_valid_until_successor_is_used),
		T(survives_reopen),
		T(oldest_client_is_evicted_past_the_limit),
		T(checkpoint_needs_a_usable_key_and_moves_the_base),
		T(gc_drops_clients_unused_past_the_ttl),
		T(reasons_have_their_protocol_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
