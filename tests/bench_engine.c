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
	unsigned long	 ver;		/* the adapter's roster version (throughput) */
	char		*rename;	/* contact 1's name in items, renamed in place */
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
	w->ver = 1;
	if (n > 1 && (w->rename = strstr(w->items, "name='Contact 1'")) == NULL)
		bd_die("contact 1 not in the roster");
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

/*
 * Throughput (bench_engine --throughput [N...], default 100 1 000 20 000):
 * deltas a second per core, chained keys, one user.  A run is a loop of
 * syncs for TP_SECONDS of wall time (TP_MAX syncs at most); between two
 * syncs the change is made and committed untimed (presence ingest,
 * rename), then the sync is timed on the process's CPU clock
 * (CLOCK_PROCESS_CPUTIME_ID, nanoseconds: far below a tick) from the
 * request text to the answer bytes, the server's roster text built
 * untimed, as in "total".  deltas/s = syncs / CPU seconds of those
 * syncs; the commit that follows each sync (batched in synckeyd) is
 * timed apart on the same clock: "with commit" counts one per sync, the
 * worst case of batching (a sync longer than batch-ms commits within the
 * handler, as in synckeyd: then it is in the sync's CPU).  Kinds:
 *   presence      adapter, roster unchanged (<unchanged/>), 1 % of the
 *                 contacts (at least 1) changed status: the kept view
 *   presence-v0   the same in protocol version 0 (its SHA-256 digest made
 *                 whole each time the view changed); every other kind
 *                 but presence-fresh asks in version 1
 *   presence-fresh  the same change privilege-only: the whole roster
 *                 parsed each sync (the whole-roster baseline)
 *   roster        adapter, one contact renamed: a change list of one item
 *                 (doc/adapter-protocol.md "Change lists")
 *   roster-whole  the same rename with the whole roster in the view (the
 *                 adapter's log could not bridge the gap; the baseline)
 */
#define TP_MAX 100000

enum { TP_PRESENCE, TP_PRESENCE0, TP_FRESH, TP_ROSTER, TP_WHOLE, TP_N };
static const char *const tp_name[TP_N] = { "presence", "presence-v0", "presence-fresh", "roster",
	"roster-whole" };

/* One change as tp_kind makes it, untimed; *since: the version a change list starts from. */
static void
tp_change(struct world *w, int kind, char *since, size_t slen)
{
	char name[16];

	since[0] = '\0';
	if (kind == TP_PRESENCE || kind == TP_PRESENCE0 || kind == TP_FRESH) {
		change_some(w);
		return;
	}
	/* contact 1 renamed in the roster text: a name of the same length
	   ("Contact 1", "R00000002"), so in place */
	snprintf(since, slen, "%lu", w->ver++);
	snprintf(name, sizeof(name), "R%08lu", w->ver % 100000000ul);
	memcpy(w->rename + 6, name, 9);
}

/* One timed sync of kind; exits unless the answer is the delta kind expects.  CPU us. */
static double
tp_sync(struct world *w, int kind, const char *since)
{
	char type[16], ver[24], item[512];
	const char *body = w->items;
	size_t blen = w->itemslen;
	double cpu;

	snprintf(ver, sizeof(ver), "%lu", w->ver);
	w->b.version = kind == TP_PRESENCE0 || kind == TP_FRESH ? 0 : 1;
	if (kind == TP_PRESENCE || kind == TP_PRESENCE0) {
		body = NULL;
	} else if (kind == TP_ROSTER) {
		/* the renamed item alone, as the whole roster has it */
		blen = (size_t)snprintf(item, sizeof(item), "<item jid='c1@p.test' subscription='both' "
		    "name='%.9s'><group>Group 1</group></item>", w->rename + 6);
		body = item;
	}
	cpu = bd_sync_view(&w->b, bu_cpu_us, USER, w->key, sizeof(w->key), w->kept ? ver : NULL,
	    kind == TP_ROSTER ? since : NULL, body, blen, type, sizeof(type));
	check_answer(w, "delta", type);
	if ((kind == TP_ROSTER || kind == TP_WHOLE) && (strstr(w->b.out, "\"c1@p.test\"") == NULL ||
	    strstr(w->b.out, "<presence") != NULL)) {
		fprintf(stderr, "bench_engine: a %s sync did not answer the renamed contact alone: %.300s\n",
		    tp_name[kind], w->b.out);
		exit(1);
	}
	return cpu;
}

