/* benchd.h - synckeyd's handlers in-process for the benchmarks: stanzas in as text, answer bytes out */
#ifndef SK_BENCHD_H
#define SK_BENCHD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strophe.h>

#include "testutil.h"	/* first: its store helper needs cmocka */
#include "benchutil.h"
#include "daemon.h"
#include "error.h"
#include "log.h"
#include "xml.h"

/*
 * No network and no server: the benchmark plays the server.  Each stanza
 * is parsed from text with libstrophe (a new parser per stanza, as the
 * unit tests do) and given to skd_handle(); what synckeyd sends is kept
 * as text (the last stanza only) and counted.
 */
struct bd {
	struct skd_config	 cfg;
	struct skd		 d;
	xmpp_ctx_t		*ctx;
	char			*dir;
	char			*out;		/* the last stanza sent */
	size_t			 outlen, outcap;
	unsigned long		 seq;
	unsigned		 version;	/* of the requests: 0 or 1 (xep/ "Digest of version 1") */
};

static struct bd *bd_current;

static void
bd_die(const char *what)
{
	fprintf(stderr, "bench: %s\n", what);
	exit(1);
}

/* Exits with what failed unless rc is 0. */
static void
bd_check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "bench: %s: %s\n", what, sk_strerror(rc));
		exit(1);
	}
}

static void
bd_keep(const char *s, size_t n)
{
	struct bd *b = bd_current;

	if (n + 1 > b->outcap) {
		b->outcap = (n + 1) * 2;
		if ((b->out = realloc(b->out, b->outcap)) == NULL)
			bd_die("out of memory");
	}
	memcpy(b->out, s, n);
	b->out[n] = '\0';
	b->outlen = n;
}

static void
bd_send(struct skd *d, xmpp_stanza_t *st)
{
	char *buf;
	size_t len;

	if (xmpp_stanza_to_text(st, &buf, &len) != XMPP_EOK)
		bd_die("stanza_to_text");
	bd_keep(buf, len);
	xmpp_free(d->ctx, buf);
}

static void
bd_send_text(struct skd *d, const char *xml, size_t len)
{
	(void)d;
	bd_keep(xml, len);
}

static time_t
bd_s(void)
{
	return 1700000000;
}

static void
bd_feed(struct bd *b, const char *xml)
{
	xmpp_stanza_t *st = xmpp_stanza_new_from_string(b->ctx, xml);

	if (st == NULL)
		bd_die("unparsable stanza");
	skd_handle(&b->d, st);
	xmpp_stanza_release(st);
}

/* synckeyd's defaults (synckeyd.conf(5)), a store in a new temporary
   folder, roster and presence privileges granted for p.test; adapter:
   as if the server adapter had answered the probe. */
static void
bd_open(struct bd *b, int adapter)
{
	memset(b, 0, sizeof(*b));
	bd_current = b;
	b->dir = tmpdir_new();
	b->ctx = xmpp_ctx_new(NULL, NULL);
	{
		/* synckeyd's own defaults, from its option parser; the
		   secret file is read only when connecting: never here */
		char *argv[] = { "bench", "--server", "127.0.0.1:1", "--jid", "sync.p.test",
			"--secret-file", "/nonexistent", "--domain", "p.test", "--db", b->dir, NULL };

		if (skd_config_parse(&b->cfg, 11, argv) != 0)
			bd_die("configuration");
	}
	log_init(LOG_LVL_ERROR, 0, "bench");
	if (skd_init(&b->d, &b->cfg, b->ctx) != 0)
		bd_die("skd_init");
	b->d.send = bd_send;
	b->d.send_text = bd_send_text;
	b->d.now_s = bd_s;
	skd_link_up(&b->d);
	bd_feed(b, "<message from='p.test' to='sync.p.test'><privilege xmlns='urn:xmpp:privilege:2'>"
	    "<perm access='roster' type='get'/><perm access='presence' type='roster'/></privilege></message>");
	b->d.adapter[0] = adapter;
}

static void
bd_close(struct bd *b)
{
	skd_free(&b->d);
	skd_config_free(&b->cfg);
	xmpp_ctx_free(b->ctx);
	tmpdir_free(b->dir);
	free(b->out);
	bd_current = NULL;
}

/* The value of attribute name in the last stanza sent, of its first
   element elem ("<sync") or of the top one (NULL); "" when absent. */
static void
bd_attr(const struct bd *b, const char *elem, const char *name, char *out, size_t len)
{
	char pat[64];
	const char *p = b->out, *e;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), " %s=\"", name);
	if (p != NULL && elem != NULL)
		p = strstr(p, elem);
	if (p == NULL || (p = strstr(p, pat)) == NULL)
		return;
	p += strlen(pat);
	if ((e = strchr(p, '"')) != NULL)
		snprintf(out, len, "%.*s", (int)(e - p), p);
}

