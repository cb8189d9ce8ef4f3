/* synckey.h - libsynckey: sync an XMPP roster and presence by key, for libstrophe clients */
#ifndef SYNCKEY_H
#define SYNCKEY_H

#include <stddef.h>

#include <strophe.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A client that reconnects asks the server's sync service for what
 * changed since the state its sync key names (xep/synckey.xml, namespace
 * urn:xmpp:synckey:0), instead of the whole roster and a presence flood.
 * This library holds the parts that need no network; the client keeps
 * its own libstrophe connection and sends and receives the stanzas:
 *
 *  1. synckey_cache_open() the account's cache, synckey_cache_load() the
 *     state it holds, synckey_cache_key() the key that names it.
 *  2. Optionally go online first: synckey_presence_mark() the initial
 *     presence when the server lists SYNCKEY_NS_ADAPTER in its disco#info
 *     (never otherwise), and keep the presence that arrives until step 4.
 *  3. synckey_request_new() to the sync service (the account's own bare
 *     JID when the server lists SYNCKEY_NS in its disco#info, else the
 *     disco#items entry that lists it); synckey_answer_add() its answer;
 *     while synckey_answer_more() is not "", request the next part with
 *     that token and add its answer too.
 *  4. synckey_answer_apply() to the state (verified against the server's
 *     digest), then synckey_state_apply_presence() the presence kept in
 *     step 2, in arrival order.
 *  5. synckey_cache_commit() the state with synckey_answer_key(): state and
 *     key are kept together or not at all.
 *
 * Errors.  Every function that can fail returns int: 0 on success, a
 * positive errno value (ENOMEM, EIO, EACCES, ...) or one of the negative
 * SYNCKEY_E* codes below; synckey_strerror() names any of them.  The
 * library never logs and never exits.
 *
 * Ownership.  An object from a _new or _open function is the caller's
 * and is released with the matching _free or _close.  A const char * or
 * a struct filled with pointers is borrowed: its lifetime is stated with
 * each function.  Stanzas follow libstrophe's rules: a stanza passed in
 * is borrowed (never released or kept by the library), a stanza returned
 * is the caller's to xmpp_stanza_release().
 *
 * Caveats.  Objects are not locked: use each from one thread at a time.
 * LMDB allows one open of a cache directory per process; do not use a
 * cache across fork().
 */

#define SYNCKEY_NS		"urn:xmpp:synckey:0"
#define SYNCKEY_NS_ADAPTER	"urn:xmpp:synckey:adapter:0"
#define SYNCKEY_KEY_MAX		128	/* longest key text, NUL excluded */
#define SYNCKEY_DIGEST_B64	45	/* a state digest: 44 base64 characters and NUL */

/* The library's own error codes: one reserved negative range. */
#define SYNCKEY_ENOTFOUND	(-30900)	/* no such record, no cache */
#define SYNCKEY_EINVAL		(-30899)	/* malformed argument or input */
#define SYNCKEY_ECORRUPT	(-30898)	/* the cache fails validation */
#define SYNCKEY_ESCHEMA		(-30897)	/* a cache of an unknown schema */
#define SYNCKEY_EFULL		(-30892)	/* the cache's map is full */
#define SYNCKEY_ESTORE		(-30891)	/* another failure of LMDB */
#define SYNCKEY_ETOOBIG		(-30890)	/* a value over a protocol limit */
#define SYNCKEY_EFOREIGN	(-30889)	/* the cache of another account */
#define SYNCKEY_EDIGEST		(-30888)	/* the answer's state is not the server's */

/* A static string describing code (a SYNCKEY_E* code or an errno value). */
const char *synckey_strerror(int code);

/* ---- state: the account's roster and its contacts' presence */

struct synckey_state;

/* A borrowed view of one roster item. */
struct synckey_item {
	const char		*jid;		/* bare JID */
	const char		*name;		/* NULL when none */
	const char		*subscription;	/* "none", "to", "from", "both" */
	int			 ask;		/* 1: ask='subscribe' */
	const char *const	*groups;	/* sorted, unique */
	size_t			 ngroups;
};

/* A borrowed view of one available resource of a contact. */
struct synckey_presence {
	const char		*jid;		/* full JID */
	const char		*show;		/* NULL, "away", "chat", "dnd", "xa" */
	const char		*status;	/* NULL when none */
	int			 priority;
	const char		*xml;		/* the stanza as received, without
						   `to`; NULL when not kept */
};

/*
 * An empty state in *out, owned by the caller: synckey_state_free().
 * 0 or ENOMEM.
 */
int synckey_state_new(struct synckey_state **out);
/* Frees st and everything in it; NULL is ignored. */
void synckey_state_free(struct synckey_state *st);

/* The number of roster items / of available resources in st. */
size_t synckey_state_items(const struct synckey_state *st);
size_t synckey_state_presences(const struct synckey_state *st);

/*
 * Fills *out with item i (items sorted by JID) / presence i (sorted by
 * full JID).  The pointers in *out borrow st's strings and stay valid
 * until st is next changed or freed.  0, or SYNCKEY_ENOTFOUND when i is
 * not below the count.
 */
int synckey_state_item(const struct synckey_state *st, size_t i, struct synckey_item *out);
int synckey_state_presence(const struct synckey_state *st, size_t i,
    struct synckey_presence *out);

/*
 * The digest of st (xep/ "Canonical form for the digest"), base64 and
 * NUL-terminated, into out.  0 or ENOMEM.
 */
int synckey_state_digest(const struct synckey_state *st, char out[SYNCKEY_DIGEST_B64]);

/*
 * Applies a <presence/> the client received (borrowed) to st, the way the
 * server would: available presence of a contact whose subscription sends
 * the user presence replaces that resource's, unavailable presence
 * removes it (or every resource, from a bare JID), anything else is no
 * state.  Returns 1 when st changed, 0 when not, ENOMEM (st unchanged),
 * or SYNCKEY_EINVAL for a malformed available presence.
 */
int synckey_state_apply_presence(struct synckey_state *st, xmpp_stanza_t *pres);

/* ---- request and answer: one sync exchange */

/*
 * The sync request <iq type='get' to=service id=…><sync xmlns=SYNCKEY_NS
 * client=client key=key/></iq>, built in ctx, into *out (the caller's:
 * xmpp_stanza_release() after xmpp_send()).  key NULL or "" asks for the
 * full state; more (NULL for the first part) asks for a later part of a
 * paged answer, and key is then left out.  The id is unpredictable, so
 * that no one can answer ahead of the request: read it with
 * xmpp_stanza_get_id() to wait for the answer (xmpp_id_handler_add).
 * 0; SYNCKEY_EINVAL when service is empty or client is not 1-64
 * characters of A-Z a-z 0-9 . _ -; ENOMEM.
 */
int synckey_request_new(xmpp_ctx_t *ctx, const char *service, const char *client,
    const char *key, const char *more, xmpp_stanza_t **out);

struct synckey_answer;

/* An empty answer in *out, owned by the caller: synckey_answer_free().
   0 or ENOMEM. */
int synckey_answer_new(struct synckey_answer **out);
/* Frees a; NULL is ignored. */
void synckey_answer_free(struct synckey_answer *a);

/*
 * Adds one part: iq (borrowed) is the answer to the latest request.  The
 * caller checks that it is that answer (its id, and `from` being the
 * service the request went to); an <iq type='error'/> is the caller's to
 * read (xmpp_stanza_get_child_by_name(iq, "error")).  0; SYNCKEY_EINVAL
 * when iq is no result, holds no <sync xmlns=SYNCKEY_NS/>, its first part
 * lacks or misformats type, key or digest, or a record is malformed;
 * SYNCKEY_ETOOBIG for an over-long page token; ENOMEM.  After an error a
 * can only be freed.
 */
int synckey_answer_add(struct synckey_answer *a, xmpp_stanza_t *iq);

/*
 * Borrowed strings, valid until a is next changed or freed:
 * _more, the token to pass to synckey_request_new() for the next part,
 * "" when no part is missing; _key, the new key, "" before the first
 * part; _reason, why the server sent the full state (protocol names such
 * as "unknown-key"), "" for a delta or when it gave none.
 */
const char *synckey_answer_more(const struct synckey_answer *a);
const char *synckey_answer_key(const struct synckey_answer *a);
const char *synckey_answer_reason(const struct synckey_answer *a);
/* 1 when the answer is the full state, 0 when a delta (or none yet). */
int synckey_answer_full(const struct synckey_answer *a);

/*
 * Applies every part of a to st: a full answer replaces st, a delta
 * changes it.  The result replaces st only when its digest is the
 * server's.  0; SYNCKEY_EINVAL when no part came or one is missing
 * (synckey_answer_more() is not ""); SYNCKEY_EDIGEST when the digests
 * differ (the state held is not the one the key named: drop the key with
 * synckey_cache_set_key(cache, NULL) and sync again without one); ENOMEM.
 * st is unchanged on every error.
 */
int synckey_answer_apply(struct synckey_answer *a, struct synckey_state *st);

/* ---- the local cache (LMDB) */

struct synckey_cache;

/*
 * Opens the cache in the directory dir (created 0700 when create is 1)
 * for owner, a bare JID, into *out (the caller's: synckey_cache_close()).
 * A new cache gets the client ID client_id, or a random one when NULL;
 * an existing one keeps its own.  0; SYNCKEY_ENOTFOUND (no cache and
 * create is 0), SYNCKEY_EFOREIGN (the cache of another owner),
 * SYNCKEY_ESCHEMA, SYNCKEY_ECORRUPT (the stored state fails its digest:
 * remove the directory), SYNCKEY_EINVAL, errno values.
 */
int synckey_cache_open(const char *dir, const char *owner, const char *client_id,
    int create, struct synckey_cache **out);
/* Closes c; NULL is ignored. */
void synckey_cache_close(struct synckey_cache *c);

/* Borrowed, valid until the next call on c: the client ID, and the key
   that names the stored state ("" when none). */
const char *synckey_cache_client(const struct synckey_cache *c);
const char *synckey_cache_key(const struct synckey_cache *c);

/*
 * Replaces st's records with the stored state.  0, SYNCKEY_ECORRUPT,
 * SYNCKEY_ESTORE or ENOMEM; st is unchanged on error.
 */
int synckey_cache_load(struct synckey_cache *c, struct synckey_state *st);

/*
 * Stores st and key (NULL: none) together, in one transaction.  0 or an
 * error, and then nothing changed: SYNCKEY_ETOOBIG (a record or key the
 * cache cannot hold), SYNCKEY_EFULL, SYNCKEY_ESTORE, ENOMEM, or an errno
 * value from LMDB's files.
 */
int synckey_cache_commit(struct synckey_cache *c, const struct synckey_state *st,
    const char *key);
/* Sets only the key (NULL drops it: the next sync is a full one).  0 or
   an error as for synckey_cache_commit(). */
int synckey_cache_set_key(struct synckey_cache *c, const char *key);

/* ---- initial presence without the flood (xep/ "Going online without the presence flood") */

/*
 * Adds <sync-presence xmlns=SYNCKEY_NS/> to pres (borrowed), the
 * client's initial presence, before xmpp_send().  The server adapter then
 * replays no contact's presence: the sync answer holds it.  Mark only
 * when the server's disco#info lists SYNCKEY_NS_ADAPTER.  0;
 * SYNCKEY_EINVAL when pres is no <presence/> or is marked already; ENOMEM.
 */
int synckey_presence_mark(xmpp_stanza_t *pres);

#ifdef __cplusplus
}
#endif

#endif
