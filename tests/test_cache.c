/* test_cache.c - the client's cache: round trip, one-transaction commits, refusals */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
	/* the service found last time survives a reopen; NULL forgets it */
	{
		unsigned fl = 9;

		assert_string_equal(sk_cache_service(c, &fl), "");
		assert_int_equal(fl, 0);
		assert_int_equal(sk_cache_set_service(c, "sync.p.test", SK_SVC_ADAPTER), 0);
		sk_cache_close(c);
		assert_int_equal(sk_cache_open(dir, "me@p.test", NULL, 0, &c), 0);
		assert_string_equal(sk_cache_service(c, &fl), "sync.p.test");
		assert_int_equal(fl, SK_SVC_ADAPTER);
		assert_int_equal(sk_cache_set_service(c, NULL, 0), 0);
		assert_string_equal(sk_cache_service(c, &fl), "");
	}
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

/* A cache of n generated contacts, committed in dir; returns its path. */
static void
big_cache(const char *dir, size_t n)
{
	struct sk_cache *c;
	struct sk_state st;
	size_t i;

	sk_state_init(&st);
	for (i = 0; i < n; i++) {
		char jid[64];
		struct sk_item it = { .jid = jid, .name = "Contact", .sub = SK_SUB_BOTH };

		snprintf(jid, sizeof(jid), "contact%05zu@p.test", i);
		assert_int_equal(sk_state_add_item(&st, &it), 0);
	}
	sk_state_sort(&st);
	assert_int_equal(sk_cache_open(dir, "me@p.test", "laptop", 1, &c), 0);
	assert_int_equal(sk_cache_commit(c, &st, "KEY", ""), 0);
	sk_cache_close(c);
	sk_state_free(&st);
}

/* Regression (reliability F6, F7): a truncated cache is refused before
   LMDB touches a missing page (SIGBUS before), an empty file is no new
   cache (it was silently re-created). */
static void
truncated_or_empty_caches_are_refused(void **unused)
{
	static const off_t sizes[] = { 8192, 12288, 20000, 0 };
	char *dir = tmpdir_new(), path[4200];
	struct sk_cache *c;
	size_t i;

	(void)unused;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		big_cache(dir, 2000);
		assert_int_equal(truncate(path, sizes[i]), 0);
		if (sk_cache_open(dir, "me@p.test", NULL, 0, &c) != SK_ECORRUPT)
			fail_msg("a cache truncated to %ld bytes was not refused", (long)sizes[i]);
		assert_int_equal(sk_cache_open(dir, "me@p.test", NULL, 1, &c), SK_ECORRUPT);
		assert_int_equal(unlink(path), 0);
	}
	tmpdir_free(dir);
}

/* Regression (issue 7, item 5): every name item_encode writes, item_decode
   reads back (a 1 100-byte name bricked the cache). */
static void
a_long_contact_name_round_trips(void **unused)
{
	char *dir = tmpdir_new(), *name = malloc(5001);
	struct sk_item it = { .jid = "ann@p.test", .sub = SK_SUB_BOTH };
	struct sk_state st, back;
	struct sk_cache *c;

	(void)unused;
	memset(name, 'n', 5000);
	name[5000] = '\0';
	it.name = name;
	sk_state_init(&st);
	assert_int_equal(sk_state_add_item(&st, &it), 0);
	assert_int_equal(sk_cache_open(dir, "me@p.test", NULL, 1, &c), 0);
	assert_int_equal(sk_cache_commit(c, &st, "KEY", ""), 0);
	assert_int_equal(sk_cache_load(c, &back), 0);
	assert_string_equal(back.items[0].name, name);
	sk_cache_close(c);
	sk_state_free(&back);
	sk_state_free(&st);
	free(name);
	tmpdir_free(dir);
}

/* Regression (reliability F5): a cache damaged so that the presence
   cursor cannot be opened made sk_cache_load close the item cursor twice
   (a double free under ASan).  Needs $top_srcdir (make check sets it). */
static void
a_damaged_presence_db_is_refused_once(void **unused)
{
	const char *top = getenv("top_srcdir");
	char *dir, cmd[8400];
	struct sk_cache *c;
	struct sk_state st;
	int rc;

	(void)unused;
	if (top == NULL)
		skip();
	dir = tmpdir_new();
	snprintf(cmd, sizeof(cmd), "gunzip -c '%s/tests/fake/caches/cache-doublefree-seed75.mdb.gz' > '%s/data.mdb'",
	    top, dir);
	assert_int_equal(system(cmd), 0);
	rc = sk_cache_open(dir, "alice@p.test", NULL, 0, &c);
	if (rc == 0) {
		assert_int_equal(sk_cache_load(c, &st), SK_ECORRUPT);
		sk_cache_close(c);
	} else {
		assert_int_equal(rc, SK_ECORRUPT);
	}
	tmpdir_free(dir);
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
		cmocka_unit_test(truncated_or_empty_caches_are_refused),
		cmocka_unit_test(a_long_contact_name_round_trips),
		cmocka_unit_test(a_damaged_presence_db_is_refused_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
