/* bench_engine.c - the whole engine, from the request stanza to the answer bytes */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchd.h"
#include "error.h"
#include "snap.h"
#include "store.h"
#include "sync.h"
#include "view.h"

/*
 * One user with N contacts (subscription both, name, one group; 30 %
 * online with one resource), synckeyd's handlers in-process (benchd.h:
 * no network, no server).  Two paths:
 *   fresh  privilege-only: every sync gets the whole roster as XML and
 *          builds the state (parse, presence lookups, sort, blob, digest)
 *   kept   server adapter, roster unchanged: the adapter answers
 *          <unchanged/> and the view kept since the last sync is used
 *          while exact (view.h); a presence change of a contact makes it
 *          stale, and it is built again from the stored roster
 * and two kinds: null (nothing changed) and delta (1 % of the contacts,
 * at least one, changed status since the last sync; the presence ingest
 * is not timed).  Keys are chained as a client does.
 *
 * "total" is timed whole through skd_handle(): request text parsed and
 * handled, roster get sent, roster answer text parsed and handled, answer
 * bytes out.  The steps are timed one by one in another run of the same
 * sync, calling what request.c calls, so they add up to about the total.
 * The commit (LMDB, fsync) follows the answer in synckeyd and is batched
 * there (batch-events, batch-ms): shown apart, not in the total.
 */
#define MAX_SECONDS 40.0	/* per size, path and kind */

enum { S_REQ, S_TREE, S_ROSTER, S_LOOKUP, S_BLOB, S_DIGEST, S_VIEW, S_ENGINE, S_ANSWER,
	S_SUM, S_TOTAL, S_COMMIT, S_N };
static const char *const step_name[S_N] = { "request", "xml tree", "roster", "lookups",
	"blob", "digest", "view", "engine", "answer", "sum", "total", "commit" };

struct world {
	struct bd	 b;
	size_t		 n, online, changed;
	char		*items, *unchanged_xml;
	size_t		 itemslen;
	char		 key[SK_KEY_MAX + 1];
	unsigned long	 tick;
	int		 kept;
};

#define USER "user@p.test"

/* Contact i is online when i % 10 < 3. */
static void
set_status(struct world *w, size_t i)
{
	char xml[256];

	snprintf(xml, sizeof(xml), "<presence from='c%zu@p.test/r' to='sync.p.test'>"
	    "<status>status %lu</status></presence>", i, ++w->tick);
	bd_feed(&w->b, xml);
}

static void
change_some(struct world *w)
{
	size_t k;

	for (k = 0; k < w->changed; k++)
		set_status(w, (k * 10) % w->n);		/* online ones */
	skd_ingest_flush(&w->b.d, 1);
}

/* The roster text the server answers with: the whole roster, or NULL
   (<unchanged/>) on the kept path once the roster is stored. */
static const char *
roster_body(const struct world *w, int first)
{
	return w->kept && !first ? NULL : w->items;
}

/* Checks the answer just sent is what kind expects (any when NULL). */
static void
check_answer(const struct world *w, const char *kind, const char *type)
{
	const char *o = w->b.out;
	int empty = strstr(o, "<item") == NULL && strstr(o, "<presence") == NULL;

	if (kind != NULL && (strcmp(type, "delta") != 0 || empty != (strcmp(kind, "null") == 0))) {
		fprintf(stderr, "bench_engine: a %s sync answered type '%s' with%s children\n",
		    kind, type, empty ? "out" : "");
		exit(1);
	}
}

static void
world_open(struct world *w, size_t n, int kept)
{
	size_t i, off = 0, cap = n * 120 + 1;
	char type[16];

	memset(w, 0, sizeof(*w));
	w->n = n;
	w->kept = kept;
	w->changed = n / 100 ? n / 100 : 1;
	bd_open(&w->b, kept);
	if ((w->items = malloc(cap)) == NULL)
		bd_die("out of memory");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(w->items + off, cap - off, "<item jid='c%zu@p.test' subscription='both' "
		    "name='Contact %zu'><group>Group %zu</group></item>", i, i, i % 10);
	w->itemslen = off;
	for (i = 0; i < n; i++)
		if (i % 10 < 3) {
			set_status(w, i);
			w->online++;
		}
	skd_ingest_flush(&w->b.d, 1);
	/* the first sync: full, roster stored and view kept on the kept path */
	bd_sync(&w->b, USER, w->key, sizeof(w->key), w->items, w->itemslen, type, sizeof(type));
	skd_ingest_flush(&w->b.d, 1);
	if (strcmp(type, "full") != 0) {
		fprintf(stderr, "bench: answer: %.500s\n", w->b.out);
		bd_die("the first sync is not full");
	}
}

