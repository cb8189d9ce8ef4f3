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

#if defined(SK_STORE_H) && defined(assert_int_equal)
/* Stores an available presence of jid with that status (tests that
   include cmocka.h and store.h before this header). */
static inline void
pres(struct sk_store *s, const char *jid, const char *status)
{
	struct sk_pres p = { .jid = (char *)jid, .status = (char *)status };

	sk_pres_hash(&p);
	assert_int_equal(sk_store_pres_put(s, &p), 0);
}
#endif

#endif
