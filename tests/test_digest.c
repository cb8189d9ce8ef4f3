/* test_digest.c - the canonical form, checked against sha256sum of bytes written by hand */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "digest.h"
#include "record.h"

/*
 * The expected digests are not computed by the project: each fixture's
 * canonical bytes are spelled out as a printf(1) format, piped through
 * sha256sum(1), and compared with sk_digest_state().
 */
static void
expect_sha256sum(const struct sk_state *st, const char *printf_fmt)
{
	unsigned char d[SK_DIGEST_LEN];
	char cmd[2048], want[80] = "", got[2 * SK_DIGEST_LEN + 1];
	FILE *p;
	int i;

	snprintf(cmd, sizeof(cmd), "printf '%s' | sha256sum", printf_fmt);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(want, sizeof(want), p));
	assert_int_equal(pclose(p), 0);
	want[64] = '\0';
	assert_int_equal(sk_digest_state(st, d), 0);
	for (i = 0; i < SK_DIGEST_LEN; i++)
		snprintf(got + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(got, want);
}

static void
empty_state_hashes_the_empty_string(void **unused)
{
	struct sk_state st;
	char b64[SK_DIGEST_B64];

	(void)unused;
	sk_state_init(&st);
	expect_sha256sum(&st, "");
	assert_int_equal(sk_digest_state_b64(&st, b64), 0);
	/* base64 of SHA-256(""), RFC 4648 padded */
	assert_string_equal(b64, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

static void
add_item(struct sk_state *st, const char *jid, const char *name, enum sk_sub sub,
    int ask, const char *g1, const char *g2)
{
	char *groups[2] = { (char *)g1, (char *)g2 };
	struct sk_item it = { .jid = (char *)jid, .name = (char *)name, .sub = sub,
	    .ask = ask, .groups = groups, .ngroups = g2 ? 2 : g1 ? 1 : 0 };

	assert_int_equal(sk_state_add_item(st, &it), 0);
}

static void
add_pres(struct sk_state *st, const char *jid, const char *show, int prio,
    const char *status)
{
	struct sk_pres p = { .jid = (char *)jid, .show = (char *)show,
	    .priority = prio, .status = (char *)status };

	assert_int_equal(sk_state_add_pres(st, &p), 0);
}

static void
roster_and_presence_sort_p_before_r_and_by_jid(void **unused)
{
	struct sk_state st;

	(void)unused;
	sk_state_init(&st);
	/* deliberately unsorted input */
	add_item(&st, "carl@example.org", NULL, SK_SUB_NONE, 1, "B", "A");
	add_pres(&st, "ann@example.org/phone", "away", 0, NULL);
	add_item(&st, "ann@example.org", "Ann", SK_SUB_BOTH, 0, "Work", NULL);
	add_pres(&st, "ann@example.org/laptop", NULL, 5, "at work");
	expect_sha256sum(&st,
	    "P\\000ann@example.org/laptop\\000\\0005\\000at work\\000\\001"
	    "P\\000ann@example.org/phone\\000away\\0000\\000\\000\\001"
	    "R\\000ann@example.org\\000both\\000\\000Ann\\000Work\\000\\001"
	    "R\\000carl@example.org\\000none\\000subscribe\\000\\000A\\000B\\000\\001");
	sk_state_free(&st);
}

static void
utf8_negative_priority_and_prefix_jids_are_canonical(void **unused)
{
	struct sk_state st;

	(void)unused;
	sk_state_init(&st);
	/* "a@b.c/x" < "a@b/x" bytewise ('.' < '/') */
	add_pres(&st, "a@b/x", "dnd", -1, "\xc3\xa9t\xc3\xa9");
	add_pres(&st, "a@b.c/x", "xa", 127, NULL);
	add_item(&st, "a@b", "J\xc3\xa9r\xc3\xb4me", SK_SUB_TO, 0, "\xc3\x89quipe", "Zoo");
	add_item(&st, "a@b.c", NULL, SK_SUB_FROM, 0, NULL, NULL);
	expect_sha256sum(&st,
	    "P\\000a@b.c/x\\000xa\\000127\\000\\000\\001"
	    "P\\000a@b/x\\000dnd\\000-1\\000\\303\\251t\\303\\251\\000\\001"
	    "R\\000a@b\\000to\\000\\000J\\303\\251r\\303\\264me\\000Zoo\\000\\303\\211quipe\\000\\001"
	    "R\\000a@b.c\\000from\\000\\000\\000\\001");
	sk_state_free(&st);
}

static void
presence_extensions_change_the_hash_but_not_the_digest(void **unused)
{
	struct sk_state a, b;
	struct sk_pres p = { .jid = "x@y/r", .show = "away" };
	unsigned char da[SK_DIGEST_LEN], db[SK_DIGEST_LEN];

	(void)unused;
	sk_state_init(&a);
	sk_state_init(&b);
	assert_int_equal(sk_state_add_pres(&a, &p), 0);
	p.ext = "<c xmlns='http://jabber.org/protocol/caps' ver='1'/>";
	assert_int_equal(sk_state_add_pres(&b, &p), 0);
	assert_memory_not_equal(a.pres[0].hash, b.pres[0].hash, SK_HASH_LEN);
	assert_int_equal(sk_digest_state(&a, da), 0);
	assert_int_equal(sk_digest_state(&b, db), 0);
	assert_memory_equal(da, db, SK_DIGEST_LEN);
	sk_state_free(&a);
	sk_state_free(&b);
}

static void
record_writer_reports_needed_length_when_short(void **unused)
{
	struct sk_item it = { .jid = "ann@example.org", .sub = SK_SUB_BOTH };
	unsigned char small[4], big[64];
	size_t need;

	(void)unused;
	need = sk_record_item(&it, small, sizeof(small));
	assert_int_equal(need, strlen("R ann@example.org both   ") + 1);
	assert_int_equal(sk_record_item(&it, big, sizeof(big)), need);
	assert_memory_equal(big, "R\0ann@example.org\0both\0\0\0\1", need);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_state_hashes_the_empty_string),
		cmocka_unit_test(roster_and_presence_sort_p_before_r_and_by_jid),
		cmocka_unit_test(utf8_negative_priority_and_prefix_jids_are_canonical),
		cmocka_unit_test(presence_extensions_change_the_hash_but_not_the_digest),
		cmocka_unit_test(record_writer_reports_needed_length_when_short),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
