/* sync.c - the sync engine: key check, snapshot read, diff, new key */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "error.h"
#include "snap.h"
#include "sync.h"

static const char *const reason_names[] = {
	[SK_REASON_NONE] = NULL,
	[SK_REASON_NO_KEY] = "no-key",
	[SK_REASON_UNKNOWN_KEY] = "unknown-key",
	[SK_REASON_EXPIRED] = "expired",
	[SK_REASON_INVALID_KEY] = "invalid-key",
	[SK_REASON_RESET] = "reset",
};

const char *
sk_reason_name(enum sk_reason r)
{
	if ((unsigned)r > SK_REASON_RESET)
		return NULL;
	return reason_names[r];
}

void
sk_sync_result_init(struct sk_sync_result *r)
{
	memset(r, 0, sizeof(*r));
	sk_changes_init(&r->changes);
}

void
sk_sync_result_free(struct sk_sync_result *r)
{
	sk_changes_free(&r->changes);
	free(r->old_blob);
	free(r->live_blob);
	sk_sync_result_init(r);
}

/* What a presented key amounts to (xep/ "Keys"). */
struct keycheck {
	enum sk_reason		reason;	/* NONE: usable */
	struct sk_key		key;
	struct sk_client_rec	rec;
	int			have_rec;
};

static int
check_key(struct sk_store *s, const struct sk_sync_cfg *cfg, const char *bare,
    const char *client, const char *text, uint64_t now, struct keycheck *kc)
{
	uint32_t epoch;
	int rc;

	memset(kc, 0, sizeof(*kc));
	rc = sk_store_client_get(s, bare, client, &kc->rec);
	if (rc != 0 && rc != SK_ENOTFOUND)
		return rc;
	kc->have_rec = rc == 0;
	if ((rc = sk_store_epoch(s, &epoch)) != 0)
		return rc;

	/* The MAC is checked first: nothing in a key is believed before. */
	if (text == NULL)
		kc->reason = SK_REASON_NO_KEY;
	else if (sk_store_key_decode(s, bare, client, text, now, &kc->key) != 0)
		kc->reason = SK_REASON_INVALID_KEY;
	else if (now > kc->key.issued && now - kc->key.issued > cfg->ttl)
		kc->reason = SK_REASON_EXPIRED;
	else if (kc->key.epoch != epoch)
		kc->reason = SK_REASON_RESET;
	else if (!kc->have_rec || kc->rec.session != kc->key.session ||
	    kc->key.txn == 0 ||
	    (kc->key.txn != kc->rec.cur && kc->key.txn != kc->rec.prev))
		kc->reason = SK_REASON_UNKNOWN_KEY;
	return 0;
}

/*
 * Stores the snapshot of the live state under a new transaction and moves
 * the key lifecycle: after a usable key K, exactly K and the new key stay
 * valid; after a full sync, only the new key.
 */
static int
issue(struct sk_store *s, const struct sk_sync_cfg *cfg, const char *bare,
    const char *client, struct keycheck *kc, const unsigned char *blob,
    size_t len, uint64_t now, char out[SK_KEY_MAX + 1])
{
	struct sk_client_rec *rec = &kc->rec;
	struct sk_key k;
	uint64_t txn;
	int rc;

	if ((rc = sk_store_next_txn(s, &txn)) != 0)
		return rc;
	if (!kc->have_rec) {
		if ((rc = sk_store_client_evict(s, bare, cfg->max_clients, 1, NULL)) != 0)
			return rc;
		memset(rec, 0, sizeof(*rec));
		rec->created = now;
	}
	if (kc->reason == SK_REASON_NONE) {
		uint64_t drop = kc->key.txn == rec->cur ? rec->prev : rec->cur;

		if (drop != 0 && drop != kc->key.txn &&
		    (rc = sk_store_snap_del(s, bare, client, drop)) != 0 &&
		    rc != SK_ENOTFOUND)
			return rc;
		rec->prev = kc->key.txn;
	} else {
		/* A full sync starts a new session: every older key of this
		   client becomes unknown. */
		if (rec->cur && (rc = sk_store_snap_del(s, bare, client, rec->cur)) != 0 &&
		    rc != SK_ENOTFOUND)
			return rc;
		if (rec->prev && (rc = sk_store_snap_del(s, bare, client, rec->prev)) != 0 &&
		    rc != SK_ENOTFOUND)
			return rc;
		if (RAND_bytes((unsigned char *)&rec->session, sizeof(rec->session)) != 1)
			return SK_ESTORE;
		rec->prev = 0;
	}
	rec->cur = txn;
	rec->used = now;
	if ((rc = sk_store_snap_put(s, bare, client, txn, blob, len)) != 0 ||
	    (rc = sk_store_client_put(s, bare, client, rec)) != 0)
		return rc;
	if ((rc = sk_store_epoch(s, &k.epoch)) != 0)
		return rc;
	k.session = rec->session;
	k.txn = txn;
	k.issued = now;
	return sk_key_encode(sk_store_secret(s), bare, client, &k, out);
}

