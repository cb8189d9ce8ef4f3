/* test_admin.c - synckeyctl's store functions and the program: counts, revocation, secret rotation, JSON */
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "error.h"
#include "store.h"
#include "store_admin.h"
#include "sync.h"
#include "testutil.h"
#include "text.h"

#define NOW	1700000000ULL
#define DAY	86400ULL

struct fx {
	char			*dir;
	struct sk_store		*s;
	struct sk_state		 live;
	struct sk_sync_cfg	 cfg;
	char			 k_u1[SK_KEY_MAX + 1];	/* u@a.test/c1 */
	char			 k_u2[SK_KEY_MAX + 1];	/* u@a.test/c2 */
	char			 k_v1[SK_KEY_MAX + 1];	/* v@a.test/c1 */
};

/* One sync; returns the reason (NONE for a delta) and copies the key. */
static enum sk_reason
sync_as(struct fx *f, const char *user, const char *client, const char *key,
    uint64_t now, char out[SK_KEY_MAX + 1])
{
	struct sk_sync_result r;
	enum sk_reason reason;

	assert_int_equal(sk_sync_run(f->s, &f->cfg, user, client, key, &f->live, now, &r), 0);
	reason = r.reason;
	if (out)
		strcpy(out, r.key);
	sk_sync_result_free(&r);
	return reason;
}

/* Two users, three clients (one snapshot each), two presence records,
   one roster; all committed, as synckeyd leaves them. */
static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sk_item it = { .jid = "ann@b.test", .name = "Ann", .sub = SK_SUB_BOTH };
	struct sk_pres p = { .jid = "ann@b.test/phone" };
	struct sk_state roster = { 0 };

	f->dir = tmpdir_new();
	assert_int_equal(sk_store_open(f->dir, 0, &f->s), 0);
	f->cfg.ttl = SK_SYNC_TTL_DEFAULT;
	f->cfg.max_clients = 8;
	assert_int_equal(sk_state_put_item(&f->live, &it), 0);
	assert_int_equal(sync_as(f, "u@a.test", "c1", NULL, NOW, f->k_u1), SK_REASON_NO_KEY);
	assert_int_equal(sync_as(f, "u@a.test", "c2", NULL, NOW + 1, f->k_u2), SK_REASON_NO_KEY);
	assert_int_equal(sync_as(f, "v@a.test", "c1", NULL, NOW + 2, f->k_v1), SK_REASON_NO_KEY);
	sk_pres_hash(&p);
	assert_int_equal(sk_store_pres_put(f->s, &p), 0);
	p.jid = "ann@b.test/laptop";
	sk_pres_hash(&p);
	assert_int_equal(sk_store_pres_put(f->s, &p), 0);
	assert_int_equal(sk_state_put_item(&roster, &it), 0);
	assert_int_equal(sk_store_roster_put(f->s, "u@a.test", "v1", &roster), 0);
	sk_state_free(&roster);
	assert_int_equal(sk_store_flush(f->s), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	sk_state_free(&f->live);
	sk_store_close(f->s);
	tmpdir_free(f->dir);
	free(f);
	return 0;
}

/* ---- reports ---------------------------------------------------------------- */

static void
the_summary_counts_what_is_stored(void **state)
{
	struct fx *f = *state;
	struct sk_store_summary sum;

	assert_int_equal(sk_store_summary(f->s, &sum), 0);
	assert_int_equal(sum.users, 2);
	assert_int_equal(sum.clients, 3);
	assert_int_equal(sum.damaged, 0);
	assert_int_equal(sum.snapshots, 3);
	assert_int_equal(sum.presence, 2);
	assert_int_equal(sum.rosters, 1);
	assert_int_equal(sum.epoch, 1);
	assert_int_equal(sum.txn, 3);
	assert_true(sum.page_size > 0);
	assert_true(sum.map_used > 0 && sum.map_used <= sum.map_size);
	assert_true(sum.file_size >= sum.map_used);
	assert_int_equal(sk_store_flush(f->s), 0);
}

