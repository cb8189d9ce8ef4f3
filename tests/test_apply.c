/* test_apply.c - full and delta results applied to a client's state */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "apply.h"

static void
item(struct sk_state *st, const char *jid, enum sk_sub sub)
{
	struct sk_item it = { .jid = (char *)jid, .sub = sub };

	assert_int_equal(sk_state_put_item(st, &it), 0);
}

static void
pres(struct sk_state *st, const char *jid)
{
	struct sk_pres p = { .jid = (char *)jid };

	assert_int_equal(sk_state_put_pres(st, &p), 0);
}

static void
full_result_replaces_everything(void **unused)
{
	struct sk_state st;
	struct sk_update u;

	(void)unused;
	sk_state_init(&st);
	item(&st, "old@x", SK_SUB_BOTH);
	pres(&st, "old@x/r");
	sk_update_init(&u);
	u.full = 1;
	item(&u.put, "z@x", SK_SUB_BOTH);
	item(&u.put, "a@x", SK_SUB_TO);
	pres(&u.put, "a@x/r");
	assert_int_equal(sk_apply(&st, &u), 0);
	assert_int_equal(st.nitems, 2);
	assert_string_equal(st.items[0].jid, "a@x");
	assert_int_equal(st.npres, 1);
	assert_null(sk_state_find_item(&st, "old@x"));
	sk_update_free(&u);
	sk_state_free(&st);
}

static void
delta_upserts_removes_and_unavailables(void **unused)
{
	struct sk_state st;
	struct sk_update u;

	(void)unused;
	sk_state_init(&st);
	item(&st, "a@x", SK_SUB_BOTH);
	item(&st, "b@x", SK_SUB_BOTH);
	pres(&st, "a@x/1");
	pres(&st, "a@x/2");
	pres(&st, "b@x/1");
	pres(&st, "b@x/2");
	sk_update_init(&u);
	item(&u.put, "a@x", SK_SUB_FROM);
	item(&u.put, "b@x", SK_SUB_REMOVE);
	item(&u.put, "c@x", SK_SUB_NONE);
	assert_int_equal(sk_strv_add(&u.gone, "a@x/1", 5), 0);
	assert_int_equal(sk_strv_add(&u.gone_all, "b@x", 3), 0);
	/* a bare unavailable then a new resource of the same contact */
	pres(&u.put, "b@x/3");
	assert_int_equal(sk_apply(&st, &u), 0);
	assert_int_equal(st.nitems, 2);
	assert_int_equal(sk_state_find_item(&st, "a@x")->sub, SK_SUB_FROM);
	assert_null(sk_state_find_item(&st, "b@x"));
	assert_non_null(sk_state_find_item(&st, "c@x"));
	assert_int_equal(st.npres, 2);
	assert_non_null(sk_state_find_pres(&st, "a@x/2"));
	assert_non_null(sk_state_find_pres(&st, "b@x/3"));
	sk_update_free(&u);
	sk_state_free(&st);
}

static void
null_result_changes_nothing(void **unused)
{
	struct sk_state st;
	struct sk_update u;

	(void)unused;
	sk_state_init(&st);
	item(&st, "a@x", SK_SUB_BOTH);
	sk_update_init(&u);
	assert_int_equal(sk_apply(&st, &u), 0);
	assert_int_equal(st.nitems, 1);
	sk_update_free(&u);
	sk_state_free(&st);
}

static void
removing_what_is_absent_is_harmless(void **unused)
{
	struct sk_state st;
	struct sk_update u;

	(void)unused;
	sk_state_init(&st);
	sk_update_init(&u);
	item(&u.put, "ghost@x", SK_SUB_REMOVE);
	assert_int_equal(sk_strv_add(&u.gone, "ghost@x/r", 9), 0);
	assert_int_equal(sk_strv_add(&u.gone_all, "ghost@x", 7), 0);
	assert_int_equal(sk_apply(&st, &u), 0);
	assert_int_equal(st.nitems + st.npres, 0);
	sk_update_free(&u);
	sk_state_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_result_replaces_everything),
		cmocka_unit_test(delta_upserts_removes_and_unavailables),
		cmocka_unit_test(null_result_changes_nothing),
		cmocka_unit_test(removing_what_is_absent_is_harmless),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
