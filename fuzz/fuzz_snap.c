/*
 * fuzz_snap.c - snapshot blobs (src/core/snap.h) and the diff (src/core/diff.h).
 * Blobs are read in place from the daemon's LMDB map, so a damaged map is
 * untrusted input; sk_diff must never read outside either blob.
 *
 * Input: u16 little-endian cut, then two blobs: old = the first
 * (cut mod (n-1)) bytes after the cut field, live = the rest.  Each blob
 * is copied into an exactly sized buffer.  For each blob that views:
 * every entry and bucket is read; then sk_diff(old, live) and
 * sk_diff(live, old), and every change's borrowed strings are touched
 * (ASan checks they lie inside the blobs).  Properties: diff returns 0,
 * ENOMEM or SK_ECORRUPT; a blob diffed with itself has no changes.
 */
#include "fuzz_common.h"

#include <errno.h>

#include "diff.h"
#include "error.h"
#include "snap.h"

static int
view_all(struct sk_snap *v, const unsigned char *b, size_t len)
{
	struct sk_snap_entry e;
	uint32_t i, nb;

	if (sk_snap_view(v, b, len) != 0)
		return -1;
	nb = 1u << v->bits;
	for (i = 0; i <= nb; i++) {
		(void)sk_snap_bucket_first(v, i);
		if (i < nb)
			fz_touch(sk_snap_bucket_xor(v, i), SK_HASH_LEN);
	}
	for (i = 0; i < v->n && i < 100000; i++)
		if (sk_snap_entry(v, i, &e) == 0) {
			fz_touch(e.bare, e.barelen);
			fz_touch(e.res, e.reslen);
			fz_touch(e.hash, SK_HASH_LEN);
		}
	return 0;
}

static void
diff(const struct sk_snap *a, const struct sk_snap *b, int same)
{
	struct sk_changes ch;
	size_t i;
	int rc;

	sk_changes_init(&ch);
	rc = sk_diff(a, b, &ch);
	FZ_CHECK(rc == 0 || rc == SK_ECORRUPT || rc == ENOMEM);
	if (rc == 0 && same)
		FZ_CHECK(ch.n == 0);
	for (i = 0; i < ch.n; i++) {
		const struct sk_change *c = &ch.v[i];

		FZ_CHECK(c->kind <= SK_CH_PRES_GONE_ALL);
		fz_touch(c->bare, c->barelen);
		if (c->res != NULL)
			fz_touch(c->res, c->reslen);
	}
	FZ_CHECK(ch.ncontacts <= ch.n);
	sk_changes_free(&ch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct sk_snap a, b;
	unsigned char *x, *y;
	size_t cut, ylen;
	int va, vb;

	if (n < 2)
		return 0;
	cut = (size_t)(d[0] | d[1] << 8) % (n - 1);
	ylen = n - 2 - cut;
	x = malloc(cut ? cut : 1);
	y = malloc(ylen ? ylen : 1);
	memcpy(x, d + 2, cut);
	memcpy(y, d + 2 + cut, ylen);
	va = view_all(&a, x, cut);
	vb = view_all(&b, y, ylen);
	if (va == 0 && vb == 0) {
		diff(&a, &b, 0);
		diff(&b, &a, 0);
	}
	if (va == 0)
		diff(&a, &a, 1);
	free(x);
	free(y);
	return 0;
}
