/* link.h - the XEP-0114 link to the server: connect, reconnect with back-off */
#ifndef SKD_LINK_H
#define SKD_LINK_H

#include <stdint.h>

#include <strophe.h>

#include "daemon.h"

struct skd_link {
	struct skd	*d;		/* borrowed */
	xmpp_conn_t	*conn;		/* owned; replaced on every attempt */
	uint64_t	 next_try;	/* ms, monotonic; 0: connected or trying */
	unsigned	 backoff_ms;
	unsigned	 attempts;
	int		 dead;		/* the connection ended: replace it */
	size_t		 cur;		/* index in cfg->servers: the one in use */
	size_t		 failed;	/* servers that failed in a row */
	int		 refused;	/* <conflict/>: another synckeyd has the name */
};

/*
 * libstrophe 0.12.2 through 0.14.0 crash a component connection on its
 * first stanza: only xmpp_connect_client() allocates the stream
 * management state that the send and receive paths read.  This gives
 * conn such a state through the public API.  0 or -1.
 */
int skd_link_fix_sm(xmpp_ctx_t *ctx, xmpp_conn_t *conn);

/*
 * The list of servers (cfg->servers, a cluster's nodes): a link that was
 * up and ends is tried again on the same server first; an attempt that
 * fails moves on to the next one, round the list; the back-off
 * (0.5 s doubling to 30 s) grows only once every server failed in a row.
 * Any new link resets the live presence and the epoch (handler.c).
 * A <conflict/> stream error (mod_synckey: another synckeyd holds the
 * component name) sets refused: the caller exits, it does not retry.
 */
/* Starts connecting now. */
void skd_link_start(struct skd_link *l, struct skd *d);
/* From the event loop: replaces a dead connection when its retry is due. */
void skd_link_poll(struct skd_link *l);
/* Closes the stream (bounded wait) and frees the connection. */
void skd_link_stop(struct skd_link *l);

#endif
