/* fuzz_common.h - helpers shared by the libFuzzer targets (fuzz/ only) */
#ifndef SK_FUZZ_COMMON_H
#define SK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strophe.h>

#include "nodefer.h"
#include "state.h"

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

/*
 * The input parsed twice with nodefer.c linked: *captured with the
 * capture of roster items on (synckeyd's way: the items come from
 * expat's events), *tree with it off (the items in libstrophe's tree).
 * Both NULL or both parsed, else the check fails.  The capture is left on.
 */
static inline void
fz_stanza_twice(const uint8_t *d, size_t n, xmpp_stanza_t **captured, xmpp_stanza_t **tree)
{
	FZ_CHECK(sk_nodefer_status() >= 0);
	sk_nodefer_set_capture(1);
	*captured = fz_stanza(d, n);
	sk_nodefer_set_capture(0);
	*tree = fz_stanza(d, n);
	sk_nodefer_set_capture(1);
	FZ_CHECK((*captured == NULL) == (*tree == NULL));
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

/* Two parses of the same roster items agree: the same records, in the
   same order (JID, name, subscription, ask, groups, hash). */
static inline void
fz_same_items(const struct sk_state *a, const struct sk_state *b)
{
	size_t i, g;

	FZ_CHECK(a->nitems == b->nitems);
	for (i = 0; i < a->nitems; i++) {
		const struct sk_item *x = &a->items[i], *y = &b->items[i];

		FZ_CHECK(strcmp(x->jid, y->jid) == 0);
		FZ_CHECK((x->name == NULL) == (y->name == NULL));
		FZ_CHECK(x->name == NULL || strcmp(x->name, y->name) == 0);
		FZ_CHECK(x->sub == y->sub && x->ask == y->ask && x->ngroups == y->ngroups);
		for (g = 0; g < x->ngroups; g++)
			FZ_CHECK(strcmp(x->groups[g], y->groups[g]) == 0);
		FZ_CHECK(memcmp(x->hash, y->hash, SK_HASH_LEN) == 0);
	}
}

#endif
