/* exchange.h - one sync exchange seen from the client: request, parts, verified result */
#ifndef SK_EXCHANGE_H
#define SK_EXCHANGE_H

#include <strophe.h>

#include "apply.h"
#include "digest.h"
#include "key.h"

/*
 * xep/ "Use Cases" and "Paging".  The client asks
 * <sync client='ID' key='KEY'/>; the first part of the answer carries
 * type (full or delta), key, digest, perhaps reason and, when the answer
 * is paged, more='TOKEN'; each further part is asked for with
 * more='TOKEN' (and no key) and may name the next token.  The parts are
 * gathered into one sk_update and applied only when the last one came,
 * to a copy of the state; the copy replaces the state only when its
 * digest is the server's.  So a half-received, malformed or wrong answer
 * never changes what the client holds, and the new key is kept only with
 * the state it names (the caller commits both in one cache transaction).
 */
#define SK_EXCHANGE_IDLEN	27	/* "sk", 24 hex digits, NUL */
#define SK_EXCHANGE_MORE_MAX	63	/* longest page token kept */

struct sk_exchange {
	struct sk_update u;			/* every part's records */
	unsigned	 parts;			/* parts added so far */
	char		 key[SK_KEY_MAX + 1];	/* the new key ("" before) */
	char		 digest[SK_DIGEST_B64];	/* of the state it names */
	char		 reason[24];		/* of a full answer, else "" */
	int		 partial;		/* presence='partial': the service
						   saw no presence replay (xep/ "Sync result") */
	char		 more[SK_EXCHANGE_MORE_MAX + 1];	/* next part, "" when none */
	unsigned	 version;		/* of the first part's namespace:
						   which digest (xep/ "Digest of version 1") */
};

/* An unpredictable IQ id, so that an answer cannot be forged ahead of
   the request. */
void sk_exchange_id(char id[SK_EXCHANGE_IDLEN]);

/*
 * An <iq type=type to=to/> (to NULL: none) with that id and one empty
 * child name xmlns=ns, returned in *child (borrowed from the IQ) when
 * child is not NULL.  The caller owns the IQ (xmpp_stanza_release).
 * NULL when memory ran out.
 */
xmpp_stanza_t *sk_exchange_iq(xmpp_ctx_t *ctx, const char *type, const char *to,
    const char *name, const char *ns, xmpp_stanza_t **child);

/*
 * The sync request to the service to for client, in the namespace of
 * protocol version (0 or 1): with key (NULL or "": none) for the first
 * part, or with more (not NULL, not "") for a later part, when key is
 * left out (xep/: the service ignores it then).  Owned by the caller;
 * NULL when memory ran out.
 */
xmpp_stanza_t *sk_exchange_request(xmpp_ctx_t *ctx, const char *to, const char *client,
    const char *key, const char *more, unsigned version);

void sk_exchange_init(struct sk_exchange *x);
void sk_exchange_free(struct sk_exchange *x);

/*
 * One part, sync being the answer's <sync/> element (borrowed).  The head
 * (type, key, digest, reason, and the version of its namespace) is read
 * from the first part only: SK_EINVAL when it is missing or malformed.  The body adds the records and keeps
 * the next page token: SK_EINVAL (or SK_ENOTFOUND, for a presence of a
 * type that is no state) for a malformed record, SK_ETOOBIG for a token
 * longer than SK_EXCHANGE_MORE_MAX, ENOMEM.  sk_exchange_add does both;
 * after an error the exchange can only be freed.
 */
int sk_exchange_head(struct sk_exchange *x, xmpp_stanza_t *sync);
int sk_exchange_body(struct sk_exchange *x, xmpp_stanza_t *sync);
int sk_exchange_add(struct sk_exchange *x, xmpp_stanza_t *sync);

/*
 * Applies the gathered answer to a copy of st and, when the copy's
 * digest is the answer's, replaces st with it.  0; SK_EINVAL when no part
 * came yet or one is still to come (x->more is set); SK_EDIGEST when the
 * digests differ (the state the key named is not the one held: drop the
 * key and ask again without one); ENOMEM.  st is unchanged on error.
 */
int sk_exchange_finish(struct sk_exchange *x, struct sk_state *st);

#endif