static void
world_close(struct world *w)
{
	bd_close(&w->b);
	free(w->items);
}

/* One sync through skd_handle, timed from the request text to the answer bytes. */
static void
run_total(struct world *w, const char *kind, double *total, double *commit, size_t *bytes)
{
	char type[16];
	double t0;

	*total = bd_sync(&w->b, USER, w->key, sizeof(w->key), roster_body(w, 0), w->itemslen,
	    type, sizeof(type));
	*bytes = w->b.outlen;
	check_answer(w, kind, type);
	t0 = bu_now_us();
	skd_ingest_flush(&w->b.d, 1);
	*commit = bu_now_us() - t0;
}

/* lookups, blob and digest alone, on a copy of the roster (view.c does them in sk_view_build) */
static void
view_parts(struct world *w, const struct sk_state *roster, double *t)
{
	struct sk_state cp;
	unsigned char *blob;
	size_t len;
	char dg[SK_DIGEST_B64];
	double t0;

	bd_check(sk_state_copy(&cp, roster), "copy");
	t0 = bu_now_us();
	bd_check(sk_view_live(w->b.d.store, &cp), "live");
	t[S_LOOKUP] = bu_now_us() - t0;
	t0 = bu_now_us();
	bd_check(sk_snap_build(&cp, &blob, &len), "blob");
	t[S_BLOB] = bu_now_us() - t0;
	t0 = bu_now_us();
	bd_check(sk_digest_state_b64(&cp, dg), "digest");
	t[S_DIGEST] = bu_now_us() - t0;
	free(blob);
	sk_state_free(&cp);
}

/* The same sync step by step; *hit: the kept view was used. */
static void
run_steps(struct world *w, const char *kind, double *t, int *hit)
{
	struct skd *d = &w->b.d;
	struct sk_view *v = NULL, *owned = NULL;
	struct sk_sync_result res;
	struct sk_state live;
	struct sk_strv hidden;
	xmpp_stanza_t *st, *q;
	char ver[SK_ROSTER_VER_MAX + 1] = "", type[16], *xml;
	size_t skipped = 0;
	double t0;

	memset(t, 0, S_N * sizeof(*t));
	sk_strv_init(&hidden);
	sk_state_init(&live);
	t0 = bu_now_us();
	bd_request(&w->b, USER, w->key);
	t[S_REQ] = bu_now_us() - t0;
	xml = bd_roster_answer(&w->b, USER, roster_body(w, 0), w->itemslen);
	skd_table_clear(&d->fetches);	/* the steps below answer it */

	t0 = bu_now_us();
	if ((st = xmpp_stanza_new_from_string(w->b.ctx, xml)) == NULL)
		bd_die("roster answer unparsable");
	t[S_TREE] = bu_now_us() - t0;
	free(xml);
	*hit = 0;
	if (w->kept) {
		t0 = bu_now_us();
		bd_check(sk_store_roster_ver(d->store, USER, ver), "ver");
		v = sk_views_get(d->views, d->store, USER, ver, &hidden);
		if (v == NULL)
			bd_check(sk_store_roster_get(d->store, USER, &live), "stored roster");
		t[S_ROSTER] = bu_now_us() - t0;
		*hit = v != NULL;
	} else {
		t0 = bu_now_us();
		q = xmpp_stanza_get_child_by_name_and_ns(st, "query", SK_NS_ROSTER);
		bd_check(sk_xml_roster_parse(q, &live, &skipped), "roster parse");
		t[S_ROSTER] = bu_now_us() - t0;
	}
	xmpp_stanza_release(st);
	if (v == NULL) {
		view_parts(w, &live, t);
		t0 = bu_now_us();
		bd_check(sk_view_build(d->store, &live, &hidden, &owned), "view build");
		t[S_VIEW] = bu_now_us() - t0;
		v = owned;
	}
	t0 = bu_now_us();
	bd_check(sk_sync_run_view(d->store, &d->sync, USER, "bench", w->key, v, 0, (uint64_t)bd_s(), &res),
	    "sync");
	t[S_ENGINE] = bu_now_us() - t0;
	t0 = bu_now_us();
	skd_answer_sync(d, &(struct skd_origin){ .to = USER "/bench", .id = "steps" }, USER, "bench",
	    &res, &v->live);
	t[S_ANSWER] = bu_now_us() - t0;
	sk_sync_result_free(&res);
	bd_attr(&w->b, "<sync", "type", type, sizeof(type));
	bd_attr(&w->b, "<sync", "key", w->key, sizeof(w->key));
	check_answer(w, kind, type);
	if (owned != NULL)	/* as request.c: kept while exact */
		bd_check(sk_views_put(d->views, USER, w->kept ? ver : NULL, &hidden, owned), "views put");
	t0 = bu_now_us();
	skd_ingest_flush(d, 1);
	t[S_COMMIT] = bu_now_us() - t0;
	t[S_SUM] = t[S_REQ] + t[S_TREE] + t[S_ROSTER] + t[S_VIEW] + t[S_ENGINE] + t[S_ANSWER];
	sk_strv_free(&hidden);
	sk_state_free(&live);
}