/* A sync request of user/bench with key ("" or NULL: none). */
static void
bd_request(struct bd *b, const char *user, const char *key)
{
	char xml[512];

	snprintf(xml, sizeof(xml), "<iq type='get' id='s%lu' from='%s/bench' to='sync.p.test'>"
	    "<sync xmlns='%s' client='bench'%s%s%s/></iq>", ++b->seq, user, sk_xml_sync_ns(b->version),
	    key && *key ? " key='" : "", key && *key ? key : "", key && *key ? "'" : "");
	bd_feed(b, xml);
}

/*
 * The server's answer to the roster get synckeyd sent last: body inside
 * <query/> (privilege-only), inside <view ver='VER'><query/></view>
 * (adapter), or <view ver='VER'><unchanged/></view> when body is NULL;
 * with since (adapter only), body is a change list since that version:
 * <view ver='VER'><changes since='SINCE'><query ver='VER'>body</query>
 * </changes></view> (doc/adapter-protocol.md "Change lists").  ver NULL
 * is "1".  Returned malloc'd, not fed.
 */
static char *
bd_view_answer(const struct bd *b, const char *user, const char *ver, const char *since,
    const char *body, size_t blen)
{
	char id[64], *xml;
	size_t cap = blen + 1024;
	int n, adapter = b->d.adapter[0];

	ver = ver ? ver : "1";
	bd_attr(b, NULL, "id", id, sizeof(id));
	if (id[0] == '\0' || strstr(b->out, "<iq") != b->out)
		bd_die("no roster get sent");
	if ((xml = malloc(cap)) == NULL)
		bd_die("out of memory");
	/* the adapter answers from DOMAIN/synckey (xep/ "Server adapters") */
	n = snprintf(xml, cap, "<iq type='result' from='%s' to='sync.p.test' id='%s'>",
	    adapter ? "p.test/synckey" : user, id);
	if (adapter)
		n += snprintf(xml + n, cap - (size_t)n, "<view xmlns='" SK_NS_ADAPTER "' ver='%s'>", ver);
	if (adapter && since != NULL)
		n += snprintf(xml + n, cap - (size_t)n, "<changes since='%s'>", since);
	if (body == NULL) {
		n += snprintf(xml + n, cap - (size_t)n, "<unchanged/>");
	} else {
		n += snprintf(xml + n, cap - (size_t)n, "<query xmlns='" SK_NS_ROSTER "'%s%s%s>",
		    since ? " ver='" : "", since ? ver : "", since ? "'" : "");
		memcpy(xml + n, body, blen);
		n += (int)blen;
		n += snprintf(xml + n, cap - (size_t)n, "</query>");
	}
	snprintf(xml + n, cap - (size_t)n, "%s%s</iq>", adapter && since ? "</changes>" : "",
	    adapter ? "</view>" : "");
	return xml;
}

/* bd_view_answer of version "1", no change list (inline: bench_scale has no use for it). */
static inline char *
bd_roster_answer(const struct bd *b, const char *user, const char *body, size_t blen)
{
	return bd_view_answer(b, user, NULL, NULL, body, blen);
}

/*
 * One sync of user through the handlers: the request with key (updated
 * from the answer), the roster get answered as bd_view_answer(ver,
 * since, body).  Returns the time by clock (bu_now_us: wall; bu_cpu_us:
 * the process's CPU) from the request text to the answer bytes, building
 * the server's roster text left out; type gets the answer's type ("full",
 * "delta"; "" for an error or when synckeyd sent something else, such
 * as a second roster get after refusing a change list).
 */
static double
bd_sync_view(struct bd *b, double (*clock)(void), const char *user, char *key, size_t keylen,
    const char *ver, const char *since, const char *body, size_t blen, char *type, size_t tlen)
{
	double t0, t1, t2;
	char *xml;

	t0 = clock();
	bd_request(b, user, key);
	t1 = clock();
	xml = bd_view_answer(b, user, ver, since, body, blen);
	t2 = clock();
	bd_feed(b, xml);
	t2 = clock() - t2 + (t1 - t0);
	free(xml);
	bd_attr(b, "<sync", "type", type, tlen);
	bd_attr(b, "<sync", "key", key, keylen);
	return t2;
}

/* bd_sync_view in wall time, version "1", no change list. */
static double
bd_sync(struct bd *b, const char *user, char *key, size_t keylen, const char *body, size_t blen,
    char *type, size_t tlen)
{
	return bd_sync_view(b, bu_now_us, user, key, keylen, NULL, NULL, body, blen, type, tlen);
}

#endif
