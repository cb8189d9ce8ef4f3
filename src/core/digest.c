/* digest.c - the digest of a whole state: its records sorted, then SHA-256 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"
#include "error.h"
#include "hash.h"
#include "lthash.h"
#include "record.h"

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

static int
feed(EVP_MD_CTX *md, sk_record_writer w, const void *rec,
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
		if ((rc = feed(md, sk_record_pres_any, pres[i], &buf, &cap)) != 0)
			goto out;
	for (i = 0; i < st->nitems; i++)
		if ((rc = feed(md, sk_record_item_any, items[i], &buf, &cap)) != 0)
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

int
sk_digest_version_b64(unsigned version, const struct sk_state *st, char out[SK_DIGEST_B64])
{
	struct sk_lthash h;
	int rc;

	if (version == 0)
		return sk_digest_state_b64(st, out);
	if (version != 1)
		return EINVAL;
	if ((rc = sk_lthash_state(st, &h)) != 0)
		return rc;
	return sk_lthash_b64(&h, out);
}