static void
throughput(size_t n, int kind, int runs, double secs)
{
	struct world w;
	double rate[64], rate_c[64], per[64], com[64], start, cpu, commit, t0;
	char since[24];
	size_t count = 0, total = 0;
	int r;

	world_open(&w, n, kind != TP_FRESH);
	if (n < 2 && (kind == TP_ROSTER || kind == TP_WHOLE))
		bd_die("a roster change needs 2 contacts at least");
	for (r = 0; r < runs; r++) {
		cpu = commit = 0;
		start = bu_now_us();
		for (count = 0; count < TP_MAX && (count == 0 || bu_now_us() - start < secs * 1e6); count++) {
			tp_change(&w, kind, since, sizeof(since));
			cpu += tp_sync(&w, kind, since);
			t0 = bu_cpu_us();
			skd_ingest_flush(&w.b.d, 1);
			commit += bu_cpu_us() - t0;
		}
		total += count;
		rate[r] = count / (cpu / 1e6);
		rate_c[r] = count / ((cpu + commit) / 1e6);
		per[r] = cpu / count;
		com[r] = commit / count;
	}
	{
		double rmin, rmed, cmin, cmed, pmed, comed;

		rmed = bu_median(rate, (size_t)runs);
		rmin = rate[0];			/* sorted by bu_median */
		cmed = bu_median(rate_c, (size_t)runs);
		cmin = rate_c[0];
		pmed = bu_median(per, (size_t)runs);
		comed = bu_median(com, (size_t)runs);
		printf("%8zu %-14s %5zu %4d %7zu %10.0f %10.0f %9.1f %9.1f %10.0f %10.0f\n", n, tp_name[kind],
		    kind == TP_ROSTER || kind == TP_WHOLE ? (size_t)1 : w.changed, runs, total, rmin, rmed,
		    pmed, comed, cmin, cmed);
		printf("THROUGHPUT {\"contacts\": %zu, \"kind\": \"%s\", \"changed\": %zu, \"runs\": %d, "
		    "\"syncs\": %zu, \"rate_min\": %.1f, \"rate_median\": %.1f, \"cpu_us_median\": %.2f, "
		    "\"commit_us_median\": %.2f, \"rate_commit_min\": %.1f, \"rate_commit_median\": %.1f}\n",
		    n, tp_name[kind], kind == TP_ROSTER || kind == TP_WHOLE ? (size_t)1 : w.changed, runs,
		    total, rmin, rmed, pmed, comed, cmin, cmed);
	}
	fflush(stdout);
	world_close(&w);
}

static int
throughput_main(const size_t *sizes, size_t nsizes)
{
	const char *env_r = getenv("BENCH_TP_RUNS"), *env_s = getenv("BENCH_TP_SECONDS");
	int runs = env_r ? atoi(env_r) : 5, k;
	double secs = env_s ? atof(env_s) : 0.6;
	size_t i;

	if (runs < 1 || runs > 64 || !(secs > 0 && secs <= 60))
		bd_die("BENCH_TP_RUNS is 1..64, BENCH_TP_SECONDS more than 0, at most 60");
	bu_conditions("bench_engine");
	printf("bench_engine --throughput: deltas a second per core, synckeyd's handlers in-process, one user,\n"
	    "  N contacts (both, named, one group; 30%% online), keys chained; %d runs of %.2f s wall time each\n"
	    "  (at most %d syncs); each sync timed on the process's CPU clock (CLOCK_PROCESS_CPUTIME_ID) from\n"
	    "  the request text to the answer bytes; NOT timed: the change between syncs (presence ingest, rename)\n"
	    "  and the server's roster text; commit: CPU of the commit after each sync (batched in synckeyd),\n"
	    "  apart (a sync longer than batch-ms commits within the handler, in CPU us), and counted once\n"
	    "  per sync in 'with commit'.  presence: adapter, roster unchanged, chg contacts changed status\n"
	    "  (kept view), protocol version 1; presence-v0: the same in version 0 (SHA-256 digest made whole);\n"
	    "  presence-fresh: the same privilege-only in version 0 (whole roster parsed, the baseline);\n"
	    "  roster: adapter, one contact renamed, a change list of one item; roster-whole: the\n"
	    "  same rename with the whole roster in the view (the baseline); both in version 1\n", runs, secs, TP_MAX);
	printf("%8s %-14s %5s %4s %7s %10s %10s %9s %9s %10s %10s\n", "contacts", "kind", "chg", "runs",
	    "syncs", "deltas/s", "deltas/s", "CPU us", "commit us", "with commit", "with commit");
	printf("%8s %-14s %5s %4s %7s %10s %10s %9s %9s %10s %10s\n", "", "", "", "", "", "min", "median",
	    "/delta med", "/delta med", "min", "median");
	for (i = 0; i < nsizes; i++)
		for (k = 0; k < TP_N; k++)
			throughput(sizes[i], k, runs, secs);
	return 0;
}

int
main(int argc, char **argv)
{
	static const size_t dflt[] = { 100, 1000, 10000, 20000 }, tp_dflt[] = { 100, 1000, 20000 };
	size_t sizes[16], nsizes = 0, i;
	const char *kinds[] = { "null", "delta" };
	const char *env = getenv("BENCH_RUNS");
	int k, kept, s, tp = argc > 1 && strcmp(argv[1], "--throughput") == 0;

	for (i = 1 + (size_t)tp; i < (size_t)argc && nsizes < 16; i++)
		sizes[nsizes++] = strtoul(argv[i], NULL, 10);
	if (tp)
		return throughput_main(nsizes ? sizes : tp_dflt, nsizes ? nsizes : 3);
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
