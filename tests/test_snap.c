/* test_snap.c - snapshot blobs: layout, order, buckets, hostile bytes */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bytes.h"
#include "diff.h"
#include "error.h"
#include "model.h"
#include "snap.h"

static void
build_world(struct sk_state *live, size_t n, uint64_t seed)
{
	struct model m;

	model_init(&m, seed, n);
	assert_int_equal(model_populate(&m, 0.3), 0);
	assert_int_equal(model_live(&m, live), 0);
	model_free(&m);
}

static int
order(const struct sk_snap_entry *a, const struct sk_snap_entry *b)
{
	int c;

	if (a->h64 != b->h64)
		return a->h64 < b->h64 ? -1 : 1;
	if ((c = sk_cmp_bytes(a->bare, a->barelen, b->bare, b->barelen)) != 0)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return sk_cmp_bytes(a->res, a->reslen, b->res, b->reslen);
}

static void
entries_are_sorted_and_buckets_cover_them(void **unused)
{
	struct sk_state live;
	unsigned char *b;
	size_t len;
	struct sk_snap v;
	struct sk_snap_entry prev = { 0 }, e;
	uint32_t i, nb;

	(void)unused;
	build_world(&live, 1000, 1);
	assert_int_equal(sk_snap_build(&live, &b, &len), 0);
	assert_int_equal(sk_snap_view(&v, b, len), 0);
	assert_int_equal(v.n, live.nitems + live.npres);
	assert_true(v.bits > 0 && v.bits <= SK_SNAP_MAXBITS);
	nb = 1u << v.bits;
	assert_int_equal(sk_snap_bucket_first(&v, 0), 0);
	for (i = 0; i < v.n; i++) {
		assert_int_equal(sk_snap_entry(&v, i, &e), 0);
		/* each entry lies in its bucket's range */
		{
			uint32_t bk = (uint32_t)(e.h64 >> (64 - v.bits));

			assert_true(sk_snap_bucket_first(&v, bk) <= i);
			assert_true(bk + 1 == nb || i < sk_snap_bucket_first(&v, bk + 1));
		}
		if (i > 0)	/* strictly increasing: (h64, bare, kind, resource) */
			assert_true(order(&prev, &e) < 0);
		prev = e;
	}
	free(b);
	sk_state_free(&live);
}

/*
 * A blob patched for the contacts that changed (found by sk_diff, plus a
 * few that did not) is byte for byte the blob built from the new state,
 * refs included, over random roster and presence changes of sizes that
 * cross bucket-count boundaries.
 */
static void
a_patched_blob_is_the_built_one(void **unused)
{
	size_t sizes[] = { 3, 60, 300 }, z;

	(void)unused;
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		struct model m;
		struct sk_state a, b;
		unsigned char *ba, *bb, *bp;
		size_t la, lb, lp;
		unsigned round;

		model_init(&m, 7000 + z, sizes[z]);
		assert_int_equal(model_populate(&m, 0.3), 0);
		assert_int_equal(model_live(&m, &a), 0);
		assert_int_equal(sk_snap_build(&a, &ba, &la), 0);
		for (round = 0; round < 120; round++) {
			struct sk_snap va, vb;
			struct sk_changes ch;
			const char *names[64];
			char owned[64][80];
			size_t n = 0, i, j;

			assert_int_equal(model_change(&m, 1 + model_rand(&m) % 6), 0);
			assert_int_equal(model_live(&m, &b), 0);
			assert_int_equal(sk_snap_build(&b, &bb, &lb), 0);
			assert_int_equal(sk_snap_view(&va, ba, la), 0);
			assert_int_equal(sk_snap_view(&vb, bb, lb), 0);
			sk_changes_init(&ch);
			assert_int_equal(sk_diff(&va, &vb, &ch), 0);
			for (i = 0; i < ch.n && n < 60; i++) {
				snprintf(owned[n], sizeof(owned[n]), "%.*s", ch.v[i].barelen, ch.v[i].bare);
				for (j = 0; j < n && strcmp(owned[j], owned[n]) != 0; j++)
					;
				if (j == n)
					n++;
			}
			/* and contacts that did not change, or are in no state */
			for (i = 0; i < 2; i++) {
				snprintf(owned[n], sizeof(owned[n]), "c%u@a.test",
				    (unsigned)(model_rand(&m) % (sizes[z] + 3)));
				for (j = 0; j < n && strcmp(owned[j], owned[n]) != 0; j++)
					;
				if (j == n)
					n++;
			}
			for (i = 0; i < n; i++)
				names[i] = owned[i];
			assert_int_equal(sk_snap_patch(&va, &b, names, n, &bp, &lp), 0);
			assert_int_equal(lp, lb);
			assert_memory_equal(bp, bb, lb);
			free(bp);
			sk_changes_free(&ch);
			/* a contact named twice is refused */
			if (n > 0) {
				names[n] = names[0];
				assert_int_equal(sk_snap_patch(&va, &b, names, n + 1, &bp, &lp), SK_EINVAL);
			}
			free(ba);
			sk_state_free(&a);
			a = b;
			ba = bb;
			la = lb;
		}
		free(ba);
		sk_state_free(&a);
		model_free(&m);
	}
}

