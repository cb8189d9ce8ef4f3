/* client.c - the synckey client library: sync with a key, or the standard way */
#include <netinet/in.h>
#include <linux/tcp.h>	/* tcp_info with tcpi_bytes_received */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/x509.h>
#include <strophe.h>

#include "apply.h"
#include "client.h"
#include "standard.h"
#include "error.h"
#include "exchange.h"
#include "nodefer.h"
#include "xml.h"

#define NS_DISCO_INFO	"http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS	"http://jabber.org/protocol/disco#items"
#define SETTLE_MS	300
#define SETTLE_MAX_MS	5000

/* libstrophe's socket callback has no user data: one connection per
   process, so the socket lives here (to read TCP_INFO from it). */
static int sock_fd = -1;
/* Nor has its certificate failure handler: what it was told goes here. */
static char cert_err[512];

struct run {
	xmpp_ctx_t		*ctx;
	xmpp_conn_t		*conn;
	const struct sk_client_opts *o;
	int			 state;		/* 0 connecting, 1 up, -1 down */
	int			 err;		/* errno of a failed connect */
	int			 was_up;
	int			 heard;		/* bytes came before a failure */
	xmpp_stanza_t		*reply;		/* the awaited IQ answer */
	const char		*reply_from;	/* whom it must come from; NULL:
						   the account itself */
	struct sk_state		*track;		/* presence/roster pushes go here */
	double			 last_pres;	/* ms of the last presence */
	size_t			 npres;
	/* online before the answer: live presence kept in arrival order,
	   applied on top of the answer (xep/ "Going online without the presence flood") */
	xmpp_stanza_t		**held;
	size_t			 nheld, capheld;
	int			 holding;
	double			 synced_at;	/* standard path: its last presence */
	/* libstrophe says why a login failed only in its log: a logger
	   listens while connecting (and is unhooked after, so that no
	   stanza is formatted for it) */
	xmpp_log_t		 log;
	unsigned		 version;	/* the protocol version the service
						   offers (1 or 0; xep/ "Negotiation") */
	int			 no_tls;	/* TLS required, none offered */
	int			 tls_failed;	/* STARTTLS tried, no handshake */
	char			 tls_why[200];	/* libstrophe's last TLS error */
	char			*errbuf;
	size_t			 errlen;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static unsigned long long
bytes_in(void)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (sock_fd < 0 || getsockopt(sock_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_bytes_received;
}

static int
on_sockopt(xmpp_conn_t *conn, void *sock)
{
	(void)conn;
	sock_fd = *(int *)sock;
	return 0;
}

/*
 * A certificate that did not verify (untrusted issuer, another name,
 * expired, ...): remembered with OpenSSL's reason, and refused.  The
 * first failure is kept: it names the cause, the rest follow from it.
 */
static int
on_certfail(const xmpp_tlscert_t *cert, const char *const why)
{
	const char *sub = xmpp_tlscert_get_string(cert, XMPP_CERT_SUBJECT);
	const char *iss = xmpp_tlscert_get_string(cert, XMPP_CERT_ISSUER);

	if (cert_err[0] == '\0')
		snprintf(cert_err, sizeof(cert_err), "%s (certificate \"%s\", issued by \"%s\")",
		    why ? why : "verification failed", sub ? sub : "?", iss ? iss : "?");
	return 0;
}

/* libstrophe's log while connecting: how a login without TLS ended. */
static void
on_log(void *ud, xmpp_log_level_t level, const char *area, const char *msg)
{
	struct run *r = ud;

	if (strcmp(area, "conn") == 0 && strncmp(msg, "Couldn't start TLS", 18) == 0)
		r->tls_failed = 1;
	else if (level == XMPP_LEVEL_ERROR && strcmp(area, "xmpp") == 0 &&
	    strstr(msg, "TLS is not supported") != NULL)
		r->no_tls = 1;	/* MANDATORY_TLS and no <starttls/> */
	else if (level == XMPP_LEVEL_ERROR && strcmp(area, "tls") == 0)
		snprintf(r->tls_why, sizeof(r->tls_why), "%s", msg);
}

/*
 * A CA file OpenSSL can read and that holds a certificate.  Checked
 * before connecting: libstrophe, unable to set up TLS with it, would
 * go on without TLS where plaintext is allowed.
 */
static int
cafile_ok(const char *path)
{
	X509_STORE *st = X509_STORE_new();
	int ok = st != NULL && X509_STORE_load_locations(st, path, NULL) == 1;

	X509_STORE_free(st);
	return ok;
}

static int
fail(struct run *r, int rc, const char *fmt, const char *arg)
{
	snprintf(r->errbuf, r->errlen, fmt, arg ? arg : "");
	return rc;
}

static void
on_conn(xmpp_conn_t *conn, xmpp_conn_event_t ev, int err, xmpp_stream_error_t *se, void *ud)
{
	struct run *r = ud;

	(void)conn;
	(void)se;
	if (ev == XMPP_CONN_CONNECT) {
		r->state = 1;
		r->was_up = 1;
	} else {
		r->state = -1;
		r->err = err;
	}
}

/* type == want, a missing type being no type at all. */
static int
type_is(xmpp_stanza_t *st, const char *want)
{
	const char *t = xmpp_stanza_get_type(st);

	return t != NULL && strcmp(t, want) == 0;
}

/* The same JID, domain and localpart compared without case (a sender
   we addressed as "Sync.Example.org" may answer in lower case). */
static int
jid_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

/*
 * From the account itself (RFC 6120 10.1.4, RFC 6121 2.1.6): no `from`,
 * or the account's bare JID.
 */
static int
from_account(const struct run *r, const char *from)
{
	size_t n = sk_jid_barelen(r->o->jid);

	return from == NULL || (strlen(from) == n && strncasecmp(from, r->o->jid, n) == 0);
}

/* An answer to the awaited IQ: an <iq/> of type result or error, from
   the entity it was sent to.  Anything else with its id is ignored.
   A request to the account itself (none, or its bare JID: the
   delegated path) is answered from the account, with or without
   `from` (Prosody's error for a delegate that is down has none). */
static int
on_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	struct run *r = ud;
	const char *name = xmpp_stanza_get_name(st), *from = xmpp_stanza_get_from(st);

	(void)conn;
	if (name == NULL || strcmp(name, "iq") != 0 ||
	    !(type_is(st, "result") || type_is(st, "error")) ||
	    !(from_account(r, r->reply_from) ? from_account(r, from) : jid_eq(from, r->reply_from)))
		return 1;	/* not the answer: keep waiting */
	r->reply = xmpp_stanza_clone(st);
	return 0;	/* one answer: remove the handler */
}

/* Presence while tracking the live state (standard path, or online). */
static int
on_presence(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	struct run *r = ud;

	(void)conn;
	if (r->holding) {
		if (r->nheld == r->capheld) {
			size_t ncap = r->capheld ? r->capheld * 2 : 32;
			xmpp_stanza_t **nv = realloc(r->held, ncap * sizeof(*nv));

			if (nv == NULL)
				return 1;	/* then the next sync corrects it */
			r->held = nv;
			r->capheld = ncap;
		}
		r->held[r->nheld++] = xmpp_stanza_clone(st);
	} else if (r->track != NULL && sk_std_presence(r->track, st) == 1) {
		r->npres++;
	}
	r->last_pres = now_ms();
	return 1;
}

static int
on_roster_push(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	struct run *r = ud;
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name_and_ns(st, "query", SK_NS_ROSTER);
	xmpp_stanza_t *res;
	struct sk_state push;
	size_t i;

	if (!type_is(st, "set") || q == NULL)
		return 1;
	if (!from_account(r, xmpp_stanza_get_from(st))) {
		/* RFC 6121 2.1.6: a push from anyone else is ignored */
		xmpp_stanza_t *err = xmpp_stanza_reply_error(st, "cancel", "service-unavailable",
		    "a roster push comes only from the account itself");

		if (err != NULL) {
			xmpp_send(conn, err);
			xmpp_stanza_release(err);
		}
		return 1;
	}
	sk_state_init(&push);
	if (r->track != NULL && sk_xml_roster_parse(q, &push, NULL) == 0)
		for (i = 0; i < push.nitems; i++) {
			if (push.items[i].sub == SK_SUB_REMOVE)
				sk_state_del_item(r->track, push.items[i].jid);
			else
				sk_state_put_item(r->track, &push.items[i]);
			/* no longer a contact whose presence the user receives
			   (xep/ "Sync result"): its presence leaves the state too,
			   as the unavailable that follows finds no item */
			if (!sk_sub_receives_presence(push.items[i].sub))
				sk_state_del_pres_bare(r->track, push.items[i].jid);
		}
	sk_state_free(&push);
	if ((res = xmpp_iq_new(r->ctx, "result", xmpp_stanza_get_id(st))) != NULL) {
		xmpp_send(conn, res);
		xmpp_stanza_release(res);
	}
	return 1;
}

/* Runs the loop until cond holds, the link drops or ms pass. */
#define RUN_UNTIL(r, cond, ms) do {					\
	double end_ = now_ms() + (ms);					\
	while (!(cond) && (r)->state >= 0 && now_ms() < end_)		\
		xmpp_run_once((r)->ctx, 10);				\
} while (0)

