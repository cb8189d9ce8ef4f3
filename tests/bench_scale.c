/* bench_scale.c - many users: store size per user, resident memory, delta latency p50/p99 */
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchd.h"
#include "error.h"
#include "store.h"
#include "sync.h"
#include "view.h"

/*
 * Not a test and not run by CI (README, doc/benchmarks.md):
 *   tests/bench_scale [USERS [CONTACTS [SAMPLES]]]    default 100000 200 2000
 * Directly on the engine and synckeyd's handlers in-process (benchd.h; no
 * network, no fake server), privilege-only (the roster as XML each sync).
 * A pool of POOL contacts, 30 % online (their presence ingested through
 * the handlers); user u has CONTACTS of them, subscription both.
 *   build   one full sync per user, on the engine without XML (roster
 *           state -> sk_view_build -> sk_sync_run_view, commit every
 *           1 000 users): the store a live service would hold, each user
 *           with one client
 *   deltas  SAMPLES syncs of random users, one at a time, 1 % of the
 *           user's contacts (2 of 200) changed status before each (not
 *           timed); timed through the handlers from the request text to
 *           the answer bytes, roster answer XML parsed
 * Bounded: the build stops after BUILD_SECONDS (default 180), the deltas
 * after 60 s; what was reached is printed.  The LMDB map is 16 GiB unless
 * SK_STORE_MAPSIZE says otherwise.  Memory: VmRSS and VmHWM, and their
 * split into RssFile (file pages mapped: the LMDB map, and the program)
 * and RssAnon (heap and stacks: outside the map).
 */
#define POOL		50000
#define DELTA_SECONDS	60.0

static size_t users, contacts;
static char **keys;

/* Contact k of user u: distinct for k < 200 (251 k < POOL). */
static size_t
contact_of(size_t u, size_t k)
{
	return (u * 7919 + k * 251) % POOL;
}

static void
user_jid(size_t u, char *out, size_t len)
{
	snprintf(out, len, "u%zu@p.test", u);
}

static void
roster_state(size_t u, struct sk_state *st)
{
	char jid[64], name[64], group[32], *groups[1] = { group };
	struct sk_item it = { .jid = jid, .name = name, .sub = SK_SUB_BOTH, .groups = groups, .ngroups = 1 };
	size_t k, c;

	for (k = 0; k < contacts; k++) {
		c = contact_of(u, k);
		snprintf(jid, sizeof(jid), "c%zu@p.test", c);
		snprintf(name, sizeof(name), "Contact %zu", c);
		snprintf(group, sizeof(group), "Group %zu", c % 10);
		bd_check(sk_state_add_item(st, &it), "item");
	}
}

/* The same roster as the server sends it. */
static char *
roster_xml(size_t u, size_t *len)
{
	size_t k, c, off = 0, cap = contacts * 120 + 1;
	char *x = malloc(cap);

	if (x == NULL)
		bd_die("out of memory");
	for (k = 0; k < contacts; k++) {
		c = contact_of(u, k);
		off += (size_t)snprintf(x + off, cap - off, "<item jid='c%zu@p.test' subscription='both' "
		    "name='Contact %zu'><group>Group %zu</group></item>", c, c, c % 10);
	}
	*len = off;
	return x;
}

static void
set_status(struct bd *b, size_t c, unsigned long tick)
{
	char xml[256];

	snprintf(xml, sizeof(xml), "<presence from='c%zu@p.test/r' to='sync.p.test'>"
	    "<status>status %lu</status></presence>", c, tick);
	bd_feed(b, xml);
}

static void
memory(const char *when, const struct bd *b)
{
	char path[4200];
	struct stat st;
	size_t nviews, vbytes;

	snprintf(path, sizeof(path), "%s/data.mdb", b->dir);
	if (stat(path, &st) != 0)
		memset(&st, 0, sizeof(st));
	sk_views_stats(b->d.views, &nviews, &vbytes);
	printf("bench_scale: %s: VmRSS %ld kB, VmHWM %ld kB, RssFile %ld kB (the LMDB map and the program), "
	    "RssAnon %ld kB (outside the map; the benchmark's key table %zu kB and %zu kept views %zu kB in it)\n",
	    when, bu_status_kb("VmRSS"), bu_status_kb("VmHWM"), bu_status_kb("RssFile"),
	    bu_status_kb("RssAnon"), users * (sizeof(char *) + 64) / 1024, nviews, vbytes / 1024);
	printf("bench_scale: %s: data.mdb %lld B (%lld B allocated) = %.1f kB per user per client\n",
	    when, (long long)st.st_size, (long long)st.st_blocks * 512,
	    users ? st.st_size / 1024.0 / (double)users : 0.0);
}

