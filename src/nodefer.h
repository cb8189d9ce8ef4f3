/* nodefer.h - libstrophe's expat parser without reparse deferral, and bounded in depth */
#ifndef SK_NODEFER_H
#define SK_NODEFER_H

/*
 * Linking this module replaces expat's XML_Parse, XML_SetElementHandler,
 * XML_SetCharacterDataHandler and XML_ParserFree for libstrophe (see
 * nodefer.c): deferral off, and no element deeper than 64 levels reaches
 * libstrophe.  Returns 1 when the expat in use defers re-parsing and that
 * is turned off, 0 when this expat has no deferral to turn off, -1 when
 * expat's own functions could not be found (then nothing works).
 * Calling it also keeps the module linked.
 */
int sk_nodefer_status(void);

#endif
