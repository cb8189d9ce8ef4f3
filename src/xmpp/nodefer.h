/* nodefer.h - libstrophe's expat parser without reparse deferral, bounded in depth, no render for a log, roster items captured */
#ifndef SK_NODEFER_H
#define SK_NODEFER_H

/*
 * Linking this module replaces expat's XML_Parse, XML_SetElementHandler,
 * XML_SetCharacterDataHandler and XML_ParserFree for libstrophe (see
 * nodefer.c): deferral off, and no element deeper than 64 levels reaches
 * libstrophe.  Returns 1 when the expat in use defers re-parsing and that
 * is turned off, 0 when this expat has no deferral to turn off, -1 when
 * expat's own functions or libstrophe's xmpp_stanza_to_text could not be
 * found (then nothing works).  Calling it also keeps the module linked.
 */
int sk_nodefer_status(void);

/*
 * It also defines libstrophe's xmpp_stanza_to_text.  With on 0, libstrophe
 * no longer serialises each stanza it receives for its "RECV: ..." debug
 * line (that render fails, so the line is not logged): give 0 only when
 * libstrophe's log is below debug, where that line is dropped anyway.
 * Only the first render inside libstrophe's stanza callback for a
 * top-level stanza is skipped, and only when that stanza has the name of
 * the one received; every other call (xmpp_send and the program's own)
 * renders as always.  1 (the default) renders everything.
 */
void sk_nodefer_set_render(int on);

/*
 * It also takes the <item/>s of every jabber:iq:roster <query/> received
 * straight into records (capture.h), which sk_xml_roster_parse and
 * sk_xml_update_parse read: O(items) where libstrophe's tree costs
 * O(items^2).  libstrophe then holds such a query without children.  0
 * turns that off (libstrophe builds the whole tree, as without this
 * module); 1 (the default) turns it on.
 */
void sk_nodefer_set_capture(int on);

#endif
