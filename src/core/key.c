/* key.c - sync keys: MAC-bound, base64url, constant-time verified (layout in key.h) */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bytes.h"
#include "error.h"
#include "key.h"

#define KEY_VERSION	1
#define KEY_HDR		29	/* version, epoch, session, txn, issued */
#define KEY_MAC		16
#define KEY_BYTES	(KEY_HDR + KEY_MAC)

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
sk_key_client_ok(const char *client)
{
	size_t n;

	if (client == NULL)
		return 0;
	for (n = 0; client[n] != '\0'; n++) {
		char c = client[n];

		if (n >= SK_CLIENT_MAX)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return n > 0;
}

/*
 * HMAC-SHA256 over the header and the length-prefixed bindings.  A JID is
 * at most 3071 bytes (RFC 7622: three parts of 1023), so the message fits
 * a stack buffer.
 */
#define JID_MAX 3071

static int
mac(const unsigned char *secret, const unsigned char *hdr, const char *bare,
    const char *client, unsigned char out[KEY_MAC])
{
	unsigned char msg[KEY_HDR + 2 + JID_MAX + 2 + SK_CLIENT_MAX];
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t bl = strlen(bare), cl = strlen(client), n = 0;
	unsigned int mdlen = 0;

	if (bl > JID_MAX || cl > SK_CLIENT_MAX)
		return SK_EINVAL;
	memcpy(msg, hdr, KEY_HDR);
	n = KEY_HDR;
	sk_put_be(msg + n, bl, 2);
	memcpy(msg + n + 2, bare, bl);
	n += 2 + bl;
	sk_put_be(msg + n, cl, 2);
	memcpy(msg + n + 2, client, cl);
	n += 2 + cl;
	if (HMAC(EVP_sha256(), secret, SK_SECRET_LEN, msg, n, md, &mdlen) == NULL ||
	    mdlen < KEY_MAC)
		return SK_EINVAL;
	memcpy(out, md, KEY_MAC);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

int
sk_key_encode(const unsigned char secret[SK_SECRET_LEN], const char *bare,
    const char *client, const struct sk_key *k, char out[SK_KEY_MAX + 1])
{
	unsigned char raw[KEY_BYTES + 2] = { 0 };
	size_t i, o = 0;
	int rc;

	if (bare == NULL || bare[0] == '\0' || !sk_key_client_ok(client))
		return SK_EINVAL;
	raw[0] = KEY_VERSION;
	sk_put_be(raw + 1, k->epoch, 4);
	sk_put_be(raw + 5, k->session, 8);
	sk_put_be(raw + 13, k->txn, 8);
	sk_put_be(raw + 21, k->issued, 8);
	if ((rc = mac(secret, raw, bare, client, raw + KEY_HDR)) != 0)
		return rc;
	/* 45 bytes = 15 groups of 3: exactly 60 characters, no padding. */
	for (i = 0; i < KEY_BYTES; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	return 0;
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
sk_key_decode(const unsigned char secret[SK_SECRET_LEN], const char *bare,
    const char *client, const char *text, struct sk_key *k)
{
	unsigned char raw[KEY_BYTES], want[KEY_MAC];
	size_t i, o = 0;

	if (text == NULL || bare == NULL || client == NULL ||
	    strnlen(text, SK_KEY_TEXTLEN + 1) != SK_KEY_TEXTLEN)
		return SK_EKEY;
	for (i = 0; i < SK_KEY_TEXTLEN; i += 4) {
		int a = b64val(text[i]), b = b64val(text[i + 1]);
		int c = b64val(text[i + 2]), d = b64val(text[i + 3]);
		uint32_t v;

		if (a < 0 || b < 0 || c < 0 || d < 0)
			return SK_EKEY;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		raw[o++] = (unsigned char)(v >> 16);
		raw[o++] = (unsigned char)(v >> 8);
		raw[o++] = (unsigned char)v;
	}
	if (raw[0] != KEY_VERSION || !sk_key_client_ok(client) || bare[0] == '\0' ||
	    mac(secret, raw, bare, client, want) != 0 ||
	    CRYPTO_memcmp(want, raw + KEY_HDR, KEY_MAC) != 0)
		return SK_EKEY;
	k->epoch = (uint32_t)sk_get_be(raw + 1, 4);
	k->session = sk_get_be(raw + 5, 8);
	k->txn = sk_get_be(raw + 13, 8);
	k->issued = sk_get_be(raw + 21, 8);
	return 0;
}