/* Sends iq (taking no ownership) and waits for its answer (owned by the
   caller), or returns NULL on timeout or a lost link. */
static xmpp_stanza_t *
await(struct run *r, xmpp_stanza_t *iq)
{
	const char *id = xmpp_stanza_get_id(iq);

	r->reply = NULL;
	r->reply_from = xmpp_stanza_get_to(iq);
	xmpp_id_handler_add(r->conn, on_reply, id, r);
	xmpp_send(r->conn, iq);
	RUN_UNTIL(r, r->reply != NULL, (r->o->timeout ? r->o->timeout : 15) * 1000.0);
	if (r->reply == NULL)
		xmpp_id_handler_delete(r->conn, on_reply, id);
	return r->reply;
}

static int
has_feature(xmpp_stanza_t *res, const char *var)
{
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name_and_ns(res, "query", NS_DISCO_INFO), *f;

	for (f = q ? xmpp_stanza_get_children(q) : NULL; f; f = xmpp_stanza_get_next(f)) {
		const char *v = xmpp_stanza_get_attribute(f, "var");

		if (v && strcmp(v, var) == 0)
			return 1;
	}
	return 0;
}

/* disco#items on the user's domain, then disco#info on each item. */
static void
discover(struct run *r, const char *domain, char *out, size_t outlen)
{
	xmpp_stanza_t *iq = sk_exchange_iq(r->ctx, "get", domain, "query", NS_DISCO_ITEMS, NULL);
	xmpp_stanza_t *res = await(r, iq), *q, *it;

	out[0] = '\0';
	xmpp_stanza_release(iq);
	if (res == NULL)
		return;
	q = xmpp_stanza_get_child_by_name_and_ns(res, "query", NS_DISCO_ITEMS);
	for (it = q ? xmpp_stanza_get_children(q) : NULL; it && !out[0]; it = xmpp_stanza_get_next(it)) {
		const char *jid = xmpp_stanza_get_attribute(it, "jid");
		xmpp_stanza_t *info;

		if (jid == NULL)
			continue;
		iq = sk_exchange_iq(r->ctx, "get", jid, "query", NS_DISCO_INFO, NULL);
		info = await(r, iq);
		xmpp_stanza_release(iq);
		if (info && type_is(info, "result") &&
		    has_feature(info, SK_NS_SYNC)) {
			snprintf(out, outlen, "%s", jid);
			r->version = has_feature(info, SK_NS_SYNC1);
		}
		if (info)
			xmpp_stanza_release(info);
	}
	xmpp_stanza_release(res);
}

