/* test_client.c - the client's two paths give the same state: sync result vs RFC 6121 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "apply.h"
#include "client.h"
#include "standard.h"
#include "digest.h"
#include "error.h"
#include "testutil.h"
#include "xml.h"

static xmpp_ctx_t *ctx;

static xmpp_stanza_t *
st(const char *xml)
{
	xmpp_stanza_t *s = xmpp_stanza_new_from_string(ctx, xml);

	assert_non_null(s);
	return s;
}

#define ITEMS \
	"<item jid='ann@p.test' name='Ann' subscription='both'><group>Work</group></item>" \
	"<item jid='bob@p.test' subscription='to'/>" \
	"<item jid='cid@p.test' subscription='from'/>"
#define ANN "<presence from='ann@p.test/phone' xmlns='jabber:client'><show>away</show><status>lunch</status></presence>"
#define BOB "<presence from='bob@p.test/tab' xmlns='jabber:client'><priority>3</priority></presence>"
#define CID "<presence from='cid@p.test/x' xmlns='jabber:client'/>"

static void
standard_path_and_sync_path_agree(void **unused)
{
	struct sk_state std, syn;
	struct sk_update u;
	xmpp_stanza_t *iq = st("<iq type='result' id='r1'><query xmlns='jabber:iq:roster' ver='7'>" ITEMS "</query></iq>");
	xmpp_stanza_t *full = st("<sync xmlns='urn:xmpp:synckey:0' type='full'><query xmlns='jabber:iq:roster'>"
	    ITEMS "</query>" ANN BOB "</sync>");
	const char *presence[] = { ANN, BOB, CID,
	    "<presence from='ann@p.test/old' xmlns='jabber:client'/>",
	    "<presence from='ann@p.test/old' type='unavailable' xmlns='jabber:client'/>",
	    "<presence from='zed@p.test/z' xmlns='jabber:client'/>" };
	char ver[32] = "", d1[SK_DIGEST_B64], d2[SK_DIGEST_B64];
	size_t i;

	(void)unused;
	/* RFC 6121: roster result, then the presence that arrives */
	sk_state_init(&std);
	assert_int_equal(sk_std_roster_result(&std, iq, ver, sizeof(ver)), 1);
	assert_string_equal(ver, "7");
	for (i = 0; i < sizeof(presence) / sizeof(presence[0]); i++) {
		xmpp_stanza_t *p = st(presence[i]);

		assert_true(sk_std_presence(&std, p) >= 0);
		xmpp_stanza_release(p);
	}
	assert_int_equal(std.npres, 2);		/* cid: from; zed: not a contact */
	/* synckey: a full result */
	sk_state_init(&syn);
	sk_update_init(&u);
	u.full = 1;
	assert_int_equal(sk_xml_update_parse(full, &u), 0);
	assert_int_equal(sk_apply(&syn, &u), 0);
	assert_int_equal(sk_digest_state_b64(&std, d1), 0);
	assert_int_equal(sk_digest_state_b64(&syn, d2), 0);
	assert_string_equal(d1, d2);
	sk_update_free(&u);
	sk_state_free(&std);
	sk_state_free(&syn);
	xmpp_stanza_release(iq);
	xmpp_stanza_release(full);
}

static void
an_empty_roster_result_keeps_the_cached_roster(void **unused)
{
	struct sk_state s;
	struct sk_item it = { .jid = "ann@p.test", .sub = SK_SUB_BOTH };
	xmpp_stanza_t *iq = st("<iq type='result' id='r2'/>");
	char ver[32] = "7";

	(void)unused;
	sk_state_init(&s);
	assert_int_equal(sk_state_add_item(&s, &it), 0);
	assert_int_equal(sk_std_roster_result(&s, iq, ver, sizeof(ver)), 0);
	assert_int_equal(s.nitems, 1);
	assert_string_equal(ver, "7");
	sk_state_free(&s);
	xmpp_stanza_release(iq);
}

