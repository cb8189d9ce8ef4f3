/* test_config.c - synckeyd's flags and configuration file: defaults, bounds, all errors at once */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "log.h"
#include "status.h"
#include "testutil.h"

static int
parse(struct skd_config *c, const char **args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = "synckeyd";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return skd_config_parse(c, argc, argv);
}

static void
flags_alone_are_enough_and_defaults_apply(void **unused)
{
	const char *args[] = { "--server", "127.0.0.1:5347", "--jid", "sync.p.test",
	    "--secret-file", "/dev/null", "--domain", "p.test", "--domain", "q.test",
	    "--db", "/tmp/x", "--log-level", "debug", NULL };
	struct skd_config c;

	(void)unused;
	assert_int_equal(parse(&c, args), 0);
	assert_string_equal(c.host, "127.0.0.1");
	assert_int_equal(c.port, 5347);
	assert_int_equal(c.ndomains, 2);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_int_equal(c.stanza_budget, 200000);
	assert_int_equal(c.roster_timeout, 10);
	assert_int_equal(c.key_ttl_days, 30);
	assert_int_equal(c.max_clients, 16);
	/* issue 17: caps on remote presence, sized for a small VPS */
	assert_int_equal(c.max_domain_presence, 5000);
	assert_int_equal(c.max_domain_presence_bytes, 8u << 20);
	assert_int_equal(c.max_remote_presence, 50000);
	assert_int_equal(c.max_remote_presence_bytes, 64u << 20);
	skd_config_free(&c);
}

static void
bad_flags_are_refused(void **unused)
{
	const char *a1[] = { "--server", "nohostport", NULL };
	const char *a2[] = { "--bogus", NULL };
	const char *a3[] = { "--server", "h:99999", NULL };
	const char *a4[] = { "--server", "h:1", "--jid", "j", "--secret-file", "s", "--domain", "d",
	    "--db", "x", "--max-clients", "0", NULL };
	const char *a5[] = { "--domain", "user@host", NULL };
	const char *a6[] = { "--server", NULL };
	const char *a7[] = { "--server", "h:1", "--jid", "j", "--secret-file", "s", "--domain", "d",
	    "--db", "x", "--max-remote-presence-bytes", "100", NULL };
	struct skd_config c;

	(void)unused;
	assert_int_equal(parse(&c, a1), 1); skd_config_free(&c);
	assert_int_equal(parse(&c, a2), 1); skd_config_free(&c);
	assert_int_equal(parse(&c, a3), 1); skd_config_free(&c);
	assert_int_equal(parse(&c, a4), 1); skd_config_free(&c);
	assert_int_equal(parse(&c, a5), 1); skd_config_free(&c);
	assert_int_equal(parse(&c, a6), 1); skd_config_free(&c);
	assert_int_equal(parse(&c, a7), 1); skd_config_free(&c);
}

static void
config_file_with_flags_winning(void **unused)
{
	char *dir = tmpdir_new(), path[4200];
	const char *args[] = { "--config", path, "--jid", "flag.p.test", NULL };
	struct skd_config c;
	FILE *f;

	(void)unused;
	snprintf(path, sizeof(path), "%s/synckeyd.conf", dir);
	f = fopen(path, "w");
	fputs("# synckeyd\nserver = 127.0.0.1:5347\njid = file.p.test\nsecret-file = /s\n"
	    "domain = p.test\ndb = /var/lib/synckey\nstanza-budget = 65536\n", f);
	fclose(f);
	assert_int_equal(parse(&c, args), 0);
	assert_string_equal(c.jid, "flag.p.test");
	assert_int_equal(c.stanza_budget, 65536);
	skd_config_free(&c);
	/* every bad line reported, with file:line */
	f = fopen(path, "w");
	fputs("server = 127.0.0.1:5347\nnonsense\ncolour = blue\nroster-timeout = 0\n", f);
	fclose(f);
	assert_int_equal(parse(&c, args), 1);
	skd_config_free(&c);
	tmpdir_free(dir);
}

