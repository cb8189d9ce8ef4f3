/* nodefer.c - libstrophe's expat parser without reparse deferral, bounded in depth, roster items captured */
#define _GNU_SOURCE	/* RTLD_NEXT */
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <expat.h>
#include <strophe.h>

#include "capture.h"
#include "nodefer.h"

/*
 * libstrophe 0.12.x (Debian 12) gives no access to its expat parser, so
 * this module defines four of expat's functions itself.  The program's
 * definitions come first in symbol lookup, so libstrophe's calls land
 * here; each does its part and calls expat's own (found with dlsym).
 *
 * Deferral.  expat 2.6.0, and Debian 12's 2.5.0 from +deb12u2 on (the
 * backported fix for CVE-2023-52425), defer re-parsing a token that
 * arrived incomplete until the buffer has grown by a good part of its
 * size.  libstrophe feeds its parser 4 kB reads and never turns deferral
 * off, so one stanza with a long token (an attribute of many kB) that
 * arrives in pieces holds back every later stanza on the connection until
 * more bytes come: one user could stall synckeyd for all.  XML_Parse turns
 * deferral off (again after every XML_ParserReset, which turns it on).
 * Stanzas are bounded by the server (Prosody: 256 kB from clients), so
 * re-parsing without deferral costs at most a few MB of scanning.
 *
 * Depth.  libstrophe builds a tree of every stanza and then walks it
 * recursively (its debug rendering, copy and release), so a stanza nested
 * 100 000 deep overflows the stack before any handler of ours runs.  The
 * element and character handlers libstrophe installs are wrapped: an
 * element deeper than NODEFER_DEPTH (the stream element counts one) and
 * everything inside it never reach libstrophe, which so never holds a
 * tree deeper than that.
 *
 * Render.  libstrophe's stanza callback (conn.c _handle_stream_stanza,
 * the same from 0.12.0 to 0.14) first serialises the whole stanza with
 * xmpp_stanza_to_text, through the PLT, for a debug line "RECV: ..." that
 * it then drops below debug, and only then calls handler_fire_stanza: on
 * a large roster answer that is about 29 % of synckeyd's CPU.  Its parser
 * calls that callback from its end-element handler when a top-level
 * stanza closes, which is ours to wrap.  So, when rendering is off, the
 * wrapped end handler arms a flag for exactly that call (one top-level
 * stanza, cleared when libstrophe's handler returns), and the
 * xmpp_stanza_to_text defined here, the program's, which libstrophe's
 * calls land on, spends it on the first render asked for while it is
 * armed: the debug render, which comes before any handler, so before any
 * xmpp_send.  That render fails (conn.c then logs nothing); a stanza of
 * another name than the one that closed is rendered (and disarms): should
 * a libstrophe ever drop the debug render, a handler's first send is not
 * lost unless it has that name.  Every other call renders as libstrophe's.
 *
 * Capture.  libstrophe appends each child element by walking its
 * parent's children to the last (xmpp_stanza_add_child in 0.12's parser,
 * xmpp_stanza_add_child_ex in 0.14's; the same loop), so a roster result
 * of n items costs n^2/2 steps: 780 ms at 20 000, 5 s at 50 000.  So a
 * jabber:iq:roster <query/> (a roster result or push, inside an adapter's
 * <view/> or a <sync/> answer) inside a stanza (never the stream
 * element) reaches libstrophe empty, with one attribute more,
 * SK_CAPTURE_ATTR, whose name is no XML name so it never comes from the
 * wire: its children go from the wrapped handlers to capture.c, which
 * makes the records as expat reports them (O(1) per item, bounded in
 * count and bytes, capture.h), and sk_xml_roster_parse and
 * sk_xml_update_parse find them by that attribute.  The depth bound
 * above applies first: what it drops, the capture never sees, as the
 * tree would not have held it.  Nothing is captured inside a query being
 * captured (its children are not libstrophe's), in a query with more
 * than NODEFER_ATTRS attributes, or after sk_nodefer_set_capture(0).  A
 * stanza's captures can be taken once it closed (before libstrophe's
 * handlers run); a parser reset or freed before that drops them.  A stanza
 * rendered at debug level shows such a query empty, with the marker.
 * Only the public API is used: no libstrophe structure is read.
 */
#define NODEFER_DEPTH	64
#define NODEFER_ATTRS	32	/* attribute pairs of a query captured */
#define NODEFER_QUERY	"jabber:iq:roster\x1Fquery"	/* as expat names it */
#define NODEFER_SLOTS	16	/* parsers at once: a component or client has one or two */

