/* xitem.h - a roster item's record from the values of its XML attributes and groups */
#ifndef SK_XITEM_H
#define SK_XITEM_H

#include <stddef.h>

#include "state.h"

/*
 * The record of a roster <item/> (RFC 6121) from its attribute values
 * (NULL: absent) and the texts of its first SK_ITEM_GROUPS_MAX <group/>
 * children (NULL: no text, an empty name), so that the tree path
 * (sk_xml_item_parse, xml.c) and the capture (capture.c) make the same
 * record of the same input.  Strings are copied into out (the caller
 * frees it with sk_item_free; groups sorted, unique; hash set).
 * SK_EINVAL when jid is missing or empty or the subscription unknown;
 * ENOMEM.
 */
int sk_xitem_make(const char *jid, const char *name, const char *sub, const char *ask,
    char **groups, size_t ngroups, struct sk_item *out);

#endif