/*
 * The answer to a sync against a live state with its blob (livelen bytes)
 * and digest: a view's, or built by sk_sync_run (which gives the blob to
 * res, *own_blob).
 */
static int
run(struct sk_store *s, const struct sk_sync_cfg *cfg, const char *bare,
    const char *client, const char *key, const struct sk_state *live,
    const unsigned char *live_blob, size_t livelen, const char *digest,
    uint64_t now, struct sk_sync_result *res)
{
	struct sk_snap vold, vlive;
	struct keycheck kc;
	const void *blob;
	size_t len;
	int rc;

	if ((rc = check_key(s, cfg, bare, client, key, now, &kc)) != 0)
		goto fail;
	if (kc.reason == SK_REASON_NONE) {
		rc = sk_store_snap_get(s, bare, client, kc.key.txn, &blob, &len);
		if (rc == SK_ENOTFOUND) {
			kc.reason = SK_REASON_UNKNOWN_KEY;
		} else if (rc != 0) {
			goto fail;
		} else {
			/* Copied: the store may reuse the page once the
			   snapshot is replaced below. */
			if ((res->old_blob = malloc(len ? len : 1)) == NULL) {
				rc = ENOMEM;
				goto fail;
			}
			memcpy(res->old_blob, blob, len);
		}
	}
	if (kc.reason == SK_REASON_NONE) {
		if (sk_snap_view(&vold, res->old_blob, len) != 0) {
			/* A damaged snapshot costs a full sync, not an error. */
			kc.reason = SK_REASON_UNKNOWN_KEY;
		} else if ((rc = sk_snap_view(&vlive, live_blob, livelen)) != 0 ||
		    (rc = sk_diff(&vold, &vlive, &res->changes)) != 0) {
			if (rc != SK_ECORRUPT)
				goto fail;
			sk_changes_free(&res->changes);
			kc.reason = SK_REASON_UNKNOWN_KEY;
		}
	}
	res->full = kc.reason != SK_REASON_NONE;
	res->reason = kc.reason;
	memcpy(res->digest, digest, sizeof(res->digest));
	if ((rc = issue(s, cfg, bare, client, &kc, live_blob, livelen, now,
	    res->key)) != 0)
		goto fail;
	return 0;
fail:
	sk_sync_result_free(res);
	return rc;
}

int
sk_sync_run(struct sk_store *s, const struct sk_sync_cfg *cfg,
    const char *bare, const char *client, const char *key,
    const struct sk_state *live, uint64_t now, struct sk_sync_result *res)
{
	char digest[SK_DIGEST_B64];
	unsigned char *blob;
	size_t len;
	int rc;

	sk_sync_result_init(res);
	if ((rc = sk_snap_build(live, &blob, &len)) != 0)
		return rc;
	if ((rc = sk_digest_state_b64(live, digest)) != 0) {
		free(blob);
		return rc;
	}
	res->live_blob = blob;	/* the changes borrow from it */
	return run(s, cfg, bare, client, key, live, blob, len, digest, now, res);
}

int
sk_sync_run_view(struct sk_store *s, const struct sk_sync_cfg *cfg,
    const char *bare, const char *client, const char *key,
    struct sk_view *v, unsigned version, uint64_t now, struct sk_sync_result *res)
{
	char digest[SK_DIGEST_B64];
	int rc;

