/* link.c - the XEP-0114 link to the server: connect, reconnect with back-off */
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "link.h"
#include "log.h"

#define BACKOFF_FIRST_MS	500
#define BACKOFF_MAX_MS		30000

int
skd_link_fix_sm(xmpp_ctx_t *ctx, xmpp_conn_t *conn)
{
	xmpp_conn_t *scratch = xmpp_conn_new(ctx);
	xmpp_sm_state_t *sm;

	if (scratch == NULL)
		return -1;
	/* Allocates the state, then fails resolving the empty host "" without
	   any I/O.  It needs a JID to get that far; this one is never used. */
	xmpp_conn_set_jid(scratch, "sm-workaround@localhost");
	(void)xmpp_connect_client(scratch, "", 0, NULL, NULL);
	sm = xmpp_conn_get_sm_state(scratch);
	xmpp_conn_release(scratch);
	if (sm == NULL)
		return -1;
	if (xmpp_conn_set_sm_state(conn, sm) != XMPP_EOK) {
		xmpp_free_sm_state(sm);
		return -1;
	}
	return 0;
}

static int
on_stanza(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	struct skd_link *l = ud;

	(void)conn;
	skd_handle(l->d, st);
	return 1;	/* stay registered */
}

#define SRV(l) (&(l)->d->cfg->servers[(l)->cur])

/* After a failure: the next server of the list; the back-off grows once
   the whole list failed in a row. */
static void
next_server(struct skd_link *l, int was_up)
{
	struct skd *d = l->d;

	l->dead = 1;
	if (was_up) {			/* the same server again first */
		l->failed = 0;
		l->next_try = d->now_ms() + BACKOFF_FIRST_MS;
		log_info("next attempt in %u ms, %s:%u again", BACKOFF_FIRST_MS,
		    SRV(l)->host, SRV(l)->port);
		return;
	}
	l->cur = (l->cur + 1) % d->cfg->nservers;
	if (++l->failed < d->cfg->nservers) {
		l->next_try = d->now_ms();
		log_info("trying the next server, %s:%u", SRV(l)->host, SRV(l)->port);
		return;
	}
	l->failed = 0;
	l->next_try = d->now_ms() + l->backoff_ms;
	log_info("next attempt in %u ms, to %s:%u", l->backoff_ms, SRV(l)->host, SRV(l)->port);
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
}

static void
on_conn(xmpp_conn_t *conn, xmpp_conn_event_t ev, int err,
    xmpp_stream_error_t *stream_error, void *ud)
{
	struct skd_link *l = ud;
	struct skd *d = l->d;
	int was_up = d->connected;
	char why[512] = "";

	if (ev == XMPP_CONN_CONNECT) {
		l->backoff_ms = BACKOFF_FIRST_MS;
		l->attempts = 0;
		l->failed = 0;
		d->conn = conn;
		xmpp_handler_add(conn, on_stanza, NULL, NULL, NULL, l);
		log_info("link up to %s:%u (server %zu of %zu)", SRV(l)->host, SRV(l)->port,
		    l->cur + 1, d->cfg->nservers);
		skd_link_up(d);
		return;
	}
	if (stream_error != NULL)
		snprintf(why, sizeof(why), ": stream error%s%s", stream_error->text ? ": " : "",
		    stream_error->text ? stream_error->text : "");
	else if (err)
		snprintf(why, sizeof(why), ": %s", strerror(err));
	if (stream_error != NULL && stream_error->type == XMPP_SE_CONFLICT) {
		log_warnx("refused by %s:%u: another synckeyd is connected as %s%s; exiting",
		    SRV(l)->host, SRV(l)->port, d->cfg->jid, why);
		l->refused = 1;
	} else if (was_up)
		log_warnx("link to %s:%u lost%s", SRV(l)->host, SRV(l)->port, why);
	else
		log_warnx("cannot connect to %s:%u as %s%s (wrong secret or server down?)",
		    SRV(l)->host, SRV(l)->port, d->cfg->jid, why);
	skd_link_down(d);
	d->conn = NULL;
	if (l->refused) {
		l->dead = 1;
		l->next_try = UINT64_MAX;
		return;
	}
	next_server(l, was_up);
}

/*
 * Answers are written in one piece and wait for nothing: without
 * TCP_NODELAY, Nagle's algorithm holds a small answer back until the
 * server's delayed ACK of the previous one (about 40 ms a request on
 * Linux).  The server's side wants the same (Prosody: network_settings
 * = { nagle = false }, README).  Keepalive as libstrophe's own default.
 */
static int
no_delay(xmpp_conn_t *conn, void *sock)
{
	int fd = *(int *)sock, one = 1;

	(void)xmpp_sockopt_cb_keepalive(conn, sock);
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_warn("TCP_NODELAY on the link");
	return 0;
}

static void
attempt(struct skd_link *l)
{
	struct skd *d = l->d;

	if (l->conn != NULL)
		xmpp_conn_release(l->conn);
	l->dead = 0;
	l->next_try = 0;
	l->attempts++;
	log_info("connecting to %s:%u as %s (attempt %u)", SRV(l)->host, SRV(l)->port,
	    d->cfg->jid, l->attempts);
	if ((l->conn = xmpp_conn_new(d->ctx)) == NULL || skd_link_fix_sm(d->ctx, l->conn) != 0) {
		log_warnx("cannot set up a connection (out of memory?)");
		goto retry;
	}
	xmpp_conn_set_sockopt_callback(l->conn, no_delay);
	xmpp_conn_set_jid(l->conn, d->cfg->jid);
	xmpp_conn_set_pass(l->conn, d->cfg->secret);
	if (xmpp_connect_component(l->conn, SRV(l)->host, (unsigned short)SRV(l)->port,
	    on_conn, l) == XMPP_EOK)
		return;
	log_warnx("cannot start connecting to %s:%u", SRV(l)->host, SRV(l)->port);
retry:
	next_server(l, 0);
}

void
skd_link_start(struct skd_link *l, struct skd *d)
{
	memset(l, 0, sizeof(*l));
	l->d = d;
	l->backoff_ms = BACKOFF_FIRST_MS;
	attempt(l);
}

void
skd_link_poll(struct skd_link *l)
{
	if (l->d->relink && l->conn != NULL && l->d->connected) {
		log_info("reconnecting for the server's presence replay");
		xmpp_disconnect(l->conn);
	}
	l->d->relink = 0;
	if (l->dead && !l->refused && l->d->now_ms() >= l->next_try)
		attempt(l);
}

void
skd_link_stop(struct skd_link *l)
{
	uint64_t until = l->d->now_ms() + 2000;

	if (l->conn != NULL && l->d->connected) {
		xmpp_disconnect(l->conn);
		while (l->d->connected && l->d->now_ms() < until)
			xmpp_run_once(l->d->ctx, 50);
	}
	if (l->conn != NULL)
		xmpp_conn_release(l->conn);
	l->conn = NULL;
	l->d->conn = NULL;
}
