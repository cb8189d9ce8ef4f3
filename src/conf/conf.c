/* conf.c - synckeyd's settings: flags and configuration file */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config.h"	/* autoconf: PACKAGE_VERSION */
#include "conf.h"
#include "log.h"

const char skd_usage[] =
    "usage: synckeyd [-n] [--config FILE] [--server HOST:PORT] [--jid JID]\n"
    "                [--secret-file FILE] [--domain DOMAIN ...] [--db DIR]\n"
    "                [--log-level error|warn|info|debug] [--syslog]\n"
    "                [--stanza-budget BYTES] [--roster-timeout SECONDS]\n"
    "                [--key-ttl DAYS] [--max-clients N] [--batch-events N]\n"
    "                [--batch-ms MS] [--max-presence-bytes BYTES]\n"
    "                [--max-resources N] [--max-pending N]\n"
    "                [--max-pending-bytes BYTES] [--max-user-pending N]\n"
    "                [--max-user-pending-bytes BYTES]\n"
    "                [--max-view-bytes BYTES] [--max-user-view-bytes BYTES]\n"
    "                [--max-page-bytes BYTES] [--max-user-page-bytes BYTES]\n"
    "                [--adapter auto|required]\n"
    "                [--max-domain-presence N] [--max-domain-presence-bytes BYTES]\n"
    "                [--max-remote-presence N] [--max-remote-presence-bytes BYTES]\n"
    "       synckeyd --help | --version\n";

/* A setting: its name (flag without "--" and file key), bounds, field. */
enum kind { K_STR, K_SERVER, K_DOMAIN, K_LEVEL, K_ADAPTER, K_UINT, K_SIZE, K_BOOL };

struct setting {
	const char	*name;
	enum kind	 kind;
	size_t		 off;
	unsigned long	 min, max;
	unsigned long	 def;		/* K_UINT, K_SIZE, K_BOOL: the default */
};

