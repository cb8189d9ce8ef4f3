/* xml.h - roster items, presence and sync results as libstrophe stanzas */
#ifndef SK_XML_H
#define SK_XML_H

#include <strophe.h>

#include "apply.h"
#include "state.h"

#define SK_NS_SYNC	"urn:xmpp:synckey:0"
#define SK_NS_SYNC1	"urn:xmpp:synckey:1"	/* version 1: the LtHash digest */
#define SK_NS_ROSTER	"jabber:iq:roster"
#define SK_NS_CLIENT	"jabber:client"
#define SK_NS_DELAY	"urn:xmpp:delay"
#define SK_NS_ADAPTER	"urn:xmpp:synckey:adapter:0"	/* synckeyd <-> server adapter */

/* Limits on a received tree that is written out again (xml.c). */
#define SK_XML_DEPTH_MAX	16	/* levels, the top element included */
#define SK_XML_ATTRS_MAX	32	/* attributes of one element */
/* How every presence text written by this module begins. */
#define SK_XML_PRES_OPEN	"<presence xmlns=\"" SK_NS_CLIENT "\""

/*
 * Parses a roster <item/> into out (malloc'd strings, hash set; the caller
 * frees with sk_item_free).  SK_EINVAL when jid is missing or the
 * subscription is unknown; ENOMEM.
 */
int sk_xml_item_parse(xmpp_stanza_t *item, struct sk_item *out);

/*
 * Appends every <item/> of a jabber:iq:roster <query/> to st, in O(items).
 * Items that fail to parse are skipped and counted in *skipped (may be
 * NULL).  In a program that links nodefer.c the items of a received query
 * were captured as records (capture.h) and are taken from there, once:
 * a second parse of the same query gives SK_ENOTFOUND, as does one whose
 * capture was dropped; SK_ETOOBIG when the query was over the capture's
 * bounds.  ENOMEM.
 */
int sk_xml_roster_parse(xmpp_stanza_t *query, struct sk_state *st, size_t *skipped);

/*
 * Parses a <presence/>.  Available (no type): fills out (show, status as
 * xep/ "Field values, byte-exact" picks it, priority, ext = canonical text of every child but
 * <delay/>, xml = the stanza as the client receives it: no `to`,
 * xmlns='jabber:client', opening with SK_XML_PRES_OPEN; hash) and sets
 * *available = 1.  A presence deeper than SK_XML_DEPTH_MAX, with an
 * element of more than SK_XML_ATTRS_MAX attributes, or with an element in
 * the reserved XML namespace is kept without its extensions: ext and xml
 * NULL (the caller may log it).  Never recurses.
 * type='unavailable': fills only out->jid, *available = 0.  Other types:
 * SK_ENOTFOUND (not state).  No from: SK_EINVAL.  ENOMEM.  The caller
 * frees out with sk_pres_free.
 */
int sk_xml_pres_parse(xmpp_stanza_t *pres, struct sk_pres *out, int *available);

/*
 * Marks pres, the client's initial presence, with
 * <sync-presence xmlns='urn:xmpp:synckey:0'/> (xep/ "Going online without the presence flood": the server
 * adapter then replays no contact's presence; send it only when the
 * server lists SK_NS_ADAPTER).  0, SK_EINVAL when pres is no <presence/>
 * or is marked already, ENOMEM.
 */
int sk_xml_pres_mark(xmpp_stanza_t *pres);

/* Parses the children of a <sync/> result (roster <query/> and
   <presence/>) into u (u->full is set by the caller from type). */
int sk_xml_update_parse(xmpp_stanza_t *sync, struct sk_update *u);

/* The synckey protocol version of a namespace: 0 or 1 (the same requests
   and answers; version 1 has the digest of lthash.h), -1 for another. */
int sk_xml_sync_version(const char *ns);
/* The namespace of version 0 or 1 (a static string). */
const char *sk_xml_sync_ns(unsigned version);

#endif
