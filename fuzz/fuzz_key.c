/*
 * fuzz_key.c - sync keys (src/core/key.h): sk_key_decode on untrusted text, and
 * an encode/decode round trip with fuzzed fields and bindings.
 *
 * Input: the whole input, NUL-terminated, is a key text presented by a
 * client.  Independently, when it is long enough, bytes 0..27 are the key
 * fields (epoch, session, txn, issued) and the rest is "bare\nclient".
 * Properties checked:
 *   - a text that decodes re-encodes to exactly the same text;
 *   - encode succeeds for a non-empty bare and a valid client ID, and its
 *     text decodes to the same fields with the same bindings;
 *   - the text fails for another client, another bare JID, another
 *     secret, and with any one character changed.
 */
#include "fuzz_common.h"

#include "bytes.h"
#include "error.h"
#include "key.h"

static const unsigned char secret[SK_SECRET_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char secret2[SK_SECRET_LEN] = "fedcba9876543210fedcba9876543210";

static void
decode_text(const uint8_t *d, size_t n)
{
	char *text = fz_cstr(d, n), out[SK_KEY_MAX + 1];
	struct sk_key k;

	if (sk_key_decode(secret, "alice@p.test", "laptop", text, &k) == 0) {
		FZ_CHECK(sk_key_encode(secret, "alice@p.test", "laptop", &k, out) == 0);
		FZ_CHECK(strcmp(out, text) == 0);
	}
	free(text);
}

static void
round_trip(const uint8_t *d, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char text[SK_KEY_MAX + 1], *rest, *nl, *bare, *client;
	struct sk_key k, k2;
	size_t i;
	int rc, client_ok;

	if (n < 28)
		return;
	k.epoch = (uint32_t)sk_get_be(d, 4);
	k.session = sk_get_be(d + 4, 8);
	k.txn = sk_get_be(d + 12, 8);
	k.issued = sk_get_be(d + 20, 8);
	rest = fz_cstr(d + 28, n - 28);
	bare = rest;
	client = "laptop";
	if ((nl = strchr(rest, '\n')) != NULL) {
		*nl = '\0';
		client = nl + 1;
	}
	client_ok = sk_key_client_ok(client);
	rc = sk_key_encode(secret, bare, client, &k, text);
	if (bare[0] == '\0' || !client_ok)
		FZ_CHECK(rc == SK_EINVAL);
	if (rc == 0) {
		FZ_CHECK(strlen(text) == SK_KEY_TEXTLEN);
		memset(&k2, 0, sizeof(k2));
		FZ_CHECK(sk_key_decode(secret, bare, client, text, &k2) == 0);
		FZ_CHECK(k2.epoch == k.epoch && k2.session == k.session &&
		    k2.txn == k.txn && k2.issued == k.issued);
		/* bound to bare, client and secret */
		FZ_CHECK(sk_key_decode(secret2, bare, client, text, &k2) == SK_EKEY);
		FZ_CHECK(sk_key_decode(secret, "mallory@p.test", client, text, &k2) ==
		    SK_EKEY || strcmp(bare, "mallory@p.test") == 0);
		FZ_CHECK(sk_key_decode(secret, bare, "other-client", text, &k2) ==
		    SK_EKEY || strcmp(client, "other-client") == 0);
		/* one character changed: never accepted */
		i = (size_t)(k.txn % SK_KEY_TEXTLEN);
		text[i] = b64[(strchr(b64, text[i]) - b64 + 1 + (k.issued % 63)) % 64];
		FZ_CHECK(sk_key_decode(secret, bare, client, text, &k2) == SK_EKEY);
		/* truncated or extended: never accepted */
		text[i] = '\0';
		FZ_CHECK(sk_key_decode(secret, bare, client, text, &k2) == SK_EKEY);
	}
	free(rest);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	decode_text(d, n);
	round_trip(d, n);
	return 0;
}