typedef enum XML_Status (*parse_fn)(XML_Parser, const char *, int, int);
typedef XML_Bool (*defer_fn)(XML_Parser, XML_Bool);
typedef void (*elem_fn)(XML_Parser, XML_StartElementHandler, XML_EndElementHandler);
typedef void (*chars_fn)(XML_Parser, XML_CharacterDataHandler);
typedef void (*free_fn)(XML_Parser);
typedef int (*text_fn)(xmpp_stanza_t *, char **, size_t *);

static parse_fn real_parse;
static defer_fn set_deferral;
static elem_fn real_set_elem;
static chars_fn real_set_chars;
static free_fn real_free;
static text_fn real_to_text;
static int resolved;

static int render = 1;		/* sk_nodefer_set_render */
static int capture = 1;		/* sk_nodefer_set_capture */
static const char *armed;	/* the closing stanza's name (expat's, "ns\x1Fname") */

/* One parser's handlers and depth, found by its user data (what the
   handlers are called with) or by the parser. */
static struct slot {
	XML_Parser			 parser;	/* NULL: free */
	void				*ud;
	XML_StartElementHandler		 start;
	XML_EndElementHandler		 end;
	XML_CharacterDataHandler	 chars;
	unsigned long			 depth;
	uint64_t			 cap;		/* the query being captured, 0: none */
	unsigned long			 cap_depth;	/* its depth */
} slots[NODEFER_SLOTS];

static void
resolve(void)
{
	if (resolved)
		return;
	/* A function pointer through void *: what dlsym(3) prescribes. */
	*(void **)&real_parse = dlsym(RTLD_NEXT, "XML_Parse");
	*(void **)&set_deferral = dlsym(RTLD_NEXT, "XML_SetReparseDeferralEnabled");
	*(void **)&real_set_elem = dlsym(RTLD_NEXT, "XML_SetElementHandler");
	*(void **)&real_set_chars = dlsym(RTLD_NEXT, "XML_SetCharacterDataHandler");
	*(void **)&real_free = dlsym(RTLD_NEXT, "XML_ParserFree");
	*(void **)&real_to_text = dlsym(RTLD_NEXT, "xmpp_stanza_to_text");
	resolved = 1;
}

static struct slot *
slot_of_ud(void *ud)
{
	size_t i;

	for (i = 0; i < NODEFER_SLOTS; i++)
		if (slots[i].parser != NULL && slots[i].ud == ud)
			return &slots[i];
	return NULL;
}

/* The parser's slot, taken when new; NULL when all are in use. */
static struct slot *
slot_of_parser(XML_Parser p)
{
	size_t i;

	for (i = 0; i < NODEFER_SLOTS; i++)
		if (slots[i].parser == p)
			return &slots[i];
	for (i = 0; i < NODEFER_SLOTS; i++)
		if (slots[i].parser == NULL) {
			slots[i].parser = p;
			return &slots[i];
		}
	return NULL;
}

/* Opens a capture for the query starting at s->depth and hands libstrophe
   the query with the marker; 0 when it does not (then nothing changed). */
static int
capture_query(struct slot *s, void *ud, const XML_Char *name, const XML_Char **attrs)
{
	const XML_Char *a[2 * NODEFER_ATTRS + 3];
	char mark[24];
	size_t n = 0;

	if (!capture || s->depth < 2 || strcmp(name, NODEFER_QUERY) != 0)
		return 0;
	while (attrs != NULL && attrs[n] != NULL && n < 2 * NODEFER_ATTRS + 1)
		n += 2;
	if (n > 2 * NODEFER_ATTRS || (s->cap = sk_capture_open(s)) == 0)
		return 0;
	memcpy(a, attrs, n * sizeof(*a));
	sk_capture_mark(s->cap, mark, sizeof(mark));
	a[n] = SK_CAPTURE_ATTR;
	a[n + 1] = mark;
	a[n + 2] = NULL;
	s->cap_depth = s->depth;
	s->start(ud, name, a);
	return 1;
}

static void XMLCALL
guard_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct slot *s = slot_of_ud(ud);

	if (s == NULL)
		return;		/* never: a slot's handlers are only set with it */
	if (s->depth++ >= NODEFER_DEPTH)
		return;		/* too deep: libstrophe never sees it */
	if (s->cap != 0) {
		sk_capture_start(s->cap, s->depth - s->cap_depth, name, attrs);
		return;
	}
	if (s->start != NULL && !capture_query(s, ud, name, attrs))
		s->start(ud, name, attrs);
}

