/* test_diff.c - exactly the changed contacts between a snapshot and live */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diff.h"
#include "error.h"
#include "snap.h"

static void
item(struct sk_state *st, const char *jid, const char *name, enum sk_sub sub)
{
	struct sk_item it = { .jid = (char *)jid, .name = (char *)name, .sub = sub };

	assert_int_equal(sk_state_put_item(st, &it), 0);
}

static void
pres(struct sk_state *st, const char *jid, const char *status)
{
	struct sk_pres p = { .jid = (char *)jid, .status = (char *)status };

	assert_int_equal(sk_state_put_pres(st, &p), 0);
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define OUTCAP 65536

/* Diffs old against live and renders the changes as sorted text lines. */
static char *
diff_text(const struct sk_state *old, const struct sk_state *live)
{
	static const char *const names[] = { "item", "remove", "pres", "gone", "gone-all" };
	unsigned char *ob, *lb;
	size_t ol, ll, i, off = 0;
	struct sk_snap vo, vl;
	struct sk_changes ch;
	char *out = malloc(OUTCAP), **lines;

	assert_int_equal(sk_snap_build(old, &ob, &ol), 0);
	assert_int_equal(sk_snap_build(live, &lb, &ll), 0);
	assert_int_equal(sk_snap_view(&vo, ob, ol), 0);
	assert_int_equal(sk_snap_view(&vl, lb, ll), 0);
	sk_changes_init(&ch);
	assert_int_equal(sk_diff(&vo, &vl, &ch), 0);
	lines = calloc(ch.n + 1, sizeof(char *));
	for (i = 0; i < ch.n; i++) {
		const struct sk_change *c = &ch.v[i];
		const char *jid = c->kind == SK_CH_ITEM ? live->items[c->ref].jid :
		    c->kind == SK_CH_PRES ? live->pres[c->ref].jid : NULL;

		lines[i] = malloc(300);
		if (jid)
			snprintf(lines[i], 300, "%s %s", names[c->kind], jid);
		else
			snprintf(lines[i], 300, "%s %.*s%s%.*s", names[c->kind],
			    c->barelen, c->bare, c->reslen ? "/" : "", c->reslen, c->res);
	}
	qsort(lines, ch.n, sizeof(char *), cmp_line);
	out[0] = '\0';
	for (i = 0; i < ch.n; i++) {
		assert_true(off + strlen(lines[i]) + 3 < OUTCAP);
		off += (size_t)snprintf(out + off, OUTCAP - off, "%s%s", i ? "; " : "", lines[i]);
		free(lines[i]);
	}
	free(lines);
	sk_changes_free(&ch);
	free(ob);
	free(lb);
	return out;
}

#define EXPECT_DIFF(old, live, want) do {		\
	char *got_ = diff_text((old), (live));		\
	assert_string_equal(got_, (want));		\
	free(got_);					\
} while (0)

struct world {
	struct sk_state old, live;
};

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	item(&w->old, "ann@a.test", "Ann", SK_SUB_BOTH);
	item(&w->old, "bob@a.test", NULL, SK_SUB_BOTH);
	item(&w->old, "cid@b.test", NULL, SK_SUB_TO);
	pres(&w->old, "ann@a.test/phone", "hi");
	pres(&w->old, "ann@a.test/laptop", NULL);
	pres(&w->old, "cid@b.test/tab", NULL);
	assert_int_equal(sk_state_copy(&w->live, &w->old), 0);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	sk_state_free(&w->old);
	sk_state_free(&w->live);
	free(w);
	return 0;
}

static void
nothing_changed_gives_no_changes(void **state)
{
	struct world *w = *state;

	EXPECT_DIFF(&w->old, &w->live, "");
}

static void
roster_add_modify_remove_are_listed(void **state)
{
	struct world *w = *state;

	item(&w->live, "dan@c.test", NULL, SK_SUB_NONE);
	item(&w->live, "ann@a.test", "Annie", SK_SUB_BOTH);
	sk_state_del_item(&w->live, "bob@a.test");
	EXPECT_DIFF(&w->old, &w->live, "item ann@a.test; item dan@c.test; remove bob@a.test");
}