/*
 * The server's disco#info: whether it takes sync requests to the
 * account itself (XEP-0355 delegation of urn:xmpp:synckey:0, so no
 * further discovery) and whether it runs the synckey server adapter.
 */
static void
server_features(struct run *r, const char *domain, int *delegated, int *adapter)
{
	xmpp_stanza_t *iq = sk_exchange_iq(r->ctx, "get", domain, "query", NS_DISCO_INFO, NULL);
	xmpp_stanza_t *res = await(r, iq);
	int ok;

	xmpp_stanza_release(iq);
	ok = res != NULL && type_is(res, "result");
	*delegated = ok && has_feature(res, SK_NS_SYNC);
	if (*delegated)
		r->version = has_feature(res, SK_NS_SYNC1);
	*adapter = ok && has_feature(res, SK_NS_ADAPTER);
	if (res)
		xmpp_stanza_release(res);
}

/*
 * Initial presence; with the server adapter marked, so that the server
 * replays no contact's presence to this session (the sync answer holds
 * it).  Presence arriving from now on is held until the answer.
 */
static void
go_online(struct run *r, int marked)
{
	xmpp_stanza_t *pres = xmpp_presence_new(r->ctx);

	if (marked)
		(void)sk_xml_pres_mark(pres);	/* unmarked, it is the flood */
	r->holding = 1;
	xmpp_send(r->conn, pres);
	xmpp_stanza_release(pres);
}

