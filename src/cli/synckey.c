/* synckey.c - the synckey command-line client */
#include "cache.h"
#include "client.h"
#include "config.h"	/* autoconf: PACKAGE_VERSION */
#include "error.h"
#include "record.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static const char usage[] =
    "usage: synckey --jid JID --password-file FILE --db DIR [--server HOST:PORT]\n"
    "               [--component JID] [--client ID] [--stay SECONDS] [--standard]\n"
    "               [--timeout SECONDS] [--cafile FILE] [--allow-plaintext]\n"
    "               [--json] [--quiet] sync | roster | presence | forget\n"
    "       synckey --help | --version\n"
    "\n"
    "commands:\n"
    "  sync      connect, sync with the stored key (or the standard way when the\n"
    "            server has no sync service), stay online --stay seconds,\n"
    "            checkpoint, log out\n"
    "  roster    print the cached roster (no network)\n"
    "  presence  print the cached presence (no network)\n"
    "  forget    drop the stored key; the next sync is a full one\n"
    "TLS: STARTTLS with the server's certificate verified (system CAs, and\n"
    "     --cafile's); a server without TLS is refused unless --allow-plaintext\n"
    "exit codes: 0 ok, 1 usage, 2 authentication failed, 3 server unreachable,\n"
    "            4 cache corrupt, foreign or unknown, 5 protocol error, 6 timeout,\n"
    "            7 TLS (certificate not trusted, handshake failed, no TLS offered)\n";

struct args {
	const char	*jid, *pwfile, *db, *server, *component, *client, *cmd;
	const char	*cafile;
	unsigned	 stay;
	unsigned	 timeout;	/* --timeout: seconds per step (0: the library's 15) */
	int		 json, standard, quiet, plaintext;
};

static int
parse_args(struct args *a, int argc, char **argv)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char **dst = NULL;

		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			fputs(usage, stdout);
			exit(0);
		}
		if (strcmp(s, "--version") == 0) {
			printf("synckey %s\n", PACKAGE_VERSION);
			exit(0);
		}
		if (strcmp(s, "--json") == 0) { a->json = 1; continue; }
		if (strcmp(s, "--standard") == 0) { a->standard = 1; continue; }
		if (strcmp(s, "--quiet") == 0) { a->quiet = 1; continue; }
		if (strcmp(s, "--allow-plaintext") == 0) { a->plaintext = 1; continue; }
		if (strcmp(s, "--jid") == 0) dst = &a->jid;
		else if (strcmp(s, "--password-file") == 0) dst = &a->pwfile;
		else if (strcmp(s, "--db") == 0) dst = &a->db;
		else if (strcmp(s, "--server") == 0) dst = &a->server;
		else if (strcmp(s, "--component") == 0) dst = &a->component;
		else if (strcmp(s, "--client") == 0) dst = &a->client;
		else if (strcmp(s, "--cafile") == 0) dst = &a->cafile;
		else if (strcmp(s, "--stay") == 0 || strcmp(s, "--timeout") == 0) {
			int stay = strcmp(s, "--stay") == 0;
			char *end;
			unsigned long v;

			if (i + 1 >= argc || (v = strtoul(argv[i + 1], &end, 10), *end) ||
			    argv[i + 1][0] == '\0' || v > 86400 || (!stay && v == 0)) {
				fprintf(stderr, "synckey: %s needs a number of seconds (%s-86400)\n",
				    s, stay ? "0" : "1");
				return 1;
			}
			*(stay ? &a->stay : &a->timeout) = (unsigned)v;
			i++;
			continue;
		} else if (s[0] == '-') {
			fprintf(stderr, "synckey: unknown option %s\n", s);
			return 1;
		} else if (a->cmd == NULL) {
			a->cmd = s;
			continue;
		} else {
			fprintf(stderr, "synckey: one command only (%s, then %s)\n", a->cmd, s);
			return 1;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "synckey: %s needs a value\n", s);
			return 1;
		}
		*dst = argv[++i];
	}
	if (a->cmd == NULL || (strcmp(a->cmd, "sync") && strcmp(a->cmd, "roster") &&
	    strcmp(a->cmd, "presence") && strcmp(a->cmd, "forget"))) {
		fprintf(stderr, "synckey: give one command: sync, roster, presence or forget\n");
		return 1;
	}
	if (a->jid == NULL || a->db == NULL || strchr(a->jid, '@') == NULL || strchr(a->jid, '/')) {
		fprintf(stderr, "synckey: --jid (a bare user JID) and --db are required\n");
		return 1;
	}
	if (strcmp(a->cmd, "sync") == 0 && a->pwfile == NULL) {
		fprintf(stderr, "synckey: sync needs --password-file\n");
		return 1;
	}
	if (a->client && !sk_key_client_ok(a->client)) {
		fprintf(stderr, "synckey: --client must be 1-64 characters of A-Z a-z 0-9 . _ -\n");
		return 1;
	}
	return 0;
}

