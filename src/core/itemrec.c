/* itemrec.c - one roster item as bytes, for the client cache and the daemon's roster store */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "error.h"
#include "itemrec.h"

int
sk_itemrec_encode(const struct sk_item *it, unsigned char **out, size_t *len)
{
	size_t n = 2 + 4 + (it->name ? strlen(it->name) : 0) + 4, i, off;
	unsigned char *b;

	for (i = 0; i < it->ngroups; i++)
		n += 4 + strlen(it->groups[i]);
	if ((b = malloc(n)) == NULL)
		return ENOMEM;
	b[0] = (unsigned char)it->sub;
	b[1] = (unsigned char)it->ask;
	off = 2;
	sk_put_le32(b + off, it->name ? (uint32_t)strlen(it->name) : 0xffffffffu);
	off += 4;
	if (it->name) {
		memcpy(b + off, it->name, strlen(it->name));
		off += strlen(it->name);
	}
	sk_put_le32(b + off, (uint32_t)it->ngroups);
	off += 4;
	for (i = 0; i < it->ngroups; i++) {
		size_t gl = strlen(it->groups[i]);

		sk_put_le32(b + off, (uint32_t)gl);
		memcpy(b + off + 4, it->groups[i], gl);
		off += 4 + gl;
	}
	*out = b;
	*len = n;
	return 0;
}

int
sk_itemrec_decode(const char *jid, const unsigned char *b, size_t len, struct sk_state *st)
{
	char *groups[SK_ITEM_GROUPS_MAX], *name = NULL;
	struct sk_item it = { 0 };
	size_t off = 6, i, ng;
	uint32_t nl;
	int rc = SK_ECORRUPT;

	if (len < 10 || b[0] > SK_SUB_BOTH || b[1] > 1)
		return SK_ECORRUPT;
	it.jid = (char *)jid;
	it.sub = b[0];
	it.ask = b[1];
	nl = sk_get_le32(b + 2);
	if (nl != 0xffffffffu) {
		/* any length sk_itemrec_encode writes; no NUL inside */
		if (nl > len - off || memchr(b + off, '\0', nl) != NULL)
			return SK_ECORRUPT;
		if ((name = strndup((const char *)b + off, nl)) == NULL)
			return ENOMEM;
		it.name = name;
		off += nl;
	}
	if (len - off < 4)
		goto out;
	ng = sk_get_le32(b + off);
	off += 4;
	if (ng > SK_ITEM_GROUPS_MAX)
		goto out;
	for (i = 0; i < ng; i++) {
		uint32_t gl;

		if (len - off < 4 || (gl = sk_get_le32(b + off)) > len - off - 4 ||
		    memchr(b + off + 4, '\0', gl) != NULL)
			goto out;
		if ((groups[i] = strndup((const char *)b + off + 4, gl)) == NULL) {
			rc = ENOMEM;
			goto out;
		}
		it.ngroups = i + 1;
		off += 4 + gl;
	}
	it.groups = groups;
	rc = off == len ? sk_state_add_item(st, &it) : SK_ECORRUPT;
out:
	for (i = 0; i < it.ngroups; i++)
		free(groups[i]);
	free(name);
	return rc;
}