/* The held presence on top of st, in arrival order; then live. */
static void
release_held(struct run *r, struct sk_state *st)
{
	size_t i;

	for (i = 0; i < r->nheld; i++) {
		(void)sk_std_presence(st, r->held[i]);
		xmpp_stanza_release(r->held[i]);
	}
	free(r->held);
	r->held = NULL;
	r->nheld = r->capheld = 0;
	r->holding = 0;
	r->track = st;
}

/*
 * Finds the sync service: the account itself when the server delegates
 * the namespace (XEP-0355), else by disco#items and disco#info; or the
 * one --component names.  A service found is kept in the cache, so that
 * a reconnect need not look again.
 */
static void
find_service(struct run *r, struct sk_cache *cache, const char *domain, char *svc,
    size_t len, int *adapter)
{
	int delegated = 0;

	svc[0] = '\0';
	server_features(r, domain, &delegated, adapter);
	if (r->o->component) {
		/* named, not discovered: version 0, which every service offers */
		snprintf(svc, len, "%s", r->o->component);
		r->version = 0;
	} else if (delegated)	/* the account itself takes the request */
		snprintf(svc, len, "%.*s", (int)sk_jid_barelen(r->o->jid), r->o->jid);
	else
		discover(r, domain, svc, len);
	if (svc[0] != '\0' && r->o->component == NULL)
		(void)sk_cache_set_service(cache, svc, (*adapter ? SK_SVC_ADAPTER : 0) |
		    (r->version == 1 ? SK_SVC_V1 : 0));
}

static void
report_changes(const struct sk_client_opts *o, const struct sk_update *u)
{
	size_t i;

	if (o->on_change == NULL)
		return;
	for (i = 0; i < u->put.nitems; i++)
		o->on_change(o->data, u->put.items[i].sub == SK_SUB_REMOVE ? "remove" : "item",
		    u->put.items[i].jid);
	for (i = 0; i < u->put.npres; i++)
		o->on_change(o->data, "presence", u->put.pres[i].jid);
	for (i = 0; i < u->gone.n; i++)
		o->on_change(o->data, "unavailable", u->gone.v[i]);
	for (i = 0; i < u->gone_all.n; i++)
		o->on_change(o->data, "unavailable", u->gone_all.v[i]);
}

static const char *
error_cond(xmpp_stanza_t *res)
{
	xmpp_stanza_t *e = xmpp_stanza_get_child_by_name(res, "error"), *c;

	for (c = e ? xmpp_stanza_get_children(e) : NULL; c; c = xmpp_stanza_get_next(c))
		if (xmpp_stanza_get_name(c) && strcmp(xmpp_stanza_get_name(c), "text") != 0)
			return xmpp_stanza_get_name(c);
	return "unknown error";
}

