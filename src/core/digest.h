/* digest.h - the canonical form of a state and its SHA-256 digest */
#ifndef SK_DIGEST_H
#define SK_DIGEST_H

#include <stddef.h>

#include "state.h"

/*
 * protocol.md "Canonical form for the digest": one record per roster item
 * (R, jid, subscription, ask, name, sorted groups) and per available
 * presence (P, full JID, show, priority, status); each field followed by
 * 0x00, each record by 0x01; records sorted bytewise and concatenated; the
 * digest is the SHA-256 of that string.  Every record starts with its kind
 * letter and its JID is unique, so the bytewise order is: all P records by
 * full JID, then all R records by JID.
 */
#define SK_DIGEST_LEN 32
#define SK_DIGEST_B64 45	/* 44 base64 characters and a NUL */

/*
 * Writes the canonical record of item/p into buf (cap bytes) and returns
 * its length; when the record needs more than cap bytes nothing useful is
 * written and the needed length is returned (call again with more room).
 */
size_t sk_digest_item_record(const struct sk_item *item, unsigned char *buf, size_t cap);
size_t sk_digest_pres_record(const struct sk_pres *p, unsigned char *buf, size_t cap);

/*
 * The record hash of state.h: SHA-256, truncated to SK_HASH_LEN, of the
 * canonical record followed (presence) by p->ext.
 */
void sk_digest_item_hash(const struct sk_item *item, unsigned char out[SK_HASH_LEN]);
void sk_digest_pres_hash(const struct sk_pres *p, unsigned char out[SK_HASH_LEN]);

/* The digest of st (sorted or not). 0 or ENOMEM. */
int sk_digest_state(const struct sk_state *st, unsigned char out[SK_DIGEST_LEN]);
/* The same, base64 (RFC 4648, padded), NUL-terminated. 0 or ENOMEM. */
int sk_digest_state_b64(const struct sk_state *st, char out[SK_DIGEST_B64]);

#endif
