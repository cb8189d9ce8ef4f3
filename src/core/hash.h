/* hash.h - SHA-256 of small buffers without OpenSSL 3's per-call fetch */
#ifndef SK_HASH_H
#define SK_HASH_H

#include <stddef.h>

/*
 * OpenSSL 3's one-shot SHA256() fetches the algorithm on every call, which
 * costs more than hashing a roster record.  This keeps one fetched
 * EVP_MD and one context for the process (not thread-safe: the daemon,
 * the client and the tests are single-threaded).  Returns 0, or -1 when
 * OpenSSL fails (out of memory).
 */
int sk_sha256(const void *data, size_t len, unsigned char out[32]);

#endif