/*
 * One sync exchange, every part gathered, applied to a copy of st and
 * verified against the digest (exchange.c).  On success st holds the new
 * state and key/reason are filled.  Returns an sk_client_rc, or -1 for a
 * digest mismatch (the caller retries without a key).
 */
static int
sync_once(struct run *r, const char *svc, const char *client, const char *key,
    struct sk_state *st, struct sk_client_report *rep, char newkey[SK_KEY_MAX + 1])
{
	struct sk_exchange x;
	xmpp_stanza_t *iq, *res = NULL, *s;
	int rc = SK_CLIENT_EPROTO;

	sk_exchange_init(&x);
	do {
		if ((iq = sk_exchange_request(r->ctx, svc, client, key, x.parts ? x.more : NULL,
		    r->version)) == NULL) {
			rc = fail(r, SK_CLIENT_ECACHE, "out of memory building the request%s", NULL);
			goto out;
		}
		res = await(r, iq);
		xmpp_stanza_release(iq);
		if (res == NULL) {
			rc = fail(r, r->state < 0 ? SK_CLIENT_ECONN : SK_CLIENT_ETIMEOUT,
			    "no answer from the sync service %s", svc);
			goto out;
		}
		if (!type_is(res, "result")) {
			rc = fail(r, SK_CLIENT_EPROTO, "the sync service answered %s", error_cond(res));
			goto out;
		}
		if ((s = xmpp_stanza_get_child_by_name_and_ns(res, "sync",
		    sk_xml_sync_ns(r->version))) == NULL) {
			rc = fail(r, SK_CLIENT_EPROTO, "the sync answer has no <sync/>%s", NULL);
			goto out;
		}
		if (sk_exchange_head(&x, s) != 0) {
			rc = fail(r, SK_CLIENT_EPROTO, "malformed sync answer%s", NULL);
			goto out;
		}
		if (sk_exchange_body(&x, s) != 0) {
			rc = fail(r, SK_CLIENT_EPROTO, "malformed records in the sync answer%s", NULL);
			goto out;
		}
		xmpp_stanza_release(res);
		res = NULL;
	} while (x.more[0] != '\0');

	if ((rc = sk_exchange_finish(&x, st)) == SK_EDIGEST) {
		rc = -1;
		goto out;
	}
	if (rc != 0) {
		rc = fail(r, SK_CLIENT_ECACHE, "out of memory applying the answer%s", NULL);
		goto out;
	}
	snprintf(newkey, SK_KEY_MAX + 1, "%s", x.key);
	snprintf(rep->reason, sizeof(rep->reason), "%s", x.reason);
	rep->partial = x.partial;
	rep->items = x.u.put.nitems + x.u.put.npres + x.u.gone.n + x.u.gone_all.n;
	snprintf(rep->mode, sizeof(rep->mode), "%s",
	    x.u.full ? "full" : rep->items ? "delta" : "null");
	report_changes(r->o, &x.u);
	rc = SK_CLIENT_OK;
out:
	if (res)
		xmpp_stanza_release(res);
	sk_exchange_free(&x);
	return rc;
}

/* RFC 6121: roster get (with ver), initial presence, collect presence. */
static int
standard(struct run *r, const char *domain, struct sk_cache *cache, struct sk_state *st,
    struct sk_client_report *rep, char *ver, size_t verlen)
{
	xmpp_stanza_t *iq, *c, *res, *q, *pres;
	double start;
	int rc;

