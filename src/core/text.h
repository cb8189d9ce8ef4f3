/* text.h - a growable string for XML and JSON written by hand, with escaping */
#ifndef SK_TEXT_H
#define SK_TEXT_H

#include <stddef.h>

/*
 * s is malloc'd and always NUL-terminated once anything was added; the
 * owner frees it with sk_text_free().  After an allocation failure oom is
 * set and further additions do nothing, so a writer checks once at the end.
 */
struct sk_text {
	char	*s;
	size_t	 n, cap;
	int	 oom;
};

void sk_text_add(struct sk_text *t, const char *s, size_t n);
void sk_text_str(struct sk_text *t, const char *s);
/* Adds s with & < > " ' escaped, and tab, LF and CR as character
   references, so that a parser gives s back in text and in attribute
   values alike. */
void sk_text_esc(struct sk_text *t, const char *s, size_t n);
/* Adds s as a JSON string, quotes included: " \\ and control characters
   escaped; other bytes as they are (JIDs and client IDs are UTF-8). */
void sk_text_json(struct sk_text *t, const char *s);
void sk_text_free(struct sk_text *t);

#endif
