/* synckeyctl.c - the operator's tool for a live synckey store: report, revoke, rotate */
#include "config.h"	/* autoconf: PACKAGE_VERSION */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "error.h"
#include "key.h"
#include "store.h"
#include "status.h"
#include "store_admin.h"
#include "sync.h"
#include "text.h"

/*
 * synckeyctl works beside a running synckeyd: LMDB lets several
 * processes open one environment, reports read in a read-only
 * transaction, a revocation is one short write transaction, and a
 * rotation only replaces the secret files, which synckeyd rereads.  It
 * never creates a store: a mistyped folder must not become a new one.
 * Exit codes (synckeyctl(8)): 0 done, 1 usage or bad input, 2 the store
 * cannot be opened, 3 no such user or client, 4 the operation failed
 * (nothing changed).
 */
#define EX_USAGE	1
#define EX_NOSTORE	2
#define EX_NOTFOUND	3
#define EX_FAIL		4

#define STATEDIR_DEFAULT	"/var/lib/synckey"
#define KEEP_DAYS_DEFAULT	7
#define KEEP_DAYS_MAX		3650
#define DAY			86400ULL

static const char usage[] =
    "usage: synckeyctl [-d STATEDIR | -c CONF] [--json] summary\n"
    "       synckeyctl [-d STATEDIR | -c CONF] [--json] user JID\n"
    "       synckeyctl [-d STATEDIR | -c CONF] [--json] revoke JID [CLIENT]\n"
    "       synckeyctl [-d STATEDIR | -c CONF] [--json] rotate-secret [--keep DAYS]\n"
    "       synckeyctl --help | --version\n";

struct args {
	const char	*dir;		/* -d, the db of -c, or the default */
	uint64_t	 ttl;		/* key-ttl of -c, else synckeyd's default */
	unsigned	 keep_days;
	int		 json;
	const struct command *cmd;
	const char	*op[2];		/* the command's operands */
	int		 nop;
	uint64_t	 now;
};

/* ---- output: one writer for text and JSON ------------------------------- */

/*
 * Each value is written once, with a JSON key and a text label: JSON
 * goes into a buffer printed whole at the end, so a failure leaves
 * stdout empty; text is printed as it comes.  A NULL key leaves a value
 * out of the JSON, a NULL label out of the text.
 */
struct out {
	int		json;
	int		first;		/* JSON: no comma before the next member */
	int		depth;		/* text: indentation */
	uint64_t	now;
	struct sk_text	t;
};

/* Starts a member; 0 when it is left out of this form. */
static int
member(struct out *o, const char *key, const char *label)
{
	if (o->json) {
		if (key == NULL)
			return 0;
		if (!o->first)
			sk_text_add(&o->t, ",", 1);
		o->first = 0;
		sk_text_json(&o->t, key);
		sk_text_add(&o->t, ":", 1);
		return 1;
	}
	if (label == NULL)
		return 0;
	printf("%*s%-*s ", o->depth * 2, "", 26 - o->depth * 2, label);
	return 1;
}

static void
out_str(struct out *o, const char *key, const char *label, const char *v)
{
	if (!member(o, key, label))
		return;
	if (!o->json)
		printf("%s\n", v ? v : "-");
	else if (v == NULL)
		sk_text_str(&o->t, "null");
	else
		sk_text_json(&o->t, v);
}

static void
out_num(struct out *o, const char *key, const char *label, uint64_t v)
{
	char buf[24];

	if (!member(o, key, label))
		return;
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	if (o->json)
		sk_text_str(&o->t, buf);
	else
		printf("%s\n", buf);
}

static void
out_bool(struct out *o, const char *key, const char *label, int v)
{
	if (!member(o, key, label))
		return;
	if (o->json)
		sk_text_str(&o->t, v ? "true" : "false");
	else
		printf("%s\n", v ? "yes" : "no");
}

/* "3 d", "5 h", "12 min", "40 s": the largest unit that fits twice. */
static void
human(uint64_t secs, char *buf, size_t len)
{
	static const struct { uint64_t per; const char *unit; } units[] = {
		{ DAY, "d" }, { 3600, "h" }, { 60, "min" }, { 1, "s" },
	};
	size_t i;

	for (i = 0; units[i].per > 1 && secs < 2 * units[i].per; i++)
		;
	snprintf(buf, len, "%" PRIu64 " %s", secs / units[i].per, units[i].unit);
}