static void
a_wrong_digest_is_detected(void **unused)
{
	struct sk_state s;
	struct sk_update u;
	xmpp_stanza_t *delta = st("<sync xmlns='urn:xmpp:synckey:0' type='delta'>"
	    "<query xmlns='jabber:iq:roster'><item jid='new@p.test' subscription='none'/></query></sync>");
	char before[SK_DIGEST_B64], after[SK_DIGEST_B64];

	(void)unused;
	sk_state_init(&s);
	assert_int_equal(sk_digest_state_b64(&s, before), 0);
	sk_update_init(&u);
	assert_int_equal(sk_xml_update_parse(delta, &u), 0);
	assert_int_equal(sk_apply(&s, &u), 0);
	assert_int_equal(sk_digest_state_b64(&s, after), 0);
	/* a server digest naming the old state would not match: the client
	   then drops its key and asks for everything (client.c sync_once) */
	assert_string_not_equal(before, after);
	sk_update_free(&u);
	sk_state_free(&s);
	xmpp_stanza_release(delta);
}

/* ---- a whole session against a fake server (named as such) ------------
 * The fake server is a thread on 127.0.0.1 that speaks just enough of
 * RFC 6120 for libstrophe (PLAIN, bind), records every IQ the client
 * sends and answers them in order from a script, "%ID%" standing for the
 * request's id.  It is not an XMPP server: it serves one session.
 * With tls_offer it offers STARTTLS too and, asked for it, says <proceed/>
 * and then sends bytes that are no TLS handshake.
 */
#define FAKE_MAXIQ 8

struct fake {
	int		 lfd;
	unsigned short	 port;
	pthread_t	 th;
	const char	*script[FAKE_MAXIQ];	/* answers, in order */
	char		*got[FAKE_MAXIQ];	/* the client's IQs */
	size_t		 ngot;
	int		 tls_offer;		/* offer STARTTLS (then fail it) */
	int		 authed;		/* the client sent <auth/> */
};

