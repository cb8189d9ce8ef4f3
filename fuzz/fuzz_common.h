/* fuzz_common.h - helpers shared by the libFuzzer targets (fuzz/ only) */
#ifndef SK_FUZZ_COMMON_H
#define SK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strophe.h>

/* A property the target checks failed: report and abort, so libFuzzer
   keeps the input as a crash artifact. */
#define FZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		dprintf(2, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* A NUL-terminated malloc'd copy of the input (exactly n + 1 bytes, so
   ASan sees any read past the terminator). */
static inline char *
fz_cstr(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, d, n);
	s[n] = '\0';
	return s;
}

/* One libstrophe context for the process (no logger). */
static inline xmpp_ctx_t *
fz_ctx(void)
{
	static xmpp_ctx_t *ctx;

	if (ctx == NULL) {
		xmpp_initialize();
		if ((ctx = xmpp_ctx_new(NULL, NULL)) == NULL)
			abort();
	}
	return ctx;
}

/* The input parsed as one stanza (NULL when it is not well-formed XML). */
static inline xmpp_stanza_t *
fz_stanza(const uint8_t *d, size_t n)
{
	char *s = fz_cstr(d, n);
	xmpp_stanza_t *st = xmpp_stanza_new_from_string(fz_ctx(), s);

	free(s);
	return st;
}

/* Touches every byte of a borrowed buffer, so ASan checks it is in bounds. */
static inline void
fz_touch(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned char x = 0;
	size_t i;

	for (i = 0; i < n; i++)
		x ^= b[i];
	__asm__ volatile("" : : "r"(x));
}

#endif
