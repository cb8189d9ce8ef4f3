/* capture.h - a roster <query/>'s items taken from expat's events into records, O(1) each */
#ifndef SK_CAPTURE_H
#define SK_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/*
 * The event side is fed by nodefer.c (programs only, see its design
 * comment); the reading side is sk_xml_roster_parse and
 * sk_xml_update_parse (xml.c), which find a capture through the marker
 * attribute nodefer.c gives the <query/> it hands libstrophe without its
 * children.  The marker's name is no XML name ('#'), so it never comes
 * from the wire; in libsynckey.so (no nodefer.c) nothing is captured and
 * no stanza carries it.
 */
#define SK_CAPTURE_ATTR		"#sk-capture"
#define SK_CAPTURE_ITEMS_MAX	500000		/* items of one <query/> */
#define SK_CAPTURE_BYTES_MAX	(64UL << 20)	/* bytes of one <query/>'s records */
#define SK_CAPTURE_HELD		64		/* captures held, taken or not */
#define SK_CAPTURE_HELD_BYTES	(128UL << 20)	/* bytes held by all of them */

/*
 * A new capture for a <query/> that just opened; its id (never 0), or 0
 * when out of memory (then the caller lets libstrophe build the tree).
 * The oldest capture not taken is dropped when SK_CAPTURE_HELD are held.
 * owner (nodefer.c: the parser's slot) ties it to the stanza being
 * parsed until sk_capture_settle.
 */
uint64_t sk_capture_open(const void *owner);

/* Writes the marker value of capture id into buf (24 bytes suffice). */
void sk_capture_mark(uint64_t id, char *buf, size_t len);

/*
 * expat's events inside the <query/>: depth 1 is a child of the query.
 * name is expat's "namespace\x1Fname", attrs its NULL-ended pairs.  An id
 * no longer held is ignored.  Never recurses.
 */
void sk_capture_start(uint64_t id, size_t depth, const char *name, const char **attrs);
void sk_capture_chars(uint64_t id, size_t depth, const char *s, size_t len);
void sk_capture_end(uint64_t id, size_t depth);

/* The <query/> closed (complete 1), or its parse was abandoned
   (complete 0: a parser reset or freed) and it is dropped. */
void sk_capture_close(uint64_t id, int complete);

/*
 * The stanza owner was parsing ended: with keep 1 it is complete and its
 * captures may be taken from now on; with keep 0 (the parser failed,
 * was reset or freed before the stanza closed) they are dropped, as
 * libstrophe drops the stanza.  Only what is settled with keep 1 is ever
 * taken.
 */
void sk_capture_settle(const void *owner, int keep);

/*
 * Moves the items of the capture marked mark (the marker attribute's
 * value) into st in document order and drops the capture; *bad (may be
 * NULL) counts the items left out as malformed, as sk_xml_roster_parse's
 * skipped.  0; SK_ENOTFOUND when the capture is not held (taken already,
 * its stanza not settled, or dropped as the oldest of more than SK_CAPTURE_HELD or
 * SK_CAPTURE_HELD_BYTES); SK_ETOOBIG when the query had more than
 * SK_CAPTURE_ITEMS_MAX items or SK_CAPTURE_BYTES_MAX bytes; ENOMEM.  On
 * error st holds what was moved so far (the caller frees it).
 */
int sk_capture_take(const char *mark, struct sk_state *st, size_t *bad);

/* Drops every capture held (tests and leak checks). */
void sk_capture_reset(void);

/* Captures held now (tests). */
size_t sk_capture_held(void);

/* Tests only: lower per-query bounds (0: the default SK_CAPTURE_ITEMS_MAX,
   SK_CAPTURE_BYTES_MAX), so that going over them costs little. */
void sk_capture_set_limits(size_t items_max, size_t bytes_max);

#endif
