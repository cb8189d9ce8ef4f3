/* testutil.h - small helpers shared by the unit tests: temporary folders */
#ifndef SK_TESTUTIL_H
#define SK_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A new empty folder under $TMPDIR or /tmp; free with tmpdir_free(),
   which removes it and everything in it. */
static inline char *
tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *path = malloc(4096);

	if (path == NULL)
		abort();
	snprintf(path, 4096, "%s/sktest.XXXXXX", base && *base ? base : "/tmp");
	if (mkdtemp(path) == NULL)
		abort();
	return path;
}

static inline void
tmpdir_free(char *path)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
	free(path);
}

#endif
