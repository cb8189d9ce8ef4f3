/* test_key.c - sync keys: round trip, and every kind of bad key is refused */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "key.h"

static const unsigned char secret[SK_SECRET_LEN] = "0123456789abcdef0123456789abcdef";
static const struct sk_key k0 = { 7, 0x1122334455667788ULL, 42, 1700000000 };

static void
encode(char out[SK_KEY_MAX + 1])
{
	assert_int_equal(sk_key_encode(secret, "ann@a.test", "laptop-7f3a", &k0, out), 0);
}

static void
round_trip_gives_the_fields_back(void **unused)
{
	char text[SK_KEY_MAX + 1];
	struct sk_key k;
	size_t i;

	(void)unused;
	encode(text);
	assert_int_equal(strlen(text), SK_KEY_TEXTLEN);
	for (i = 0; text[i]; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", text[i]));
	assert_int_equal(sk_key_decode(secret, "ann@a.test", "laptop-7f3a", text, &k), 0);
	assert_int_equal(k.epoch, 7);
	assert_int_equal(k.session, 0x1122334455667788ULL);
	assert_int_equal(k.txn, 42);
	assert_int_equal(k.issued, 1700000000);
}

static void
other_user_client_or_secret_is_refused(void **unused)
{
	unsigned char other[SK_SECRET_LEN];
	char text[SK_KEY_MAX + 1];
	struct sk_key k = { 0 };

	(void)unused;
	encode(text);
	assert_int_equal(sk_key_decode(secret, "bob@a.test", "laptop-7f3a", text, &k), SK_EKEY);
	assert_int_equal(sk_key_decode(secret, "ann@a.test", "phone", text, &k), SK_EKEY);
	assert_int_equal(sk_key_decode(secret, "ann@a.tes", "tlaptop-7f3a", text, &k), SK_EKEY);
	memcpy(other, secret, sizeof(other));
	other[0] ^= 1;
	assert_int_equal(sk_key_decode(other, "ann@a.test", "laptop-7f3a", text, &k), SK_EKEY);
	assert_int_equal(k.txn, 0);	/* untouched on error */
}

static void
truncated_or_extended_keys_are_refused(void **unused)
{
	char text[SK_KEY_MAX + 1], cut[SK_KEY_MAX + 2];
	struct sk_key k;
	size_t n;

	(void)unused;
	encode(text);
	for (n = 0; n < SK_KEY_TEXTLEN; n++) {
		memcpy(cut, text, n);
		cut[n] = '\0';
		assert_int_equal(sk_key_decode(secret, "ann@a.test", "laptop-7f3a", cut, &k), SK_EKEY);
	}
	snprintf(cut, sizeof(cut), "%sA", text);
	assert_int_equal(sk_key_decode(secret, "ann@a.test", "laptop-7f3a", cut, &k), SK_EKEY);
	assert_int_equal(sk_key_decode(secret, "ann@a.test", "laptop-7f3a", NULL, &k), SK_EKEY);
}

static void
every_changed_character_is_refused(void **unused)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.!";
	char text[SK_KEY_MAX + 1], bad[SK_KEY_MAX + 1];
	struct sk_key k;
	size_t i, j;

	(void)unused;
	encode(text);
	for (i = 0; i < SK_KEY_TEXTLEN; i++)
		for (j = 0; alpha[j]; j++) {
			if (alpha[j] == text[i])
				continue;
			strcpy(bad, text);
			bad[i] = alpha[j];
			assert_int_equal(sk_key_decode(secret, "ann@a.test", "laptop-7f3a", bad, &k), SK_EKEY);
		}
}

/* Flips each bit of the decoded bytes and re-encodes: a forged key. */
static void
every_flipped_bit_is_refused(void **unused)
{
	static const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char text[SK_KEY_MAX + 1], bad[SK_KEY_MAX + 1];
	unsigned char raw[45];
	struct sk_key k;
	size_t i, bit, o;

	(void)unused;
	encode(text);
	for (i = 0, o = 0; i < SK_KEY_TEXTLEN; i += 4) {
		uint32_t v = 0;
		size_t j;

		for (j = 0; j < 4; j++)
			v = v << 6 | (uint32_t)(strchr(alpha, text[i + j]) - alpha);
		raw[o++] = v >> 16;
		raw[o++] = v >> 8;
		raw[o++] = v;
	}
	for (bit = 0; bit < 45 * 8; bit++) {
		raw[bit / 8] ^= 1u << (bit % 8);
		for (i = 0, o = 0; i < 45; i += 3) {
			uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];

			bad[o++] = alpha[v >> 18 & 63];
			bad[o++] = alpha[v >> 12 & 63];
			bad[o++] = alpha[v >> 6 & 63];
			bad[o++] = alpha[v & 63];
		}
		bad[o] = '\0';
		assert_int_equal(sk_key_decode(secret, "ann@a.test", "laptop-7f3a", bad, &k), SK_EKEY);
		raw[bit / 8] ^= 1u << (bit % 8);
	}
}

static void
client_ids_follow_the_protocol(void **unused)
{
	char id[80];
	char text[SK_KEY_MAX + 1];

	(void)unused;
	assert_false(sk_key_client_ok(""));
	assert_false(sk_key_client_ok(NULL));
	assert_true(sk_key_client_ok("a"));
	memset(id, 'x', 64);
	id[64] = '\0';
	assert_true(sk_key_client_ok(id));
	id[64] = 'x';
	id[65] = '\0';
	assert_false(sk_key_client_ok(id));
	assert_true(sk_key_client_ok("A-z_0.9"));
	assert_false(sk_key_client_ok("has space"));
	assert_false(sk_key_client_ok("slash/"));
	assert_false(sk_key_client_ok("\xc3\xa9"));
	assert_int_equal(sk_key_encode(secret, "ann@a.test", "bad id", &k0, text), SK_EINVAL);
	assert_int_equal(sk_key_encode(secret, "", "ok", &k0, text), SK_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_gives_the_fields_back),
		cmocka_unit_test(other_user_client_or_secret_is_refused),
		cmocka_unit_test(truncated_or_extended_keys_are_refused),
		cmocka_unit_test(every_changed_character_is_refused),
		cmocka_unit_test(every_flipped_bit_is_refused),
		cmocka_unit_test(client_ids_follow_the_protocol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
