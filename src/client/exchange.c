/* exchange.c - one sync exchange seen from the client: request, parts, verified result */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>
#include <strophe.h>

#include "error.h"
#include "exchange.h"
#include "xml.h"

void
sk_exchange_id(char id[SK_EXCHANGE_IDLEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[(SK_EXCHANGE_IDLEN - 3) / 2];
	size_t i;

	/* a seeded OpenSSL never fails; if it did, ids would only repeat */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	id[0] = 's';
	id[1] = 'k';
	for (i = 0; i < sizeof(rnd); i++) {
		id[2 + 2 * i] = hex[rnd[i] >> 4];
		id[3 + 2 * i] = hex[rnd[i] & 15];
	}
	id[2 + 2 * sizeof(rnd)] = '\0';
}

xmpp_stanza_t *
sk_exchange_iq(xmpp_ctx_t *ctx, const char *type, const char *to, const char *name,
    const char *ns, xmpp_stanza_t **child)
{
	char id[SK_EXCHANGE_IDLEN];
	xmpp_stanza_t *iq, *c;

	sk_exchange_id(id);
	if ((iq = xmpp_iq_new(ctx, type, id)) == NULL)
		return NULL;
	if ((c = xmpp_stanza_new(ctx)) == NULL)
		goto fail;
	if ((to != NULL && xmpp_stanza_set_to(iq, to) != XMPP_EOK) ||
	    xmpp_stanza_set_name(c, name) != XMPP_EOK ||
	    xmpp_stanza_set_ns(c, ns) != XMPP_EOK ||
	    xmpp_stanza_add_child(iq, c) != XMPP_EOK) {
		xmpp_stanza_release(c);
		goto fail;
	}
	xmpp_stanza_release(c);	/* the IQ holds its own reference */
	if (child != NULL)
		*child = c;
	return iq;
fail:
	xmpp_stanza_release(iq);
	return NULL;
}

xmpp_stanza_t *
sk_exchange_request(xmpp_ctx_t *ctx, const char *to, const char *client, const char *key,
    const char *more, unsigned version)
{
	xmpp_stanza_t *iq, *c;
	int rc;

	if ((iq = sk_exchange_iq(ctx, "get", to, "sync", sk_xml_sync_ns(version), &c)) == NULL)
		return NULL;
	rc = xmpp_stanza_set_attribute(c, "client", client);
	if (rc == XMPP_EOK && more != NULL && more[0] != '\0')
		rc = xmpp_stanza_set_attribute(c, "more", more);
	else if (rc == XMPP_EOK && key != NULL && key[0] != '\0')
		rc = xmpp_stanza_set_attribute(c, "key", key);
	if (rc != XMPP_EOK) {
		xmpp_stanza_release(iq);
		return NULL;
	}
	return iq;
}

void
sk_exchange_init(struct sk_exchange *x)
{
	memset(x, 0, sizeof(*x));
	sk_update_init(&x->u);
}

void
sk_exchange_free(struct sk_exchange *x)
{
	sk_update_free(&x->u);
	sk_exchange_init(x);
}

int
sk_exchange_head(struct sk_exchange *x, xmpp_stanza_t *sync)
{
	const char *t = xmpp_stanza_get_type(sync), *k = xmpp_stanza_get_attribute(sync, "key");
	const char *d = xmpp_stanza_get_attribute(sync, "digest");
	const char *why = xmpp_stanza_get_attribute(sync, "reason");
	int version = sk_xml_sync_version(xmpp_stanza_get_ns(sync));

	if (x->parts > 0)
		return 0;	/* later parts carry records only */
	if (version < 0 || t == NULL || k == NULL || d == NULL || strlen(k) > SK_KEY_MAX ||
	    strlen(d) >= sizeof(x->digest) ||
	    (strcmp(t, "full") != 0 && strcmp(t, "delta") != 0))
		return SK_EINVAL;
	x->version = (unsigned)version;
	x->u.full = strcmp(t, "full") == 0;
	snprintf(x->key, sizeof(x->key), "%s", k);
	snprintf(x->digest, sizeof(x->digest), "%s", d);
	snprintf(x->reason, sizeof(x->reason), "%s", x->u.full && why ? why : "");
	x->partial = (why = xmpp_stanza_get_attribute(sync, "presence")) != NULL &&
	    strcmp(why, "partial") == 0;
	return 0;
}

int
sk_exchange_body(struct sk_exchange *x, xmpp_stanza_t *sync)
{
	const char *more = xmpp_stanza_get_attribute(sync, "more");
	int rc;

	if ((rc = sk_xml_update_parse(sync, &x->u)) != 0)
		return rc;
	if (more != NULL && strlen(more) > SK_EXCHANGE_MORE_MAX)
		return SK_ETOOBIG;
	snprintf(x->more, sizeof(x->more), "%s", more ? more : "");
	x->parts++;
	return 0;
}

int
sk_exchange_add(struct sk_exchange *x, xmpp_stanza_t *sync)
{
	int rc;

	if ((rc = sk_exchange_head(x, sync)) != 0)
		return rc;
	return sk_exchange_body(x, sync);
}

int
sk_exchange_finish(struct sk_exchange *x, struct sk_state *st)
{
	struct sk_state next;
	char mine[SK_DIGEST_B64];
	int rc;

	if (x->parts == 0 || x->more[0] != '\0')
		return SK_EINVAL;
	/* apply to a copy: the held state changes only once verified */
	if ((rc = sk_state_copy(&next, st)) != 0)
		return rc;
	if ((rc = sk_apply(&next, &x->u)) == 0 &&
	    (rc = sk_digest_version_b64(x->version, &next, mine)) == 0 &&
	    strcmp(mine, x->digest) != 0)
		rc = SK_EDIGEST;
	if (rc != 0) {
		sk_state_free(&next);
		return rc;
	}
	sk_state_free(st);
	*st = next;
	return 0;
}
