/* nodefer.h - libstrophe's expat parser without reparse deferral */
#ifndef SK_NODEFER_H
#define SK_NODEFER_H

/*
 * Linking this module replaces expat's XML_Parse for libstrophe (see
 * nodefer.c).  Returns 1 when the expat in use defers re-parsing and the
 * replacement turns that off on every parser libstrophe feeds, 0 when
 * this expat has no deferral to turn off, -1 when XML_Parse could not be
 * found (then nothing works).  Calling it also keeps the module linked.
 */
int sk_nodefer_status(void);

#endif