static void
empty_state_builds_a_valid_blob(void **unused)
{
	struct sk_state st;
	unsigned char *b;
	size_t len;
	struct sk_snap v;

	(void)unused;
	sk_state_init(&st);
	assert_int_equal(sk_snap_build(&st, &b, &len), 0);
	assert_int_equal(sk_snap_view(&v, b, len), 0);
	assert_int_equal(v.n, 0);
	assert_int_equal(v.bits, 0);
	free(b);
}

static void
truncated_or_bad_header_is_corrupt(void **unused)
{
	struct sk_state live;
	unsigned char *b;
	size_t len, cut;
	struct sk_snap v;

	(void)unused;
	build_world(&live, 50, 2);
	assert_int_equal(sk_snap_build(&live, &b, &len), 0);
	for (cut = 0; cut < len; cut += 7)
		assert_int_equal(sk_snap_view(&v, b, cut), SK_ECORRUPT);
	b[0] = 'X';
	assert_int_equal(sk_snap_view(&v, b, len), SK_ECORRUPT);
	b[0] = 'S';
	b[4] = SK_SNAP_MAXBITS + 1;
	assert_int_equal(sk_snap_view(&v, b, len), SK_ECORRUPT);
	assert_int_equal(sk_snap_view(&v, NULL, 0), SK_ECORRUPT);
	free(b);
	sk_state_free(&live);
}

static void
random_damage_never_crashes_the_diff(void **unused)
{
	struct sk_state live;
	unsigned char *good, *bad;
	size_t len, round, i;
	struct sk_snap vg, vb;
	uint64_t r = 99;

	(void)unused;
	build_world(&live, 80, 3);
	assert_int_equal(sk_snap_build(&live, &good, &len), 0);
	assert_int_equal(sk_snap_view(&vg, good, len), 0);
	bad = malloc(len);
	for (round = 0; round < 3000; round++) {
		struct sk_changes ch;
		int rc;

		memcpy(bad, good, len);
		for (i = 0; i < 1 + round % 8; i++) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			bad[SK_SNAP_HDR + (r >> 33) % (len - SK_SNAP_HDR)] ^= (unsigned char)(r >> 24 | 1);
		}
		if (sk_snap_view(&vb, bad, len) != 0)
			continue;
		sk_changes_init(&ch);
		rc = sk_diff(&vb, &vg, &ch);
		assert_true(rc == 0 || rc == SK_ECORRUPT);
		sk_changes_free(&ch);
		sk_changes_init(&ch);
		rc = sk_diff(&vg, &vb, &ch);
		assert_true(rc == 0 || rc == SK_ECORRUPT);
		sk_changes_free(&ch);
	}
	free(bad);
	free(good);
	sk_state_free(&live);
}

static void
overlong_jid_is_refused(void **unused)
{
	struct sk_state st;
	struct sk_item it = { 0 };
	unsigned char *b;
	size_t len;
	char *jid = malloc(70000);

	(void)unused;
	memset(jid, 'a', 69999);
	jid[69999] = '\0';
	it.jid = jid;
	sk_state_init(&st);
	assert_int_equal(sk_state_add_item(&st, &it), 0);
	assert_int_equal(sk_snap_build(&st, &b, &len), SK_EINVAL);
	assert_null(b);
	sk_state_free(&st);
	free(jid);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_are_sorted_and_buckets_cover_them),
		cmocka_unit_test(empty_state_builds_a_valid_blob),
		cmocka_unit_test(a_patched_blob_is_the_built_one),
		cmocka_unit_test(truncated_or_bad_header_is_corrupt),
		cmocka_unit_test(random_damage_never_crashes_the_diff),
		cmocka_unit_test(overlong_jid_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