static int
fake_send(int fd, const char *s)
{
	size_t n = strlen(s), off = 0;

	while (off < n) {
		ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);	/* the client may have hung up */

		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* Reads more into buf; -1 when the peer closed. */
static int
fake_read(int fd, char *buf, size_t *len, size_t cap)
{
	ssize_t r = read(fd, buf + *len, cap - 1 - *len);

	if (r <= 0)
		return -1;
	*len += (size_t)r;
	buf[*len] = '\0';
	return 0;
}

/* Waits until buf holds pat; returns a pointer just past it. */
static char *
fake_wait(int fd, char *buf, size_t *len, size_t cap, const char *pat)
{
	char *p;

	while ((p = strstr(buf, pat)) == NULL)
		if (fake_read(fd, buf, len, cap) != 0)
			return NULL;
	return p + strlen(pat);
}

static void
fake_consume(char *buf, size_t *len, const char *upto)
{
	size_t n = (size_t)(upto - buf);

	memmove(buf, upto, *len - n + 1);
	*len -= n;
}

#define FAKE_HDR "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " \
	"xmlns:stream='http://etherx.jabber.org/streams' id='fake1' from='p.test' version='1.0'>"

static void *
fake_run(void *arg)
{
	struct fake *fk = arg;
	static char buf[65536];
	size_t len = 0, next = 0;
	char *p, *end, out[8192], id[64];
	int fd = accept(fk->lfd, NULL, NULL);

	buf[0] = '\0';
	struct timeval tmo = { .tv_sec = 10 };

	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	/* stream, PLAIN, stream again, bind */
	if ((p = fake_wait(fd, buf, &len, sizeof(buf), "<stream:stream")) == NULL ||
	    (p = fake_wait(fd, buf, &len, sizeof(buf), ">")) == NULL)
		goto out;
	fake_consume(buf, &len, p);
	fake_send(fd, FAKE_HDR "<stream:features>");
	if (fk->tls_offer)
		fake_send(fd, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
	fake_send(fd, "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
	    "<mechanism>PLAIN</mechanism></mechanisms></stream:features>");
	if (fk->tls_offer) {
		if (fake_wait(fd, buf, &len, sizeof(buf), "<starttls") == NULL)
			goto out;
		fake_send(fd, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
		fake_send(fd, "this is not a TLS handshake\n");
		/* the client must now hang up; any <auth> in the clear is seen */
		if (fake_wait(fd, buf, &len, sizeof(buf), "<auth") != NULL)
			fk->authed = 1;
		goto out;
	}
	if ((p = fake_wait(fd, buf, &len, sizeof(buf), "</auth>")) == NULL)
		goto out;
	fk->authed = 1;
	fake_consume(buf, &len, p);
	fake_send(fd, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
	if ((p = fake_wait(fd, buf, &len, sizeof(buf), "<stream:stream")) == NULL ||
	    (p = fake_wait(fd, buf, &len, sizeof(buf), ">")) == NULL)
		goto out;
	fake_consume(buf, &len, p);
	fake_send(fd, FAKE_HDR "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>");
	if ((p = fake_wait(fd, buf, &len, sizeof(buf), "</iq>")) == NULL)
		goto out;
	{
		const char *q = strstr(buf, "id=\"");

		snprintf(id, sizeof(id), "%.*s", q ? (int)strcspn(q + 4, "\"") : 0, q ? q + 4 : "");
	}
	fake_consume(buf, &len, p);
	snprintf(out, sizeof(out), "<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
	    "<jid>me@p.test/fake</jid></bind></iq>", id);
	fake_send(fd, out);
	/* the session: answer each IQ from the script, ignore presence */
	for (;;) {
		char *lt = strchr(buf, '<');

		if (lt == NULL || strchr(lt, '>') == NULL) {
			if (fake_read(fd, buf, &len, sizeof(buf)) != 0)
				goto out;
			continue;
		}
		if (strncmp(lt, "</stream:stream>", 16) == 0) {
			fake_send(fd, "</stream:stream>");
			goto out;
		}
		if (strncmp(lt, "<iq", 3) != 0) {
			/* presence (or anything else): skip the element */
			const char *name = strncmp(lt, "<presence", 9) == 0 ? "</presence>" : NULL;
			char *gt = strchr(lt, '>');

			if (gt[-1] == '/' || name == NULL) {
				fake_consume(buf, &len, gt + 1);
			} else if ((end = strstr(lt, name)) != NULL) {
				fake_consume(buf, &len, end + strlen(name));
			} else if (fake_read(fd, buf, &len, sizeof(buf)) != 0) {
				goto out;
			}
			continue;
		}
		end = strchr(lt, '>');
		if (end[-1] == '/')
			end++;
		else if ((end = strstr(lt, "</iq>")) != NULL)
			end += 5;
		else {
			if (fake_read(fd, buf, &len, sizeof(buf)) != 0)
				goto out;
			continue;
		}
		{
			const char *q = strstr(lt, "id=\""), *tpl;
			size_t o = 0;

			snprintf(id, sizeof(id), "%.*s", q ? (int)strcspn(q + 4, "\"") : 0, q ? q + 4 : "");
			if (strstr(lt, "disco#info") != NULL && strstr(lt, "to=\"p.test\"") != NULL) {
				/* the server's features: no synckey adapter here */
				fake_consume(buf, &len, end);
				snprintf(out, sizeof(out), "<iq type='result' id='%s' from='p.test'>"
				    "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>", id);
				fake_send(fd, out);
				continue;
			}
			if (fk->ngot < FAKE_MAXIQ)
				fk->got[fk->ngot++] = strndup(lt, (size_t)(end - lt));
			fake_consume(buf, &len, end);
			tpl = next < FAKE_MAXIQ && fk->script[next] ? fk->script[next++] :
			    "<iq type='error' id='%ID%'><error type='cancel'><service-unavailable "
			    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
			while (*tpl && o + 64 < sizeof(out)) {
				if (strncmp(tpl, "%ID%", 4) == 0) {
					o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", id);
					tpl += 4;
				} else {
					out[o++] = *tpl++;
				}
			}
			out[o] = '\0';
			fake_send(fd, out);
		}
	}
out:
	close(fd);
	return NULL;
}

static void
fake_start(struct fake *fk)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tmo = { .tv_sec = 10 };
	socklen_t alen = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fk->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fk->lfd >= 0);
	assert_int_equal(bind(fk->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fk->lfd, 1), 0);
	/* accept() and read() give up after 10 s: a client that never comes
	   or stops talking fails the test instead of hanging it */
	assert_int_equal(setsockopt(fk->lfd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)), 0);
	assert_int_equal(getsockname(fk->lfd, (struct sockaddr *)&a, &alen), 0);
	fk->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&fk->th, NULL, fake_run, fk), 0);
}

