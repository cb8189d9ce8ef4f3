/* xitem.c - a roster item's record from the values of its XML attributes and groups */
#include <string.h>

#include "error.h"
#include "record.h"
#include "xitem.h"

int
sk_xitem_make(const char *jid, const char *name, const char *sub, const char *ask,
    char **groups, size_t ngroups, struct sk_item *out)
{
	struct sk_item it = { 0 };
	int s = sk_sub_parse(sub);

	memset(out, 0, sizeof(*out));
	if (jid == NULL || jid[0] == '\0' || s < 0)
		return SK_EINVAL;
	it.jid = (char *)jid;
	it.name = (char *)name;
	it.sub = (enum sk_sub)s;
	it.ask = ask != NULL && strcmp(ask, "subscribe") == 0;
	it.groups = groups;	/* NULL entries: <group/>, an empty name */
	it.ngroups = ngroups < SK_ITEM_GROUPS_MAX ? ngroups : SK_ITEM_GROUPS_MAX;
	return sk_item_copy(out, &it);
}