static void
bench(size_t n, int kept, const char *kind, int runs)
{
	struct world w;
	double *t[S_N], med[S_N], tmin, start;
	size_t bytes = 0;
	int r, s, hits = 0, hit;

	for (s = 0; s < S_N; s++)
		if ((t[s] = calloc((size_t)runs, sizeof(double))) == NULL)
			bd_die("out of memory");
	world_open(&w, n, kept);
	start = bu_now_us();
	for (r = 0; r < runs && (r < 3 || bu_now_us() - start < MAX_SECONDS * 1e6); r++) {
		double step[S_N];

		if (strcmp(kind, "delta") == 0)
			change_some(&w);
		run_total(&w, kind, &t[S_TOTAL][r], &t[S_COMMIT][r], &bytes);
		if (strcmp(kind, "delta") == 0)
			change_some(&w);
		run_steps(&w, kind, step, &hit);
		hits += hit;
		for (s = 0; s < S_N; s++)
			if (s != S_TOTAL && s != S_COMMIT)
				t[s][r] = step[s];
	}
	runs = r;
	for (s = 0; s < S_N; s++)
		med[s] = bu_median(t[s], (size_t)runs);
	tmin = t[S_TOTAL][0];		/* sorted by bu_median */
	printf("%8zu %-5s %-5s %5zu %4d/%-3d %8zu", n, kept ? "kept" : "fresh", kind,
	    strcmp(kind, "delta") == 0 ? w.changed : 0, hits, runs, bytes);
	for (s = 0; s < S_TOTAL; s++)
		printf(" %9.1f", med[s]);
	printf(" %9.1f %9.1f %8.1f\n", tmin, med[S_TOTAL], med[S_COMMIT]);
	fflush(stdout);
	world_close(&w);
	for (s = 0; s < S_N; s++)
		free(t[s]);
}

int
main(int argc, char **argv)
{
	static const size_t dflt[] = { 100, 1000, 10000, 20000 };
	size_t sizes[16], nsizes = 0, i;
	const char *kinds[] = { "null", "delta" };
	const char *env = getenv("BENCH_RUNS");
	int k, kept, s;

	for (i = 1; i < (size_t)argc && nsizes < 16; i++)
		sizes[nsizes++] = strtoul(argv[i], NULL, 10);
	if (nsizes == 0)
		for (; nsizes < 4; nsizes++)
			sizes[nsizes] = dflt[nsizes];
	bu_conditions("bench_engine");
	printf("bench_engine: synckeyd's handlers in-process (no network, no server), one user, N contacts\n"
	    "  (both, named, one group; 30%% online), delta = 1%% of the contacts changed status since the\n"
	    "  last sync; per step: median us; total: min and median us from request text to answer bytes;\n"
	    "  commit (batched in synckeyd) apart; runs: %s (default 31 up to 1 000 contacts, 11 above;\n"
	    "  each size, path and kind stops after %.0f s); view: runs where the kept view was used\n",
	    env ? env : "BENCH_RUNS unset", MAX_SECONDS);
	printf("%8s %-5s %-5s %5s %8s %8s", "contacts", "path", "kind", "chg", "view", "ans B");
	for (s = 0; s < S_TOTAL; s++)
		printf(" %9s", step_name[s]);
	printf(" %9s %9s %8s\n", "total min", "total med", "commit");
	for (i = 0; i < nsizes; i++)
		for (kept = 0; kept < 2; kept++)
			for (k = 0; k < 2; k++)
				bench(sizes[i], kept, kinds[k], env ? atoi(env) : sizes[i] <= 1000 ? 31 : 11);
	return 0;
}