/* A duration: seconds in JSON, "3 d" in text. */
static void
out_age(struct out *o, const char *key, const char *label, uint64_t secs)
{
	char buf[32];

	if (o->json) {
		out_num(o, key, label, secs);
		return;
	}
	human(secs, buf, sizeof(buf));
	out_str(o, key, label, buf);
}

/* A time: seconds since the Unix epoch in JSON, UTC and how far from now
   in text. */
static void
out_time(struct out *o, const char *key, const char *label, uint64_t t)
{
	char date[32], far[32], buf[80];
	time_t tt = (time_t)t;
	struct tm tm;

	if (o->json) {
		out_num(o, key, label, t);
		return;
	}
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(date, sizeof(date), "%" PRIu64, t);
	human(t > o->now ? t - o->now : o->now - t, far, sizeof(far));
	snprintf(buf, sizeof(buf), "%s (%s%s%s)", date, t > o->now ? "in " : "",
	    far, t > o->now ? "" : " ago");
	out_str(o, key, label, buf);
}

/* Opens an object or array ('{' or '['); a NULL key in JSON is an
   element of the enclosing array. */
static void
out_open(struct out *o, const char *key, const char *label, char c)
{
	if (o->json) {
		if (!o->first)
			sk_text_add(&o->t, ",", 1);
		if (key != NULL) {
			sk_text_json(&o->t, key);
			sk_text_add(&o->t, ":", 1);
		}
		sk_text_add(&o->t, &c, 1);
		o->first = 1;
		return;
	}
	if (label != NULL)
		printf("%*s%s\n", o->depth * 2, "", label);
	o->depth++;
}

static void
out_close(struct out *o, char c)
{
	if (o->json) {
		sk_text_add(&o->t, &c, 1);
		o->first = 0;
		return;
	}
	o->depth--;
}

/* ---- the store ------------------------------------------------------------ */

static int
fail(int code, const char *what, const char *obj, int rc)
{
	fprintf(stderr, "synckeyctl: %s %s: %s\n", what, obj, sk_strerror(rc));
	return code;
}

/* Refuses a folder without a map and a secret: sk_store_open() would
   make a new store there (and a new secret would void every key). */
static int
store_there(const struct args *a)
{
	static const char *const files[] = { "data.mdb", "secret" };
	char path[PATH_MAX];
	struct stat sb;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", a->dir, files[i]) >=
		    (int)sizeof(path))
			return fail(EX_NOSTORE, "no store in", a->dir, ENAMETOOLONG);
		if (stat(path, &sb) != 0) {
			fprintf(stderr, "synckeyctl: no store in %s: %s: %s\n",
			    a->dir, path, strerror(errno));
			return EX_NOSTORE;
		}
	}
	return 0;
}

static int
open_store(const struct args *a, unsigned flags, struct sk_store **s)
{
	int rc;

	if ((rc = store_there(a)) != 0)
		return rc;
	if ((rc = sk_store_open(a->dir, flags, s)) != 0)
		return fail(EX_NOSTORE, "cannot open the store in", a->dir, rc);
	return 0;
}

/*
 * The running synckeyd's memory budgets, from the status file it writes
 * every few seconds (status.h): each "used of limit (percent)".  No file
 * is no error: synckeyd may never have run with this store.
 */
static void
out_budgets(const struct args *a, struct out *o)
{
	struct skd_status st;
	char buf[80];
	size_t i;
	int rc, running;

	if ((rc = skd_status_read(a->dir, &st)) != 0) {
		snprintf(buf, sizeof(buf), "%s (%s/%s)", rc == ENOENT ? "none written" :
		    "unreadable", a->dir, SKD_STATUS_FILE);
		out_str(o, "budgets", "budgets of synckeyd", o->json ? NULL : buf);
		return;
	}
	running = kill((pid_t)st.pid, 0) == 0 || errno == EPERM;
	out_open(o, "budgets", "budgets of synckeyd", '{');
	out_num(o, "pid", "pid", (uint64_t)st.pid);
	out_bool(o, "running", "running", running);
	out_time(o, "written", "written", (uint64_t)st.written);
	for (i = 0; i < st.n; i++) {
		const struct skd_status_row *r = &st.rows[i];

		if (o->json) {
			out_open(o, r->name, NULL, '{');
			out_num(o, "used", NULL, r->used);
			out_num(o, "limit", NULL, r->limit);
			out_close(o, '}');
		} else if (r->limit == 0) {
			out_num(o, NULL, r->name, r->used);
		} else {
			snprintf(buf, sizeof(buf), "%llu of %llu (%llu%%)", r->used, r->limit,
			    r->used * 100 / r->limit);
			out_str(o, NULL, r->name, buf);
		}
	}
	out_close(o, '}');
}