#define OFF(f) offsetof(struct skd_config, f)
/* Each row: name, kind, field, bounds and default (Redis's config table). */
static const struct setting settings[] = {
	{ "server",		K_SERVER, 0, 0, 0, 0 },
	{ "jid",		K_STR,	  OFF(jid), 0, 0, 0 },
	{ "secret-file",	K_STR,	  OFF(secret_file), 0, 0, 0 },
	{ "domain",		K_DOMAIN, 0, 0, 0, 0 },
	{ "db",			K_STR,	  OFF(db), 0, 0, 0 },
	{ "log-level",		K_LEVEL,  0, 0, 0, 0 },
	{ "syslog",		K_BOOL,	  OFF(syslog), 0, 1, 0 },
	{ "stanza-budget",	K_SIZE,	  OFF(stanza_budget), 4096, 16777216, 200000 },
	{ "roster-timeout",	K_UINT,	  OFF(roster_timeout), 1, 600, 10 },
	{ "key-ttl",		K_UINT,	  OFF(key_ttl_days), 1, 3650, 30 },
	{ "max-clients",	K_UINT,	  OFF(max_clients), 1, 1024, 16 },
	{ "batch-events",	K_UINT,	  OFF(batch_events), 1, 100000, 512 },
	{ "batch-ms",		K_UINT,	  OFF(batch_ms), 1, 10000, 20 },
	{ "max-presence-bytes",	K_SIZE,	  OFF(max_presence_bytes), 512, 1048576, 16384 },
	{ "max-resources",	K_UINT,	  OFF(max_resources), 1, 10000, 64 },
	{ "max-pending",	K_UINT,	  OFF(max_pending), 1, 1000000, 10000 },
	{ "max-pending-bytes",	K_SIZE,	  OFF(max_pending_bytes), 65536, 1ul << 36, 16ul << 20 },
	{ "max-user-pending",	K_UINT,	  OFF(max_user_pending), 1, 1000000, 16 },
	{ "max-user-pending-bytes", K_SIZE, OFF(max_user_pending_bytes), 4096, 1ul << 36, 1ul << 20 },
	{ "max-view-bytes",	K_SIZE,	  OFF(max_view_bytes), 0, 1ul << 36, 64ul << 20 },
	{ "max-user-view-bytes", K_SIZE,  OFF(max_user_view_bytes), 0, 1ul << 36, 16ul << 20 },
	{ "max-page-bytes",	K_SIZE,	  OFF(max_page_bytes), 65536, 1ul << 36, 64ul << 20 },
	{ "max-user-page-bytes", K_SIZE,  OFF(max_user_page_bytes), 65536, 1ul << 36, 8ul << 20 },
	/* presence from domains not served: what remote servers can store */
	{ "max-domain-presence", K_UINT,  OFF(max_domain_presence), 1, 10000000, 5000 },
	{ "max-domain-presence-bytes", K_SIZE, OFF(max_domain_presence_bytes), 4096, 1ul << 36, 8ul << 20 },
	{ "max-remote-presence", K_UINT,  OFF(max_remote_presence), 1, 10000000, 50000 },
	{ "max-remote-presence-bytes", K_SIZE, OFF(max_remote_presence_bytes), 4096, 1ul << 36, 64ul << 20 },
	{ "adapter",		K_ADAPTER, 0, 0, 0, 0 },
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const struct setting *
find(const char *name)
{
	size_t i;

	for (i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

/* Applies one value; on error writes a message into err and returns 1. */
static int
apply(struct skd_config *cfg, const struct setting *s, const char *val,
    char *err, size_t errlen)
{
	char *end, **str;
	unsigned long n;

	switch (s->kind) {
	case K_STR:
		if (val[0] == '\0') {
			snprintf(err, errlen, "%s: empty value", s->name);
			return 1;
		}
		str = (char **)((char *)cfg + s->off);
		free(*str);
		*str = strdup(val);
		return *str == NULL;
	case K_SERVER: {
		const char *colon = strrchr(val, ':');

		errno = 0;
		n = colon ? strtoul(colon + 1, &end, 10) : 0;
		if (colon == NULL || colon == val || errno || *end != '\0' || n < 1 || n > 65535) {
			snprintf(err, errlen, "server: \"%s\" is not HOST:PORT (port 1-65535)", val);
			return 1;
		}
		if (cfg->nservers == SKD_MAX_SERVERS) {
			snprintf(err, errlen, "server: more than %d servers", SKD_MAX_SERVERS);
			return 1;
		}
		cfg->servers[cfg->nservers].host = strndup(val, (size_t)(colon - val));
		if (cfg->servers[cfg->nservers].host == NULL)
			return 1;
		cfg->servers[cfg->nservers++].port = (unsigned)n;
		cfg->host = cfg->servers[0].host;	/* borrowed */
		cfg->port = cfg->servers[0].port;
		return 0;
	}
	case K_DOMAIN:
		if (val[0] == '\0' || strchr(val, '@') || strchr(val, '/')) {
			snprintf(err, errlen, "domain: \"%s\" is not a domain name", val);
			return 1;
		}
		if (cfg->ndomains == SKD_MAX_DOMAINS) {
			snprintf(err, errlen, "domain: more than %d domains", SKD_MAX_DOMAINS);
			return 1;
		}
		cfg->domains[cfg->ndomains] = strdup(val);
		return cfg->domains[cfg->ndomains++] == NULL;
	case K_LEVEL:
		if ((cfg->log_level = log_level_parse(val)) < 0) {
			snprintf(err, errlen, "log-level: \"%s\" is not error, warn, info or debug", val);
			return 1;
		}
		return 0;
	case K_ADAPTER:
		if (strcmp(val, "auto") != 0 && strcmp(val, "required") != 0) {
			snprintf(err, errlen, "adapter: \"%s\" is not auto or required", val);
			return 1;
		}
		cfg->adapter_required = val[0] == 'r';
		return 0;
	case K_BOOL:
		if (strcmp(val, "yes") && strcmp(val, "no") && strcmp(val, "1") && strcmp(val, "0")) {
			snprintf(err, errlen, "%s: \"%s\" is not yes or no", s->name, val);
			return 1;
		}
		*(int *)((char *)cfg + s->off) = val[0] == 'y' || val[0] == '1';
		return 0;
	case K_UINT:
	case K_SIZE:
		errno = 0;
		n = strtoul(val, &end, 10);
		if (errno || end == val || *end != '\0' || val[0] == '-' || n < s->min || n > s->max) {
			snprintf(err, errlen, "%s: \"%s\" is not a number from %lu to %lu",
			    s->name, val, s->min, s->max);
			return 1;
		}
		if (s->kind == K_UINT)
			*(unsigned *)((char *)cfg + s->off) = (unsigned)n;
		else
			*(size_t *)((char *)cfg + s->off) = (size_t)n;
		return 0;
	}
	return 1;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Reads `key = value` lines; `skip` names settings the flags already set. */
static int
parse_file(struct skd_config *cfg, const char *path, const char *skip[], size_t nskip)
{
	char line[1024], err[512];
	unsigned lineno = 0;
	int errors = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "synckeyd: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		const struct setting *s;
		char *key, *val, *eq;
		size_t i;
		int skipped = 0;

		lineno++;
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			fprintf(stderr, "%s:%u: expected \"key = value\"\n", path, lineno);
			errors++;
			continue;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if ((s = find(key)) == NULL) {
			fprintf(stderr, "%s:%u: unknown key \"%s\"\n", path, lineno, key);
			errors++;
			continue;
		}
		for (i = 0; i < nskip; i++)
			if (strcmp(skip[i], key) == 0 && s->kind != K_DOMAIN)
				skipped = 1;	/* flags win (every --server over the file's) */
		if (!skipped && apply(cfg, s, val, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s:%u: %s\n", path, lineno, err);
			errors++;
		}
	}
	fclose(f);
	return errors ? 1 : 0;
}

void
skd_config_defaults(struct skd_config *cfg)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = LOG_LVL_INFO;
	for (i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];

		if (s->kind == K_UINT)
			*(unsigned *)((char *)cfg + s->off) = (unsigned)s->def;
		else if (s->kind == K_BOOL)
			*(int *)((char *)cfg + s->off) = (int)s->def;
		else if (s->kind == K_SIZE)
			*(size_t *)((char *)cfg + s->off) = (size_t)s->def;
	}
}

int
skd_config_parse(struct skd_config *cfg, int argc, char **argv)
{
	const char *seen[64], *file = NULL;
	size_t nseen = 0;
	char err[512];
	int i, errors = 0;

	skd_config_defaults(cfg);
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const struct setting *s;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			fputs(skd_usage, stdout);
			return 2;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("synckeyd %s\n", PACKAGE_VERSION);
			return 2;
		}
		if (strcmp(arg, "-n") == 0) {
			cfg->check_only = 1;
			continue;
		}
		if (strcmp(arg, "--syslog") == 0) {
			cfg->syslog = 1;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0 ||
		    ((s = find(arg + 2)) == NULL && strcmp(arg, "--config") != 0)) {
			fprintf(stderr, "synckeyd: unknown option \"%s\"\n", arg);
			errors++;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "synckeyd: option \"%s\" needs a value\n", arg);
			errors++;
			continue;
		}
		if (strcmp(arg, "--config") == 0) {
			file = argv[++i];
			continue;
		}
		if (apply(cfg, s, argv[++i], err, sizeof(err)) != 0) {
			fprintf(stderr, "synckeyd: --%s\n", err);
			errors++;
		}
		if (nseen < 64)
			seen[nseen++] = s->name;
	}
	if (file != NULL && parse_file(cfg, file, seen, nseen) != 0)
		errors++;
	if (cfg->host == NULL)
		fprintf(stderr, "synckeyd: no server: give --server HOST:PORT\n"), errors++;
	if (cfg->jid == NULL)
		fprintf(stderr, "synckeyd: no component JID: give --jid\n"), errors++;
	if (cfg->secret_file == NULL)
		fprintf(stderr, "synckeyd: no secret: give --secret-file\n"), errors++;
	if (cfg->ndomains == 0)
		fprintf(stderr, "synckeyd: no user domain: give --domain at least once\n"), errors++;
	if (cfg->db == NULL)
		fprintf(stderr, "synckeyd: no database folder: give --db\n"), errors++;
	if (errors) {
		fputs(skd_usage, stderr);
		return 1;
	}
	return 0;
}