/* Waits for the session's end; returns whether the client sent <auth/>. */
static int
fake_stop(struct fake *fk)
{
	int authed;
	size_t i;

	pthread_join(fk->th, NULL);
	close(fk->lfd);
	for (i = 0; i < fk->ngot; i++)
		free(fk->got[i]);
	authed = fk->authed;
	memset(fk, 0, sizeof(*fk));
	return authed;
}

/* The account the fake serves, through its component.  No case waits for
   the timeout: it only ends a session that hangs, and under valgrind on a
   loaded machine a TLS failure alone took more than 5 s (exit 6, timeout,
   instead of 7), so it is generous. */
#define FAKE_OPTS .jid = "me@p.test", .password = "pw", .host = "127.0.0.1", \
	.component = "sync.p.test", .timeout = 30

/* One sk_client_sync with o against a fake server started now. */
static int
session_with(struct sk_cache *c, struct fake *fk, struct sk_client_opts *o,
    struct sk_client_report *rep, char *err, size_t errlen)
{
	fake_start(fk);
	o->port = fk->port;
	return sk_client_sync(c, o, rep, err, errlen);
}

/* One sk_client_sync against a fake server running script. */
static int
session(struct sk_cache *c, struct fake *fk, unsigned stay, struct sk_client_report *rep)
{
	/* the fake speaks no TLS: plaintext allowed (the TLS tests below
	   use their own options) */
	struct sk_client_opts o = { FAKE_OPTS, .stay = stay, .allow_plaintext = 1 };
	char err[256];
	int rc;

	rc = session_with(c, fk, &o, rep, err, sizeof(err));
	if (rc != SK_CLIENT_OK)
		print_message("sk_client_sync: %d %s\n", rc, err);
	return rc;
}

#define SYNC_RESULT(type, key, digest, body) "<iq type='result' id='%ID%' from='sync.p.test'>" \
	"<sync xmlns='urn:xmpp:synckey:0' type='" type "' reason='no-key' key='" key "' digest='" \
	digest "'>" body "</sync></iq>"
#define ROSTER_ONE "<query xmlns='jabber:iq:roster'><item jid='ann@p.test' subscription='both'/></query>"

/* The digest of a state holding only ann (both), and of the empty state. */
static void
digests(char one[SK_DIGEST_B64], char none[SK_DIGEST_B64])
{
	struct sk_item ann = { .jid = "ann@p.test", .sub = SK_SUB_BOTH };
	struct sk_state s;

	sk_state_init(&s);
	assert_int_equal(sk_digest_state_b64(&s, none), 0);
	assert_int_equal(sk_state_add_item(&s, &ann), 0);
	assert_int_equal(sk_digest_state_b64(&s, one), 0);
	sk_state_free(&s);
}

static void
replace_all(char *dst, size_t len, const char *tpl, const char *one, const char *none)
{
	size_t o = 0;

	while (*tpl && o + SK_DIGEST_B64 + 1 < len) {
		if (strncmp(tpl, "@ONE@", 5) == 0) {
			o += (size_t)snprintf(dst + o, len - o, "%s", one);
			tpl += 5;
		} else if (strncmp(tpl, "@NONE@", 6) == 0) {
			o += (size_t)snprintf(dst + o, len - o, "%s", none);
			tpl += 6;
		} else {
			dst[o++] = *tpl++;
		}
	}
	dst[o] = '\0';
}