static int
read_password(const char *path, char *buf, size_t len)
{
	struct stat sb;
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "synckey: password file %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (fstat(fileno(f), &sb) != 0 || (sb.st_mode & 077)) {
		fprintf(stderr, "synckey: password file %s is readable by group or others (chmod 600 it)\n", path);
		fclose(f);
		return 1;
	}
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, "synckey: password file %s is empty\n", path);
		return 1;
	}
	return 0;
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void
on_change(void *data, const char *kind, const char *jid)
{
	const struct args *a = data;

	if (!a->json && !a->quiet)
		printf("  %-11s %s\n", kind, jid);
}

static int
print_state(const struct args *a, struct sk_cache *c, int roster)
{
	struct sk_state st;
	size_t i, j;
	int rc;

	if ((rc = sk_cache_load(c, &st)) != 0) {
		fprintf(stderr, "synckey: the cache in %s cannot be used: %s\n", a->db, sk_strerror(rc));
		return SK_CLIENT_ECACHE;
	}
	if (a->json)
		printf("[");
	for (i = 0; roster && i < st.nitems; i++) {
		const struct sk_item *it = &st.items[i];

		if (a->json) {
			printf("%s{\"jid\":", i ? "," : "");
			json_str(it->jid);
			printf(",\"name\":");
			json_str(it->name ? it->name : "");
			printf(",\"subscription\":\"%s\",\"ask\":%s,\"groups\":[", sk_sub_name(it->sub),
			    it->ask ? "true" : "false");
			for (j = 0; j < it->ngroups; j++) {
				printf("%s", j ? "," : "");
				json_str(it->groups[j]);
			}
			printf("]}");
		} else {
			printf("%-32s %-5s %s%s", it->jid, sk_sub_name(it->sub), it->name ? it->name : "",
			    it->ask ? " (asked)" : "");
			for (j = 0; j < it->ngroups; j++)
				printf("%s%s", j ? ", " : " [", it->groups[j]);
			printf("%s\n", it->ngroups ? "]" : "");
		}
	}
	for (i = 0; !roster && i < st.npres; i++) {
		const struct sk_pres *p = &st.pres[i];

		if (a->json) {
			printf("%s{\"from\":", i ? "," : "");
			json_str(p->jid);
			printf(",\"show\":");
			json_str(p->show ? p->show : "");
			printf(",\"status\":");
			json_str(p->status ? p->status : "");
			printf(",\"priority\":%d}", p->priority);
		} else {
			printf("%-40s %-5s %3d %s\n", p->jid, p->show ? p->show : "-", p->priority,
			    p->status ? p->status : "");
		}
	}
	if (a->json)
		printf("]\n");
	sk_state_free(&st);
	return 0;
}

/*
 * LMDB maps the cache and trusts its pages: some damage the checks in
 * cache.c cannot see (a flipped page pointer) ends in SIGSEGV or SIGBUS.
 * So the cache is first opened and loaded in a child; if that child dies
 * of a signal (or of a sanitizer's report), the cache is called damaged
 * and the command exits 4.  0 when the parent may go on (its own open
 * and load then report any ordinary error).
 */
static int
cache_survives(const char *db, const char *jid)
{
	char path[4200];
	struct stat sb;
	pid_t pid;
	int status, fd;

	snprintf(path, sizeof(path), "%s/data.mdb", db);
	if (stat(path, &sb) != 0)
		return 0;	/* none yet: sk_cache_open says so */
	fflush(NULL);
	if ((pid = fork()) < 0)
		return 0;
	if (pid == 0) {
		struct sk_cache *c = NULL;
		struct sk_state st;

		if ((fd = open("/dev/null", O_WRONLY)) >= 0)
			dup2(fd, STDERR_FILENO);
		if (sk_cache_open(db, jid, NULL, 0, &c) == 0 && sk_cache_load(c, &st) == 0)
			sk_state_free(&st);
		sk_cache_close(c);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "synckey: the cache in %s is damaged (reading it %s %d): "
	    "remove %s and sync again\n", db, WIFSIGNALED(status) ? "died of signal" :
	    "failed with status", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), path);
	return -1;
}

