/*
 * fuzz_cache.c - the client cache's item record.  A cache file on disk is
 * untrusted input: a damaged record must be refused, never read out of
 * bounds.
 *
 * Until commit 34f7f0a the record code was static in src/client/cache.c
 * (item_decode/item_encode) and this target included "../src/cache.c" to
 * reach it (src/ is not changed for fuzzing).  Since 34f7f0a it is public
 * in src/core/itemrec.h (sk_itemrec_encode/decode, shared by the cache and the
 * daemon's roster store), so the target calls that API and no longer
 * includes any .c file.
 *
 * Input: byte 0 = length of the JID (mod 64, 0 -> "bob@p.test"), then the
 * JID, then the record bytes (in an exactly sized buffer).  Property: a
 * record that decodes re-encodes to a record that decodes to the same
 * item (same hash, name, subscription, ask and groups).
 */
#include "fuzz_common.h"

#include <errno.h>

#include "error.h"
#include "itemrec.h"
#include "state.h"

static void
same_item(const struct sk_item *a, const struct sk_item *b)
{
	size_t i;

	FZ_CHECK(strcmp(a->jid, b->jid) == 0);
	FZ_CHECK((a->name == NULL) == (b->name == NULL));
	FZ_CHECK(a->name == NULL || strcmp(a->name, b->name) == 0);
	FZ_CHECK(a->sub == b->sub && a->ask == b->ask);
	FZ_CHECK(a->ngroups == b->ngroups);
	for (i = 0; i < a->ngroups; i++)
		FZ_CHECK(strcmp(a->groups[i], b->groups[i]) == 0);
	FZ_CHECK(memcmp(a->hash, b->hash, SK_HASH_LEN) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sk_state st, st2;
	unsigned char *rec, *enc;
	size_t jl, rl, elen;
	char *jid;
	int rc;

	if (n < 1)
		return 0;
	jl = d[0] % 64;
	if (jl > n - 1)
		jl = n - 1;
	jid = jl ? fz_cstr(d + 1, jl) : fz_cstr((const uint8_t *)"bob@p.test", 10);
	rl = n - 1 - jl;
	rec = malloc(rl ? rl : 1);
	memcpy(rec, d + 1 + jl, rl);

	sk_state_init(&st);
	rc = sk_itemrec_decode(jid, rec, rl, &st);
	FZ_CHECK(rc == 0 || rc == SK_ECORRUPT || rc == SK_EINVAL || rc == ENOMEM);
	if (rc == 0) {
		FZ_CHECK(st.nitems == 1);
		FZ_CHECK(sk_itemrec_encode(&st.items[0], &enc, &elen) == 0);
		sk_state_init(&st2);
		FZ_CHECK(sk_itemrec_decode(jid, enc, elen, &st2) == 0);
		FZ_CHECK(st2.nitems == 1);
		same_item(&st.items[0], &st2.items[0]);
		sk_state_free(&st2);
		free(enc);
	} else {
		FZ_CHECK(st.nitems == 0);
	}
	sk_state_free(&st);
	free(rec);
	free(jid);
	return 0;
}