static void
a_user_lists_its_clients_with_times(void **state)
{
	struct fx *f = *state;
	struct sk_store_clients l;

	assert_int_equal(sk_store_clients(f->s, "u@a.test", &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].id, "c1");
	assert_string_equal(l.v[1].id, "c2");
	assert_int_equal(l.v[1].rec.created, NOW + 1);
	assert_int_equal(l.v[1].rec.used, NOW + 1);
	assert_int_equal(l.v[0].snapshots, 1);
	assert_int_equal(l.v[0].damaged, 0);
	sk_store_clients_free(&l);
	/* A JID that is a prefix of a stored one is another user. */
	assert_int_equal(sk_store_clients(f->s, "u@a.tes", &l), 0);
	assert_int_equal(l.n, 0);
	sk_store_clients_free(&l);
}

/* The setup's three keys presented again: u@a.test's c1 and c2 get
   what is given, v@a.test's (never revoked) a delta. */
static void
expect_reasons(struct fx *f, enum sk_reason c1, enum sk_reason c2)
{
	assert_int_equal(sync_as(f, "u@a.test", "c1", f->k_u1, NOW + 10, NULL), c1);
	assert_int_equal(sync_as(f, "u@a.test", "c2", f->k_u2, NOW + 10, NULL), c2);
	assert_int_equal(sync_as(f, "v@a.test", "c1", f->k_v1, NOW + 10, NULL),
	    SK_REASON_NONE);
}

/* ---- revocation --------------------------------------------------------------- */

static void
revoking_a_client_makes_its_key_unknown(void **state)
{
	struct fx *f = *state;
	struct sk_store_clients rm;
	const void *blob;
	size_t len;

	assert_int_equal(sk_store_revoke(f->s, "u@a.test", "c1", &rm), 0);
	assert_int_equal(rm.n, 1);
	assert_string_equal(rm.v[0].id, "c1");
	assert_int_equal(rm.v[0].snapshots, 1);
	sk_store_clients_free(&rm);
	assert_int_equal(sk_store_pending(f->s), 0);	/* committed at once */
	assert_int_equal(sk_store_snap_get(f->s, "u@a.test", "c1", 1, &blob, &len),
	    SK_ENOTFOUND);
	assert_int_equal(sk_store_flush(f->s), 0);

	expect_reasons(f, SK_REASON_UNKNOWN_KEY, SK_REASON_NONE);
}

static void
revoking_a_user_removes_every_client_and_nothing_else(void **state)
{
	struct fx *f = *state;
	struct sk_store_summary sum;
	struct sk_store_clients rm;

	/* Bad input changes nothing. */
	assert_int_equal(sk_store_revoke(f->s, "u@a.tes", NULL, &rm), SK_ENOTFOUND);
	assert_int_equal(sk_store_revoke(f->s, "u@a.test", "c9", &rm), SK_ENOTFOUND);
	assert_int_equal(sk_store_revoke(f->s, "u@a.test", "", &rm), SK_EINVAL);
	assert_int_equal(rm.n, 0);

	assert_int_equal(sk_store_revoke(f->s, "u@a.test", NULL, &rm), 0);
	assert_int_equal(rm.n, 2);
	sk_store_clients_free(&rm);
	assert_int_equal(sk_store_summary(f->s, &sum), 0);
	assert_int_equal(sum.users, 1);
	assert_int_equal(sum.clients, 1);
	assert_int_equal(sum.snapshots, 1);
	assert_int_equal(sum.rosters, 1);	/* the server's roster stays */
	assert_int_equal(sk_store_flush(f->s), 0);
	assert_int_equal(sk_store_revoke(f->s, "u@a.test", NULL, &rm), SK_ENOTFOUND);
	expect_reasons(f, SK_REASON_UNKNOWN_KEY, SK_REASON_UNKNOWN_KEY);
}

/* ---- secret rotation ---------------------------------------------------------- */

static void
rotate(struct fx *f, uint64_t now, uint64_t keep, struct sk_store_secret_info *before)
{
	int reloaded = 0;

	assert_int_equal(sk_store_secret_rotate(f->dir, now, keep, before), 0);
	/* what synckeyd does each second */
	assert_int_equal(sk_store_secret_refresh(f->s, 0, &reloaded), 0);
	assert_int_equal(reloaded, 1);
}

