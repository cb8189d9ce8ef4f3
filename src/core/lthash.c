/* lthash.c - LtHash16 over canonical records: ChaCha20-expanded SHA-256, summed lane-wise */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hash.h"
#include "lthash.h"
#include "record.h"

static EVP_CIPHER *chacha;
static EVP_CIPHER_CTX *cctx;

/* The element of a record: 2048 bytes of ChaCha20 under SHA-256(rec). */
static int
expand(const void *rec, size_t len, unsigned char out[SK_LTHASH_BYTES])
{
	static const unsigned char zero[SK_LTHASH_BYTES];
	/* OpenSSL's ChaCha20 IV: the 32-bit block counter (little-endian)
	   then RFC 8439's 96-bit nonce; all zero here */
	static const unsigned char iv[16];
	unsigned char key[32];
	int n;

	if (sk_sha256(rec, len, key) != 0)
		return -1;
	if (chacha == NULL && (chacha = EVP_CIPHER_fetch(NULL, "ChaCha20", NULL)) == NULL)
		return -1;
	if (cctx == NULL && (cctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_EncryptInit_ex2(cctx, chacha, key, iv, NULL) != 1 ||
	    EVP_EncryptUpdate(cctx, out, &n, zero, SK_LTHASH_BYTES) != 1 ||
	    n != SK_LTHASH_BYTES)
		return -1;
	return 0;
}

void
sk_lthash_init(struct sk_lthash *h)
{
	memset(h, 0, sizeof(*h));
}

int
sk_lthash_record(struct sk_lthash *h, const void *rec, size_t len, int sign)
{
	unsigned char e[SK_LTHASH_BYTES];
	size_t i;

	if (expand(rec, len, e) != 0)
		return -1;
	/* lanes are little-endian whatever the host's order */
	if (sign > 0)
		for (i = 0; i < SK_LTHASH_LANES; i++)
			h->lane[i] = (uint16_t)(h->lane[i] + (e[2 * i] | e[2 * i + 1] << 8));
	else
		for (i = 0; i < SK_LTHASH_LANES; i++)
			h->lane[i] = (uint16_t)(h->lane[i] - (e[2 * i] | e[2 * i + 1] << 8));
	return 0;
}

static int
add(struct sk_lthash *h, sk_record_writer w, const void *r, int sign)
{
	unsigned char small[512], *buf = small;
	size_t need = w(r, small, sizeof(small));
	int rc;

	if (need > sizeof(small)) {
		if ((buf = malloc(need)) == NULL)
			return ENOMEM;
		w(r, buf, need);
	}
	rc = sk_lthash_record(h, buf, need, sign);
	if (buf != small)
		free(buf);
	return rc;
}

int
sk_lthash_item(struct sk_lthash *h, const struct sk_item *it, int sign)
{
	return add(h, sk_record_item_any, it, sign);
}

int
sk_lthash_pres(struct sk_lthash *h, const struct sk_pres *p, int sign)
{
	return add(h, sk_record_pres_any, p, sign);
}

int
sk_lthash_state(const struct sk_state *st, struct sk_lthash *out)
{
	size_t i;
	int rc = 0;

	sk_lthash_init(out);
	for (i = 0; i < st->nitems && rc == 0; i++)
		rc = sk_lthash_item(out, &st->items[i], 1);
	for (i = 0; i < st->npres && rc == 0; i++)
		rc = sk_lthash_pres(out, &st->pres[i], 1);
	return rc;
}

int
sk_lthash_b64(const struct sk_lthash *h, char out[SK_DIGEST_B64])
{
	unsigned char bytes[SK_LTHASH_BYTES], d[32];
	size_t i;

	for (i = 0; i < SK_LTHASH_LANES; i++) {
		bytes[2 * i] = (unsigned char)(h->lane[i] & 0xff);
		bytes[2 * i + 1] = (unsigned char)(h->lane[i] >> 8);
	}
	if (sk_sha256(bytes, sizeof(bytes), d) != 0)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, d, sizeof(d));
	return 0;
}