	iq = sk_exchange_iq(r->ctx, "get", NULL, "query", SK_NS_ROSTER, &c);
	xmpp_stanza_set_attribute(c, "ver", sk_cache_ver(cache));
	res = await(r, iq);
	xmpp_stanza_release(iq);
	if (res == NULL)
		return fail(r, r->state < 0 ? SK_CLIENT_ECONN : SK_CLIENT_ETIMEOUT,
		    "no answer to the roster get%s", NULL);
	if (!type_is(res, "result")) {
		xmpp_stanza_release(res);
		return fail(r, SK_CLIENT_EPROTO, "the roster get failed%s", NULL);
	}
	snprintf(ver, verlen, "%s", sk_cache_ver(cache));
	q = xmpp_stanza_get_child_by_name_and_ns(res, "query", SK_NS_ROSTER);
	rc = sk_std_roster_result(st, res, ver, verlen);
	if (rc != 0 && rc != 1) {
		xmpp_stanza_release(res);
		return fail(r, SK_CLIENT_EPROTO, "the roster answer is malformed%s", NULL);
	}
	if (q != NULL)
		rep->items = st->nitems;
	xmpp_stanza_release(res);
	sk_state_sort(st);
	/* presence: what the server sends after initial presence */
	while (st->npres > 0)
		sk_state_del_pres(st, st->pres[0].jid);
	r->track = st;
	r->npres = 0;
	pres = xmpp_presence_new(r->ctx);
	xmpp_send(r->conn, pres);
	xmpp_stanza_release(pres);
	start = r->last_pres = now_ms();
	/* The server answers a ping after it has handled the initial
	   presence, local contacts' replay included; remote contacts'
	   answers come later: then wait for a silence. */
	iq = sk_exchange_iq(r->ctx, "get", domain, "ping", "urn:xmpp:ping", NULL);
	if ((res = await(r, iq)) != NULL)
		xmpp_stanza_release(res);
	xmpp_stanza_release(iq);
	RUN_UNTIL(r, now_ms() - r->last_pres > SETTLE_MS || now_ms() - start > SETTLE_MAX_MS,
	    SETTLE_MAX_MS + 100);
	rep->items += r->npres;
	/* synced when the last presence came, not when the silence ended */
	r->synced_at = r->last_pres;
	snprintf(rep->mode, sizeof(rep->mode), "standard");
	return SK_CLIENT_OK;
}

int
sk_client_sync(struct sk_cache *cache, const struct sk_client_opts *o,
    struct sk_client_report *rep, char *err, size_t errlen)
{
	struct run r = { .o = o, .errbuf = err, .errlen = errlen };
	char svc[256] = "", newkey[SK_KEY_MAX + 1] = "", ver[256] = "";
	const char *domain = strchr(o->jid, '@');
	struct sk_state st;
	double t_auth;
	const char *cached = "";
	unsigned sflags = 0;
	int rc, adapter = 0;

