/* digest.h - the SHA-256 digest of a state's canonical form (records: record.h) */
#ifndef SK_DIGEST_H
#define SK_DIGEST_H

#include <stddef.h>

#include "state.h"

/*
 * xep/ "Canonical form for the digest": one record per roster item
 * (R, jid, subscription, ask, name, sorted groups) and per available
 * presence (P, full JID, show, priority, status); each field followed by
 * 0x00, each record by 0x01; records sorted bytewise and concatenated; the
 * digest is the SHA-256 of that string.  Every record starts with its kind
 * letter and its JID is unique, so the bytewise order is: all P records by
 * full JID, then all R records by JID.
 */
#define SK_DIGEST_LEN 32
#define SK_DIGEST_B64 45	/* 44 base64 characters and a NUL */


/* The digest of st (sorted or not). 0 or ENOMEM. */
int sk_digest_state(const struct sk_state *st, unsigned char out[SK_DIGEST_LEN]);
/* The same, base64 (RFC 4648, padded), NUL-terminated. 0 or ENOMEM. */
int sk_digest_state_b64(const struct sk_state *st, char out[SK_DIGEST_B64]);
/* The wire digest of st for protocol version 0 (the above) or 1 (the
   LtHash16 of lthash.h).  0, ENOMEM, -1 (OpenSSL) or EINVAL (another
   version). */
int sk_digest_version_b64(unsigned version, const struct sk_state *st,
    char out[SK_DIGEST_B64]);

#endif