static void XMLCALL
guard_end(void *ud, const XML_Char *name)
{
	struct slot *s = slot_of_ud(ud);
	unsigned long d;	/* the closing element's depth */

	if (s == NULL)
		return;
	if (s->depth == 0) {	/* an end after a reset: libstrophe's to judge */
		if (s->end != NULL)
			s->end(ud, name);
		return;
	}
	d = s->depth--;
	if (d > NODEFER_DEPTH)
		return;
	if (s->cap != 0 && d > s->cap_depth) {
		sk_capture_end(s->cap, d - s->cap_depth);
		return;
	}
	if (s->cap != 0) {	/* the query closes: its items may be taken */
		sk_capture_close(s->cap, 1);
		s->cap = 0;
	}
	if (d == 2)	/* the stanza closed: its queries may be taken */
		sk_capture_settle(s, 1);
	if (s->end == NULL)
		return;
	if (d == 2 && !render) {
		/* a top-level stanza: libstrophe calls its stanza callback */
		armed = name;
		s->end(ud, name);
		armed = NULL;
	} else
		s->end(ud, name);
}

static void XMLCALL
guard_chars(void *ud, const XML_Char *text, int len)
{
	struct slot *s = slot_of_ud(ud);

	if (s == NULL || s->depth > NODEFER_DEPTH)
		return;
	if (s->cap != 0) {	/* text directly in the query is dropped */
		if (s->depth > s->cap_depth && len > 0)
			sk_capture_chars(s->cap, s->depth - s->cap_depth, text, (size_t)len);
		return;
	}
	if (s->chars != NULL)
		s->chars(ud, text, len);
}

/* The slot's queries in a stanza not closed are dropped: it never comes. */
static void
drop_capture(struct slot *s)
{
	if (s->cap != 0)
		sk_capture_close(s->cap, 0);
	s->cap = 0;
	sk_capture_settle(s, 0);
}

void
XML_SetElementHandler(XML_Parser parser, XML_StartElementHandler start,
    XML_EndElementHandler end)
{
	struct slot *s;

	resolve();
	if (real_set_elem == NULL)
		return;
	/* libstrophe sets its user data, then its handlers, after every
	   create and reset: a new stanza stream starts at depth 0 */
	if ((s = slot_of_parser(parser)) == NULL) {
		real_set_elem(parser, start, end);	/* no slot: unguarded */
		return;
	}
	drop_capture(s);
	s->ud = XML_GetUserData(parser);
	s->start = start;
	s->end = end;
	s->depth = 0;
	real_set_elem(parser, guard_start, guard_end);
}

void
XML_SetCharacterDataHandler(XML_Parser parser, XML_CharacterDataHandler handler)
{
	struct slot *s;

	resolve();
	if (real_set_chars == NULL)
		return;
	if ((s = slot_of_parser(parser)) == NULL) {
		real_set_chars(parser, handler);
		return;
	}
	s->chars = handler;
	real_set_chars(parser, guard_chars);
}

void
XML_ParserFree(XML_Parser parser)
{
	size_t i;

	resolve();
	for (i = 0; i < NODEFER_SLOTS; i++)
		if (slots[i].parser == parser) {
			drop_capture(&slots[i]);
			slots[i].parser = NULL;
		}
	if (real_free != NULL)
		real_free(parser);
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
xmpp_stanza_to_text(xmpp_stanza_t *stanza, char **buf, size_t *buflen)
{
	const char *want = armed, *name, *sep;

	resolve();
	armed = NULL;
	if (want != NULL && (name = xmpp_stanza_get_name(stanza)) != NULL) {
		/* expat's name is "namespace\x1Fname" as libstrophe asks */
		sep = strrchr(want, '\x1F');
		if (strcmp(sep != NULL ? sep + 1 : want, name) == 0) {
			*buf = NULL;	/* auth.c reads it whatever the result */
			*buflen = 0;
			return XMPP_EINVOP;
		}
	}
	if (real_to_text == NULL)
		return XMPP_EINT;
	return real_to_text(stanza, buf, buflen);
}

void
sk_nodefer_set_render(int on)
{
	render = on != 0;
}

void
sk_nodefer_set_capture(int on)
{
	capture = on != 0;
}

int
sk_nodefer_status(void)
{
	resolve();
	if (real_parse == NULL || real_set_elem == NULL || real_set_chars == NULL || real_free == NULL ||
	    real_to_text == NULL)
		return -1;
	return set_deferral != NULL;
}