/* ---- the commands --------------------------------------------------------- */

static int
cmd_summary(struct args *a, struct out *o)
{
	struct sk_store_secret_info si;
	struct sk_store_summary sum;
	struct sk_store *s;
	int rc;

	if ((rc = open_store(a, SK_STORE_RDONLY, &s)) != 0)
		return rc;
	rc = sk_store_summary(s, &sum);
	sk_store_close(s);	/* ends the read: synckeyd may reuse pages */
	if (rc != 0)
		return fail(EX_FAIL, "cannot read the store in", a->dir, rc);
	if ((rc = sk_store_secret_info(a->dir, &si)) != 0)
		return fail(EX_NOSTORE, "cannot read the secret files in", a->dir, rc);
	out_str(o, "store", "store", a->dir);
	out_num(o, "users", "users", sum.users);
	out_num(o, "clients", "clients", sum.clients);
	out_num(o, "damaged_clients", "damaged client records", sum.damaged);
	out_num(o, "snapshots", "snapshots", sum.snapshots);
	out_num(o, "presence", "presence records", sum.presence);
	out_num(o, "rosters", "rosters stored", sum.rosters);
	out_num(o, "epoch", "epoch", sum.epoch);
	out_num(o, "txn", "transactions", sum.txn);
	out_open(o, "map", "map (LMDB)", '{');
	out_num(o, "file_bytes", "data.mdb bytes", sum.file_size);
	out_num(o, "disk_bytes", "bytes on disk", sum.disk_size);
	out_num(o, "used_bytes", "bytes in use", sum.map_used);
	out_num(o, "size_bytes", "map size", sum.map_size);
	out_num(o, "used_percent", "use (%)", sum.map_size ?
	    sum.map_used * 100 / sum.map_size : 0);
	out_num(o, "page_bytes", "page size", sum.page_size);
	out_num(o, "readers", "readers", sum.readers);
	out_num(o, "max_readers", "max readers", sum.max_readers);
	out_close(o, '}');
	out_open(o, "secret", "secret", '{');
	out_time(o, "written", "written", si.changed);
	out_age(o, "age_s", "age", a->now > si.changed ? a->now - si.changed : 0);
	if (si.has_prev) {
		out_open(o, "previous", "previous secret", '{');
		out_time(o, "until", "verifies keys until", si.prev_until);
		out_bool(o, "expired", "expired", a->now >= si.prev_until);
		out_close(o, '}');
	} else {
		out_str(o, "previous", "previous secret", NULL);
	}
	out_close(o, '}');
	out_str(o, "mode", "mode, privileges", "unknown here: the running synckeyd "
	    "logs them per domain (\"server adapter present\" or \"privilege-only "
	    "mode\", \"privileges for ...\")");
	out_budgets(a, o);
	return 0;
}

/* Writes one client's record. */
static void
out_client(const struct args *a, struct out *o, const struct sk_store_client *c)
{
	const struct sk_client_rec *r = &c->rec;
	char label[SK_CLIENT_MAX + 16];

	snprintf(label, sizeof(label), "client %s", c->id);
	out_open(o, NULL, label, '{');
	out_str(o, "id", NULL, c->id);
	out_bool(o, "damaged", c->damaged ? "damaged" : NULL, c->damaged);
	if (!c->damaged) {
		out_time(o, "created", "created", r->created);
		out_time(o, "used", "last used", r->used);
		/* The newest key is issued at each use. */
		out_age(o, "key_age_s", "newest key age", a->now > r->used ?
		    a->now - r->used : 0);
		out_time(o, "key_expires", "newest key expires", r->used + a->ttl);
		out_num(o, "keys", "valid keys", (r->cur != 0) + (r->prev != 0));
	}
	out_num(o, "snapshots", "snapshots", c->snapshots);
	out_close(o, '}');
}

static int
cmd_user(struct args *a, struct out *o)
{
	struct sk_store_clients l;
	struct sk_store *s;
	size_t i;
	int rc;

	if ((rc = open_store(a, SK_STORE_RDONLY, &s)) != 0)
		return rc;
	rc = sk_store_clients(s, a->op[0], &l);
	sk_store_close(s);
	if (rc != 0)
		return fail(EX_FAIL, "cannot read the clients of", a->op[0], rc);
	if (l.n == 0) {
		fprintf(stderr, "synckeyctl: %s has no client records in %s\n",
		    a->op[0], a->dir);
		return EX_NOTFOUND;
	}
	out_str(o, "jid", "user", a->op[0]);
	out_age(o, "key_ttl_s", "key-ttl", a->ttl);
	out_open(o, "clients", NULL, '[');
	for (i = 0; i < l.n; i++)
		out_client(a, o, &l.v[i]);
	out_close(o, ']');
	sk_store_clients_free(&l);
	return 0;
}

