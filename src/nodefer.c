/* nodefer.c - libstrophe's expat parser without reparse deferral */
#define _GNU_SOURCE	/* RTLD_NEXT */
#include <dlfcn.h>
#include <stddef.h>

#include <expat.h>

#include "nodefer.h"

/*
 * expat 2.6.0, and Debian 12's 2.5.0 from +deb12u2 on (the backported
 * fix for CVE-2023-52425), defer re-parsing a token that arrived
 * incomplete until the buffer has grown by a good part of its size.
 * libstrophe 0.12.x (Debian 12) feeds its parser 4 kB reads and never
 * turns deferral off, so one stanza with a token of about 10 kB (a long
 * attribute) that arrives in pieces holds back every later stanza on the
 * connection until more bytes come: one user could stall synckeyd for
 * all.  libstrophe gives no access to its parser, so this module defines
 * XML_Parse itself.  The executable's definition comes first in symbol
 * lookup, so libstrophe's calls land here; it turns deferral off on the
 * parser (cheap, and again after every XML_ParserReset, which turns it
 * back on) and calls expat's own XML_Parse.  Stanzas are bounded by the
 * server (Prosody: 256 kB from clients), so re-parsing without deferral
 * costs at most a few MB of scanning per stanza.
 */
typedef enum XML_Status (*parse_fn)(XML_Parser, const char *, int, int);
typedef XML_Bool (*defer_fn)(XML_Parser, XML_Bool);

static parse_fn real_parse;
static defer_fn set_deferral;
static int resolved;

static void
resolve(void)
{
	if (resolved)
		return;
	/* A function pointer through void *: what dlsym(3) prescribes. */
	*(void **)&real_parse = dlsym(RTLD_NEXT, "XML_Parse");
	*(void **)&set_deferral = dlsym(RTLD_NEXT, "XML_SetReparseDeferralEnabled");
	resolved = 1;
}

enum XML_Status
XML_Parse(XML_Parser parser, const char *s, int len, int isFinal)
{
	resolve();
	if (real_parse == NULL)
		return XML_STATUS_ERROR;
	if (set_deferral != NULL)
		(void)set_deferral(parser, XML_FALSE);
	return real_parse(parser, s, len, isFinal);
}

int
sk_nodefer_status(void)
{
	resolve();
	if (real_parse == NULL)
		return -1;
	return set_deferral != NULL;
}
