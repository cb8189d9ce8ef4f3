/* digest.c - canonical records and the state digest of protocol.md */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"
#include "error.h"
#include "hash.h"

/* Appends one field and its 0x00 terminator, counting past cap. */
static size_t
put_field(unsigned char *buf, size_t cap, size_t off, const char *s, size_t len)
{
	if (off + len + 1 <= cap) {
		memcpy(buf + off, s, len);
		buf[off + len] = 0x00;
	}
	return off + len + 1;
}

static size_t
put_str(unsigned char *buf, size_t cap, size_t off, const char *s)
{
	if (s == NULL)
		s = "";
	return put_field(buf, cap, off, s, strlen(s));
}

static size_t
put_end(unsigned char *buf, size_t cap, size_t off)
{
	if (off + 1 <= cap)
		buf[off] = 0x01;
	return off + 1;
}

size_t
sk_digest_item_record(const struct sk_item *item, unsigned char *buf, size_t cap)
{
	const char *sub = sk_sub_name(item->sub);
	size_t off = 0, i;

	off = put_str(buf, cap, off, "R");
	off = put_str(buf, cap, off, item->jid);
	off = put_str(buf, cap, off, sub ? sub : "none");
	off = put_str(buf, cap, off, item->ask ? "subscribe" : "");
	off = put_str(buf, cap, off, item->name);
	for (i = 0; i < item->ngroups; i++)
		off = put_str(buf, cap, off, item->groups[i]);
	return put_end(buf, cap, off);
}

size_t
sk_digest_pres_record(const struct sk_pres *p, unsigned char *buf, size_t cap)
{
	char prio[16];
	size_t off = 0;
	int n;

	n = snprintf(prio, sizeof(prio), "%d", p->priority);
	off = put_str(buf, cap, off, "P");
	off = put_str(buf, cap, off, p->jid);
	off = put_str(buf, cap, off, p->show);
	off = put_field(buf, cap, off, prio, (size_t)n);
	off = put_str(buf, cap, off, p->status);
	return put_end(buf, cap, off);
}

static int
cmp_jidp(const void *a, const void *b)
{
	return strcmp(**(char **const *)a, **(char **const *)b);
}

/*
 * Sorted views of the records: an array of pointers to each record's jid
 * field (the first member of both record types), so a state that is not
 * sorted, or sorted some other way, still digests canonically.
 */
static char ***
sorted_jids(const void *base, size_t n, size_t stride)
{
	char ***v;
	size_t i;

	v = malloc((n ? n : 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		v[i] = (char **)((const char *)base + i * stride);
	/* The live state comes sorted: check before paying for a sort. */
	for (i = 1; i < n; i++)
		if (strcmp(*v[i - 1], *v[i]) > 0)
			break;
	if (i < n)
		qsort(v, n, sizeof(*v), cmp_jidp);
	return v;
}

typedef size_t (*record_writer)(const void *, unsigned char *, size_t);

static int
feed(EVP_MD_CTX *md, record_writer w, const void *rec,
    unsigned char **buf, size_t *cap)
{
	size_t need = w(rec, *buf, *cap);

	if (need > *cap) {
		unsigned char *nb = realloc(*buf, need * 2);

		if (nb == NULL)
			return ENOMEM;
		*buf = nb;
		*cap = need * 2;
		w(rec, *buf, *cap);
	}
	return EVP_DigestUpdate(md, *buf, need) == 1 ? 0 : ENOMEM;
}

static size_t
write_item(const void *rec, unsigned char *buf, size_t cap)
{
	return sk_digest_item_record(rec, buf, cap);
}

static size_t
write_pres(const void *rec, unsigned char *buf, size_t cap)
{
	return sk_digest_pres_record(rec, buf, cap);
}

int
sk_digest_state(const struct sk_state *st, unsigned char out[SK_DIGEST_LEN])
{
	char ***items = NULL, ***pres = NULL;
	unsigned char *buf = NULL;
	size_t cap = 1024, i;
	EVP_MD_CTX *md = NULL;
	unsigned int len;
	int rc = ENOMEM;

	/* struct sk_item and sk_pres both start with `char *jid`. */
	if ((buf = malloc(cap)) == NULL ||
	    (items = sorted_jids(st->items, st->nitems, sizeof(*st->items))) == NULL ||
	    (pres = sorted_jids(st->pres, st->npres, sizeof(*st->pres))) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	/* "P" < "R": every presence record sorts before every item. */
	for (i = 0; i < st->npres; i++)
		if ((rc = feed(md, write_pres, pres[i], &buf, &cap)) != 0)
			goto out;
	for (i = 0; i < st->nitems; i++)
		if ((rc = feed(md, write_item, items[i], &buf, &cap)) != 0)
			goto out;
	rc = EVP_DigestFinal_ex(md, out, &len) == 1 ? 0 : ENOMEM;
out:
	EVP_MD_CTX_free(md);
	free(pres);
	free(items);
	free(buf);
	return rc;
}

int
sk_digest_state_b64(const struct sk_state *st, char out[SK_DIGEST_B64])
{
	unsigned char d[SK_DIGEST_LEN];
	int rc;

	if ((rc = sk_digest_state(st, d)) != 0)
		return rc;
	EVP_EncodeBlock((unsigned char *)out, d, SK_DIGEST_LEN);
	return 0;
}

/*
 * Truncated SHA-256 of a record's canonical bytes followed by `extra`
 * (presence: the other children, which count for equality but not for
 * the digest).  Small records use a stack buffer.
 */
static void
record_hash(record_writer w, const void *rec, const char *extra,
    unsigned char out[SK_HASH_LEN])
{
	unsigned char stackbuf[512], *buf = stackbuf;
	unsigned char md[32];
	size_t xlen = extra ? strlen(extra) : 0, need;

	need = w(rec, buf, sizeof(stackbuf));
	if (need + xlen > sizeof(stackbuf)) {
		buf = malloc(need + xlen);
		if (buf == NULL) {
			/* A zero hash only makes the record look changed:
			   the client gets it again, never a wrong state. */
			memset(out, 0, SK_HASH_LEN);
			return;
		}
		w(rec, buf, need);
	}
	if (xlen > 0)
		memcpy(buf + need, extra, xlen);
	if (sk_sha256(buf, need + xlen, md) != 0)
		memset(md, 0, sizeof(md));	/* looks changed: resent, never wrong */
	memcpy(out, md, SK_HASH_LEN);
	if (buf != stackbuf)
		free(buf);
}

void
sk_digest_item_hash(const struct sk_item *item, unsigned char out[SK_HASH_LEN])
{
	record_hash(write_item, item, NULL, out);
}

void
sk_digest_pres_hash(const struct sk_pres *p, unsigned char out[SK_HASH_LEN])
{
	record_hash(write_pres, p, p->ext, out);
}
