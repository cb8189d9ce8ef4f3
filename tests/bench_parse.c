/* bench_parse.c - roster results and sync pages of N items through libstrophe's parser to records: per-item cost */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <strophe.h>

#include "benchutil.h"
#include "capture.h"
#include "nodefer.h"
#include "state.h"
#include "xml.h"

/*
 * What synckeyd and synckey do with a large roster: bytes into
 * libstrophe's expat parser (xmpp_stanza_new_from_string runs the same
 * parser_expat.c handlers as a connection, through nodefer.c's wrapped
 * handlers, fed in one piece rather than 4 kB reads), then the query's
 * items into records (sk_xml_roster_parse; sk_xml_update_parse for a
 * <sync/> page).  "capture" is the path this program and synckeyd take
 * (nodefer.c hands the items to capture.c); "tree" is the same with
 * sk_nodefer_set_capture(0): libstrophe's tree, as before, the baseline
 * of the same run.  O(n) shows as a flat ns/item column; the last lines
 * give the ratio of ns/item at the largest and the smallest N (goal
 * <= 2).  The tree path stops repeating after MAX_SECONDS per size.
 */
#define RUNS		7
#define MAX_SECONDS	6.0

enum kind { K_ROSTER, K_PAGE };
static const char *kind_name[] = { "roster", "page" };

static xmpp_ctx_t *ctx;

static void
die(const char *msg)
{
	fprintf(stderr, "bench_parse: %s\n", msg);
	exit(1);
}

/* A roster result (or a <sync/> page) of n items, as a server writes it. */
static char *
make_text(size_t n, enum kind k)
{
	size_t cap = 256 + n * 160, len = 0, i;
	char *s = malloc(cap);

	if (s == NULL)
		die("out of memory");
	len += (size_t)snprintf(s + len, cap - len, "%s<query xmlns='jabber:iq:roster' ver='v%zu'>",
	    k == K_ROSTER ? "<iq type='result' id='roster1' from='u@p.test' to='sync.p.test'>" :
	    "<iq type='result' id='s1' from='sync.p.test' to='u@p.test/r'>"
	    "<sync xmlns='urn:xmpp:synckey:0' type='full' key='k'>", n);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len,
		    "<item jid='contact%06zu@example.org' name='Contact %zu' subscription='%s'>"
		    "<group>%s</group></item>", i, i, i % 7 ? "both" : "to", i % 3 ? "Friends" : "Work");
	snprintf(s + len, cap - len, "</query>%s</iq>", k == K_ROSTER ? "" : "</sync>");
	return s;
}

/* One parse to records; microseconds.  Checks the count. */
static double
run(const char *text, size_t n, enum kind k)
{
	xmpp_stanza_t *st, *q;
	struct sk_state s;
	struct sk_update u;
	double t0 = bu_now_us(), t;
	size_t got;

	if ((st = xmpp_stanza_new_from_string(ctx, text)) == NULL)
		die("unparsable");
	if (k == K_ROSTER) {
		sk_state_init(&s);
		q = xmpp_stanza_get_child_by_name_and_ns(st, "query", SK_NS_ROSTER);
		if (q == NULL || sk_xml_roster_parse(q, &s, NULL) != 0)
			die("roster parse failed");
		got = s.nitems;
		t = bu_now_us() - t0;
		sk_state_free(&s);
	} else {
		sk_update_init(&u);
		q = xmpp_stanza_get_child_by_name_and_ns(st, "sync", "urn:xmpp:synckey:0");
		if (q == NULL || sk_xml_update_parse(q, &u) != 0)
			die("page parse failed");
		got = u.put.nitems;
		t = bu_now_us() - t0;
		sk_update_free(&u);
	}
	xmpp_stanza_release(st);
	if (got != n)
		die("wrong number of records");
	return t;
}

/* min and median ns per item of one path at one size. */
static void
measure(size_t n, enum kind k, int cap, double *min, double *med)
{
	char *text = make_text(n, k);
	double t[RUNS], start = bu_now_us();
	int r;

	sk_nodefer_set_capture(cap);
	for (r = 0; r < RUNS && (r < 1 || bu_now_us() - start < MAX_SECONDS * 1e6); r++)
		t[r] = run(text, n, k) * 1e3 / (double)n;
	*med = bu_median(t, (size_t)r);
	*min = t[0];		/* sorted by bu_median */
	printf("%-6s %-7s %7zu %4d %9.2f %12.1f %12.1f\n", kind_name[k], cap ? "capture" : "tree",
	    n, r, strlen(text) / 1048576.0, *min, *med);
	fflush(stdout);
	free(text);
}

int
main(int argc, char **argv)
{
	static const size_t dflt[] = { 1000, 5000, 20000, 50000 };
	size_t sizes[8], nsizes = 0, i;
	double mins[2][2][8], meds[2][2][8];
	int k, cap;

	for (i = 1; i < (size_t)argc && nsizes < 8; i++)
		if ((sizes[nsizes] = strtoul(argv[i], NULL, 10)) > 0)
			nsizes++;
	if (nsizes == 0)
		for (; nsizes < 4; nsizes++)
			sizes[nsizes] = dflt[nsizes];
	xmpp_initialize();
	if ((ctx = xmpp_ctx_new(NULL, NULL)) == NULL)
		die("no libstrophe context");
	if (sk_nodefer_status() < 0)
		die("nodefer.c could not find expat's functions");
	bu_conditions("bench_parse");
	printf("bench_parse: %s; bytes to records through libstrophe's parser "
	    "(xmpp_stanza_new_from_string, nodefer.c linked), %d runs or %.0f s per row\n",
	    XML_ExpatVersion(), RUNS, MAX_SECONDS);
	printf("%-6s %-7s %7s %4s %9s %12s %12s\n", "stanza", "path", "items", "runs", "MB",
	    "min ns/item", "med ns/item");
	for (k = 0; k < 2; k++)
		for (cap = 1; cap >= 0; cap--)
			for (i = 0; i < nsizes; i++)
				measure(sizes[i], (enum kind)k, cap, &mins[k][cap][i], &meds[k][cap][i]);
	for (k = 0; k < 2; k++)
		for (cap = 1; cap >= 0; cap--)
			printf("bench_parse: %s %s: median ns/item at %zu / at %zu = %.2f (goal <= 2)\n",
			    kind_name[k], cap ? "capture" : "tree", sizes[nsizes - 1], sizes[0],
			    meds[k][cap][nsizes - 1] / meds[k][cap][0]);
	sk_capture_reset();
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
	return 0;
}
