/* status.c - synckeyd's status file: written by synckeyd, read by synckeyctl */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"

#define STATUS_MAX	4096	/* bytes a status file may have */

void
skd_status_add(struct skd_status *st, const char *name,
    unsigned long long used, unsigned long long limit)
{
	struct skd_status_row *r;

	if (st->n == SKD_STATUS_ROWS || strlen(name) >= SKD_STATUS_NAME)
		return;
	r = &st->rows[st->n++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->used = used;
	r->limit = limit;
}

int
skd_status_write(const char *dir, const struct skd_status *st)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;
	size_t i;
	int ok;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, SKD_STATUS_FILE) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return ENAMETOOLONG;
	if ((f = fopen(tmp, "w")) == NULL)
		return errno;
	fprintf(f, "pid %ld\nwritten %lld\n", st->pid, st->written);
	for (i = 0; i < st->n; i++)
		fprintf(f, "%s %llu %llu\n", st->rows[i].name, st->rows[i].used, st->rows[i].limit);
	ok = !ferror(f);
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
		int e = errno ? errno : EIO;

		(void)unlink(tmp);
		return e;
	}
	return 0;
}

/* One "NAME USED LIMIT" line into a row: 0 or EINVAL. */
static int
parse_row(const char *line, struct skd_status_row *r)
{
	char name[SKD_STATUS_NAME], end;

	if (sscanf(line, "%31[a-z-] %llu %llu%c", name, &r->used, &r->limit, &end) != 3)
		return EINVAL;
	memcpy(r->name, name, sizeof(name));
	return 0;
}

int
skd_status_read(const char *dir, struct skd_status *st)
{
	char path[PATH_MAX], buf[STATUS_MAX + 1], *line, *save = NULL, end;
	size_t len;
	FILE *f;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, SKD_STATUS_FILE) >= sizeof(path))
		return ENAMETOOLONG;
	if ((f = fopen(path, "r")) == NULL)
		return errno;
	len = fread(buf, 1, sizeof(buf), f);
	if (ferror(f))
		rc = EIO;
	fclose(f);
	if (rc != 0)
		return rc;
	if (len > STATUS_MAX || memchr(buf, '\0', len) != NULL)
		return EINVAL;
	buf[len] = '\0';
	if ((line = strtok_r(buf, "\n", &save)) == NULL ||
	    sscanf(line, "pid %ld%c", &st->pid, &end) != 1 ||
	    (line = strtok_r(NULL, "\n", &save)) == NULL ||
	    sscanf(line, "written %lld%c", &st->written, &end) != 1)
		return EINVAL;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		if (st->n == SKD_STATUS_ROWS || parse_row(line, &st->rows[st->n]) != 0)
			return EINVAL;
		st->n++;
	}
	return 0;
}