	sk_sync_result_init(res);
	if ((rc = sk_view_digest(v, version, digest)) != 0)
		return rc == EINVAL ? SK_EINVAL : rc;
	return run(s, cfg, bare, client, key, &v->live, v->blob, v->len,
	    digest, now, res);
}

static int
checkpoint(struct sk_store *s, const struct sk_sync_cfg *cfg,
    const char *bare, const char *client, const char *key,
    const struct sk_state *live, const struct sk_view *v, uint64_t now,
    char newkey[SK_KEY_MAX + 1])
{
	static const int codes[] = {
		[SK_REASON_NO_KEY] = SK_EKEY,
		[SK_REASON_UNKNOWN_KEY] = SK_ENOTFOUND,
		[SK_REASON_EXPIRED] = SK_EEXPIRED,
		[SK_REASON_INVALID_KEY] = SK_EKEY,
		[SK_REASON_RESET] = SK_ERESET,
	};
	struct keycheck kc;
	unsigned char *blob = NULL;
	size_t len;
	int rc;

	if ((rc = check_key(s, cfg, bare, client, key, now, &kc)) != 0)
		return rc;
	if (kc.reason != SK_REASON_NONE)
		return codes[kc.reason];
	if (v != NULL)
		return issue(s, cfg, bare, client, &kc, v->blob, v->len, now, newkey);
	if ((rc = sk_snap_build(live, &blob, &len)) != 0)
		return rc;
	rc = issue(s, cfg, bare, client, &kc, blob, len, now, newkey);
	free(blob);
	return rc;
}

int
sk_sync_checkpoint(struct sk_store *s, const struct sk_sync_cfg *cfg,
    const char *bare, const char *client, const char *key,
    const struct sk_state *live, uint64_t now, char newkey[SK_KEY_MAX + 1])
{
	return checkpoint(s, cfg, bare, client, key, live, NULL, now, newkey);
}

int
sk_sync_checkpoint_view(struct sk_store *s, const struct sk_sync_cfg *cfg,
    const char *bare, const char *client, const char *key,
    const struct sk_view *v, uint64_t now, char newkey[SK_KEY_MAX + 1])
{
	return checkpoint(s, cfg, bare, client, key, &v->live, v, now, newkey);
}

int
sk_sync_to_update(const struct sk_sync_result *res, const struct sk_state *live,
    struct sk_update *u)
{
	size_t i;
	int rc = 0;

	sk_update_init(u);
	u->full = res->full;
	if (res->full) {
		rc = sk_state_copy(&u->put, live);
		if (rc != 0)
			sk_state_init(&u->put);
		return rc;
	}
	for (i = 0; i < res->changes.n && rc == 0; i++) {
		const struct sk_change *c = &res->changes.v[i];
		struct sk_item gone = { 0 };

		switch (c->kind) {
		case SK_CH_ITEM:
			rc = sk_state_add_item(&u->put, &live->items[c->ref]);
			break;
		case SK_CH_PRES:
			rc = sk_state_add_pres(&u->put, &live->pres[c->ref]);
			break;
		case SK_CH_ITEM_REMOVE:
			if ((gone.jid = strndup(c->bare, c->barelen)) == NULL) {
				rc = ENOMEM;
				break;
			}
			gone.sub = SK_SUB_REMOVE;
			rc = sk_state_add_item(&u->put, &gone);
			free(gone.jid);
			break;
		case SK_CH_PRES_GONE: {
			char *full = malloc((size_t)c->barelen + c->reslen + 2);

			if (full == NULL) {
				rc = ENOMEM;
				break;
			}
			/* An empty resource is a presence from the bare JID
			   (a valid JID never has an empty resource). */
			memcpy(full, c->bare, c->barelen);
			full[c->barelen] = '/';
			memcpy(full + c->barelen + 1, c->res, c->reslen);
			rc = sk_strv_add(&u->gone, full, c->reslen ?
			    (size_t)c->barelen + c->reslen + 1 : c->barelen);
			free(full);
			break;
		}
		case SK_CH_PRES_GONE_ALL:
			rc = sk_strv_add(&u->gone_all, c->bare, c->barelen);
			break;
		}
	}
	if (rc != 0)
		sk_update_free(u);
	return rc;
}
