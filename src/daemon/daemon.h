/* daemon.h - synckeyd's state and the entry points its modules share */
#ifndef SKD_DAEMON_H
#define SKD_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <strophe.h>

#include "conf.h"
#include "store.h"
#include "sync.h"

/*
 * The walk of a sync request through the daemon:
 *   handler.c  stanza in: dispatch by kind and namespace
 *   request.c  parse, check sender and privileges, fetch the roster
 *   (roster result) sk_sync_live + sk_sync_run (sync.c, the engine)
 *   answer.c   stanza out, paged to the stanza budget
 * Presence goes handler.c -> ingest.c -> store; privileges privilege.c;
 * the link to the server link.c.  Every handler takes a stanza and sends
 * through d->send, so tests drive them with stanzas built in memory.
 */

/* The server adapter answers synckeyd at DOMAIN/SKD_ADAPTER_RESOURCE
   (adapter.c says why a full JID). */
#define SKD_ADAPTER_RESOURCE	"synckey"
#define SKD_JID_MAX		3072	/* RFC 7622: 3 x 1023 + "@" + "/" + NUL */

struct skd_pending;	/* request.c: roster fetches in flight */
struct skd_part;	/* answer.c: pages waiting to be fetched */
struct skd_deleg;	/* deleg.c: delegated requests (XEP-0355) in flight */
struct sk_text;

struct skd {
	struct skd_config	*cfg;		/* borrowed */
	xmpp_ctx_t		*ctx;		/* borrowed */
	xmpp_conn_t		*conn;		/* link.c; NULL when down */
	struct sk_store		*store;		/* owned */
	struct sk_views		*views;		/* owned: live states kept (view.h) */
	struct sk_sync_cfg	 sync;

	/* privileges granted per served domain (privilege.c) */
	int			 priv_roster[SKD_MAX_DOMAINS];
	int			 priv_presence[SKD_MAX_DOMAINS];
	/* the server adapter answered for that domain (adapter.c) */
	int			 adapter[SKD_MAX_DOMAINS];
	/* adapter.c, per domain: our disco#info is unanswered yet
	   (probing); the server replayed presence since the link came up
	   (replayed; until every domain has, answers say partial) */
	int			 probing[SKD_MAX_DOMAINS];
	int			 replayed[SKD_MAX_DOMAINS];
	/* the probe was answered or timed out: the mode is known */
	int			 decided[SKD_MAX_DOMAINS];
	uint64_t		 probe_deadline[SKD_MAX_DOMAINS];	/* ms */

	struct skd_pending	*pending;
	size_t			 npending, cappending;
	struct skd_deleg	*delegs;
	size_t			 ndelegs, capdelegs;
	struct skd_part		*parts;
	size_t			 nparts, capparts;
	unsigned long		 next_id;
	uint64_t		 last_flush_ms;
	int			 relink;	/* reconnect for a presence replay */
	int			 connected;

	/* Hooks: output and clocks (tests replace them).  send does not
	   take the caller's reference. */
	void			(*send)(struct skd *, xmpp_stanza_t *);
	/* serialised stanzas (sync answers); not NUL-terminated */
	void			(*send_text)(struct skd *, const char *, size_t);
	uint64_t		(*now_ms)(void);	/* monotonic */
	time_t			(*now_s)(void);		/* wall clock */
	void			*hook_data;
};

/* Opens the store in cfg->db; d->send defaults to xmpp_send on d->conn.
   Returns 0 or an error of error.h (logged by the caller). */
int skd_init(struct skd *d, struct skd_config *cfg, xmpp_ctx_t *ctx);
/* Flushes and closes the store, frees pending requests and pages. */
void skd_free(struct skd *d);

/* handler.c: any stanza the server sent the component. */
void skd_handle(struct skd *d, xmpp_stanza_t *st);
/* Periodic work: roster timeouts, batch flush, page expiry. */
void skd_tick(struct skd *d);
/* The link came up (after the handshake) / went down. */
void skd_link_up(struct skd *d);
void skd_link_down(struct skd *d);

