/* libsynckey.c - the installed API (synckey.h): thin shells over the client core */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strophe.h>

#include "cache.h"
#include "digest.h"
#include "error.h"
#include "exchange.h"
#include "key.h"
#include "record.h"
#include "standard.h"
#include "synckey.h"
#include "xml.h"

/*
 * Why shells, and a prefix of their own: the core's sk_* names cover the
 * daemon's store, diff and views too, which no client may come to depend
 * on.  The shared library exports only synckey_* (Makefile.am), so the
 * core can change freely behind these few functions; the codes below are
 * the core's own, checked here so that the two headers cannot drift.
 */
_Static_assert(SYNCKEY_ENOTFOUND == SK_ENOTFOUND && SYNCKEY_EINVAL == SK_EINVAL &&
    SYNCKEY_ECORRUPT == SK_ECORRUPT && SYNCKEY_ESCHEMA == SK_ESCHEMA &&
    SYNCKEY_EFULL == SK_EFULL && SYNCKEY_ESTORE == SK_ESTORE &&
    SYNCKEY_ETOOBIG == SK_ETOOBIG && SYNCKEY_EFOREIGN == SK_EFOREIGN &&
    SYNCKEY_EDIGEST == SK_EDIGEST, "synckey.h and error.h disagree on a code");
_Static_assert(SYNCKEY_KEY_MAX == SK_KEY_MAX && SYNCKEY_DIGEST_B64 == SK_DIGEST_B64,
    "synckey.h and the core disagree on a size");

struct synckey_state {
	struct sk_state	 ss_st;
};

struct synckey_answer {
	struct sk_exchange an_x;
};

struct synckey_cache {
	struct sk_cache	*ca_c;
};

const char *
synckey_strerror(int code)
{
	return sk_strerror(code);
}

int
synckey_state_new(struct synckey_state **out)
{
	if ((*out = malloc(sizeof(**out))) == NULL)
		return ENOMEM;
	sk_state_init(&(*out)->ss_st);
	return 0;
}

void
synckey_state_free(struct synckey_state *st)
{
	if (st == NULL)
		return;
	sk_state_free(&st->ss_st);
	free(st);
}

size_t
synckey_state_items(const struct synckey_state *st)
{
	return st->ss_st.nitems;
}

size_t
synckey_state_presences(const struct synckey_state *st)
{
	return st->ss_st.npres;
}

int
synckey_state_item(const struct synckey_state *st, size_t i, struct synckey_item *out)
{
	const struct sk_item *it;

	if (i >= st->ss_st.nitems)
		return SK_ENOTFOUND;
	it = &st->ss_st.items[i];
	out->jid = it->jid;
	out->name = it->name;
	out->subscription = sk_sub_name(it->sub);
	out->ask = it->ask;
	out->groups = (const char *const *)it->groups;
	out->ngroups = it->ngroups;
	return 0;
}

int
synckey_state_presence(const struct synckey_state *st, size_t i, struct synckey_presence *out)
{
	const struct sk_pres *p;

	if (i >= st->ss_st.npres)
		return SK_ENOTFOUND;
	p = &st->ss_st.pres[i];
	out->jid = p->jid;
	out->show = p->show;
	out->status = p->status;
	out->priority = p->priority;
	out->xml = p->xml;
	return 0;
}

int
synckey_state_digest(const struct synckey_state *st, char out[SYNCKEY_DIGEST_B64])
{
	return sk_digest_state_b64(&st->ss_st, out);
}

int
synckey_state_apply_presence(struct synckey_state *st, xmpp_stanza_t *pres)
{
	return sk_std_presence(&st->ss_st, pres);
}

int
synckey_request_new(xmpp_ctx_t *ctx, const char *service, const char *client,
    const char *key, const char *more, xmpp_stanza_t **out)
{
	*out = NULL;
	if (service == NULL || service[0] == '\0' || client == NULL || !sk_key_client_ok(client) ||
	    (key != NULL && strlen(key) > SK_KEY_MAX))
		return SK_EINVAL;
	if ((*out = sk_exchange_request(ctx, service, client, key, more, 0)) == NULL)
		return ENOMEM;
	return 0;
}

