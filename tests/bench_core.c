/* bench_core.c - benchmark of the core: store read + diff, snapshot write, whole engine */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diff.h"
#include "error.h"
#include "key.h"
#include "model.h"
#include "snap.h"
#include "store.h"
#include "sync.h"
#include "testutil.h"
#include "benchutil.h"

/*
 * Conditions: one user, N contacts (subscription both, 30 % online with
 * one resource), 10 contacts changed between the snapshot and now
 * (roster or presence), LMDB store in a temporary folder on this disk.
 * Each figure is the median of RUNS runs; a run times LOOP calls and
 * divides.  The baseline is the 100-contact figure of the same run.
 */
#define RUNS 31
#define CHANGED 10

static void
check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "bench_core: %s: %s\n", what, sk_strerror(rc));
		exit(1);
	}
}

struct figures {
	size_t	contacts, entries, changes;
	double	read_diff, build, write, engine;
};

static void
bench_one(size_t contacts, struct figures *fig)
{
	struct sk_sync_cfg cfg = { SK_SYNC_TTL_DEFAULT, 16 };
	double t[RUNS];
	struct sk_state live0, live1;
	struct sk_sync_result r;
	struct sk_store *s;
	struct sk_key k;
	struct model m;
	unsigned char *lblob;
	size_t llen, i, loop;
	char key[SK_KEY_MAX + 1];
	char *dir = tmpdir_new();
	int run;

	model_init(&m, 42 + contacts, contacts);
	check(model_populate(&m, 0.30), "populate");
	check(model_live(&m, &live0), "live");
	check(sk_store_open(dir, 0, &s), "open");
	check(sk_sync_run(s, &cfg, "user@bench.test", "bench", NULL, &live0,
	    1700000000, &r), "first sync");
	strcpy(key, r.key);
	sk_sync_result_free(&r);
	check(sk_store_flush(s), "flush");
	check(sk_key_decode(sk_store_secret(s), "user@bench.test", "bench", key, &k), "key");

	check(model_change(&m, CHANGED), "change");
	check(model_live(&m, &live1), "live");
	check(sk_snap_build(&live1, &lblob, &llen), "build");
	fig->contacts = contacts;
	fig->entries = live1.nitems + live1.npres;

	/* store read + diff: the snapshot behind the key, read in place
	   from the map, against the live blob */
	loop = contacts >= 10000 ? 200 : 2000;
	for (run = 0; run < RUNS; run++) {
		double t0 = bu_now_us();

		for (i = 0; i < loop; i++) {
			const void *blob;
			size_t len;
			struct sk_snap vo, vl;
			struct sk_changes ch;

			check(sk_store_snap_get(s, "user@bench.test", "bench", k.txn, &blob, &len), "get");
			check(sk_snap_view(&vo, blob, len), "view");
			check(sk_snap_view(&vl, lblob, llen), "view");
			sk_changes_init(&ch);
			check(sk_diff(&vo, &vl, &ch), "diff");
			fig->changes = ch.ncontacts;
			sk_changes_free(&ch);
		}
		t[run] = (bu_now_us() - t0) / loop;
	}
	fig->read_diff = bu_median(t, RUNS);

	/* live blob build (sort + serialise; record hashes exist already) */
	loop = contacts >= 10000 ? 5 : 200;
	for (run = 0; run < RUNS; run++) {
		double t0 = bu_now_us();

		for (i = 0; i < loop; i++) {
			unsigned char *b;
			size_t l;

			check(sk_snap_build(&live1, &b, &l), "build");
			free(b);
		}
		t[run] = (bu_now_us() - t0) / loop;
	}
	fig->build = bu_median(t, RUNS);

	/* snapshot write: one put and its commit */
	loop = contacts >= 10000 ? 5 : 50;
	for (run = 0; run < RUNS; run++) {
		double t0 = bu_now_us();

		for (i = 0; i < loop; i++) {
			check(sk_store_snap_put(s, "user@bench.test", "w", 1 + i, lblob, llen), "put");
			check(sk_store_flush(s), "commit");
		}
		t[run] = (bu_now_us() - t0) / loop;
	}
	fig->write = bu_median(t, RUNS);

	/* the whole engine: key check, read, build, diff, digest, write */
	loop = contacts >= 10000 ? 3 : 30;
	for (run = 0; run < RUNS; run++) {
		double t0 = bu_now_us();

		for (i = 0; i < loop; i++) {
			check(sk_sync_run(s, &cfg, "user@bench.test", "bench", key,
			    &live1, 1700000000, &r), "sync");
			sk_sync_result_free(&r);
		}
		check(sk_store_flush(s), "flush");
		t[run] = (bu_now_us() - t0) / loop;
	}
	fig->engine = bu_median(t, RUNS);

	free(lblob);
	sk_state_free(&live0);
	sk_state_free(&live1);
	model_free(&m);
	sk_store_close(s);
	tmpdir_free(dir);
}

int
main(void)
{
	static const size_t sizes[] = { 100, 1000, 10000 };
	struct figures f[3];
	size_t i;
	double ratio;

	bu_conditions("bench_core");
	printf("bench_core: %d changed contacts, 30%% online, median of %d runs, LMDB in a temporary folder\n",
	    CHANGED, RUNS);
	printf("%8s %8s %8s %14s %12s %14s %14s\n", "contacts", "entries", "changed",
	    "read+diff us", "build us", "snap write us", "engine sync us");
	for (i = 0; i < 3; i++) {
		bench_one(sizes[i], &f[i]);
		printf("%8zu %8zu %8zu %14.2f %12.1f %14.1f %14.1f\n", f[i].contacts,
		    f[i].entries, f[i].changes, f[i].read_diff, f[i].build,
		    f[i].write, f[i].engine);
	}
	ratio = f[2].read_diff / f[0].read_diff;
	printf("read+diff 10000 vs 100 contacts: %.2fx (goal <= 5x): %s\n", ratio,
	    ratio <= 5.0 ? "met" : "missed");
	return 0;
}