int
main(int argc, char **argv)
{
	size_t want = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	size_t samples = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000, u, c, done;
	const char *bs = getenv("BUILD_SECONDS");
	double build_s = bs ? atof(bs) : 180.0, t0, *lat, elapsed, p50;
	unsigned long tick = 0;
	uint64_t rng = 88172645463325252ull;
	struct bd b;

	contacts = argc > 2 ? strtoul(argv[2], NULL, 10) : 200;
	if (contacts == 0 || contacts > 200 || want == 0 || samples == 0)
		bd_die("usage: bench_scale [USERS [CONTACTS (at most 200) [SAMPLES]]]");
	setenv("SK_STORE_MAPSIZE", "17179869184", 0);
	if ((keys = calloc(want, sizeof(*keys))) == NULL || (lat = calloc(samples, sizeof(*lat))) == NULL)
		bd_die("out of memory");
	bu_conditions("bench_scale");
	printf("bench_scale: %zu users x %zu contacts wanted (pool %d, 30%% online), directly on the engine and "
	    "synckeyd's handlers in-process (no network, no server), privilege-only, LMDB map %s B, store in %s\n",
	    want, contacts, POOL, getenv("SK_STORE_MAPSIZE"), getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fflush(stdout);
	bd_open(&b, 0);
	for (c = 0; c < POOL; c++)
		if (c % 10 < 3)
			set_status(&b, c, ++tick);
	skd_ingest_flush(&b.d, 1);

	/* build: one full sync per user, on the engine */
	t0 = bu_now_us();
	for (u = 0; u < want; u++) {
		struct sk_state live;
		struct sk_view *v;
		struct sk_sync_result res;
		char bare[64];

		if (u % 1000 == 0 && u > 0) {
			bd_check(sk_store_flush(b.d.store), "commit");
			if (bu_now_us() - t0 > build_s * 1e6)
				break;
		}
		user_jid(u, bare, sizeof(bare));
		sk_state_init(&live);
		roster_state(u, &live);
		bd_check(sk_view_build(b.d.store, &live, NULL, &v), "view");
		bd_check(sk_sync_run_view(b.d.store, &b.d.sync, bare, "bench", NULL, v, 0, (uint64_t)1700000000, &res),
		    "full sync");
		if ((keys[u] = strdup(res.key)) == NULL)
			bd_die("out of memory");
		sk_sync_result_free(&res);
		sk_view_free(v);
		sk_state_free(&live);
	}
	bd_check(sk_store_flush(b.d.store), "commit");
	users = u;
	elapsed = (bu_now_us() - t0) / 1e6;
	printf("bench_scale: build: %zu users in %.1f s (%.0f full syncs/s on the engine)%s\n", users, elapsed,
	    users / elapsed, users < want ? "; STOPPED at BUILD_SECONDS: the wanted size was not reached" : "");
	memory("after the build", &b);
	fflush(stdout);

	/* deltas through the handlers */
	t0 = bu_now_us();
	for (done = 0; done < samples && bu_now_us() - t0 < DELTA_SECONDS * 1e6; done++) {
		char bare[64], type[16], key[SK_KEY_MAX + 1], *xml;
		size_t len, k, changed = 0, want_changed = contacts / 100 ? contacts / 100 : 1;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		u = (size_t)(rng % users);
		user_jid(u, bare, sizeof(bare));
		for (k = 0; k < contacts && changed < want_changed; k++)
			if (contact_of(u, k) % 10 < 3) {
				set_status(&b, contact_of(u, k), ++tick);
				changed++;
			}
		skd_ingest_flush(&b.d, 1);
		xml = roster_xml(u, &len);
		snprintf(key, sizeof(key), "%s", keys[u]);
		lat[done] = bd_sync(&b, bare, key, sizeof(key), xml, len, type, sizeof(type));
		free(xml);
		if (strcmp(type, "delta") != 0 || strstr(b.out, "<presence") == NULL)
			bd_die("a delta sync was not answered with a delta");
		free(keys[u]);
		if ((keys[u] = strdup(key)) == NULL)
			bd_die("out of memory");
	}
	skd_ingest_flush(&b.d, 1);
	elapsed = (bu_now_us() - t0) / 1e6;
	printf("bench_scale: %zu delta syncs of random users in %.1f s (1%% of contacts changed before each, "
	    "not timed)%s\n", done, elapsed, done < samples ? "; STOPPED after 60 s" : "");
	p50 = bu_quantile(lat, done, 0.5);	/* sorts lat */
	printf("bench_scale: delta sync, request text to answer bytes: min %.0f us, p50 %.0f us, p90 %.0f us, "
	    "p99 %.0f us, max %.0f us\n", lat[0], p50, lat[(size_t)(0.9 * done)],
	    lat[(size_t)(0.99 * done)], lat[done - 1]);
	memory("after the deltas", &b);
	for (u = 0; u < users; u++)
		free(keys[u]);
	free(keys);
	free(lat);
	bd_close(&b);
	return 0;
}