static void
the_checkpoint_key_is_kept_and_used_next_time(void **unused)
{
	char *dir = tmpdir_new(), one[SK_DIGEST_B64], none[SK_DIGEST_B64];
	char full[1024], delta[1024];
	struct sk_client_report rep;
	struct sk_cache *c;
	struct sk_state back;
	struct fake fk = { 0 };

	(void)unused;
	digests(one, none);
	replace_all(full, sizeof(full), SYNC_RESULT("full", "KEY1", "@ONE@", ROSTER_ONE), one, none);
	replace_all(delta, sizeof(delta), SYNC_RESULT("delta", "KEY3", "@ONE@", ""), one, none);
	assert_int_equal(sk_cache_open(dir, "me@p.test", "laptop", 1, &c), 0);
	/* full sync, a second online, checkpoint: the component gives KEY2 */
	fk.script[0] = full;
	fk.script[1] = "<iq type='result' id='%ID%' from='sync.p.test'>"
	    "<checkpoint xmlns='urn:xmpp:synckey:0' key='KEY2'/></iq>";
	assert_int_equal(session(c, &fk, 1, &rep), SK_CLIENT_OK);
	assert_string_equal(rep.mode, "full");
	assert_int_equal(fk.ngot, 2);
	assert_non_null(strstr(fk.got[0], "<sync"));
	assert_null(strstr(fk.got[0], "key="));
	assert_non_null(strstr(fk.got[1], "<checkpoint"));
	assert_non_null(strstr(fk.got[1], "key=\"KEY1\""));
	fake_stop(&fk);
	assert_string_equal(sk_cache_key(c), "KEY2");
	sk_cache_close(c);
	/* the next session syncs with the checkpoint's key */
	assert_int_equal(sk_cache_open(dir, "me@p.test", NULL, 0, &c), 0);
	assert_string_equal(sk_cache_key(c), "KEY2");
	fk.script[0] = delta;
	assert_int_equal(session(c, &fk, 0, &rep), SK_CLIENT_OK);
	assert_string_equal(rep.mode, "null");
	assert_int_equal(fk.ngot, 1);
	assert_non_null(strstr(fk.got[0], "key=\"KEY2\""));
	fake_stop(&fk);
	assert_string_equal(sk_cache_key(c), "KEY3");
	assert_int_equal(sk_cache_load(c, &back), 0);
	assert_int_equal(back.nitems, 1);
	sk_state_free(&back);
	sk_cache_close(c);
	tmpdir_free(dir);
}

static void
a_digest_mismatch_retries_without_the_key(void **unused)
{
	char *dir = tmpdir_new(), one[SK_DIGEST_B64], none[SK_DIGEST_B64];
	char bad[1024], full[1024];
	struct sk_client_report rep;
	struct sk_cache *c;
	struct sk_state st, back;
	struct fake fk = { 0 };

	(void)unused;
	digests(one, none);
	/* the cache: empty state, key OLD */
	sk_state_init(&st);
	assert_int_equal(sk_cache_open(dir, "me@p.test", "laptop", 1, &c), 0);
	assert_int_equal(sk_cache_commit(c, &st, "OLD", NULL), 0);
	/* a delta that does not lead to the server's state, then the full one */
	replace_all(bad, sizeof(bad), SYNC_RESULT("delta", "KEYD", "@ONE@", ""), one, none);
	replace_all(full, sizeof(full), SYNC_RESULT("full", "KEYF", "@ONE@", ROSTER_ONE), one, none);
	fk.script[0] = bad;
	fk.script[1] = full;
	assert_int_equal(session(c, &fk, 0, &rep), SK_CLIENT_OK);
	assert_int_equal(fk.ngot, 2);
	assert_non_null(strstr(fk.got[0], "key=\"OLD\""));
	assert_null(strstr(fk.got[1], "key="));		/* afresh */
	assert_string_equal(rep.mode, "full");
	fake_stop(&fk);
	assert_string_equal(sk_cache_key(c), "KEYF");
	assert_int_equal(sk_cache_load(c, &back), 0);
	assert_int_equal(back.nitems, 1);
	sk_state_free(&back);
	/* a server whose full state never matches its digest: an error, and
	   the cache keeps its state (the key was dropped for the retry) */
	replace_all(bad, sizeof(bad), SYNC_RESULT("full", "KEYX", "@NONE@", ROSTER_ONE), one, none);
	fk.script[0] = bad;
	fk.script[1] = bad;
	assert_int_equal(session(c, &fk, 0, &rep), SK_CLIENT_EPROTO);
	fake_stop(&fk);
	assert_string_not_equal(sk_cache_key(c), "KEYX");
	assert_int_equal(sk_cache_load(c, &back), 0);
	assert_int_equal(back.nitems, 1);
	sk_state_free(&back);
	sk_cache_close(c);
	sk_state_free(&st);
	tmpdir_free(dir);
}

/*
 * Without allow_plaintext, a server that offers no STARTTLS gets no SASL
 * at all (no PLAIN password in the clear): exit code ETLS, no <auth/>.
 * With it, the same server is used, and the report says "not secured".
 */
