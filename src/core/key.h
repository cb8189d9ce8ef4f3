/* key.h - sync keys: encode, decode and verify (xep/ "Keys") */
#ifndef SK_KEY_H
#define SK_KEY_H

#include <stddef.h>
#include <stdint.h>

/*
 * A key names one snapshot: (bare JID, client ID, session, transaction).
 * The bare JID and client ID are not carried, only bound: they enter the
 * MAC, so a key presented by another user or client fails verification.
 *
 * Wire form: base64url without padding (RFC 4648 section 5) of 45 bytes
 *   u8 version (1) | u32 epoch | u64 session | u64 txn | u64 issued |
 *   16 B HMAC-SHA256 truncated
 * integers big-endian; the MAC covers the 29 bytes before it and the
 * length-prefixed bare JID and client ID.  60 characters, well within the
 * protocol's 128.  `txn` is the store's own counter (never LMDB's
 * transaction ID, which a compacting copy resets); `issued` is seconds
 * since the Unix epoch, `epoch` the store epoch at issue (xep/ "Keys").
 */
#define SK_KEY_MAX 128		/* longest key text the protocol allows */
#define SK_KEY_TEXTLEN 60	/* length of the keys this version issues */
#define SK_SECRET_LEN 32
#define SK_CLIENT_MAX 64

struct sk_key {
	uint32_t	epoch;
	uint64_t	session;
	uint64_t	txn;
	uint64_t	issued;
};

/*
 * Writes the key text for k, bound to bare and client, into out (NUL
 * terminated).  Returns 0, or SK_EINVAL when bare is empty or client is
 * not a valid client ID.
 */
int sk_key_encode(const unsigned char secret[SK_SECRET_LEN], const char *bare,
    const char *client, const struct sk_key *k, char out[SK_KEY_MAX + 1]);

/*
 * Decodes text and verifies its MAC against bare and client in constant
 * time.  Returns 0 and fills k, or SK_EKEY (malformed, truncated, wrong
 * version, forged, another user's or another client's).  k is untouched
 * on error.
 */
int sk_key_decode(const unsigned char secret[SK_SECRET_LEN], const char *bare,
    const char *client, const char *text, struct sk_key *k);

/* 1 when client is 1-64 characters of A-Z a-z 0-9 . _ -, else 0. */
int sk_key_client_ok(const char *client);

#endif
