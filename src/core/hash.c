/* hash.c - SHA-256 of small buffers without OpenSSL 3's per-call fetch */
#include <openssl/evp.h>

#include "hash.h"

static EVP_MD *md;
static EVP_MD_CTX *ctx;

int
sk_sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n;

	if (md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return -1;
	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &n) != 1)
		return -1;
	return 0;
}
