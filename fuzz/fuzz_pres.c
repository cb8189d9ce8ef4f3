/*
 * fuzz_pres.c - the stored presence record (src/store/store.h,
 * sk_store_pres_decode in store_pres.c): the daemon reads it from its
 * LMDB map and the client from its cache, so a damaged file is untrusted
 * input.
 *
 * Input: the record bytes (in an exactly sized buffer).  Properties: a
 * record that decodes re-encodes byte for byte (the format has one
 * encoding per record); decode either succeeds or leaves nothing
 * allocated (LeakSanitizer checks that).
 */
#include "fuzz_common.h"

#include "error.h"
#include "state.h"
#include "store.h"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	unsigned char *copy = malloc(n ? n : 1), *enc = NULL;
	struct sk_pres p;
	size_t len = 0;
	int rc;

	memcpy(copy, d, n);
	rc = sk_store_pres_decode("bob@p.test/phone", copy, n, &p);
	FZ_CHECK(rc == 0 || rc == SK_ECORRUPT);
	if (rc == 0) {
		FZ_CHECK(p.jid != NULL && strcmp(p.jid, "bob@p.test/phone") == 0);
		FZ_CHECK(sk_store_pres_encode(&p, &enc, &len) == 0);
		FZ_CHECK(len == n && memcmp(enc, d, n) == 0);
		free(enc);
		/* what the client does with a decoded record */
		sk_pres_hash(&p);
		sk_pres_free(&p);
	} else {
		FZ_CHECK(p.jid == NULL && p.show == NULL && p.status == NULL &&
		    p.ext == NULL && p.xml == NULL);
	}
	free(copy);
	return 0;
}