	memset(rep, 0, sizeof(*rep));
	err[0] = '\0';
	if (domain == NULL)
		return fail(&r, SK_CLIENT_EUSAGE, "not a user JID: %s", o->jid);
	domain++;
	if ((rc = sk_cache_load(cache, &st)) != 0)
		return fail(&r, SK_CLIENT_ECACHE, "the cache cannot be used: %s", sk_strerror(rc));
	if (sk_nodefer_status() < 0)	/* links nodefer.c: no stall on a long token */
		return fail(&r, SK_CLIENT_EPROTO, "%s", "expat's XML_Parse not found");
	if (o->cafile != NULL && !cafile_ok(o->cafile))
		return fail(&r, SK_CLIENT_EUSAGE, "the CA file %s holds no certificate OpenSSL can read",
		    o->cafile);
	xmpp_initialize();
	r.log.handler = on_log;
	r.log.userdata = &r;
	r.ctx = xmpp_ctx_new(NULL, &r.log);
	r.conn = xmpp_conn_new(r.ctx);
	/* Setting the flags also initialises the stream management ones,
	   which libstrophe 0.12.2 leaves unset (valgrind sees it read after
	   bind).  MANDATORY_TLS: no SASL before STARTTLS succeeded.  The
	   certificate is verified in every case (no TRUST_TLS), and a
	   failed one ends the connection, never a fall-back to plaintext. */
	xmpp_conn_set_flags(r.conn, o->allow_plaintext ? 0 : XMPP_CONN_FLAG_MANDATORY_TLS);
	if (o->cafile != NULL)
		xmpp_conn_set_cafile(r.conn, o->cafile);
	cert_err[0] = '\0';
	xmpp_conn_set_certfail_handler(r.conn, on_certfail);
	xmpp_conn_set_jid(r.conn, o->jid);
	xmpp_conn_set_pass(r.conn, o->password);
	xmpp_conn_set_sockopt_callback(r.conn, on_sockopt);
	sock_fd = -1;
	xmpp_handler_add(r.conn, on_presence, NULL, "presence", NULL, &r);
	xmpp_handler_add(r.conn, on_roster_push, SK_NS_ROSTER, "iq", NULL, &r);
	if (xmpp_connect_client(r.conn, o->host, o->port, on_conn, &r) != XMPP_EOK) {
		rc = fail(&r, SK_CLIENT_ECONN, "cannot connect to %s", o->host ? o->host : domain);
		goto out;
	}
	{
		/* Sample the socket while connecting: a server that spoke
		   before the stream failed was reached, so authentication
		   failed; one that never did was not reached. */
		double end = now_ms() + (o->timeout ? o->timeout : 15) * 1000.0;

		/* a failed TLS start ends the attempt: libstrophe keeps the
		   socket open, and waiting would only reach the timeout */
		while (r.state == 0 && !r.tls_failed && !r.no_tls && now_ms() < end) {
			xmpp_run_once(r.ctx, 10);
			if (r.state == 0 && bytes_in() > 0)
				r.heard = 1;
		}
	}
	r.log.handler = NULL;	/* read through the context's pointer */
	if (r.state == 1 && !(rep->secured = xmpp_conn_is_secured(r.conn) != 0) &&
	    !o->allow_plaintext) {
		/* libstrophe enforces MANDATORY_TLS; a version that did
		   not would at least get no sync run on this stream */
		rc = fail(&r, SK_CLIENT_ETLS, "logged in without TLS although it was required%s", NULL);
		goto out;
	}
	if (r.state != 1) {
		/* TLS first: its failures also look like a lost link */
		if (cert_err[0] != '\0')
			rc = fail(&r, SK_CLIENT_ETLS, "the server's certificate is not trusted: %s", cert_err);
		else if (r.no_tls && r.tls_why[0] != '\0')	/* e.g. an unusable CA file */
			rc = fail(&r, SK_CLIENT_ETLS, "TLS could not be set up: %s", r.tls_why);
		else if (r.no_tls)
			rc = fail(&r, SK_CLIENT_ETLS, "%s offers no TLS: not logging in over a plaintext "
			    "stream (--allow-plaintext allows it)", o->host ? o->host : domain);
		else if (r.tls_failed)
			rc = fail(&r, SK_CLIENT_ETLS, "the TLS handshake failed: %s",
			    r.tls_why[0] ? r.tls_why : "no detail from the TLS library");
		else if (r.state == 0)
			rc = fail(&r, SK_CLIENT_ETIMEOUT, "no login within the timeout%s", NULL);
		else if (r.err != 0 || !r.heard)
			rc = fail(&r, SK_CLIENT_ECONN, "cannot reach the server: %s",
			    r.err ? strerror(r.err) : "connection failed");
		else
			rc = fail(&r, SK_CLIENT_EAUTH, "authentication failed for %s", o->jid);
		goto out;
	}
	t_auth = now_ms();
	rep->login_bytes = bytes_in();
	if (!o->standard && o->component == NULL &&
	    (cached = sk_cache_service(cache, &sflags))[0] != '\0') {
		/* found last time: no discovery until it fails */
		snprintf(svc, sizeof(svc), "%s", cached);
		adapter = (sflags & SK_SVC_ADAPTER) != 0;
		r.version = (sflags & SK_SVC_V1) != 0;
	} else if (!o->standard) {
		find_service(&r, cache, domain, svc, sizeof(svc), &adapter);
	}
	rep->disco_bytes = bytes_in() - rep->login_bytes;
	if (svc[0] != '\0' && o->stay > 0)	/* online first, then the sync */
		go_online(&r, adapter);
	if (svc[0] != '\0') {
		snprintf(rep->service, sizeof(rep->service), "%s", svc);
		rep->version = r.version;
		rc = sync_once(&r, svc, sk_cache_client(cache), sk_cache_key(cache), &st, rep, newkey);
		if (rc > 0 && rc != SK_CLIENT_ECACHE && cached[0] != '\0' && r.state == 1) {
			/* the service found last time failed: look again, once */
			(void)sk_cache_set_service(cache, NULL, 0);
			find_service(&r, cache, domain, svc, sizeof(svc), &adapter);
			snprintf(rep->service, sizeof(rep->service), "%s", svc);
			rep->version = r.version;
			rc = svc[0] == '\0' ? fail(&r, SK_CLIENT_EPROTO, "the sync service is gone%s", NULL) :
			    sync_once(&r, svc, sk_cache_client(cache), sk_cache_key(cache), &st, rep, newkey);
		}
		if (rc == -1) {
			/* our state differs from the server's: start afresh */
			if ((rc = sk_cache_set_key(cache, NULL)) == 0)
				rc = sync_once(&r, svc, sk_cache_client(cache), NULL, &st, rep, newkey);
			if (rc == -1)
				rc = fail(&r, SK_CLIENT_EPROTO, "the full state does not match the server's digest%s", NULL);
		}
		if (rc == SK_CLIENT_OK)
			snprintf(ver, sizeof(ver), "%s", sk_cache_ver(cache));
	} else {
		rc = standard(&r, domain, cache, &st, rep, ver, sizeof(ver));
		snprintf(newkey, sizeof(newkey), "%s", sk_cache_key(cache));
	}
	if (rc != SK_CLIENT_OK)
		goto out;
	if (r.holding)
		release_held(&r, &st);
	if (svc[0] != '\0' && o->stay > 0 && adapter && rep->partial) {
		/* marked, but the service lacks some presence: the server's
		   replay, the RFC 6121 way (xep/ "Going online without the
		   presence flood"); what it replays reaches st through track */
		xmpp_stanza_t *off = xmpp_presence_new(r.ctx);

		xmpp_stanza_set_type(off, "unavailable");
		xmpp_send(r.conn, off);
		xmpp_stanza_release(off);
		go_online(&r, 0);
		r.holding = 0;
	}
	if ((rc = sk_cache_commit(cache, &st, newkey[0] ? newkey : NULL, ver)) != 0) {
		rc = fail(&r, SK_CLIENT_ECACHE, "cannot write the cache: %s", sk_strerror(rc));
		goto out;
	}
	rep->bytes = bytes_in();
	rep->ms = (r.synced_at > 0 ? r.synced_at : now_ms()) - t_auth;

