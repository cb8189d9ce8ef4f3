/* test_state.c - the data model: copies, order, lookups, hashes */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "record.h"
#include "state.h"

static void
items_are_deep_copied_with_sorted_unique_groups(void **unused)
{
	char name[] = "Ann", jid[] = "ann@a.test";
	char *groups[] = { "Work", "Friends", "Work" };
	struct sk_item it = { .jid = jid, .name = name, .sub = SK_SUB_BOTH,
	    .groups = groups, .ngroups = 3 };
	struct sk_state st;

	(void)unused;
	sk_state_init(&st);
	assert_int_equal(sk_state_add_item(&st, &it), 0);
	name[0] = 'X';
	jid[0] = 'x';
	assert_string_equal(st.items[0].jid, "ann@a.test");
	assert_string_equal(st.items[0].name, "Ann");
	assert_int_equal(st.items[0].ngroups, 2);
	assert_string_equal(st.items[0].groups[0], "Friends");
	assert_string_equal(st.items[0].groups[1], "Work");
	sk_state_free(&st);
}

static void
empty_jid_is_refused_and_state_unchanged(void **unused)
{
	struct sk_item it = { .jid = "" };
	struct sk_pres p = { .jid = NULL };
	struct sk_state st;

	(void)unused;
	sk_state_init(&st);
	assert_int_equal(sk_state_add_item(&st, &it), SK_EINVAL);
	assert_int_equal(sk_state_add_pres(&st, &p), SK_EINVAL);
	assert_int_equal(st.nitems, 0);
	assert_int_equal(st.npres, 0);
	sk_state_free(&st);
}

static void
put_keeps_order_and_replaces(void **unused)
{
	const char *jids[] = { "m@x", "a@x", "z@x", "b@x", "a@x" };
	struct sk_state st;
	size_t i;

	(void)unused;
	sk_state_init(&st);
	for (i = 0; i < 5; i++) {
		struct sk_item it = { .jid = (char *)jids[i], .sub = (enum sk_sub)(i % 4) };

		assert_int_equal(sk_state_put_item(&st, &it), 0);
	}
	assert_int_equal(st.nitems, 4);
	for (i = 1; i < st.nitems; i++)
		assert_true(strcmp(st.items[i - 1].jid, st.items[i].jid) < 0);
	assert_int_equal(sk_state_find_item(&st, "a@x")->sub, SK_SUB_NONE);
	assert_null(sk_state_find_item(&st, "q@x"));
	sk_state_del_item(&st, "m@x");
	sk_state_del_item(&st, "nobody@x");
	assert_int_equal(st.nitems, 3);
	sk_state_free(&st);
}

static void
bare_delete_removes_only_that_contact(void **unused)
{
	const char *jids[] = { "a@b/1", "a@b/2", "a@b.c/1", "a@bc/1", "a@b" };
	struct sk_state st;
	size_t i;

	(void)unused;
	sk_state_init(&st);
	for (i = 0; i < 5; i++) {
		struct sk_pres p = { .jid = (char *)jids[i] };

		assert_int_equal(sk_state_put_pres(&st, &p), 0);
	}
	sk_state_del_pres_bare(&st, "a@b");
	assert_int_equal(st.npres, 2);
	assert_non_null(sk_state_find_pres(&st, "a@b.c/1"));
	assert_non_null(sk_state_find_pres(&st, "a@bc/1"));
	sk_state_free(&st);
}

static int
status_is_x(const struct sk_pres *p, void *arg)
{
	(void)arg;
	return p->status != NULL && strcmp(p->status, "x") == 0;
}

/* The two steps of a view's refresh: a filter in one pass, and a merge
   that keeps the order and lets the added presence win. */
