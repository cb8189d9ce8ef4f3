/* bytes.h - fixed-width integers to and from unaligned byte buffers */
#ifndef SK_BYTES_H
#define SK_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Little-endian: snapshot blobs and store records. */
static inline void
sk_put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void
sk_put_le64(unsigned char *p, uint64_t v)
{
	sk_put_le32(p, (uint32_t)v);
	sk_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t
sk_get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
sk_get_le64(const unsigned char *p)
{
	return (uint64_t)sk_get_le32(p) | (uint64_t)sk_get_le32(p + 4) << 32;
}

/* Big-endian: keys that must sort by number, and the key wire format. */
static inline void
sk_put_be(unsigned char *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)v;
		v >>= 8;
	}
}

static inline uint64_t
sk_get_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Bytewise order of two byte strings, a shorter prefix first. */
static inline int
sk_cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

#endif