int
skd_config_read(struct skd_config *cfg, const char *path)
{
	memset(cfg, 0, sizeof(*cfg));
	return parse_file(cfg, path, NULL, 0);
}

int
skd_config_load_secret(struct skd_config *cfg)
{
	char buf[1024];
	struct stat sb;
	size_t n;
	FILE *f;

	if ((f = fopen(cfg->secret_file, "r")) == NULL) {
		fprintf(stderr, "synckeyd: secret file %s: %s\n", cfg->secret_file, strerror(errno));
		return 1;
	}
	if (fstat(fileno(f), &sb) != 0 || (sb.st_mode & 077) != 0) {
		fprintf(stderr, "synckeyd: secret file %s is readable by group or others "
		    "(chmod 600 it)\n", cfg->secret_file);
		fclose(f);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, "synckeyd: secret file %s is empty\n", cfg->secret_file);
		return 1;
	}
	cfg->secret = strdup(buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	return cfg->secret == NULL;
}

void
skd_config_free(struct skd_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nservers; i++)
		free(cfg->servers[i].host);
	free(cfg->jid);
	free(cfg->secret_file);
	if (cfg->secret) {
		OPENSSL_cleanse(cfg->secret, strlen(cfg->secret));
		free(cfg->secret);
	}
	for (i = 0; i < cfg->ndomains; i++)
		free(cfg->domains[i]);
	free(cfg->db);
	memset(cfg, 0, sizeof(*cfg));
}