static void
plaintext_auth_is_refused_unless_allowed(void **unused)
{
	struct sk_client_opts o = { FAKE_OPTS };
	char *dir = tmpdir_new(), err[256], one[SK_DIGEST_B64], none[SK_DIGEST_B64], full[1024];
	struct sk_client_report rep;
	struct sk_cache *c;
	struct fake fk = { 0 };

	(void)unused;
	assert_int_equal(sk_cache_open(dir, "me@p.test", "laptop", 1, &c), 0);
	assert_int_equal(session_with(c, &fk, &o, &rep, err, sizeof(err)), SK_CLIENT_ETLS);
	assert_non_null(strstr(err, "offers no TLS"));
	assert_false(fake_stop(&fk));	/* joined: the whole session seen */
	assert_string_equal(sk_cache_key(c), "");

	digests(one, none);
	replace_all(full, sizeof(full), SYNC_RESULT("full", "KEY1", "@ONE@", ROSTER_ONE), one, none);
	fk.script[0] = full;
	assert_int_equal(session(c, &fk, 0, &rep), SK_CLIENT_OK);
	assert_int_equal(rep.secured, 0);
	assert_true(fake_stop(&fk));
	sk_cache_close(c);
	tmpdir_free(dir);
}

/*
 * STARTTLS offered and accepted, then no TLS handshake: the connection
 * ends with ETLS, plaintext allowed or not; never a fall-back to PLAIN
 * in the clear on the same stream.
 */
static void
a_failed_handshake_never_falls_back_to_plaintext(void **unused)
{
	struct sk_client_opts o = { FAKE_OPTS };
	char *dir = tmpdir_new(), err[256];
	struct sk_client_report rep;
	struct sk_cache *c;
	struct fake fk = { 0 };

	(void)unused;
	assert_int_equal(sk_cache_open(dir, "me@p.test", "laptop", 1, &c), 0);
	for (o.allow_plaintext = 0; o.allow_plaintext <= 1; o.allow_plaintext++) {
		fk.tls_offer = 1;
		assert_int_equal(session_with(c, &fk, &o, &rep, err, sizeof(err)), SK_CLIENT_ETLS);
		assert_non_null(strstr(err, "TLS handshake failed"));
		assert_false(fake_stop(&fk));
	}
	sk_cache_close(c);
	tmpdir_free(dir);
}

/* A CA file with no certificate is refused before any connection. */
static void
an_unusable_ca_file_is_a_usage_error(void **unused)
{
	struct sk_client_opts o = { FAKE_OPTS, .port = 1, .allow_plaintext = 1 };
	char *dir = tmpdir_new(), path[4200], err[256];
	struct sk_client_report rep;
	struct sk_cache *c;
	FILE *f;

	(void)unused;
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("not a certificate\n", f);
	fclose(f);
	assert_int_equal(sk_cache_open(dir, "me@p.test", "laptop", 1, &c), 0);
	o.cafile = path;
	assert_int_equal(sk_client_sync(c, &o, &rep, err, sizeof(err)), SK_CLIENT_EUSAGE);
	assert_non_null(strstr(err, "CA file"));
	o.cafile = "/nonexistent/ca.pem";
	assert_int_equal(sk_client_sync(c, &o, &rep, err, sizeof(err)), SK_CLIENT_EUSAGE);
	sk_cache_close(c);
	tmpdir_free(dir);
}

/*
 * The delegated path (xep/ "Discovery"): the request goes to the
 * account's own bare JID, and the server may answer for the account
 * without a `from` (RFC 6120 8.1.2.1; Prosody's error when the delegate
 * is down).  Taken as the answer at once, result or error, not waited
 * out until the timeout.
 */
