/* test_cache.c - the client's cache: round trip, one-transaction commits, refusals */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cache.h"
#include "error.h"
#include "testutil.h"

static void
world(struct sk_state *st)
{
	char *groups[] = { "Work", "Friends" };
	struct sk_item a = { .jid = "ann@p.test", .name = "Ann", .sub = SK_SUB_BOTH,
	    .groups = groups, .ngroups = 2 };
	struct sk_item b = { .jid = "bob@p.test", .sub = SK_SUB_TO, .ask = 1 };
	struct sk_pres p = { .jid = "ann@p.test/phone", .show = "away", .status = "lunch",
	    .priority = -1, .xml = "<presence from='ann@p.test/phone'/>" };

	sk_state_init(st);
	assert_int_equal(sk_state_add_item(st, &a), 0);
	assert_int_equal(sk_state_add_item(st, &b), 0);
	assert_int_equal(sk_state_add_pres(st, &p), 0);
	sk_state_sort(st);
}

static void
state_key_and_ver_round_trip(void **unused)
{
	char *dir = tmpdir_new();
	struct sk_cache *c;
	struct sk_state st, back;

	(void)unused;
	world(&st);
	assert_int_equal(sk_cache_open(dir, "me@p.test", NULL, 0, &c), SK_ENOTFOUND);
	assert_int_equal(sk_cache_open(dir, "me@p.test", "laptop", 1, &c), 0);
	assert_string_equal(sk_cache_client(c), "laptop");
	assert_string_equal(sk_cache_key(c), "");
	assert_int_equal(sk_cache_commit(c, &st, "KEY1", "17"), 0);
	sk_cache_close(c);
	assert_int_equal(sk_cache_open(dir, "me@p.test", NULL, 0, &c), 0);
	assert_string_equal(sk_cache_key(c), "KEY1");
	assert_string_equal(sk_cache_ver(c), "17");
	assert_string_equal(sk_cache_client(c), "laptop");
	assert_int_equal(sk_cache_load(c, &back), 0);
	assert_int_equal(back.nitems, 2);
	assert_int_equal(back.npres, 1);
	assert_string_equal(back.items[0].groups[0], "Friends");
	assert_int_equal(back.items[1].ask, 1);
	assert_int_equal(back.pres[0].priority, -1);
	assert_memory_equal(back.items[0].hash, st.items[0].hash, SK_HASH_LEN);
	/* forget drops only the key */
	assert_int_equal(sk_cache_set_key(c, NULL), 0);
	assert_string_equal(sk_cache_key(c), "");
	sk_state_free(&back);
	assert_int_equal(sk_cache_load(c, &back), 0);
	assert_int_equal(back.nitems, 2);
	sk_state_free(&back);
	sk_cache_close(c);
	sk_state_free(&st);
	tmpdir_free(dir);
}

static void
a_random_client_id_is_valid(void **unused)
{
	char *dir = tmpdir_new();
	struct sk_cache *c;

	(void)unused;
	assert_int_equal(sk_cache_open(dir, "me@p.test", NULL, 1, &c), 0);
	assert_true(sk_key_client_ok(sk_cache_client(c)));
	sk_cache_close(c);
	tmpdir_free(dir);
}

static void
another_accounts_cache_is_refused(void **unused)
{
	char *dir = tmpdir_new();
	struct sk_cache *c;

	(void)unused;
	assert_int_equal(sk_cache_open(dir, "me@p.test", NULL, 1, &c), 0);
	sk_cache_close(c);
	assert_int_equal(sk_cache_open(dir, "you@p.test", NULL, 1, &c), SK_EFOREIGN);
	assert_null(c);
	tmpdir_free(dir);
}

static void
an_edited_cache_is_refused_and_left_alone(void **unused)
{
	char *dir = tmpdir_new(), path[4200], cmd[8600];
	struct sk_cache *c;
	struct sk_state st, back;

	(void)unused;
	world(&st);
	assert_int_equal(sk_cache_open(dir, "me@p.test", NULL, 1, &c), 0);
	assert_int_equal(sk_cache_commit(c, &st, "K", NULL), 0);
	sk_cache_close(c);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	snprintf(cmd, sizeof(cmd), "sed -i 's/lunch/LUNCH/g' '%s'", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(sk_cache_open(dir, "me@p.test", NULL, 1, &c), 0);
	assert_int_equal(sk_cache_load(c, &back), SK_ECORRUPT);
	assert_string_equal(sk_cache_key(c), "K");	/* nothing rewritten */
	sk_cache_close(c);
	sk_state_free(&st);
	tmpdir_free(dir);
}

static void
bad_arguments_are_refused(void **unused)
{
	struct sk_cache *c;

	(void)unused;
	assert_int_equal(sk_cache_open(NULL, "me@p.test", NULL, 1, &c), SK_EINVAL);
	assert_int_equal(sk_cache_open("/tmp/x", "", NULL, 1, &c), SK_EINVAL);
	assert_int_equal(sk_cache_open("/tmp/x", "me@p.test", "bad id", 1, &c), SK_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_key_and_ver_round_trip),
		cmocka_unit_test(a_random_client_id_is_valid),
		cmocka_unit_test(another_accounts_cache_is_refused),
		cmocka_unit_test(an_edited_cache_is_refused_and_left_alone),
		cmocka_unit_test(bad_arguments_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
