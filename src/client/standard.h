/* standard.h - RFC 6121 stanzas into a client's state: the roster result, presence */
#ifndef SK_STANDARD_H
#define SK_STANDARD_H

#include <stddef.h>

#include <strophe.h>

#include "state.h"

/*
 * The pieces of the standard path that need no network (exposed for the
 * tests): a roster result replaces st's items when it holds a roster (an
 * empty result means "unchanged", *ver is left alone) and sets *ver from
 * it; a presence stanza updates st when its sender is a contact whose
 * presence the user receives.  Both return 1 when st changed, 0 when
 * not, or an error of error.h.
 */
int sk_std_roster_result(struct sk_state *st, xmpp_stanza_t *iq, char *ver, size_t verlen);
int sk_std_presence(struct sk_state *st, xmpp_stanza_t *pres);

#endif
