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
};

/*
 * libstrophe 0.12.2 through 0.14.0 crash a component connection on its
 * first stanza: only xmpp_connect_client() allocates the stream
 * management state that the send and receive paths read.  This gives
 * conn such a state through the public API.  0 or -1.
 */
int skd_link_fix_sm(xmpp_ctx_t *ctx, xmpp_conn_t *conn);

/* Starts connecting now. */
void skd_link_start(struct skd_link *l, struct skd *d);
/* From the event loop: replaces a dead connection when its retry is due. */
void skd_link_poll(struct skd_link *l);
/* Closes the stream (bounded wait) and frees the connection. */
void skd_link_stop(struct skd_link *l);

#endif
