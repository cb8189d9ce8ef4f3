/* record.h - one roster item or presence as a canonical record, its hash; subscription names */
#ifndef SK_RECORD_H
#define SK_RECORD_H

#include <stddef.h>

#include "state.h"

/* Subscription names of RFC 6121; NULL for an unknown value. */
const char *sk_sub_name(enum sk_sub sub);
/* Parses a subscription name; -1 when unknown. */
int sk_sub_parse(const char *name);

/*
 * Writes the canonical record of item/p into buf (cap bytes) and returns
 * its length; when the record needs more than cap bytes nothing useful is
 * written and the needed length is returned (call again with more room).
 */
size_t sk_record_item(const struct sk_item *item, unsigned char *buf, size_t cap);
size_t sk_record_pres(const struct sk_pres *p, unsigned char *buf, size_t cap);

/* The same behind one type, for code that treats both kinds alike
   (rec: a struct sk_item or a struct sk_pres). */
typedef size_t (*sk_record_writer)(const void *rec, unsigned char *buf, size_t cap);
size_t sk_record_item_any(const void *item, unsigned char *buf, size_t cap);
size_t sk_record_pres_any(const void *p, unsigned char *buf, size_t cap);

/*
 * The record hash of state.h: SHA-256, truncated to SK_HASH_LEN, of the
 * canonical record followed (presence) by p->ext.
 */
void sk_record_item_hash(const struct sk_item *item, unsigned char out[SK_HASH_LEN]);
void sk_record_pres_hash(const struct sk_pres *p, unsigned char out[SK_HASH_LEN]);

#endif