static int
cmd_revoke(struct args *a, struct out *o)
{
	const char *client = a->nop > 1 ? a->op[1] : NULL;
	struct sk_store_clients rm;
	struct sk_store *s;
	size_t i, snaps = 0;
	int rc;

	if ((rc = open_store(a, 0, &s)) != 0)
		return rc;
	rc = sk_store_revoke(s, a->op[0], client, &rm);
	sk_store_close(s);
	if (rc == SK_ENOTFOUND) {
		fprintf(stderr, "synckeyctl: %s has no client record%s%s in %s: "
		    "nothing removed\n", a->op[0], client ? " " : "s",
		    client ? client : "", a->dir);
		return EX_NOTFOUND;
	}
	if (rc != 0)
		return fail(EX_FAIL, "nothing removed; revoking the clients of",
		    a->op[0], rc);
	out_str(o, "jid", "user", a->op[0]);
	out_open(o, "removed", "removed", '[');
	for (i = 0; i < rm.n; i++) {
		out_open(o, NULL, NULL, '{');
		out_str(o, "id", "client", rm.v[i].id);
		out_num(o, "snapshots", NULL, rm.v[i].snapshots);
		out_close(o, '}');
		snaps += rm.v[i].snapshots;
	}
	out_close(o, ']');
	out_num(o, "clients_removed", "clients removed", rm.n);
	out_num(o, "snapshots_removed", "snapshots removed", snaps);
	out_str(o, NULL, "effect", "their old keys get a full sync (reason unknown-key)");
	sk_store_clients_free(&rm);
	return 0;
}

static int
cmd_rotate(struct args *a, struct out *o)
{
	struct sk_store_secret_info before, after;
	int rc;

	if ((rc = store_there(a)) != 0)
		return rc;
	rc = sk_store_secret_rotate(a->dir, a->now, a->keep_days * DAY, &before);
	if (rc == SK_ESECRET)
		return fail(EX_NOSTORE, "unusable secret files in", a->dir, rc);
	if (rc != 0)
		return fail(EX_FAIL, "rotation failed, the old secret is still current, in",
		    a->dir, rc);
	if ((rc = sk_store_secret_info(a->dir, &after)) != 0)
		return fail(EX_FAIL, "rotated, but cannot read the secret files in",
		    a->dir, rc);
	out_str(o, "store", "store", a->dir);
	out_time(o, "written", "new secret written", after.changed);
	out_num(o, "keep_days", "keep (days)", a->keep_days);
	if (after.has_prev)
		out_time(o, "previous_until", "old keys verify until", after.prev_until);
	else
		out_str(o, "previous_until", "old keys verify until", "never (--keep 0)");
	/* One previous secret is kept: the one before it goes now. */
	if (before.has_prev && a->now < before.prev_until)
		out_time(o, "dropped_until", "dropped a secret valid until",
		    before.prev_until);
	else
		out_str(o, "dropped_until", NULL, NULL);
	out_str(o, NULL, "synckeyd", "picks the new secret up within a second "
	    "(or at once on SIGHUP)");
	return 0;
}

/* ---- arguments ------------------------------------------------------------ */

static const struct command {
	const char	*name;
	int		 nmin, nmax;	/* operands */
	int		(*run)(struct args *, struct out *);
} commands[] = {
	{ "summary",		0, 0, cmd_summary },
	{ "user",		1, 1, cmd_user },
	{ "revoke",		1, 2, cmd_revoke },
	{ "rotate-secret",	0, 0, cmd_rotate },
};

static int
usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "synckeyctl: %s%s%s%s\n%s", msg, arg ? " \"" : "",
	    arg ? arg : "", arg ? "\"" : "", usage);
	return EX_USAGE;
}

