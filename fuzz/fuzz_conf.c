/*
 * fuzz_conf.c - synckeyd's configuration file and flags (src/conf/conf.h,
 * skd_config_parse).
 *
 * skd_config_parse takes argv and reads --config FILE by path, so the
 * input is written to an anonymous temporary file (memfd_create, or an
 * unlinked mkstemp file under $TMPDIR) and passed as /proc/self/fd/N:
 * nothing is left on disk, even after a crash.
 *
 * Input: without a NUL byte, the whole input is the configuration file.
 * With one, the part before the first NUL is extra flags, one per line,
 * given before --config, and the rest is the file.  stdout and stderr
 * (the parser's messages) go to /dev/null; sanitizer reports still reach
 * fd 2.  Properties: the return code is 0, 1 or 2; when 0, every required
 * setting is present and every number within its documented bounds.
 */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <unistd.h>

#include "conf.h"

static int fd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *null;

	(void)argc;
	(void)argv;
	fd = memfd_create("fuzz_conf", 0);
	if (fd < 0) {
		const char *base = getenv("TMPDIR");
		char tmpl[4096];

		snprintf(tmpl, sizeof(tmpl), "%s/fuzz_conf.XXXXXX", base && *base ? base : "/tmp");
		if ((fd = mkstemp(tmpl)) < 0)
			abort();
		unlink(tmpl);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* the parser's messages: stdio only, fd 2 stays for reports */
	if ((null = fopen("/dev/null", "w")) != NULL) {
		stdout = null;
		stderr = null;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	const uint8_t *z = memchr(d, 0, n), *file = d;
	char *argv[80], *flags = NULL, *p, *nl;
	struct skd_config cfg;
	size_t flen = n, i;
	int argc = 0, rc;

	argv[argc++] = "synckeyd";
	if (z != NULL) {
		flags = fz_cstr(d, (size_t)(z - d));
		file = z + 1;
		flen = n - (size_t)(z - d) - 1;
		for (p = flags; p != NULL && argc < 76; p = nl) {
			if ((nl = strchr(p, '\n')) != NULL)
				*nl++ = '\0';
			argv[argc++] = p;
		}
	}
	argv[argc++] = "--config";
	argv[argc++] = path;
	argv[argc] = NULL;
	if (ftruncate(fd, 0) != 0 || pwrite(fd, file, flen, 0) != (ssize_t)flen)
		abort();

	rc = skd_config_parse(&cfg, argc, argv);
	FZ_CHECK(rc == 0 || rc == 1 || rc == 2);
	if (rc == 0) {
		FZ_CHECK(cfg.host != NULL && cfg.port >= 1 && cfg.port <= 65535);
		FZ_CHECK(cfg.jid != NULL && cfg.jid[0] != '\0');
		FZ_CHECK(cfg.secret_file != NULL && cfg.db != NULL);
		FZ_CHECK(cfg.ndomains >= 1 && cfg.ndomains <= SKD_MAX_DOMAINS);
		for (i = 0; i < cfg.ndomains; i++)
			FZ_CHECK(cfg.domains[i] != NULL && cfg.domains[i][0] != '\0' &&
			    strchr(cfg.domains[i], '@') == NULL &&
			    strchr(cfg.domains[i], '/') == NULL);
		FZ_CHECK(cfg.log_level >= 0 && cfg.log_level <= 3);
		FZ_CHECK(cfg.stanza_budget >= 4096 && cfg.stanza_budget <= 16777216);
		FZ_CHECK(cfg.roster_timeout >= 1 && cfg.roster_timeout <= 600);
		FZ_CHECK(cfg.key_ttl_days >= 1 && cfg.key_ttl_days <= 3650);
		FZ_CHECK(cfg.max_clients >= 1 && cfg.max_clients <= 1024);
		FZ_CHECK(cfg.batch_events >= 1 && cfg.batch_events <= 100000);
		FZ_CHECK(cfg.batch_ms >= 1 && cfg.batch_ms <= 10000);
		FZ_CHECK(cfg.max_presence_bytes >= 512 && cfg.max_presence_bytes <= 1048576);
		FZ_CHECK(cfg.max_resources >= 1 && cfg.max_resources <= 10000);
		FZ_CHECK(cfg.max_pending >= 1 && cfg.max_pending <= 1000000);
	}
	skd_config_free(&cfg);
	free(flags);
	return 0;
}