/* reply.c: sending, with `from` always set (xmpp_stanza_reply drops it). */
void skd_send(struct skd *d, xmpp_stanza_t *st);
/* A new <iq type=TYPE to=TO id=ID from=component/>; caller owns it. */
xmpp_stanza_t *skd_iq_new(struct skd *d, const char *type, const char *to, const char *id);
/* Sends an IQ error with condition and a <text/>. */
void skd_send_error(struct skd *d, const char *to, const char *id,
    const char *type, const char *cond, const char *text);
/* Index of the served domain of a user JID (user@domain[/res]); -1 when
   the JID has no localpart or its domain is not served. */
int skd_user_domain(const struct skd *d, const char *jid);

/* privilege.c */
int skd_privilege_message(struct skd *d, xmpp_stanza_t *msg);
/* NULL when roster get and presence are granted for domain index i, else
   a sentence naming what is missing (static). */
const char *skd_privilege_missing(const struct skd *d, int i);
void skd_privilege_reset(struct skd *d);

/* deleg.c: XEP-0355.  The delegation namespace of child, or NULL. */
const char *skd_deleg_ns(xmpp_stanza_t *child);
/* Checks a delegated IQ set (the server, a user of its domain), records
   how to answer it, and returns the inner IQ (borrowed from iq); NULL
   when refused (answered with an error) or out of memory. */
xmpp_stanza_t *skd_deleg_open(struct skd *d, xmpp_stanza_t *iq, xmpp_stanza_t *deleg);
/* When (to, id) answers a delegated request: writes the whole wrapped
   answer (inner IQ of type, with body as its children) into out, forgets
   the request and returns 1; else 0. */
int skd_deleg_wrap_text(struct skd *d, const char *to, const char *id, const char *type,
    const char *body, size_t blen, struct sk_text *out);
/* When iq answers a delegated request: sends it wrapped and returns 1. */
int skd_deleg_wrap(struct skd *d, xmpp_stanza_t *iq);
void skd_deleg_tick(struct skd *d);
void skd_deleg_free_all(struct skd *d);

/* adapter.c: the server adapter, found by disco#info at DOMAIN/synckey
   once a domain's privileges arrive; without it, privilege-only mode. */
void skd_adapter_probe(struct skd *d, int i);
/* The adapter's JID for domain index i into buf: 0, or -1 if too long. */
int skd_adapter_jid(const struct skd *d, int i, char *buf, size_t len);
/* 1 when iq answered our probe (and was handled). */
int skd_adapter_result(struct skd *d, xmpp_stanza_t *iq);
/* A probe unanswered within roster-timeout decides privilege-only. */
void skd_adapter_tick(struct skd *d);
/* NULL unless adapter = required and domain i has no adapter (yet): then
   a sentence saying so (static). */
const char *skd_adapter_missing(const struct skd *d, int i);
/* A presence arrived from the server (ingest.c): a replay while a probe
   is unanswered. */
void skd_adapter_presence(struct skd *d);
/* 1 while the presence store may lack presence from before the link
   came up: some served domain has not shown a replay (xep/ 10). */
int skd_presence_partial(const struct skd *d);

/* ingest.c */
void skd_ingest_presence(struct skd *d, xmpp_stanza_t *pres);
/* Commits the batch when it is due (or always when force). */
void skd_ingest_flush(struct skd *d, int force);
/* After a lost batch (store.h): recovers the store and sets d->relink so
   that the server replays presence.  0 when the store can be read. */
int skd_store_check(struct skd *d);

/* request.c */
void skd_request(struct skd *d, xmpp_stanza_t *iq, xmpp_stanza_t *child);
/* 1 when iq answered one of our roster fetches (and was handled). */
int skd_request_result(struct skd *d, xmpp_stanza_t *iq);
void skd_request_tick(struct skd *d);
void skd_request_free_all(struct skd *d);

/* answer.c */
void skd_answer_sync(struct skd *d, const char *to, const char *id,
    const char *bare, const char *client, const struct sk_sync_result *res,
    const struct sk_state *live);
void skd_answer_more(struct skd *d, const char *to, const char *id,
    const char *bare, const char *client, const char *token);
void skd_answer_tick(struct skd *d);
void skd_answer_free_all(struct skd *d);

#endif
