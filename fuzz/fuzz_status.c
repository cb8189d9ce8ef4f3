/*
 * fuzz_status.c - synckeyd's status file as synckeyctl reads it
 * (src/conf/status.h, skd_status_read of DB/synckeyd.status).
 *
 * skd_status_read takes a folder and opens its synckeyd.status by name,
 * so the input is written there, in a folder made once under $TMPDIR
 * (removed at exit; a crash leaves only that folder and one file).
 *
 * Input: the file's bytes.  Properties: the result is 0 or EINVAL; when
 * 0, at most SKD_STATUS_ROWS rows, each name 1-31 characters of [a-z-];
 * and what was read, written back with skd_status_write and read again,
 * is the same (pid, time, every row).
 */
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "status.h"

static char dir[4096], path[4200];

static void
cleanup(void)
{
	char tmp[4300];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	(void)unlink(path);
	(void)rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz_status.XXXXXX", base && *base ? base : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/%s", dir, SKD_STATUS_FILE);
	atexit(cleanup);
	return 0;
}

static void
put(const uint8_t *d, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || (n > 0 && write(fd, d, n) != (ssize_t)n) || close(fd) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct skd_status st, back;
	size_t i;
	int rc;

	put(d, n);
	rc = skd_status_read(dir, &st);
	FZ_CHECK(rc == 0 || rc == EINVAL);
	if (rc != 0)
		return 0;
	FZ_CHECK(st.n <= SKD_STATUS_ROWS);
	for (i = 0; i < st.n; i++) {
		const char *name = st.rows[i].name;
		size_t len = strnlen(name, sizeof(st.rows[i].name));

		FZ_CHECK(len >= 1 && len < sizeof(st.rows[i].name));
		FZ_CHECK(strspn(name, "abcdefghijklmnopqrstuvwxyz-") == len);
	}
	FZ_CHECK(skd_status_write(dir, &st) == 0);
	FZ_CHECK(skd_status_read(dir, &back) == 0);
	FZ_CHECK(back.pid == st.pid && back.written == st.written && back.n == st.n);
	for (i = 0; i < st.n; i++) {
		FZ_CHECK(strcmp(back.rows[i].name, st.rows[i].name) == 0);
		FZ_CHECK(back.rows[i].used == st.rows[i].used && back.rows[i].limit == st.rows[i].limit);
	}
	return 0;
}