int
main(int argc, char **argv)
{
	struct sk_client_opts o = { 0 };
	struct sk_client_report rep;
	struct sk_cache *cache = NULL;
	char password[1024], err[512], host[256];
	struct args a;
	int rc;

	if (parse_args(&a, argc, argv) != 0) {
		fputs(usage, stderr);
		return SK_CLIENT_EUSAGE;
	}
	/* libstrophe writes with send() and no MSG_NOSIGNAL: a server that
	   hangs up must be a lost link (exit 3), not death by SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	if (cache_survives(a.db, a.jid) != 0)
		return SK_CLIENT_ECACHE;
	rc = sk_cache_open(a.db, a.jid, a.client, strcmp(a.cmd, "sync") == 0, &cache);
	if (rc != 0) {
		fprintf(stderr, "synckey: the cache in %s cannot be used: %s\n", a.db,
		    rc == SK_ENOTFOUND ? "there is none yet (run sync first)" : sk_strerror(rc));
		return SK_CLIENT_ECACHE;
	}
	if (strcmp(a.cmd, "roster") == 0 || strcmp(a.cmd, "presence") == 0) {
		rc = print_state(&a, cache, strcmp(a.cmd, "roster") == 0);
		sk_cache_close(cache);
		return rc;
	}
	if (strcmp(a.cmd, "forget") == 0) {
		if ((rc = sk_cache_set_key(cache, NULL)) != 0)
			fprintf(stderr, "synckey: cannot change the cache: %s\n", sk_strerror(rc));
		else if (!a.quiet)
			printf("key dropped: the next sync is a full one\n");
		sk_cache_close(cache);
		return rc ? SK_CLIENT_ECACHE : 0;
	}
	if (read_password(a.pwfile, password, sizeof(password)) != 0) {
		sk_cache_close(cache);
		return SK_CLIENT_EUSAGE;
	}
	o.jid = a.jid;
	o.password = password;
	if (a.server) {
		const char *colon = strrchr(a.server, ':');
		unsigned long port = colon ? strtoul(colon + 1, NULL, 10) : 0;

		if (colon == NULL || port == 0 || port > 65535 || (size_t)(colon - a.server) >= sizeof(host)) {
			fprintf(stderr, "synckey: --server must be HOST:PORT\n");
			sk_cache_close(cache);
			return SK_CLIENT_EUSAGE;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - a.server), a.server);
		o.host = host;
		o.port = (unsigned short)port;
	}
	o.component = a.component;
	o.standard = a.standard;
	o.stay = a.stay;
	o.timeout = a.timeout;
	o.cafile = a.cafile;
	o.allow_plaintext = a.plaintext;
	o.on_change = on_change;
	o.data = &a;
	rc = sk_client_sync(cache, &o, &rep, err, sizeof(err));
	sk_cache_close(cache);
	memset(password, 0, sizeof(password));
	if (rc != SK_CLIENT_OK) {
		fprintf(stderr, "synckey: %s\n", err);
		if (a.json) {
			/* a certificate's names may hold quotes */
			printf("{\"error\":%d,\"message\":", rc);
			json_str(err);
			printf("}\n");
		}
		return rc;
	}
	if (!rep.secured && !a.quiet)
		fprintf(stderr, "synckey: warning: the server offers no TLS: logged in over a plaintext stream\n");
	if (a.json)
		printf("{\"mode\":\"%s\",\"reason\":\"%s\",\"service\":\"%s\",\"version\":%u,\"items\":%zu,"
		    "\"bytes\":%llu,\"login_bytes\":%llu,\"disco_bytes\":%llu,\"ms\":%.1f,\"tls\":%s,"
		    "\"presence\":\"%s\"}\n",
		    rep.mode, rep.reason, rep.service, rep.version, rep.items, rep.bytes, rep.login_bytes,
		    rep.disco_bytes, rep.ms, rep.secured ? "true" : "false",
		    rep.partial ? "partial" : "complete");
	else if (!a.quiet)
		printf("sync: %s%s%s%s, %zu items, %llu bytes received, %.1f ms from login to synced%s\n",
		    rep.mode, rep.reason[0] ? " (" : "", rep.reason, rep.reason[0] ? ")" : "",
		    rep.items, rep.bytes, rep.ms, rep.partial ?
		    "; presence may be incomplete (the service saw no replay from the server)" : "");
	return 0;
}