int
synckey_answer_new(struct synckey_answer **out)
{
	if ((*out = malloc(sizeof(**out))) == NULL)
		return ENOMEM;
	sk_exchange_init(&(*out)->an_x);
	return 0;
}

void
synckey_answer_free(struct synckey_answer *a)
{
	if (a == NULL)
		return;
	sk_exchange_free(&a->an_x);
	free(a);
}

int
synckey_answer_add(struct synckey_answer *a, xmpp_stanza_t *iq)
{
	const char *name = xmpp_stanza_get_name(iq), *type = xmpp_stanza_get_type(iq);
	xmpp_stanza_t *sync;
	int rc;

	if (name == NULL || strcmp(name, "iq") != 0 || type == NULL ||
	    strcmp(type, "result") != 0 ||
	    (sync = xmpp_stanza_get_child_by_name_and_ns(iq, "sync", SK_NS_SYNC)) == NULL)
		return SK_EINVAL;
	/* a presence of another type is no record: malformed, for the caller */
	rc = sk_exchange_add(&a->an_x, sync);
	return rc == SK_ENOTFOUND ? SK_EINVAL : rc;
}

const char *
synckey_answer_more(const struct synckey_answer *a)
{
	return a->an_x.more;
}

const char *
synckey_answer_key(const struct synckey_answer *a)
{
	return a->an_x.key;
}

const char *
synckey_answer_reason(const struct synckey_answer *a)
{
	return a->an_x.reason;
}

int
synckey_answer_full(const struct synckey_answer *a)
{
	return a->an_x.u.full;
}

int
synckey_answer_apply(struct synckey_answer *a, struct synckey_state *st)
{
	return sk_exchange_finish(&a->an_x, &st->ss_st);
}

int
synckey_cache_open(const char *dir, const char *owner, const char *client_id, int create,
    struct synckey_cache **out)
{
	int rc;

	if ((*out = malloc(sizeof(**out))) == NULL)
		return ENOMEM;
	if ((rc = sk_cache_open(dir, owner, client_id, create, &(*out)->ca_c)) != 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

void
synckey_cache_close(struct synckey_cache *c)
{
	if (c == NULL)
		return;
	sk_cache_close(c->ca_c);
	free(c);
}

const char *
synckey_cache_client(const struct synckey_cache *c)
{
	return sk_cache_client(c->ca_c);
}

const char *
synckey_cache_key(const struct synckey_cache *c)
{
	return sk_cache_key(c->ca_c);
}

int
synckey_cache_load(struct synckey_cache *c, struct synckey_state *st)
{
	struct sk_state loaded;
	int rc;

	/* into a state of its own: st stays as it was on error */
	if ((rc = sk_cache_load(c->ca_c, &loaded)) != 0)
		return rc;
	sk_state_free(&st->ss_st);
	st->ss_st = loaded;
	return 0;
}

int
synckey_cache_commit(struct synckey_cache *c, const struct synckey_state *st, const char *key)
{
	char ver[256];

	/* the roster version of the standard path stays; the cache's
	   borrowed string may not outlive the transaction that rewrites it */
	if ((size_t)snprintf(ver, sizeof(ver), "%s", sk_cache_ver(c->ca_c)) >= sizeof(ver))
		return SK_ETOOBIG;
	return sk_cache_commit(c->ca_c, &st->ss_st, key, ver[0] ? ver : NULL);
}

int
synckey_cache_set_key(struct synckey_cache *c, const char *key)
{
	return sk_cache_set_key(c->ca_c, key);
}

int
synckey_presence_mark(xmpp_stanza_t *pres)
{
	return sk_xml_pres_mark(pres);
}
