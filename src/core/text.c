/* text.c - a growable string for XML and JSON written by hand, with escaping */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

void
sk_text_add(struct sk_text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->n + n + 1 > t->cap) {
		size_t ncap = (t->n + n + 1) * 2;
		char *ns = realloc(t->s, ncap);

		if (ns == NULL) {
			t->oom = 1;
			return;
		}
		t->s = ns;
		t->cap = ncap;
	}
	memcpy(t->s + t->n, s, n);
	t->n += n;
	t->s[t->n] = '\0';
}

void
sk_text_str(struct sk_text *t, const char *s)
{
	sk_text_add(t, s, strlen(s));
}

void
sk_text_esc(struct sk_text *t, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		const char *rep;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		/* as references: a parser turns a raw tab, LF or CR in an
		   attribute into a space (XML 1.0 3.3.3) and a raw CR in text
		   into LF (2.11), and the digest covers the value itself */
		case '\t': rep = "&#9;"; break;
		case '\n': rep = "&#10;"; break;
		case '\r': rep = "&#13;"; break;
		default: continue;
		}
		sk_text_add(t, s + run, i - run);
		sk_text_str(t, rep);
		run = i + 1;
	}
	sk_text_add(t, s + run, n - run);
}

void
sk_text_json(struct sk_text *t, const char *s)
{
	char esc[8];

	sk_text_add(t, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sk_text_add(t, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sk_text_add(t, esc, 6);
		} else {
			sk_text_add(t, s, 1);
		}
	}
	sk_text_add(t, "\"", 1);
}

void
sk_text_free(struct sk_text *t)
{
	free(t->s);
	memset(t, 0, sizeof(*t));
}
