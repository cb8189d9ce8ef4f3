/* itemrec.h - one roster item as bytes, for the client cache and the daemon's roster store */
#ifndef SK_ITEMREC_H
#define SK_ITEMREC_H

#include <stddef.h>

#include "state.h"

/*
 * Record: u8 subscription, u8 ask, name (u32 length, or 0xffffffff for
 * none, then the bytes), u32 number of groups (at most
 * SK_ITEM_GROUPS_MAX), each group as u32 length + bytes.  Little-endian,
 * no NUL inside a string.  The JID is the record's key, not in it.
 */

/* *out is malloc'd (the caller frees it).  0 or ENOMEM. */
int sk_itemrec_encode(const struct sk_item *it, unsigned char **out, size_t *len);
/* Decodes a record of item jid and adds a copy to st (sk_state_add_item).
   SK_ECORRUPT for any record sk_itemrec_encode would not write; ENOMEM. */
int sk_itemrec_decode(const char *jid, const unsigned char *b, size_t len, struct sk_state *st);

#endif
