/* xml.h - roster items, presence and sync results as libstrophe stanzas */
#ifndef SK_XML_H
#define SK_XML_H

#include <strophe.h>

#include "apply.h"
#include "state.h"

#define SK_NS_SYNC	"urn:xmpp:synckey:0"
#define SK_NS_ROSTER	"jabber:iq:roster"
#define SK_NS_CLIENT	"jabber:client"
#define SK_NS_DELAY	"urn:xmpp:delay"

/*
 * Parses a roster <item/> into out (malloc'd strings, hash set; the caller
 * frees with sk_item_free).  SK_EINVAL when jid is missing or the
 * subscription is unknown; ENOMEM.
 */
int sk_xml_item_parse(xmpp_stanza_t *item, struct sk_item *out);

/* A new <item/> for it (subscription='remove' for SK_SUB_REMOVE);
   the caller owns the reference (xmpp_stanza_release).  NULL on ENOMEM. */
xmpp_stanza_t *sk_xml_item_new(xmpp_ctx_t *ctx, const struct sk_item *it);

/* Appends every <item/> of a jabber:iq:roster <query/> to st.  Items that
   fail to parse are skipped and counted in *skipped (may be NULL). */
int sk_xml_roster_parse(xmpp_stanza_t *query, struct sk_state *st, size_t *skipped);

/*
 * Parses a <presence/>.  Available (no type): fills out (show, status as
 * protocol.md picks it, priority, ext = canonical text of every child but
 * <delay/>, xml = the stanza serialised without `to`, hash) and sets
 * *available = 1.  type='unavailable': fills only out->jid, *available = 0.
 * Other types: SK_ENOTFOUND (not state).  No from: SK_EINVAL.
 */
int sk_xml_pres_parse(xmpp_stanza_t *pres, struct sk_pres *out, int *available);

/* A new <presence/> for p: p->xml re-parsed when set, else built from
   the fields; xmlns='jabber:client', no `to`.  Caller owns it. */
xmpp_stanza_t *sk_xml_pres_new(xmpp_ctx_t *ctx, const struct sk_pres *p);
/* A new <presence from='jid' type='unavailable'/> (len bytes of jid). */
xmpp_stanza_t *sk_xml_unavailable_new(xmpp_ctx_t *ctx, const char *jid, size_t len);

/* Parses the children of a <sync/> result (roster <query/> and
   <presence/>) into u (u->full is set by the caller from type). */
int sk_xml_update_parse(xmpp_stanza_t *sync, struct sk_update *u);

#endif
