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
 *   (roster result) sk_view_live + sk_sync_run (view.c, sync.c: the engine)
 *   answer.c   stanza out, paged to the stanza budget
 * Presence goes handler.c -> ingest.c -> store; privileges privilege.c;
 * the link to the server link.c.  Every handler takes a stanza and sends
 * through d->send, so tests drive them with stanzas built in memory.
 */

/* The server adapter answers synckeyd at DOMAIN/SKD_ADAPTER_RESOURCE
   (adapter.c says why a full JID). */
#define SKD_ADAPTER_RESOURCE	"synckey"
#define SKD_JID_MAX		3072	/* RFC 7622: 3 x 1023 + "@" + "/" + NUL */

struct sk_text;

/*
 * Where the answer to a request goes: the requester's JID and IQ id, and
 * for a request the server delegated (XEP-0355, deleg.c) the envelope to
 * wrap the answer in.  It travels with the request (roster fetch, pages);
 * reply.c writes the answer, plain or wrapped, from it alone.
 * A struct skd_origin borrows its strings; skd_origin_dup() owns them.
 */
struct skd_origin {
	const char	*to, *id;	/* the requester (full JID) and its IQ id */
	const char	*server;	/* delegated: the outer IQ's from, else NULL */
	const char	*outer_id;	/* delegated: the outer IQ's id */
	const char	*reply_from;	/* delegated: the inner IQ's to, or NULL:
					   the user's bare JID */
	const char	*ns;		/* delegated: the delegation namespace */
	unsigned	 version;	/* the synckey version asked in (0, 1) */
};

/* inflight.c: one table of things in flight, keyed by id, oldest first,
   each entry with its owner (a user's bare JID) and the bytes it holds */
struct skd_inflight {
	char		 key[40];
	uint64_t	 deadline;	/* ms, monotonic */
	const char	*owner;		/* borrowed from data */
	size_t		 bytes;
	void		*data;		/* owned by the table */
};
struct skd_table {
	struct skd_inflight	*v;
	size_t			 n, cap;
	size_t			 bytes;		/* the entries' bytes, summed */
	void			(*free_data)(void *);
};

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

	struct skd_table	 fetches;	/* roster.c: roster fetches in flight */
	struct skd_table	 pages;		/* answer.c: pages waiting to be fetched */
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

void skd_table_init(struct skd_table *t, void (*free_data)(void *));
/* 0, EINVAL (key of 40 bytes or more) or ENOMEM; data is the table's on
   0.  owner (borrowed: a string inside data) and bytes (what data holds)
   are counted by skd_table_owned and t->bytes. */
int skd_table_add(struct skd_table *t, const char *key, uint64_t deadline, void *data,
    const char *owner, size_t bytes);
/* How many entries owner has, and their bytes. */
void skd_table_owned(const struct skd_table *t, const char *owner, size_t *n, size_t *bytes);
/* The entry's data, still the table's; NULL when there is none. */
void *skd_table_get(const struct skd_table *t, const char *key);
/* The entry's data, removed: the caller's now; NULL when there is none. */
void *skd_table_take(struct skd_table *t, const char *key);
void *skd_table_take_oldest(struct skd_table *t);
/* Removes every entry whose deadline has come, calling expired (may be
   NULL) with each before freeing it. */
void skd_table_expire(struct skd_table *t, uint64_t now,
    void (*expired)(void *ctx, void *data), void *ctx);
void skd_table_clear(struct skd_table *t);
void skd_table_free(struct skd_table *t);

/* reply.c: sending, with `from` always set (xmpp_stanza_reply drops it). */
void skd_send(struct skd *d, xmpp_stanza_t *st);
/* The answer to a request: an IQ of type with body (serialised children,
   blen bytes), plain or wrapped as o says. */
void skd_reply(struct skd *d, const struct skd_origin *o, const char *type,
    const char *body, size_t blen);
/* The same with one child stanza (NULL: none). */
void skd_reply_stanza(struct skd *d, const struct skd_origin *o, const char *type,
    xmpp_stanza_t *child);
/* An IQ error answer with condition and a <text/>. */
void skd_reply_error(struct skd *d, const struct skd_origin *o, const char *type,
    const char *cond, const char *text);
/* An owned copy of o in one allocation (free() it); NULL when out of memory. */
struct skd_origin *skd_origin_dup(const struct skd_origin *o);
/* The bytes of that allocation. */
size_t skd_origin_size(const struct skd_origin *o);
/* A new <iq type=TYPE to=TO id=ID from=component/>; caller owns it. */
xmpp_stanza_t *skd_iq_new(struct skd *d, const char *type, const char *to, const char *id);
/* Sends an IQ error with condition and a <text/> to a stanza that is no
   request of a user (plain, never wrapped). */
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
/* Checks a delegated IQ set (the server or its adapter, a user of its
   domain) and returns the inner IQ (borrowed from iq), with o filled to
   answer it wrapped (borrowing from iq); NULL when refused (answered
   with an error to the server). */
xmpp_stanza_t *skd_deleg_open(struct skd *d, xmpp_stanza_t *iq, xmpp_stanza_t *deleg,
    struct skd_origin *o);

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
   came up: some served domain has not shown a replay (xep/ "The component and the server"). */
int skd_presence_partial(const struct skd *d);

/* ingest.c */
void skd_ingest_presence(struct skd *d, xmpp_stanza_t *pres);
/* Commits the batch when it is due (or always when force). */
void skd_ingest_flush(struct skd *d, int force);
/* After a lost batch (store.h): recovers the store and sets d->relink so
   that the server replays presence.  0 when the store can be read. */
int skd_store_check(struct skd *d);

/* request.c: a sync or checkpoint request (child of an IQ get/set in
   SK_NS_SYNC), checked and answered (an error), or passed on: to the
   pages (a page fetch) or to a roster fetch. */
void skd_request(struct skd *d, const struct skd_origin *o, xmpp_stanza_t *iq,
    xmpp_stanza_t *child);

/* roster.c: roster fetches in flight (a view with the adapter, else the
   privileged roster get), and what their answers run. */
/* 0, ENOMEM, or SK_EFULL when a budget of requests in flight is used up:
   *limit is then the setting's name (static). */
int skd_roster_fetch(struct skd *d, int dom, const struct skd_origin *o, const char *bare,
    const char *client, const char *key, int checkpoint, const char **limit);
/* 1 when iq answered one of our roster fetches (and was handled). */
int skd_roster_result(struct skd *d, xmpp_stanza_t *iq);
/* Frees a fetch of d->fetches (the table's free function). */
void skd_roster_fetch_free(void *data);
/* Fetches past roster-timeout are answered with remote-server-timeout. */
void skd_roster_tick(struct skd *d);

/* ingest.c: stored presence of every remote domain (the store less the
   served domains): records and bytes.  0 or an error of error.h. */
int skd_remote_usage(struct skd *d, size_t *n, size_t *bytes);

/* status.c: writes the budgets' use to the status file (conf/status.h). */
void skd_status_update(struct skd *d);

/* answer.c: answers as text, paged to the stanza budget */
void skd_answer_sync(struct skd *d, const struct skd_origin *o, const char *bare,
    const char *client, const struct sk_sync_result *res, const struct sk_state *live);
void skd_answer_more(struct skd *d, const struct skd_origin *o, const char *bare,
    const char *client, const char *token);
void skd_answer_checkpoint(struct skd *d, const struct skd_origin *o, const char *key);
void skd_answer_tick(struct skd *d);
/* Frees a page of d->pages (the table's free function). */
void skd_answer_page_free(void *data);

#endif