/* A cluster: servers in order, from flags or from the file, never mixed. */
static void
several_servers_in_order(void **unused)
{
	char *dir = tmpdir_new(), path[4200];
	const char *flags[] = { "--server", "127.0.0.1:45001", "--server", "node2.example:45011",
	    "--jid", "j", "--secret-file", "s", "--domain", "d", "--db", "x", NULL };
	const char *file[] = { "--config", path, NULL };
	const char *both[] = { "--config", path, "--server", "flag:1", NULL };
	struct skd_config c;
	FILE *f;

	(void)unused;
	assert_int_equal(parse(&c, flags), 0);
	assert_int_equal(c.nservers, 2);
	assert_string_equal(c.servers[0].host, "127.0.0.1");
	assert_int_equal(c.servers[0].port, 45001);
	assert_string_equal(c.servers[1].host, "node2.example");
	assert_int_equal(c.servers[1].port, 45011);
	assert_string_equal(c.host, "127.0.0.1");	/* the first one */
	skd_config_free(&c);
	snprintf(path, sizeof(path), "%s/synckeyd.conf", dir);
	f = fopen(path, "w");
	fputs("server = a:1\nserver = b:2\nserver = c:3\njid = j\nsecret-file = /s\n"
	    "domain = p.test\ndb = /x\n", f);
	fclose(f);
	assert_int_equal(parse(&c, file), 0);
	assert_int_equal(c.nservers, 3);
	assert_string_equal(c.servers[2].host, "c");
	assert_int_equal(c.servers[2].port, 3);
	skd_config_free(&c);
	assert_int_equal(parse(&c, both), 0);		/* flags win: only flag:1 */
	assert_int_equal(c.nservers, 1);
	assert_string_equal(c.host, "flag");
	skd_config_free(&c);
	tmpdir_free(dir);
}

static void
secret_file_must_be_private(void **unused)
{
	char *dir = tmpdir_new(), path[4200];
	struct skd_config c = { 0 };
	FILE *f;

	(void)unused;
	snprintf(path, sizeof(path), "%s/secret", dir);
	f = fopen(path, "w");
	fputs("s3cret\n", f);
	fclose(f);
	c.secret_file = strdup(path);
	chmod(path, 0644);
	assert_int_equal(skd_config_load_secret(&c), 1);
	chmod(path, 0600);
	assert_int_equal(skd_config_load_secret(&c), 0);
	assert_string_equal(c.secret, "s3cret");
	skd_config_free(&c);
	tmpdir_free(dir);
}

/* ---- log_limited: a fake clock and the lines written --------------- */

static uint64_t fake_now;
static int nlines;
static char lastline[2400];

static uint64_t fake_clock(void) { return fake_now; }

static void
sink(int level, const char *line)
{
	(void)level;
	nlines++;
	snprintf(lastline, sizeof(lastline), "%s", line);
}

/* Issue 17 #3: a cause writes its first line at once, then one line an
   interval that counts what was held back; causes do not hold back each
   other; a burst that ends is still counted (log_limited_tick). */
static void
repeated_causes_collapse_into_one_line_an_interval(void **state)
{
	int i;

	(void)state;
	log_init(LOG_LVL_INFO, 0, "test");
	log_set_sink(sink);
	log_set_clock(fake_clock);
	log_limited_reset();
	log_limit_interval(60000);
	fake_now = 5000;
	nlines = 0;
	assert_int_equal(log_limited(LOG_LVL_WARN, "cause a", "refused %d", 1), 1);
	assert_string_equal(lastline, "refused 1");
	for (i = 0; i < 5000; i++) {
		fake_now += 10;		/* 50 s of a burst */
		log_limited(LOG_LVL_WARN, "cause a", "refused %d", i + 2);
	}
	assert_int_equal(nlines, 1);
	/* another cause is not held back by the first */
	assert_int_equal(log_limited(LOG_LVL_WARN, "cause b", "other"), 1);
	assert_int_equal(nlines, 2);
	fake_now = 5000 + 60000;
	assert_int_equal(log_limited(LOG_LVL_WARN, "cause a", "refused again"), 1);
	assert_int_equal(nlines, 3);
	assert_non_null(strstr(lastline, "refused again"));
	assert_non_null(strstr(lastline, "5000 more such lines held back"));
	/* a burst that stops: its count comes with the tick after the interval */
	for (i = 0; i < 7; i++)
		log_limited(LOG_LVL_WARN, "cause a", "x");
	log_limited_tick();
	assert_int_equal(nlines, 3);		/* interval not over */
	fake_now += 60000;
	log_limited_tick();
	assert_int_equal(nlines, 4);
	assert_non_null(strstr(lastline, "cause a: 7 more such lines held back"));
	log_limited_tick();
	assert_int_equal(nlines, 4);		/* told once */
	/* below the threshold nothing is written nor counted */
	assert_int_equal(log_limited(LOG_LVL_DEBUG, "cause d", "debug"), 0);
	assert_int_equal(nlines, 4);
	/* more causes than slots: each still gets its first line */
	for (i = 0; i < LOG_LIMIT_KEYS * 2; i++) {
		char key[32];

		snprintf(key, sizeof(key), "many %d", i);
		assert_int_equal(log_limited(LOG_LVL_WARN, key, "first of %d", i), 1);
	}
	log_set_sink(NULL);
	log_set_clock(NULL);
	log_limited_reset();
}

