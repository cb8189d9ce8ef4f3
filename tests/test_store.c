/* test_store.c - the LMDB store: persistence, secret, schema, batches, crashes, records */
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <lmdb.h>

#include "error.h"
#include "store.h"
#include "testutil.h"

static int
setup(void **state)
{
	*state = tmpdir_new();
	return 0;
}

static int
teardown(void **state)
{
	tmpdir_free(*state);
	return 0;
}

static size_t
count_pres(struct sk_store *s, const char *bare)
{
	struct sk_state st;
	size_t n;

	sk_state_init(&st);
	assert_int_equal(sk_store_pres_get(s, bare, &st), 0);
	n = st.npres;
	sk_state_free(&st);
	return n;
}

static void
secret_is_created_private_and_kept(void **state)
{
	char path[4200];
	unsigned char first[SK_SECRET_LEN];
	struct sk_store *s;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/secret", (char *)*state);
	assert_int_equal(sk_store_open(*state, 0, &s), 0);
	memcpy(first, sk_store_secret(s), SK_SECRET_LEN);
	sk_store_close(s);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, SK_SECRET_LEN);
	assert_int_equal(sk_store_open(*state, 0, &s), 0);
	assert_memory_equal(first, sk_store_secret(s), SK_SECRET_LEN);
	sk_store_close(s);
	/* group-readable: refused */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(sk_store_open(*state, 0, &s), SK_ESECRET);
	assert_null(s);
	/* wrong size: refused */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(truncate(path, 5), 0);
	assert_int_equal(sk_store_open(*state, 0, &s), SK_ESECRET);
}