/* -c: the db folder and key-ttl of synckeyd's configuration file. */
static int
read_conf(struct args *a, const char *path, char **db)
{
	struct skd_config cfg;
	int rc = 0;

	if (skd_config_read(&cfg, path) != 0) {
		fprintf(stderr, "synckeyctl: cannot use the configuration %s\n", path);
		rc = EX_USAGE;
	} else if (cfg.db == NULL) {
		fprintf(stderr, "synckeyctl: %s has no db setting: give -d STATEDIR\n", path);
		rc = EX_USAGE;
	} else {
		*db = cfg.db;
		cfg.db = NULL;
		if (cfg.key_ttl_days)
			a->ttl = (uint64_t)cfg.key_ttl_days * DAY;
	}
	skd_config_free(&cfg);
	return rc;
}

/* Fills a; returns -1 to go on, else the exit code. */
static int
parse_args(struct args *a, int argc, char **argv, char **db)
{
	const char *dir = NULL, *conf = NULL, *keep = NULL;
	char *end;
	size_t k;
	int i;

	memset(a, 0, sizeof(*a));
	a->ttl = SK_SYNC_TTL_DEFAULT;
	a->keep_days = KEEP_DAYS_DEFAULT;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], **val = NULL;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("synckeyctl %s\n", PACKAGE_VERSION);
			return 0;
		}
		if (strcmp(arg, "--json") == 0) {
			a->json = 1;
			continue;
		}
		if (strcmp(arg, "-d") == 0)
			val = &dir;
		else if (strcmp(arg, "-c") == 0)
			val = &conf;
		else if (strcmp(arg, "--keep") == 0)
			val = &keep;
		else if (arg[0] == '-')
			return usage_error("unknown option", arg);
		if (val != NULL) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0')
				return usage_error("this option needs a value:", arg);
			*val = argv[++i];
		} else if (a->cmd == NULL) {
			for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
				if (strcmp(commands[k].name, arg) == 0)
					a->cmd = &commands[k];
			if (a->cmd == NULL)
				return usage_error("unknown command", arg);
		} else if (a->nop < 2) {
			a->op[a->nop++] = arg;
		} else {
			return usage_error("too many operands:", arg);
		}
	}
	if (a->cmd == NULL)
		return usage_error("no command", NULL);
	if (a->nop < a->cmd->nmin || a->nop > a->cmd->nmax)
		return usage_error("wrong number of operands for", a->cmd->name);
	if (dir != NULL && conf != NULL)
		return usage_error("give -d or -c, not both", NULL);
	if (keep != NULL) {
		unsigned long n;

		errno = 0;
		n = strtoul(keep, &end, 10);
		if (a->cmd->run != cmd_rotate)
			return usage_error("--keep is for rotate-secret, not", a->cmd->name);
		if (errno || end == keep || *end != '\0' || keep[0] == '-' ||
		    n > KEEP_DAYS_MAX)
			return usage_error("--keep wants days from 0 to 3650, not", keep);
		a->keep_days = (unsigned)n;
	}
	/* A JID as synckeyd stores it: bare (user@domain), as the server
	   wrote it; a client ID as the protocol allows. */
	if (a->nop > 0 && (a->op[0][0] == '\0' || strchr(a->op[0], '/') != NULL))
		return usage_error("not a bare JID (user@domain):", a->op[0]);
	if (a->nop > 1 && !sk_key_client_ok(a->op[1]))
		return usage_error("not a client ID (1-64 of A-Z a-z 0-9 . _ -):", a->op[1]);
	if (conf != NULL) {
		int rc = read_conf(a, conf, db);

		if (rc != 0)
			return rc;
		dir = *db;
	}
	a->dir = dir ? dir : STATEDIR_DEFAULT;
	a->now = (uint64_t)time(NULL);
	return -1;
}

int
main(int argc, char **argv)
{
	struct args a;
	struct out o;
	char *db = NULL;
	int rc;

	if ((rc = parse_args(&a, argc, argv, &db)) >= 0) {
		free(db);
		return rc;
	}
	memset(&o, 0, sizeof(o));
	o.json = a.json;
	o.now = a.now;
	o.first = 1;
	if (o.json)	/* the text has no enclosing heading */
		out_open(&o, NULL, NULL, '{');
	out_str(&o, "command", NULL, a.cmd->name);
	rc = a.cmd->run(&a, &o);
	if (o.json)
		out_close(&o, '}');
	if (rc == 0 && o.json) {
		if (o.t.oom)
			rc = fail(EX_FAIL, "writing the answer", "(JSON)", ENOMEM);
		else
			printf("%s\n", o.t.s);
	}
	sk_text_free(&o.t);
	free(db);
	if (fflush(stdout) != 0 && rc == 0)
		rc = fail(EX_FAIL, "writing to", "standard output", errno);
	return rc;
}
