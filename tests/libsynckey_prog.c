/* libsynckey_prog.c - a libsynckey client built against the installed header (test_libsynckey.sh) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strophe.h>
#include <synckey.h>

/*
 * No network: the answers a sync service would send are canned here, and
 * the program plays a client that syncs twice.  A full answer in two
 * parts, then a delta that removes bob (and his presence), adds carol
 * (subscription from: no presence) and changes alice's resources, then a
 * delta whose digest names another state.  The digests were computed
 * apart from this library, from the canonical form of xep/ (records
 * "R\0jid\0sub\0ask\0name\0groups...\0\1" and "P\0jid\0show\0prio\0status\0\1",
 * sorted, SHA-256, base64), by a few lines of Python.
 */
#define DIGEST_FULL	"VK0/gGY/zYPwW+JpE62irRfq6psrljk0Ac2nOaHRKjM="
#define DIGEST_DELTA	"X7x64CEWGoHCPxAZONWf9co1XbBO2HNPGNxU/lNO4Nk="
#define SVC		"sync.a.test"

static const char *full1 =
    "<iq type='result' id='x' from='" SVC "'><sync xmlns='urn:xmpp:synckey:0' type='full'"
    " reason='no-key' key='K1' digest='" DIGEST_FULL "' more='page2'>"
    "<query xmlns='jabber:iq:roster'>"
    "<item jid='alice@a.test' name='Alice' subscription='both'><group>Work</group>"
    "<group>Friends</group></item>"
    "<item jid='bob@b.test' subscription='to'/></query>"
    "<presence xmlns='jabber:client' from='alice@a.test/phone'><show>away</show>"
    "<status>out</status><priority>5</priority></presence>"
    "</sync></iq>";
static const char *full2 =
    "<iq type='result' id='y' from='" SVC "'><sync xmlns='urn:xmpp:synckey:0' type='more'>"
    "<presence xmlns='jabber:client' from='bob@b.test/pc'/>"
    "</sync></iq>";
static const char *delta =
    "<iq type='result' id='z' from='" SVC "'><sync xmlns='urn:xmpp:synckey:0' type='delta'"
    " key='K2' digest='" DIGEST_DELTA "'>"
    "<query xmlns='jabber:iq:roster'>"
    "<item jid='bob@b.test' subscription='remove'/>"
    "<item jid='carol@c.test' subscription='from'/></query>"
    "<presence xmlns='jabber:client' from='alice@a.test/phone' type='unavailable'/>"
    "<presence xmlns='jabber:client' from='bob@b.test' type='unavailable'/>"
    "<presence xmlns='jabber:client' from='alice@a.test/laptop'><show>dnd</show>"
    "<priority>1</priority></presence>"
    "</sync></iq>";
static const char *wrong =
    "<iq type='result' id='w' from='" SVC "'><sync xmlns='urn:xmpp:synckey:0' type='delta'"
    " key='K3' digest='" DIGEST_FULL "'/></iq>";

static int failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "libsynckey_prog:%d: %s\n", __LINE__, #cond);	\
		failed = 1;						\
	}								\
} while (0)

/* Applies the canned parts to st; returns the answer's result. */
static int
sync_answer(xmpp_ctx_t *ctx, const char **parts, size_t nparts, struct synckey_state *st,
    char key[SYNCKEY_KEY_MAX + 1])
{
	struct synckey_answer *a;
	xmpp_stanza_t *req, *iq;
	size_t i;
	int rc;

	if ((rc = synckey_answer_new(&a)) != 0)
		return rc;
	for (i = 0; i < nparts; i++) {
		/* what the client would send for this part */
		rc = synckey_request_new(ctx, SVC, "prog-1", key, i ? synckey_answer_more(a) : NULL, &req);
		CHECK(rc == 0 && xmpp_stanza_get_id(req) != NULL);
		if (rc == 0)
			xmpp_stanza_release(req);
		iq = xmpp_stanza_new_from_string(ctx, parts[i]);
		rc = synckey_answer_add(a, iq);
		xmpp_stanza_release(iq);
		if (rc != 0)
			goto out;
	}
	CHECK(synckey_answer_more(a)[0] == '\0');
	if ((rc = synckey_answer_apply(a, st)) == 0)
		snprintf(key, SYNCKEY_KEY_MAX + 1, "%s", synckey_answer_key(a));
out:
	synckey_answer_free(a);
	return rc;
}

static void
check_request(xmpp_ctx_t *ctx)
{
	xmpp_stanza_t *req, *sync;

	CHECK(synckey_request_new(ctx, SVC, "prog-1", "K1", NULL, &req) == 0);
	sync = xmpp_stanza_get_child_by_name_and_ns(req, "sync", SYNCKEY_NS);
	CHECK(sync != NULL && strcmp(xmpp_stanza_get_attribute(sync, "key"), "K1") == 0);
	CHECK(strcmp(xmpp_stanza_get_to(req), SVC) == 0 && strcmp(xmpp_stanza_get_type(req), "get") == 0);
	xmpp_stanza_release(req);
	CHECK(synckey_request_new(ctx, SVC, "bad client", NULL, NULL, &req) == SYNCKEY_EINVAL);
	CHECK(req == NULL);
}