static void
an_answer_from_the_account_without_from_is_taken(void **unused)
{
	struct sk_client_opts o = { FAKE_OPTS, .allow_plaintext = 1 };
	char *dir = tmpdir_new(), err[256], one[SK_DIGEST_B64], none[SK_DIGEST_B64], full[1024];
	struct sk_client_report rep;
	struct sk_cache *c;
	struct fake fk = { 0 };

	(void)unused;
	o.component = "me@p.test";	/* the service as the delegated path finds it */
	o.timeout = 5;			/* a wait for another answer ends in ETIMEOUT */
	digests(one, none);
	replace_all(full, sizeof(full), "<iq type='result' id='%ID%'><sync xmlns='urn:xmpp:synckey:0' "
	    "type='full' reason='no-key' key='KEY1' digest='@ONE@'>" ROSTER_ONE "</sync></iq>", one, none);
	assert_int_equal(sk_cache_open(dir, "me@p.test", "laptop", 1, &c), 0);
	fk.script[0] = full;
	assert_int_equal(session_with(c, &fk, &o, &rep, err, sizeof(err)), SK_CLIENT_OK);
	assert_non_null(strstr(fk.got[0], "to=\"me@p.test\""));
	assert_string_equal(rep.mode, "full");
	fake_stop(&fk);
	assert_string_equal(sk_cache_key(c), "KEY1");
	/* the fake's default answer: service-unavailable with no `from` */
	assert_int_equal(session_with(c, &fk, &o, &rep, err, sizeof(err)), SK_CLIENT_EPROTO);
	assert_non_null(strstr(err, "service-unavailable"));
	fake_stop(&fk);
	assert_string_equal(sk_cache_key(c), "KEY1");
	sk_cache_close(c);
	tmpdir_free(dir);
}

/*
 * xep/ "Applying an answer (client rules)", through a whole session: a
 * full answer with a reason of no version the client knows is applied and
 * its key kept; an answer of an unknown type is an error (exit 5), and
 * the cache keeps its state and key.
 */
static void
an_unknown_reason_is_applied_and_an_unknown_type_is_not(void **unused)
{
	struct sk_client_opts o = { FAKE_OPTS, .allow_plaintext = 1 };
	char *dir = tmpdir_new(), err[256], one[SK_DIGEST_B64], none[SK_DIGEST_B64], ans[1024];
	struct sk_client_report rep;
	struct sk_cache *c;
	struct sk_state back;
	struct fake fk = { 0 };

	(void)unused;
	digests(one, none);
	assert_int_equal(sk_cache_open(dir, "me@p.test", "laptop", 1, &c), 0);
	replace_all(ans, sizeof(ans), "<iq type='result' id='%ID%' from='sync.p.test'>"
	    "<sync xmlns='urn:xmpp:synckey:0' type='full' reason='some-new-reason' key='KEY1' "
	    "digest='@ONE@'>" ROSTER_ONE "</sync></iq>", one, none);
	fk.script[0] = ans;
	assert_int_equal(session_with(c, &fk, &o, &rep, err, sizeof(err)), SK_CLIENT_OK);
	fake_stop(&fk);
	assert_string_equal(rep.mode, "full");
	assert_string_equal(rep.reason, "some-new-reason");
	assert_string_equal(sk_cache_key(c), "KEY1");
	/* an answer that would fit as a delta, of a type of a later version: not taken */
	replace_all(ans, sizeof(ans), "<iq type='result' id='%ID%' from='sync.p.test'>"
	    "<sync xmlns='urn:xmpp:synckey:0' type='some-new-type' key='KEY2' digest='@ONE@'/></iq>",
	    one, none);
	fk.script[0] = ans;
	assert_int_equal(session_with(c, &fk, &o, &rep, err, sizeof(err)), SK_CLIENT_EPROTO);
	fake_stop(&fk);
	assert_non_null(strstr(err, "malformed sync answer"));
	assert_string_equal(sk_cache_key(c), "KEY1");
	assert_int_equal(sk_cache_load(c, &back), 0);
	assert_int_equal(back.nitems, 1);
	sk_state_free(&back);
	sk_cache_close(c);
	tmpdir_free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(standard_path_and_sync_path_agree),
		cmocka_unit_test(an_empty_roster_result_keeps_the_cached_roster),
		cmocka_unit_test(a_wrong_digest_is_detected),
		cmocka_unit_test(the_checkpoint_key_is_kept_and_used_next_time),
		cmocka_unit_test(a_digest_mismatch_retries_without_the_key),
		cmocka_unit_test(plaintext_auth_is_refused_unless_allowed),
		cmocka_unit_test(a_failed_handshake_never_falls_back_to_plaintext),
		cmocka_unit_test(an_unusable_ca_file_is_a_usage_error),
		cmocka_unit_test(an_answer_from_the_account_without_from_is_taken),
		cmocka_unit_test(an_unknown_reason_is_applied_and_an_unknown_type_is_not),
	};
	int rc;

	signal(SIGPIPE, SIG_IGN);	/* as the synckey program: a fake that hangs up */
	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
	return rc;
}