static void
filter_then_merge_keeps_order_and_replaces(void **unused)
{
	const char *have[] = { "a@b/1", "c@b/1", "e@b/1", "g@b/1" };
	const char *add[] = { "b@b/1", "c@b/1", "f@b/1", "h@b/1" };
	const char *want[] = { "a@b/1", "b@b/1", "c@b/1", "f@b/1", "g@b/1", "h@b/1" };
	struct sk_state st, more;
	size_t i;

	(void)unused;
	sk_state_init(&st);
	sk_state_init(&more);
	for (i = 0; i < 4; i++) {
		struct sk_pres p = { .jid = (char *)have[i], .status = i == 2 ? "x" : "old" };
		struct sk_pres q = { .jid = (char *)add[i], .status = "new" };

		assert_int_equal(sk_state_put_pres(&st, &p), 0);
		assert_int_equal(sk_state_put_pres(&more, &q), 0);
	}
	sk_state_del_pres_if(&st, status_is_x, NULL);
	assert_int_equal(st.npres, 3);
	assert_null(sk_state_find_pres(&st, "e@b/1"));
	assert_int_equal(sk_state_merge_pres(&st, &more), 0);
	assert_int_equal(more.npres, 0);
	assert_int_equal(st.npres, 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(st.pres[i].jid, want[i]);
	assert_string_equal(sk_state_find_pres(&st, "c@b/1")->status, "new");
	assert_string_equal(sk_state_find_pres(&st, "a@b/1")->status, "old");
	assert_int_equal(sk_state_merge_pres(&st, &more), 0);	/* nothing to add */
	assert_int_equal(st.npres, 6);
	sk_state_free(&st);
	sk_state_free(&more);
}

static void
hash_follows_every_field(void **unused)
{
	struct sk_pres a = { .jid = "a@b/r", .show = "away", .status = "x", .priority = 1 };
	struct sk_pres b;
	unsigned char h[SK_HASH_LEN];

	(void)unused;
	sk_pres_hash(&a);
	memcpy(h, a.hash, SK_HASH_LEN);
	b = a;
	b.priority = 2;
	sk_pres_hash(&b);
	assert_memory_not_equal(h, b.hash, SK_HASH_LEN);
	b = a;
	b.status = "y";
	sk_pres_hash(&b);
	assert_memory_not_equal(h, b.hash, SK_HASH_LEN);
	b = a;
	b.xml = "<presence id='other'/>";	/* replay text does not count */
	sk_pres_hash(&b);
	assert_memory_equal(h, b.hash, SK_HASH_LEN);
}

static void
subscription_names_round_trip(void **unused)
{
	int s;

	(void)unused;
	for (s = SK_SUB_NONE; s <= SK_SUB_REMOVE; s++)
		assert_int_equal(sk_sub_parse(sk_sub_name((enum sk_sub)s)), s);
	assert_int_equal(sk_sub_parse("bogus"), -1);
	assert_int_equal(sk_sub_parse(NULL), SK_SUB_NONE);
	assert_true(sk_sub_receives_presence(SK_SUB_TO));
	assert_true(sk_sub_receives_presence(SK_SUB_BOTH));
	assert_false(sk_sub_receives_presence(SK_SUB_FROM));
	assert_false(sk_sub_receives_presence(SK_SUB_NONE));
	assert_int_equal(sk_jid_barelen("a@b/c/d"), 3);
	assert_int_equal(sk_jid_barelen("a@b"), 3);
}

/* JIDs are compared bytewise everywhere: "Zed" sorts before "ann", and
   sorting must agree with the binary search of find/put/del. */
static void
mixed_case_jids_sort_bytewise_and_are_found(void **unused)
{
	const char *jids[] = { "carl@x", "ann@x", "Zed@x", "bob@x", "Bob@x", "alf@x" };
	const char *order[] = { "Bob@x", "Zed@x", "alf@x", "ann@x", "bob@x", "carl@x" };
	struct sk_state st;
	size_t i;

	(void)unused;
	sk_state_init(&st);
	for (i = 0; i < 6; i++) {
		struct sk_item it = { .jid = (char *)jids[i], .sub = SK_SUB_BOTH };

		assert_int_equal(sk_state_add_item(&st, &it), 0);
	}
	sk_state_sort(&st);
	for (i = 0; i < 6; i++) {
		assert_string_equal(st.items[i].jid, order[i]);
		assert_ptr_equal(sk_state_find_item(&st, order[i]), &st.items[i]);
	}
	{
		struct sk_item again = { .jid = "Zed@x", .sub = SK_SUB_TO };

		assert_int_equal(sk_state_put_item(&st, &again), 0);
	}
	assert_int_equal(st.nitems, 6);
	assert_int_equal(sk_state_find_item(&st, "Zed@x")->sub, SK_SUB_TO);
	sk_state_del_item(&st, "Bob@x");
	assert_null(sk_state_find_item(&st, "Bob@x"));
	assert_non_null(sk_state_find_item(&st, "bob@x"));
	assert_int_equal(st.nitems, 5);
	sk_state_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(items_are_deep_copied_with_sorted_unique_groups),
		cmocka_unit_test(empty_jid_is_refused_and_state_unchanged),
		cmocka_unit_test(put_keeps_order_and_replaces),
		cmocka_unit_test(bare_delete_removes_only_that_contact),
		cmocka_unit_test(hash_follows_every_field),
		cmocka_unit_test(subscription_names_round_trip),
		cmocka_unit_test(mixed_case_jids_sort_bytewise_and_are_found),
		cmocka_unit_test(filter_then_merge_keeps_order_and_replaces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