	if (svc[0] != '\0' && o->stay > 0) {
		/* online: track presence and roster pushes, then checkpoint */
		xmpp_stanza_t *iq, *c, *res;

		RUN_UNTIL(&r, 0, o->stay * 1000.0);
		iq = sk_exchange_iq(r.ctx, "set", svc, "checkpoint", sk_xml_sync_ns(r.version), &c);
		xmpp_stanza_set_attribute(c, "client", sk_cache_client(cache));
		xmpp_stanza_set_attribute(c, "key", newkey);
		res = await(&r, iq);
		xmpp_stanza_release(iq);
		if (res && type_is(res, "result")) {
			xmpp_stanza_t *cp = xmpp_stanza_get_child_by_name_and_ns(res, "checkpoint",
			    sk_xml_sync_ns(r.version));
			const char *k = cp ? xmpp_stanza_get_attribute(cp, "key") : NULL;

			if (k && strlen(k) <= SK_KEY_MAX)
				sk_cache_commit(cache, &st, k, ver);
		}
		if (res)
			xmpp_stanza_release(res);
	}
	rc = SK_CLIENT_OK;
out:
	r.track = NULL;
	r.holding = 0;
	while (r.nheld > 0)
		xmpp_stanza_release(r.held[--r.nheld]);
	free(r.held);
	if (r.state == 1) {
		xmpp_disconnect(r.conn);
		RUN_UNTIL(&r, r.state != 1, 2000.0);
	}
	xmpp_conn_release(r.conn);
	xmpp_ctx_free(r.ctx);
	xmpp_shutdown();
	sk_state_free(&st);
	return rc;
}