/* Writes text as dir's status file. */
static void
status_file(const char *dir, const char *text)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, SKD_STATUS_FILE);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The status file synckeyctl reads: what synckeyd writes reads back; a
   file that is not one is refused whole, never half read. */
static void
the_status_file_reads_back_and_refuses_what_is_not_one(void **state)
{
	char *dir = tmpdir_new(), big[5000];
	struct skd_status st = { .pid = 42, .written = 1700000000 }, in;
	int i;

	(void)state;
	assert_int_equal(skd_status_read(dir, &in), ENOENT);
	skd_status_add(&st, "pending", 2, 10000);
	skd_status_add(&st, "pending-bytes", 3000, 16777216);
	skd_status_add(&st, "Bad_Name", 1, 1);		/* written, refused on reading */
	st.n--;
	skd_status_add(&st, "a-name-of-thirty-two-characters!", 1, 1);	/* left out */
	assert_int_equal(st.n, 2);
	for (i = 0; i < 20; i++)
		skd_status_add(&st, "views", (unsigned long long)i, 0);
	assert_int_equal(st.n, SKD_STATUS_ROWS);
	assert_int_equal(skd_status_write(dir, &st), 0);
	assert_int_equal(skd_status_read(dir, &in), 0);
	assert_int_equal(in.pid, 42);
	assert_int_equal(in.written, 1700000000);
	assert_int_equal(in.n, SKD_STATUS_ROWS);
	assert_string_equal(in.rows[1].name, "pending-bytes");
	assert_int_equal(in.rows[1].used, 3000);
	assert_int_equal(in.rows[1].limit, 16777216);

	status_file(dir, "pid 1\nwritten 2\nPending 1 2\n");
	assert_int_equal(skd_status_read(dir, &in), EINVAL);
	status_file(dir, "pid 1\nwritten 2\npending 1 2 3\n");
	assert_int_equal(skd_status_read(dir, &in), EINVAL);
	status_file(dir, "pid 1\npending 1 2\n");
	assert_int_equal(skd_status_read(dir, &in), EINVAL);
	status_file(dir, "written 2\npid 1\n");
	assert_int_equal(skd_status_read(dir, &in), EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	status_file(dir, big);
	assert_int_equal(skd_status_read(dir, &in), EINVAL);
	strcpy(big, "pid 1\nwritten 2\n");
	for (i = 0; i < SKD_STATUS_ROWS; i++)
		strcat(big, "views 1 0\n");
	status_file(dir, big);
	assert_int_equal(skd_status_read(dir, &in), 0);	/* as many rows as there may be */
	strcat(big, "views 1 0\n");
	status_file(dir, big);
	assert_int_equal(skd_status_read(dir, &in), EINVAL);
	tmpdir_free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flags_alone_are_enough_and_defaults_apply),
		cmocka_unit_test(bad_flags_are_refused),
		cmocka_unit_test(config_file_with_flags_winning),
		cmocka_unit_test(several_servers_in_order),
		cmocka_unit_test(secret_file_must_be_private),
		cmocka_unit_test(repeated_causes_collapse_into_one_line_an_interval),
		cmocka_unit_test(the_status_file_reads_back_and_refuses_what_is_not_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