static void
check_marker(xmpp_ctx_t *ctx)
{
	xmpp_stanza_t *pres = xmpp_presence_new(ctx);

	CHECK(synckey_presence_mark(pres) == 0);
	CHECK(xmpp_stanza_get_child_by_name_and_ns(pres, "sync-presence", SYNCKEY_NS) != NULL);
	CHECK(synckey_presence_mark(pres) == SYNCKEY_EINVAL);
	xmpp_stanza_release(pres);
}

/* The state after the delta, read back from a reopened cache. */
static void
check_cache(const char *dir, const struct synckey_state *st, const char *key)
{
	struct synckey_cache *c;
	struct synckey_state *back;
	struct synckey_item it;
	struct synckey_presence p;
	char d[SYNCKEY_DIGEST_B64];

	CHECK(synckey_cache_open(dir, "me@a.test", "prog-1", 1, &c) == 0);
	CHECK(synckey_cache_commit(c, st, key) == 0);
	synckey_cache_close(c);
	CHECK(synckey_cache_open(dir, "you@a.test", NULL, 0, &c) == SYNCKEY_EFOREIGN);
	CHECK(synckey_cache_open(dir, "me@a.test", NULL, 0, &c) == 0);
	CHECK(strcmp(synckey_cache_key(c), "K2") == 0);
	CHECK(strcmp(synckey_cache_client(c), "prog-1") == 0);
	CHECK(synckey_state_new(&back) == 0);
	CHECK(synckey_cache_load(c, back) == 0);
	CHECK(synckey_state_digest(back, d) == 0 && strcmp(d, DIGEST_DELTA) == 0);
	CHECK(synckey_state_items(back) == 2 && synckey_state_presences(back) == 1);
	CHECK(synckey_state_item(back, 0, &it) == 0 && strcmp(it.jid, "alice@a.test") == 0);
	CHECK(it.ngroups == 2 && strcmp(it.groups[0], "Friends") == 0 &&
	    strcmp(it.subscription, "both") == 0 && strcmp(it.name, "Alice") == 0);
	CHECK(synckey_state_presence(back, 0, &p) == 0 && strcmp(p.jid, "alice@a.test/laptop") == 0);
	CHECK(p.show != NULL && strcmp(p.show, "dnd") == 0 && p.priority == 1);
	CHECK(synckey_state_item(back, 2, &it) == SYNCKEY_ENOTFOUND);
	CHECK(synckey_cache_set_key(c, NULL) == 0 && synckey_cache_key(c)[0] == '\0');
	synckey_state_free(back);
	synckey_cache_close(c);
}

int
main(int argc, char **argv)
{
	const char *parts_full[] = { full1, full2 };
	struct synckey_state *st;
	xmpp_ctx_t *ctx;
	char key[SYNCKEY_KEY_MAX + 1] = "", d[SYNCKEY_DIGEST_B64];
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: libsynckey_prog CACHE-DIR\n");
		return 2;
	}
	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	check_request(ctx);
	check_marker(ctx);
	CHECK(synckey_state_new(&st) == 0);

	rc = sync_answer(ctx, parts_full, 2, st, key);
	CHECK(rc == 0 && strcmp(key, "K1") == 0);
	CHECK(synckey_state_digest(st, d) == 0 && strcmp(d, DIGEST_FULL) == 0);
	CHECK(synckey_state_items(st) == 2 && synckey_state_presences(st) == 2);

	rc = sync_answer(ctx, &delta, 1, st, key);
	CHECK(rc == 0 && strcmp(key, "K2") == 0);
	CHECK(synckey_state_digest(st, d) == 0 && strcmp(d, DIGEST_DELTA) == 0);

	/* a digest of another state: refused, and the state stays */
	rc = sync_answer(ctx, &wrong, 1, st, key);
	CHECK(rc == SYNCKEY_EDIGEST && strcmp(key, "K2") == 0);
	CHECK(synckey_state_digest(st, d) == 0 && strcmp(d, DIGEST_DELTA) == 0);
	CHECK(strcmp(synckey_strerror(SYNCKEY_EDIGEST), "unknown error") != 0);
	CHECK(strcmp(synckey_strerror(ENOMEM), strerror(ENOMEM)) == 0);

	check_cache(argv[1], st, key);
	synckey_state_free(st);
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
	if (!failed)
		printf("libsynckey_prog: full in two parts, delta, wrong digest, cache: ok\n");
	return failed;
}
