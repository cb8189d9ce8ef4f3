/* lthash.h - the digest of version 1: a homomorphic multiset hash (LtHash16) of the records */
#ifndef SK_LTHASH_H
#define SK_LTHASH_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "state.h"

/*
 * xep/ "Digest of version 1".  Each canonical record r (record.h, the
 * same bytes as version 0's) is expanded to an element of 1024 lanes of
 * 16 bits: the first 2048 bytes of the ChaCha20 keystream (RFC 8439,
 * counter 0, nonce zero) under the key SHA-256(r), read as little-endian
 * 16-bit integers.  A state's vector is the lane-wise sum modulo 2^16 of
 * its records' elements (Lewi, Kim, Maykov, Weis 2019: LtHash16 with
 * n = 1024); its digest is the SHA-256 of the vector's 2048 bytes (lanes
 * little-endian).  Adding or removing a record is one element added or
 * subtracted, whatever the size of the state: O(changes), not O(state).
 */
#define SK_LTHASH_LANES 1024
#define SK_LTHASH_BYTES (2 * SK_LTHASH_LANES)

struct sk_lthash {
	uint16_t	lane[SK_LTHASH_LANES];
};

/* The empty state's vector (all lanes zero). */
void sk_lthash_init(struct sk_lthash *h);

/* Adds (sign 1) or subtracts (sign -1) the element of one canonical
   record.  0, or -1 when OpenSSL fails (out of memory). */
int sk_lthash_record(struct sk_lthash *h, const void *rec, size_t len, int sign);

/* The same for a roster item or a presence: its canonical record
   (record.h).  0, -1 (OpenSSL) or ENOMEM. */
int sk_lthash_item(struct sk_lthash *h, const struct sk_item *it, int sign);
int sk_lthash_pres(struct sk_lthash *h, const struct sk_pres *p, int sign);

/* The vector of a whole state: every item and every presence.  0, -1
   or ENOMEM. */
int sk_lthash_state(const struct sk_state *st, struct sk_lthash *out);

/* The wire digest of a vector: base64 (RFC 4648, padded) of the SHA-256
   of its lanes little-endian, NUL-terminated.  0 or -1. */
int sk_lthash_b64(const struct sk_lthash *h, char out[SK_DIGEST_B64]);

#endif