static void
old_keys_verify_until_the_keep_date(void **state)
{
	struct fx *f = *state;
	unsigned char old[SK_SECRET_LEN];
	struct sk_store_secret_info before, info;
	char knew[SK_KEY_MAX + 1];
	struct sk_key k;
	int reloaded = 1;

	memcpy(old, sk_store_secret(f->s), SK_SECRET_LEN);
	rotate(f, NOW + 100, 7 * DAY, &before);
	assert_int_equal(before.has_prev, 0);
	assert_memory_not_equal(old, sk_store_secret(f->s), SK_SECRET_LEN);
	assert_int_equal(sk_store_secret_info(f->dir, &info), 0);
	assert_int_equal(info.has_prev, 1);
	assert_int_equal(info.prev_until, NOW + 100 + 7 * DAY);
	/* Nothing changed since: no reload. */
	assert_int_equal(sk_store_secret_refresh(f->s, 0, &reloaded), 0);
	assert_int_equal(reloaded, 0);

	/* The previous secret verifies up to (not at) its date. */
	assert_int_equal(sk_store_key_decode(f->s, "u@a.test", "c1", f->k_u1,
	    NOW + 100 + 7 * DAY - 1, &k), 0);
	assert_int_equal(sk_store_key_decode(f->s, "u@a.test", "c1", f->k_u1,
	    NOW + 100 + 7 * DAY, &k), SK_EKEY);

	/* A delta with a pre-rotation key; the new key uses the new secret. */
	assert_int_equal(sync_as(f, "u@a.test", "c1", f->k_u1, NOW + DAY, knew),
	    SK_REASON_NONE);
	assert_int_equal(sk_key_decode(sk_store_secret(f->s), "u@a.test", "c1", knew, &k), 0);
	assert_int_equal(sk_key_decode(old, "u@a.test", "c1", knew, &k), SK_EKEY);
	/* After the date, a pre-rotation key is invalid; the new one is not. */
	assert_int_equal(sync_as(f, "u@a.test", "c2", f->k_u2, NOW + 8 * DAY, NULL),
	    SK_REASON_INVALID_KEY);
	assert_int_equal(sync_as(f, "u@a.test", "c1", knew, NOW + 8 * DAY, NULL),
	    SK_REASON_NONE);
}

