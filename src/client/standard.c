/* standard.c - RFC 6121 stanzas into a client's state: the roster result, presence */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "standard.h"
#include "xml.h"

int
sk_std_presence(struct sk_state *st, xmpp_stanza_t *pres)
{
	const char *from = xmpp_stanza_get_from(pres);
	struct sk_item *it;
	struct sk_pres p;
	char bare[3100];
	int avail, rc;

	if (from == NULL || (rc = sk_xml_pres_parse(pres, &p, &avail)) != 0)
		return from == NULL || rc == SK_ENOTFOUND ? 0 : rc;
	snprintf(bare, sizeof(bare), "%.*s", (int)sk_jid_barelen(from), from);
	it = sk_state_find_item(st, bare);
	/* only contacts whose presence the user receives are state */
	if (it == NULL || !sk_sub_receives_presence(it->sub))
		rc = 0;
	else if (avail)
		rc = sk_state_put_pres(st, &p) == 0 ? 1 : ENOMEM;
	else {
		if (strchr(from, '/'))
			sk_state_del_pres(st, from);
		else
			sk_state_del_pres_bare(st, from);
		rc = 1;
	}
	sk_pres_free(&p);
	return rc;
}

int
sk_std_roster_result(struct sk_state *st, xmpp_stanza_t *iq, char *ver, size_t verlen)
{
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name_and_ns(iq, "query", SK_NS_ROSTER);
	struct sk_state roster;
	size_t i;
	int rc;

	if (q == NULL)
		return 0;		/* roster versioning: unchanged */
	sk_state_init(&roster);
	if ((rc = sk_xml_roster_parse(q, &roster, NULL)) != 0) {
		sk_state_free(&roster);
		return rc;
	}
	/* the roster is replaced; presence is rebuilt after initial presence */
	sk_state_clear(st);
	for (i = 0; i < roster.nitems && rc == 0; i++)
		if (roster.items[i].sub != SK_SUB_REMOVE)
			rc = sk_state_add_item(st, &roster.items[i]);
	sk_state_free(&roster);
	sk_state_sort(st);
	snprintf(ver, verlen, "%s", xmpp_stanza_get_attribute(q, "ver") ?
	    xmpp_stanza_get_attribute(q, "ver") : "");
	return rc ? rc : 1;
}
