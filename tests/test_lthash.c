/* test_lthash.c - the digest of version 1 against the XEP's test vectors, and its algebra */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lthash.h"
#include "record.h"

/*
 * The vectors are the XEP's ("Digest of version 1", "Test vectors"),
 * computed there by tests/xep/xeptool.py, an independent Python
 * implementation from RFC 8439 and the text (tests/xep/valid.sh checks
 * that the XEP's figures are its output): not by this C code.
 */
#define EMPTY	"5aAKqZkayKXuMQmETYSlVYO9IFcq0//NQnkvPDaxg60="
#define ANN	"wuhSQJJwUC6bmMT8Pk5rdAgfzVsfml2aLlpjLZ+z5bk="
#define PHONE	"vsVru4GUlPINQyfDAz9d0urselnLH0O7Mnqfq9cyP68="
#define BOTH	"NXY2Q6fM1uAwz0EcJ/ltrH6/G6Y3nCy34LfqO1UQYqc="
#define THREE	"ULOl5IrZMc1kfctB8ijZ22gQsx1o7GpPDO5cl0ex1HY="

static const unsigned char r_ann[] = "R\0ann@example.org\0both\0\0Ann\0Work\0\1";
static const unsigned char r_phone[] = "P\0ann@example.org/phone\0away\0" "5\0\0\1";
static const unsigned char r_cid[] = "R\0cid@example.org\0to\0\0\0\1";
#define LEN(r) (sizeof(r) - 1)

static void
expect(const struct sk_lthash *h, const char *want)
{
	char got[SK_DIGEST_B64];

	assert_int_equal(sk_lthash_b64(h, got), 0);
	assert_string_equal(got, want);
}

static void
vectors(void **unused)
{
	static const uint16_t ann_head[8] = { 22947, 26270, 1414, 57185, 51681, 41467, 24358, 32621 };
	static const uint16_t phone_tail[4] = { 33951, 24291, 35386, 23807 };
	struct sk_lthash h;

	(void)unused;
	sk_lthash_init(&h);
	expect(&h, EMPTY);
	assert_int_equal(sk_lthash_record(&h, r_ann, LEN(r_ann), 1), 0);
	assert_memory_equal(h.lane, ann_head, sizeof(ann_head));
	expect(&h, ANN);
	assert_int_equal(sk_lthash_record(&h, r_phone, LEN(r_phone), 1), 0);
	expect(&h, BOTH);
	assert_int_equal(sk_lthash_record(&h, r_cid, LEN(r_cid), 1), 0);
	expect(&h, THREE);
	sk_lthash_init(&h);
	assert_int_equal(sk_lthash_record(&h, r_phone, LEN(r_phone), 1), 0);
	assert_memory_equal(h.lane + 1020, phone_tail, sizeof(phone_tail));
	expect(&h, PHONE);
}

/* A set's vector does not depend on order, and taking a record out
   undoes putting it in: what makes a delta O(changes). */
static void
algebra(void **unused)
{
	struct sk_lthash a, b;

	(void)unused;
	sk_lthash_init(&a);
	sk_lthash_init(&b);
	assert_int_equal(sk_lthash_record(&a, r_cid, LEN(r_cid), 1), 0);
	assert_int_equal(sk_lthash_record(&a, r_ann, LEN(r_ann), 1), 0);
	assert_int_equal(sk_lthash_record(&a, r_phone, LEN(r_phone), 1), 0);
	expect(&a, THREE);
	assert_int_equal(sk_lthash_record(&a, r_cid, LEN(r_cid), -1), 0);
	expect(&a, BOTH);
	assert_int_equal(sk_lthash_record(&a, r_ann, LEN(r_ann), -1), 0);
	assert_int_equal(sk_lthash_record(&a, r_phone, LEN(r_phone), -1), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* a record twice is not the record once (a multiset hash) */
	assert_int_equal(sk_lthash_record(&a, r_ann, LEN(r_ann), 1), 0);
	assert_int_equal(sk_lthash_record(&a, r_ann, LEN(r_ann), 1), 0);
	assert_int_equal(sk_lthash_record(&b, r_ann, LEN(r_ann), 1), 0);
	assert_memory_not_equal(&a, &b, sizeof(a));
}

/* A state's vector is its records' (record.h writes the same bytes). */
static void
state_is_its_records(void **unused)
{
	char *groups[] = { "Work" };
	struct sk_item ann = { .jid = "ann@example.org", .name = "Ann", .sub = SK_SUB_BOTH,
	    .groups = groups, .ngroups = 1 };
	struct sk_item cid = { .jid = "cid@example.org", .sub = SK_SUB_TO };
	struct sk_pres phone = { .jid = "ann@example.org/phone", .show = "away", .priority = 5 };
	struct sk_state st;
	struct sk_lthash h;

	(void)unused;
	sk_state_init(&st);
	assert_int_equal(sk_lthash_state(&st, &h), 0);
	expect(&h, EMPTY);
	assert_int_equal(sk_state_add_item(&st, &cid), 0);
	assert_int_equal(sk_state_add_pres(&st, &phone), 0);
	assert_int_equal(sk_state_add_item(&st, &ann), 0);
	assert_int_equal(sk_lthash_state(&st, &h), 0);
	expect(&h, THREE);
	assert_int_equal(sk_lthash_item(&h, &cid, -1), 0);
	expect(&h, BOTH);
	sk_state_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors),
		cmocka_unit_test(algebra),
		cmocka_unit_test(state_is_its_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