static void
the_files_are_private_and_a_second_rotation_drops_the_first(void **state)
{
	struct fx *f = *state;
	struct sk_store_secret_info before, info;
	char path[4200];
	struct stat sb;

	rotate(f, NOW, 7 * DAY, &before);
	snprintf(path, sizeof(path), "%s/secret.prev", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, SK_SECRET_LEN + 8);
	snprintf(path, sizeof(path), "%s/secret", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	rotate(f, NOW + 1, 3 * DAY, &before);
	assert_int_equal(before.has_prev, 1);
	assert_int_equal(before.prev_until, NOW + 7 * DAY);
	assert_int_equal(sk_store_secret_info(f->dir, &info), 0);
	assert_int_equal(info.prev_until, NOW + 1 + 3 * DAY);
	/* Keys of the first secret are gone, its own date notwithstanding. */
	assert_int_equal(sync_as(f, "v@a.test", "c1", f->k_v1, NOW + 2, NULL),
	    SK_REASON_INVALID_KEY);
}

static void
keep_zero_voids_every_old_key_at_once(void **state)
{
	struct fx *f = *state;
	struct sk_store_secret_info before, info;

	rotate(f, NOW, 0, &before);
	assert_int_equal(sk_store_secret_info(f->dir, &info), 0);
	assert_int_equal(info.has_prev, 0);
	assert_int_equal(sync_as(f, "u@a.test", "c1", f->k_u1, NOW + 1, NULL),
	    SK_REASON_INVALID_KEY);
}

static void
unusable_new_files_keep_the_secrets_in_use(void **state)
{
	struct fx *f = *state;
	struct sk_store_secret_info before;
	char path[4200];
	struct sk_key k;
	int reloaded = 1;

	rotate(f, NOW, 7 * DAY, &before);
	snprintf(path, sizeof(path), "%s/secret.prev", f->dir);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(sk_store_secret_refresh(f->s, 1, &reloaded), SK_ESECRET);
	assert_int_equal(reloaded, 0);
	assert_int_equal(sk_store_key_decode(f->s, "u@a.test", "c1", f->k_u1, NOW + 1, &k), 0);
	/* and a rotation refuses to go on from them */
	assert_int_equal(sk_store_secret_rotate(f->dir, NOW, DAY, &before), SK_ESECRET);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(sk_store_secret_refresh(f->s, 1, &reloaded), 0);
	assert_int_equal(reloaded, 1);
}

/* ---- the program ---------------------------------------------------------------- */

/* Runs synckeyctl -d DIR (f's store when NULL, no -d when "") with args;
   when it exits 0 and check is given, runs check in python3 with d the
   JSON it printed (99 when that fails).  Returns the exit code. */
static int
ctl(const struct fx *f, const char *dir, const char *args, const char *check)
{
	const char *top = getenv("top_builddir");
	char cmd[16384], d[4200] = "";
	int st;


	if (dir == NULL || *dir != '\0')
		snprintf(d, sizeof(d), "-d '%s'", dir ? dir : f->dir);
	snprintf(cmd, sizeof(cmd), "%s/src/synckeyctl %s %s >'%s/out' 2>'%s/err' "
	    "|| exit $?; %s%s%s%s%s", top && *top ? top : ".", d, args, f->dir, f->dir,
	    check ? "python3 -c \"import json; d = json.load(open('" : "exit 0",
	    check ? f->dir : "", check ? "/out')); " : "", check ? check : "",
	    check ? "\" || exit 99" : "");
	st = system(cmd);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
json_strings_are_escaped(void **state)
{
	struct sk_text t = { 0 };

	sk_text_json(&t, "q\"\\\x01\x7f\n@a.test");
	assert_false(t.oom);
	assert_string_equal(t.s, "\"q\\\"\\\\\\u0001\\u007f\\u000a@a.test\"");
	sk_text_free(&t);
}

static void
synckeyctl_answers_in_json_with_documented_exit_codes(void **state)
{
	struct fx *f = *state;
	struct sk_client_rec r = { .session = 1, .created = NOW, .used = NOW };
	struct sk_store_clients l;
	char path[4200];
	struct stat sb;
	FILE *conf;
	int reloaded = 0;

	if (system("python3 -c 1 >/dev/null 2>&1") != 0) {
		skip();
		return;
	}
	/* A JID with characters JSON must escape (stored as is). */
	assert_int_equal(sk_store_client_put(f->s, "q\"\\\x01@a.test", "c1", &r), 0);
	assert_int_equal(sk_store_flush(f->s), 0);
	setenv("SK_ODD_JID", "q\"\\\x01@a.test", 1);

	assert_int_equal(ctl(f, NULL, "--json summary", "assert d['command'] == 'summary' "
	    "and d['users'] == 3 and d['clients'] == 4 and d['snapshots'] == 3 and "
	    "d['presence'] == 2 and d['rosters'] == 1 and d['epoch'] == 1 and "
	    "d['secret']['previous'] is None and d['map']['used_bytes'] > 0"), 0);
	assert_int_equal(ctl(f, NULL, "--json user u@a.test", "c = d['clients']; "
	    "assert [x['id'] for x in c] == ['c1', 'c2'] and c[0]['created'] == 1700000000 "
	    "and c[0]['snapshots'] == 1 and c[0]['keys'] == 1 and c[0]['key_age_s'] > 0"), 0);
	assert_int_equal(ctl(f, NULL, "--json user \"$SK_ODD_JID\"",
	    "assert d['jid'] == 'q' + chr(34) + chr(92) + chr(1) + '@a.test'"), 0);
	assert_int_equal(ctl(f, NULL, "--json rotate-secret --keep 2", "assert d['keep_days'] "
	    "== 2 and d['previous_until'] > d['written'] and d['dropped_until'] is None"), 0);
	assert_int_equal(ctl(f, NULL, "summary --json", "assert d['secret']['previous']"
	    "['expired'] is False"), 0);
	assert_int_equal(ctl(f, NULL, "--json revoke u@a.test c2", "assert d['removed'] == "
	    "[{'id': 'c2', 'snapshots': 1}] and d['clients_removed'] == 1"), 0);
	/* -c: the folder and key-ttl of synckeyd's configuration file. */
	snprintf(path, sizeof(path), "%s/synckeyd.conf", f->dir);
	assert_non_null(conf = fopen(path, "w"));
	fprintf(conf, "# synckeyd\nserver = 127.0.0.1:5347\ndb = %s\nkey-ttl = 10\n", f->dir);
	assert_int_equal(fclose(conf), 0);
	setenv("SK_CONF", path, 1);
	assert_int_equal(ctl(f, "", "-c \"$SK_CONF\" --json user v@a.test",
	    "assert d['key_ttl_s'] == 864000"), 0);
	assert_int_equal(ctl(f, NULL, "-c \"$SK_CONF\" summary", NULL), 1);
	/* The running synckeyd's budgets, from its status file: none yet,
	   then the figures it wrote; a file that is not one is no error. */
	assert_int_equal(ctl(f, NULL, "--json summary", "assert d['budgets'] is None"), 0);
	snprintf(path, sizeof(path), "%s/out", f->dir);
	setenv("SK_OUT", path, 1);
	snprintf(path, sizeof(path), "%s/synckeyd.status", f->dir);
	assert_non_null(conf = fopen(path, "w"));
	fprintf(conf, "pid %ld\nwritten 1700000000\npending 2 10000\npending-bytes 3000 16777216\n"
	    "views 4 0\n", (long)getpid());
	assert_int_equal(fclose(conf), 0);
	assert_int_equal(ctl(f, NULL, "--json summary", "b = d['budgets']; "
	    "assert b['running'] is True and b['pid'] > 1 and b['written'] == 1700000000 and "
	    "b['pending'] == {'used': 2, 'limit': 10000} and "
	    "b['pending-bytes'] == {'used': 3000, 'limit': 16777216} and "
	    "b['views'] == {'used': 4, 'limit': 0}"), 0);
	assert_int_equal(ctl(f, NULL, "summary", NULL), 0);
	assert_int_equal(system("grep -q 'pending-bytes  *3000 of 16777216 (0%)' \"$SK_OUT\""), 0);
	assert_non_null(conf = fopen(path, "w"));
	fprintf(conf, "pid 1\nwritten x\n");
	assert_int_equal(fclose(conf), 0);
	assert_int_equal(ctl(f, NULL, "--json summary", "assert d['budgets'] is None"), 0);
	assert_int_equal(ctl(f, NULL, "summary", NULL), 0);
	assert_int_equal(system("grep -q 'budgets of synckeyd  *unreadable' \"$SK_OUT\""), 0);
	assert_int_equal(unlink(path), 0);
	/* The text forms. */
	assert_int_equal(ctl(f, NULL, "summary", NULL), 0);
	assert_int_equal(ctl(f, NULL, "user v@a.test", NULL), 0);

	/* Errors: usage 1, no store 2, not found 3; none changes the store. */
	assert_int_equal(ctl(f, NULL, "--json revoke u@a.test c2", NULL), 3);
	assert_int_equal(ctl(f, NULL, "user nobody@a.test", NULL), 3);
	assert_int_equal(ctl(f, NULL, "revoke u@a.test/phone", NULL), 1);
	assert_int_equal(ctl(f, NULL, "revoke u@a.test 'bad id'", NULL), 1);
	assert_int_equal(ctl(f, NULL, "revoke", NULL), 1);
	assert_int_equal(ctl(f, NULL, "rotate-secret --keep 9999", NULL), 1);
	assert_int_equal(ctl(f, NULL, "summary --keep 3", NULL), 1);
	assert_int_equal(ctl(f, NULL, "frobnicate", NULL), 1);
	assert_int_equal(ctl(f, NULL, "summary -d", NULL), 1);
	assert_int_equal(ctl(f, "/nonexistent/sk", "summary", NULL), 2);
	assert_int_equal(ctl(f, "/nonexistent/sk", "revoke u@a.test", NULL), 2);
	assert_int_not_equal(stat("/nonexistent/sk", &sb), 0);

	/* The daemon's view: c1 is still there, c2 gone, and the rotation by
	   the other process is picked up. */
	assert_int_equal(sk_store_clients(f->s, "u@a.test", &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, "c1");
	sk_store_clients_free(&l);
	assert_int_equal(sk_store_flush(f->s), 0);
	assert_int_equal(sk_store_secret_refresh(f->s, 0, &reloaded), 0);
	assert_int_equal(reloaded, 1);
	snprintf(path, sizeof(path), "%s/secret.prev", f->dir);
	assert_int_equal(stat(path, &sb), 0);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(the_summary_counts_what_is_stored),
		T(a_user_lists_its_clients_with_times),
		T(revoking_a_client_makes_its_key_unknown),
		T(revoking_a_user_removes_every_client_and_nothing_else),
		T(old_keys_verify_until_the_keep_date),
		T(the_files_are_private_and_a_second_rotation_drops_the_first),
		T(keep_zero_voids_every_old_key_at_once),
		T(unusable_new_files_keep_the_secrets_in_use),
		T(synckeyctl_answers_in_json_with_documented_exit_codes),
		cmocka_unit_test(json_strings_are_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