static void
presence_change_and_one_resource_gone(void **state)
{
	struct world *w = *state;

	pres(&w->live, "ann@a.test/phone", "busy");
	sk_state_del_pres(&w->live, "ann@a.test/laptop");
	pres(&w->live, "bob@a.test/new", NULL);
	EXPECT_DIFF(&w->old, &w->live,
	    "gone ann@a.test/laptop; pres ann@a.test/phone; pres bob@a.test/new");
}

static void
every_resource_gone_is_one_bare_unavailable(void **state)
{
	struct world *w = *state;

	sk_state_del_pres_bare(&w->live, "ann@a.test");
	EXPECT_DIFF(&w->old, &w->live, "gone-all ann@a.test");
}

static void
changed_and_changed_back_is_not_sent(void **state)
{
	struct world *w = *state;

	pres(&w->live, "ann@a.test/phone", "away for lunch");
	item(&w->live, "bob@a.test", "Bobby", SK_SUB_BOTH);
	pres(&w->live, "ann@a.test/phone", "hi");
	item(&w->live, "bob@a.test", NULL, SK_SUB_BOTH);
	EXPECT_DIFF(&w->old, &w->live, "");
}

static void
presence_from_a_bare_jid_goes_away_by_bare_jid(void **state)
{
	struct world *w = *state;

	pres(&w->old, "eve@e.test", "no resource");
	pres(&w->old, "eve@e.test/r", NULL);
	sk_state_del_pres(&w->live, "eve@e.test");	/* never added to live */
	pres(&w->live, "eve@e.test/r", NULL);
	EXPECT_DIFF(&w->old, &w->live, "gone eve@e.test");
}

static void
blobs_with_different_bucket_counts_still_diff_exactly(void **state)
{
	struct world *w = *state;
	char jid[64];
	int i;

	/* live grows to 600 contacts: more buckets than old */
	for (i = 0; i < 600; i++) {
		snprintf(jid, sizeof(jid), "n%d@big.test", i);
		item(&w->live, jid, NULL, SK_SUB_NONE);
	}
	{
		char *got = diff_text(&w->old, &w->live);
		char *back = diff_text(&w->live, &w->old);
		size_t items = 0, removes = 0;
		const char *p;

		for (p = got; (p = strstr(p, "item n")) != NULL; p++)
			items++;
		for (p = back; (p = strstr(p, "remove n")) != NULL; p++)
			removes++;
		assert_int_equal(items, 600);
		assert_int_equal(removes, 600);
		assert_null(strstr(got, "ann@"));
		assert_null(strstr(back, "ann@"));
		free(got);
		free(back);
	}
}

static void
out_of_order_entries_are_reported_corrupt(void **state)
{
	struct world *w = *state;
	unsigned char *ob, *lb, tmp[SK_SNAP_ENTRY];
	size_t ol, ll;
	struct sk_snap vo, vl;
	struct sk_changes ch;

	pres(&w->live, "ann@a.test/phone", "changed");
	assert_int_equal(sk_snap_build(&w->old, &ob, &ol), 0);
	assert_int_equal(sk_snap_build(&w->live, &lb, &ll), 0);
	/* swap the first two entries of the old blob (one bucket: 6 entries) */
	assert_int_equal(sk_snap_view(&vo, ob, ol), 0);
	assert_int_equal(vo.bits, 0);
	memcpy(tmp, vo.entries, SK_SNAP_ENTRY);
	memmove((unsigned char *)vo.entries, vo.entries + SK_SNAP_ENTRY, SK_SNAP_ENTRY);
	memcpy((unsigned char *)vo.entries + SK_SNAP_ENTRY, tmp, SK_SNAP_ENTRY);
	assert_int_equal(sk_snap_view(&vl, lb, ll), 0);
	sk_changes_init(&ch);
	assert_int_equal(sk_diff(&vo, &vl, &ch), SK_ECORRUPT);
	sk_changes_free(&ch);
	free(ob);
	free(lb);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(nothing_changed_gives_no_changes),
		T(roster_add_modify_remove_are_listed),
		T(presence_change_and_one_resource_gone),
		T(every_resource_gone_is_one_bare_unavailable),
		T(changed_and_changed_back_is_not_sent),
		T(presence_from_a_bare_jid_goes_away_by_bare_jid),
		T(blobs_with_different_bucket_counts_still_diff_exactly),
		T(out_of_order_entries_are_reported_corrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