static void
unknown_schema_is_refused_and_not_rewritten(void **state)
{
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi meta;
	MDB_val k = { 6, "schema" }, v;
	uint32_t ninetynine = 99;
	struct sk_store *s;

	assert_int_equal(sk_store_open(*state, 0, &s), 0);
	sk_store_close(s);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
	assert_int_equal(mdb_env_open(env, *state, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &t), 0);
	assert_int_equal(mdb_dbi_open(t, "meta", 0, &meta), 0);
	v.mv_size = 4;
	v.mv_data = &ninetynine;
	assert_int_equal(mdb_put(t, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(t), 0);
	/* closed before the store opens it: LMDB allows one environment per
	 * file and process at a time (0.9.31, Debian 13, makes a transaction
	 * of the older one fail with EINVAL once the store's is closed) */
	mdb_env_close(env);
	assert_int_equal(sk_store_open(*state, 0, &s), SK_ESCHEMA);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
	assert_int_equal(mdb_env_open(env, *state, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &t), 0);
	assert_int_equal(mdb_dbi_open(t, "meta", 0, &meta), 0);
	assert_int_equal(mdb_get(t, meta, &k, &v), 0);
	assert_int_equal(*(uint32_t *)v.mv_data, 99);
	mdb_txn_abort(t);
	mdb_env_close(env);
	assert_string_equal(sk_strerror(SK_ESCHEMA), "unknown database schema version");
}

static void
batch_is_visible_before_flush_and_persists_after(void **state)
{
	struct sk_store *s;
	uint64_t txn1, txn2;
	uint32_t e;

	assert_int_equal(sk_store_open(*state, 0, &s), 0);
	pres(s, "ann@a.test/phone", "hi");
	assert_true(sk_store_pending(s) > 0);
	assert_int_equal(count_pres(s, "ann@a.test"), 1);
	assert_int_equal(sk_store_next_txn(s, &txn1), 0);
	assert_int_equal(sk_store_next_txn(s, &txn2), 0);
	assert_true(txn2 > txn1);
	assert_int_equal(sk_store_epoch_bump(s, &e), 0);
	assert_int_equal(e, 2);
	assert_int_equal(sk_store_flush(s), 0);
	assert_int_equal(sk_store_pending(s), 0);
	sk_store_close(s);
	assert_int_equal(sk_store_open(*state, 0, &s), 0);
	assert_int_equal(count_pres(s, "ann@a.test"), 1);
	assert_int_equal(sk_store_next_txn(s, &txn1), 0);
	assert_int_equal(txn1, txn2 + 1);
	assert_int_equal(sk_store_epoch(s, &e), 0);
	assert_int_equal(e, 2);
	sk_store_close(s);
}

static void
kill_9_loses_only_the_unflushed_batch(void **state)
{
	struct sk_store *s;
	size_t n;
	pid_t pid;
	int status, i;
	char jid[64];

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (sk_store_open(*state, 0, &s) != 0)
			_exit(1);
		for (i = 0; i < 50; i++) {
			struct sk_pres p = { .jid = jid };

			snprintf(jid, sizeof(jid), "c%d@a.test/r", i);
			sk_pres_hash(&p);
			if (sk_store_pres_put(s, &p) != 0)
				_exit(1);
			if (i % 10 == 9 && sk_store_flush(s) != 0)	/* 40 flushed by i = 39 */
				_exit(1);
			if (i == 45)
				raise(SIGKILL);		/* 6 writes unflushed */
		}
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(sk_store_open(*state, 0, &s), 0);
	assert_int_equal(sk_store_pres_count(s, &n), 0);
	assert_int_equal(n, 40);
	assert_int_equal(count_pres(s, "c39@a.test"), 1);
	assert_int_equal(count_pres(s, "c40@a.test"), 0);
	sk_store_close(s);
}

static void
presence_ranges_never_mix_prefix_jids(void **state)
{
	struct sk_store *s;
	struct sk_state st;
	size_t n;

	assert_int_equal(sk_store_open(*state, 0, &s), 0);
	pres(s, "a@b/1", NULL);
	pres(s, "a@b/2", "two");
	pres(s, "a@b", "bare");
	pres(s, "a@b.c/1", NULL);
	pres(s, "a@bc/1", NULL);
	assert_int_equal(count_pres(s, "a@b"), 3);
	assert_int_equal(count_pres(s, "a@b.c"), 1);
	sk_state_init(&st);
	assert_int_equal(sk_store_pres_get(s, "a@b", &st), 0);
	sk_state_sort(&st);
	assert_string_equal(st.pres[0].jid, "a@b");
	assert_string_equal(st.pres[2].jid, "a@b/2");
	assert_string_equal(st.pres[2].status, "two");
	sk_state_free(&st);
	assert_int_equal(sk_store_pres_del(s, "a@b/1"), 0);
	assert_int_equal(sk_store_pres_del(s, "nobody@b/1"), 0);
	assert_int_equal(count_pres(s, "a@b"), 2);
	assert_int_equal(sk_store_pres_del_bare(s, "a@b"), 0);
	assert_int_equal(count_pres(s, "a@b"), 0);
	assert_int_equal(count_pres(s, "a@bc"), 1);
	assert_int_equal(sk_store_pres_clear(s), 0);
	assert_int_equal(sk_store_pres_count(s, &n), 0);
	assert_int_equal(n, 0);
	sk_store_close(s);
}

static void
presence_records_round_trip_and_garbage_is_corrupt(void **unused)
{
	struct sk_pres p = { .jid = "a@b/r", .show = "dnd", .status = "", .priority = -5,
	    .ext = "<c/>", .xml = "<presence from='a@b/r'/>" }, q;
	unsigned char *buf;
	size_t len, cut, i;
	uint64_t r = 1;

	(void)unused;
	sk_pres_hash(&p);
	assert_int_equal(sk_store_pres_encode(&p, &buf, &len), 0);
	assert_int_equal(sk_store_pres_decode("a@b/r", buf, len, &q), 0);
	assert_string_equal(q.show, "dnd");
	assert_string_equal(q.status, "");
	assert_int_equal(q.priority, -5);
	assert_memory_equal(q.hash, p.hash, SK_HASH_LEN);
	sk_pres_free(&q);
	for (cut = 0; cut < len; cut++)
		assert_int_equal(sk_store_pres_decode("a@b/r", buf, cut, &q), SK_ECORRUPT);
	for (i = 0; i < 2000; i++) {
		size_t at;
		int rc;

		r = r * 6364136223846793005ULL + 1;
		at = (size_t)(r >> 33) % len;
		buf[at] ^= (unsigned char)(r >> 20);
		rc = sk_store_pres_decode("a@b/r", buf, len, &q);
		assert_true(rc == 0 || rc == SK_ECORRUPT);
		if (rc == 0)
			sk_pres_free(&q);
	}
	free(buf);
}

static void
clients_snapshots_eviction_and_gc(void **state)
{
	struct sk_client_rec r = { 1, 10, 9, 100, 100 }, got;
	struct sk_store *s;
	const void *blob;
	size_t len, n;
	char id[8];
	int i;

	assert_int_equal(sk_store_open(*state, 0, &s), 0);
	assert_int_equal(sk_store_client_get(s, "u@a", "c0", &got), SK_ENOTFOUND);
	for (i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		r.used = 100 + (uint64_t)i;
		assert_int_equal(sk_store_client_put(s, "u@a", id, &r), 0);
		assert_int_equal(sk_store_snap_put(s, "u@a", id, 10, "blob", 4), 0);
	}
	assert_int_equal(sk_store_client_put(s, "u@ab", "c0", &r), 0);
	assert_int_equal(sk_store_client_get(s, "u@a", "c2", &got), 0);
	assert_int_equal(got.used, 102);
	assert_int_equal(sk_store_snap_get(s, "u@a", "c2", 10, &blob, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(blob, "blob", 4);
	/* at most 3, room for one more: c0 and c1 go */
	assert_int_equal(sk_store_client_evict(s, "u@a", 3, 1, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sk_store_client_get(s, "u@a", "c0", &got), SK_ENOTFOUND);
	assert_int_equal(sk_store_snap_get(s, "u@a", "c0", 10, &blob, &len), SK_ENOTFOUND);
	assert_int_equal(sk_store_client_get(s, "u@ab", "c0", &got), 0);
	/* gc at 200 with ttl 97: c2 (used 102) expires, c3 and u@ab/c0 (used
	   103) stay; an orphan snapshot goes too */
	assert_int_equal(sk_store_snap_put(s, "u@a", "ghost", 3, "x", 1), 0);
	assert_int_equal(sk_store_gc(s, 200, 97, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sk_store_client_get(s, "u@a", "c2", &got), SK_ENOTFOUND);
	assert_int_equal(sk_store_client_get(s, "u@a", "c3", &got), 0);
	assert_int_equal(sk_store_snap_get(s, "u@a", "c3", 10, &blob, &len), 0);
	assert_int_equal(sk_store_snap_get(s, "u@a", "ghost", 3, &blob, &len), SK_ENOTFOUND);
	assert_int_equal(sk_store_client_del(s, "u@a", "nobody"), 0);
	sk_store_close(s);
}

static void
bad_input_is_an_error_not_a_crash(void **state)
{
	struct sk_store *s;
	struct sk_client_rec r = { 0 };
	char big[2000];

	assert_int_equal(sk_store_open("", 0, &s), SK_EINVAL);
	assert_int_equal(sk_store_open(*state, 0, &s), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sk_store_client_put(s, big, "c", &r), SK_ETOOBIG);
	assert_int_equal(sk_store_client_put(s, "", "c", &r), SK_EINVAL);
	assert_int_equal(sk_store_client_put(s, "u@a", "", &r), SK_EINVAL);
	assert_int_equal(sk_store_pres_del(s, NULL), SK_EINVAL);
	assert_int_equal(sk_store_pres_get(s, NULL, NULL), SK_EINVAL);
	sk_store_close(s);
}

static void
a_full_map_reports_efull_and_keeps_flushed_data(void **state)
{
	struct sk_store *s;
	static char big[200000];
	int i, rc = 0;

	setenv("SK_STORE_MAPSIZE", "1048576", 1);
	assert_int_equal(sk_store_open(*state, 0, &s), 0);
	pres(s, "keep@a/r", NULL);
	assert_int_equal(sk_store_flush(s), 0);
	memset(big, 'b', sizeof(big));
	for (i = 0; i < 20 && rc == 0; i++)
		rc = sk_store_snap_put(s, "u@a", "c", (uint64_t)i + 1, big, sizeof(big));
	assert_int_equal(rc, SK_EFULL);
	assert_int_equal(count_pres(s, "keep@a"), 1);
	sk_store_close(s);
	unsetenv("SK_STORE_MAPSIZE");
}

/* A change list applies only to the roster of its version, in one
   value, and leaves the roster as it was when refused. */
static void
roster_change_lists_apply_to_their_version_only(void **state)
{
	struct sk_item a = { .jid = "a@x", .sub = SK_SUB_BOTH, .name = "A" };
	struct sk_item b = { .jid = "b@x", .sub = SK_SUB_TO };
	struct sk_item a2 = { .jid = "a@x", .sub = SK_SUB_FROM, .name = "A2" };
	struct sk_item bgone = { .jid = "b@x", .sub = SK_SUB_REMOVE };
	struct sk_item zgone = { .jid = "z@x", .sub = SK_SUB_REMOVE };
	struct sk_item c = { .jid = "c@x", .sub = SK_SUB_NONE };
	struct sk_state r, ch, got;
	struct sk_store *s;
	char ver[SK_ROSTER_VER_MAX + 1];

	assert_int_equal(sk_store_open(*state, 0, &s), 0);
	sk_state_init(&r);
	sk_state_init(&ch);
	assert_int_equal(sk_state_put_item(&r, &a), 0);
	assert_int_equal(sk_state_put_item(&r, &b), 0);
	assert_int_equal(sk_state_put_item(&ch, &a2), 0);
	assert_int_equal(sk_state_put_item(&ch, &bgone), 0);
	assert_int_equal(sk_state_put_item(&ch, &c), 0);
	assert_int_equal(sk_state_put_item(&ch, &zgone), 0);	/* absent: no error */
	/* nothing stored yet, then another version */
	assert_int_equal(sk_store_roster_apply(s, "u@x", "1", "2", &ch), SK_ENOTFOUND);
	assert_int_equal(sk_store_roster_put(s, "u@x", "1", &r), 0);
	assert_int_equal(sk_store_roster_apply(s, "u@x", "0", "2", &ch), SK_ENOTFOUND);
	assert_int_equal(sk_store_roster_apply(s, "u@x", "1", NULL, &ch), SK_EINVAL);
	assert_int_equal(sk_store_roster_ver(s, "u@x", ver), 0);
	assert_string_equal(ver, "1");
	/* unsorted or twice: refused */
	{
		struct sk_state bad = { 0 };

		sk_state_init(&bad);
		assert_int_equal(sk_state_add_item(&bad, &c), 0);
		assert_int_equal(sk_state_add_item(&bad, &a2), 0);
		assert_int_equal(sk_store_roster_apply(s, "u@x", "1", "2", &bad), SK_EINVAL);
		sk_state_clear(&bad);
		assert_int_equal(sk_state_add_item(&bad, &a2), 0);
		assert_int_equal(sk_state_add_item(&bad, &a2), 0);
		assert_int_equal(sk_store_roster_apply(s, "u@x", "1", "2", &bad), SK_EINVAL);
		sk_state_free(&bad);
	}
	assert_int_equal(sk_store_roster_apply(s, "u@x", "1", "2", &ch), 0);
	assert_int_equal(sk_store_roster_ver(s, "u@x", ver), 0);
	assert_string_equal(ver, "2");
	sk_state_init(&got);
	assert_int_equal(sk_store_roster_get(s, "u@x", &got), 0);
	sk_state_sort(&got);
	assert_int_equal(got.nitems, 2);
	assert_string_equal(got.items[0].jid, "a@x");
	assert_string_equal(got.items[0].name, "A2");
	assert_int_equal(got.items[0].sub, SK_SUB_FROM);
	assert_string_equal(got.items[1].jid, "c@x");
	/* the same list again: 2 is not 1 any more */
	assert_int_equal(sk_store_roster_apply(s, "u@x", "1", "3", &ch), SK_ENOTFOUND);
	sk_state_free(&got);
	sk_state_free(&r);
	sk_state_free(&ch);
	sk_store_close(s);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(secret_is_created_private_and_kept),
		T(unknown_schema_is_refused_and_not_rewritten),
		T(batch_is_visible_before_flush_and_persists_after),
		T(kill_9_loses_only_the_unflushed_batch),
		T(presence_ranges_never_mix_prefix_jids),
		cmocka_unit_test(presence_records_round_trip_and_garbage_is_corrupt),
		T(clients_snapshots_eviction_and_gc),
		T(bad_input_is_an_error_not_a_crash),
		T(a_full_map_reports_efull_and_keeps_flushed_data),
		T(roster_change_lists_apply_to_their_version_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
