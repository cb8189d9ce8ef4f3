/* bench_scale.c - many users: store size per user and its bytes, resident memory, delta latency p50/p99 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "benchd.h"
#include "error.h"
#include "snap.h"
#include "store.h"
#include "sync.h"
#include "view.h"

/*
 * Not a test and not run by CI (README, doc/benchmarks.md):
 *   tests/bench_scale [USERS [CONTACTS [SAMPLES]]]    default 100000 200 2000
 * (USERS defaults to $BENCH_SCALE_USERS when set: a small run through make
 * bench; the store's bytes at 2 000 x 200 with 40 samples take seconds).
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
 * and RssAnon (heap and stacks: outside the map).  Then the bytes of
 * data.mdb per user and client by what they pay for (store_bytes below).
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

/* ---- what each byte of the store pays for ---------------------------------- */

/*
 * The store the build and the deltas left, read back through a second,
 * read-only LMDB environment on the same data.mdb with MDB_NOLOCK: it
 * opens no lock file, so closing it drops none of the daemon's locks,
 * and nothing writes while it reads (the batch is committed first).
 * Every record of every database is walked and each byte of data.mdb is
 * put on one line; the lines' sum is printed beside the file size.
 *
 * LMDB 0.9's page layout (mdb.c; the constants below): a page starts
 * with a 16 B header; a leaf record is a node of an 8 B header, the key
 * and the value, padded to an even size, plus a 2 B index slot in its
 * page; a value with 8 + key + value > nodemax (2038 B at 4096 B pages)
 * goes to a run of overflow pages of its own (a 16 B header, the value,
 * the last page's rest unused) and the node holds its 8 B first page
 * number instead.  So the bytes of a leaf are split into keys, values,
 * node overhead and what is left unfilled; to check that model, every
 * page's header is read from the file too (scan_pages), and the pages of
 * each type and the bytes the leaves' nodes take by their headers are
 * printed beside mdb_stat's counts and the ones computed from the
 * records ("check": ok or DIFFERENT).
 */
#define LM_PAGEHDR	16	/* PAGEHDRSZ */
#define LM_NODEHDR	8	/* NODESIZE */
#define LM_INDX		2	/* sizeof(indx_t) */
#define LM_PGNO		8	/* sizeof(pgno_t) */
#define LM_METAS	2	/* NUM_METAS */
#define LM_KEYMAX	512

/* The snapshot entry's fields (snap.h), in the order stored. */
static const struct {
	const char	*what, *why;
	size_t		 bytes;
} entry_field[] = {
	{ "entry h64", "FNV-1a of the bare JID: sort key, bucket; recomputable from the string", 8 },
	{ "entry stroff", "where the entry's strings start: a prefix sum of the lengths", 4 },
	{ "entry barelen + reslen", "the lengths of the two strings, 2 B each", 4 },
	{ "entry ref", "index in the state the blob was built from: meaningless once stored", 4 },
	{ "entry kind", "roster item or presence resource", 1 },
	{ "entry padding", "3 zero bytes before the hash", 3 },
	{ "entry record hash", "what says a record changed (16 B of SHA-256)", SK_HASH_LEN },
};
#define NFIELDS (sizeof(entry_field) / sizeof(entry_field[0]))

/* One database walked: its records' bytes and what LMDB adds around them. */
struct dbwalk {
	MDB_stat	 st;
	size_t		 big;		/* values in overflow pages */
	size_t		 ovpages;	/* their pages, computed from the sizes */
	double		 keys, vals;	/* key bytes; value bytes (leaf or overflow) */
	double		 bigvals;	/* of which in overflow pages */
	double		 nodes;		/* node headers, index slots, page numbers, padding */
};

/*
 * What if a blob did without some of its bytes: each step's saving on one
 * blob, from the blob's own counts, and what the blob would then take on
 * disk (whole overflow pages; a value that fits a leaf, its bytes), alone
 * and with the steps above it.  Page arithmetic, not a rebuilt store.
 */
struct blobstat {
	double		 n, nb;		/* entries, buckets */
	double		 rep;		/* repeated presence bare JID bytes */
	double		 domrep;	/* @domain bytes a domain table would spare */
	double		 strs;		/* entries with a bare JID string of their own */
};
static const struct {
	const char	*what, *cost;
} step[] = {
	{ "entry ref (4 B)", "nothing: no reader of a stored blob uses it" },
	{ "entry padding (3 B)", "nothing: entries are read with memcpy, unaligned already" },
	{ "entry h64 (8 B)", "an FNV-1a of the bare JID for each entry read (the diff reads changed buckets only)" },
	{ "entry stroff (4 B), a u32 per bucket", "a prefix sum of the lengths from the bucket's first entry" },
	{ "presence bare JIDs repeated", "a flag: the bare JID is the entry's before" },
	{ "record hash 16 -> 8 B", "a changed record goes unseen with p = 2^-64 per pair compared, not 2^-128" },
	{ "half the buckets (~16 entries each)", "a changed bucket merges ~16 entries, not ~8" },
	{ "@domain once a blob, 1 B index", "a domain table per blob; real rosters have more domains" },
	{ "lengths and kind in 2 B, not 5", "1 B lengths (a longer JID: an escape), kind in a bit" },
};
#define NSTEPS (sizeof(step) / sizeof(step[0]))

static double
step_saving(size_t k, const struct blobstat *b)
{
	switch (k) {
	case 0: return 4 * b->n;
	case 1: return 3 * b->n;
	case 2: return 8 * b->n;
	case 3: return 4 * b->n - 4 * b->nb;
	case 4: return b->rep;
	case 5: return 8 * b->n;
	case 6: return b->nb > 1 ? 10 * b->nb : 0;
	case 7: return b->domrep - b->strs;
	default: return 3 * b->n;
	}
}

/* The snapshot blobs: their parts, and what the older (prev) ones take. */
struct snapwalk {
	double		 disk;		/* the blobs on disk: overflow pages, or value bytes */
	double		 alone[NSTEPS], cum[NSTEPS], cumpages[NSTEPS], cumlen[NSTEPS];
	double		 hdr, firsts, xors, entries[2];	/* entries by kind (R, P) */
	double		 rbare, pbare_rep, pbare, res, strother;
	double		 bad;		/* bytes of blobs that do not read */
	size_t		 blobs, bits;	/* blobs; sum of their bucket bits */
	size_t		 prev;		/* snapshots older than their client's newest */
	double		 prev_bytes;	/* their value or overflow pages, and node */
	char		 last[LM_KEYMAX];	/* client key part of the snapshot before */
	size_t		 lastlen;
	double		 last_bytes;
};

struct line {
	char		 what[64];
	double		 bytes;
	const char	*why;
};
#define MAXLINES 64
static struct line lines[MAXLINES];
static size_t nlines;

static void
lm_check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "bench: %s: %s\n", what, mdb_strerror(rc));
		exit(1);
	}
}

/* A line "part: what" (part NULL: "what"). */
static void
add_line(double bytes, const char *why, const char *part, const char *what)
{
	if (nlines == MAXLINES)
		bd_die("too many lines");
	snprintf(lines[nlines].what, sizeof(lines[nlines].what), "%s%s%s", part ? part : "",
	    part ? ": " : "", what);
	lines[nlines].bytes = bytes;
	lines[nlines++].why = why;
}

/* Bytes of one record in its leaf; *ovp gets its overflow pages (0: none). */
static size_t
lm_node(unsigned psize, size_t klen, size_t vlen, size_t *ovp)
{
	size_t nodemax = (((psize - LM_PAGEHDR) / 2) & ~(size_t)1) - LM_INDX, sz;

	*ovp = 0;
	sz = LM_NODEHDR + klen + vlen;
	if (sz > nodemax) {
		*ovp = (LM_PAGEHDR - 1 + vlen) / psize + 1;
		sz = LM_NODEHDR + klen + LM_PGNO;
	}
	return ((sz + 1) & ~(size_t)1) + LM_INDX;
}

/* What a value of vlen bytes under a key of klen takes on disk: its overflow
   pages, or (in a leaf) its bytes. */
static double
disk_bytes(unsigned psize, size_t klen, double vlen)
{
	size_t ovp;

	if (vlen < 0)
		vlen = 0;
	lm_node(psize, klen, (size_t)vlen, &ovp);
	return ovp ? (double)ovp * psize : vlen;
}

/* The bytes of @domain in e's bare JID a per-blob domain table (of up to
   32 domains) would spare: 0 the first time a domain is seen. */
static double
domain_rep(const struct sk_snap_entry *e, const char **dom, size_t *domlen, size_t *ndom)
{
	const char *at = memchr(e->bare, '@', e->barelen);
	size_t len, j;

	if (at == NULL)
		return 0;
	len = e->barelen - (size_t)(at - e->bare);
	for (j = 0; j < *ndom; j++)
		if (domlen[j] == len && memcmp(dom[j], at, len) == 0)
			return (double)len;
	if (*ndom < 32) {
		dom[*ndom] = at;
		domlen[(*ndom)++] = len;
	}
	return 0;
}

/* One blob's parts into w; a blob that does not read goes to w->bad whole. */
static void
snap_blob(struct snapwalk *w, unsigned psize, const MDB_val *k, const MDB_val *v)
{
	struct sk_snap sv;
	struct sk_snap_entry e;
	struct blobstat bs;
	double ent[2] = { 0, 0 }, rbare = 0, prep = 0, pbare = 0, res = 0, save = 0;
	const char *pb = NULL, *dom[32];
	size_t pl = 0, nb, domlen[32], ndom = 0, j;
	uint32_t i;

	w->blobs++;
	if (sk_snap_view(&sv, v->mv_data, v->mv_size) != 0) {
		w->bad += (double)v->mv_size;
		return;
	}
	memset(&bs, 0, sizeof(bs));
	for (i = 0; i < sv.n; i++) {
		if (sk_snap_entry(&sv, i, &e) != 0) {
			w->bad += (double)v->mv_size;
			return;
		}
		ent[e.kind == SK_SNAP_PRES]++;
		if (e.kind == SK_SNAP_PRES && pb != NULL && pl == e.barelen && memcmp(pb, e.bare, pl) == 0) {
			prep += e.barelen;
		} else {
			*(e.kind == SK_SNAP_PRES ? &pbare : &rbare) += e.barelen;
			bs.domrep += domain_rep(&e, dom, domlen, &ndom);
			bs.strs++;
		}
		res += e.reslen;
		pb = e.bare;
		pl = e.barelen;
	}
	nb = (size_t)1 << sv.bits;
	w->hdr += SK_SNAP_HDR;
	w->firsts += 4.0 * (double)nb;
	w->xors += (double)(SK_SNAP_BUCKET - 4) * (double)nb;
	w->bits += sv.bits;
	w->entries[0] += ent[0];
	w->entries[1] += ent[1];
	w->rbare += rbare;
	w->pbare_rep += prep;
	w->pbare += pbare;
	w->res += res;
	w->strother += sv.strlen - (rbare + prep + pbare + res);
	bs.n = sv.n;
	bs.nb = (double)nb;
	bs.rep = prep;
	w->disk += disk_bytes(psize, k->mv_size, (double)v->mv_size);
	for (j = 0; j < NSTEPS; j++) {
		double d;

		w->alone[j] += disk_bytes(psize, k->mv_size, (double)v->mv_size - step_saving(j, &bs));
		save += step_saving(j, &bs);
		w->cum[j] += d = disk_bytes(psize, k->mv_size, (double)v->mv_size - save);
		w->cumpages[j] += d / psize;
		w->cumlen[j] += (double)v->mv_size > save ? (double)v->mv_size - save : 0;
	}
}

/*
 * Walks every record of dbi into w; for the snapshots (sw not NULL) each
 * blob too, and snapshots sorted before their client's last one (an
 * older txn: the key that stays valid beside the newest) as prev.
 */
static void
walk_db(MDB_txn *t, MDB_dbi dbi, unsigned psize, struct dbwalk *w, struct snapwalk *sw)
{
	MDB_cursor *c;
	MDB_val k, v;
	size_t ovp, node;
	int rc;

	memset(w, 0, sizeof(*w));
	lm_check(mdb_stat(t, dbi, &w->st), "mdb_stat");
	lm_check(mdb_cursor_open(t, dbi, &c), "mdb_cursor_open");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		node = lm_node(psize, k.mv_size, v.mv_size, &ovp);
		w->keys += (double)k.mv_size;
		w->vals += (double)v.mv_size;
		w->nodes += (double)(node - k.mv_size - (ovp ? 0 : v.mv_size));
		if (ovp) {
			w->big++;
			w->ovpages += ovp;
			w->bigvals += (double)v.mv_size;
		}
		if (sw == NULL)
			continue;
		snap_blob(sw, psize, &k, &v);
		/* key: bare 0 client 0 txn (8 B, big-endian) */
		if (k.mv_size > 8 && k.mv_size - 8 <= sizeof(sw->last)) {
			if (sw->lastlen == k.mv_size - 8 && memcmp(sw->last, k.mv_data, sw->lastlen) == 0) {
				sw->prev++;
				sw->prev_bytes += sw->last_bytes;
			}
			sw->lastlen = k.mv_size - 8;
			memcpy(sw->last, k.mv_data, sw->lastlen);
			sw->last_bytes = (double)(ovp ? ovp * psize : v.mv_size) + (double)node;
		}
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		lm_check(rc, "mdb_cursor_get");
}

/* The lines of one database: its values (unless valwhat is NULL), keys, and LMDB's pages. */
static void
db_lines(const char *db, const struct dbwalk *w, unsigned psize, const char *valwhat,
    const char *valwhy, const char *keywhy)
{
	double leaf = (double)w->st.ms_leaf_pages * psize;

	if (valwhat != NULL)
		add_line(w->vals, valwhy, db, valwhat);
	add_line(w->keys, keywhy, db, "keys");
	add_line(w->nodes, "8 B node header, 2 B index slot, even padding; a big value's 8 B page number",
	    db, "node headers, index slots");
	add_line((double)LM_PAGEHDR * w->st.ms_leaf_pages, "16 B a leaf page", db, "leaf page headers");
	add_line(leaf - (double)LM_PAGEHDR * w->st.ms_leaf_pages - w->keys - (w->vals - w->bigvals) - w->nodes,
	    "leaves are split in half when full: they hold 50-100 %", db, "leaf space unfilled");
	add_line((double)w->st.ms_branch_pages * psize, "the B-tree's inner pages (keys and page numbers)",
	    db, "branch pages");
	add_line((double)LM_PAGEHDR * w->big, "16 B at the start of each big value's pages",
	    db, "overflow page headers");
	add_line((double)w->st.ms_overflow_pages * psize - (double)LM_PAGEHDR * w->big - w->bigvals,
	    "a big value takes whole pages: the rest of its last one", db, "overflow space unused");
}

/* The whole store walked: every database, the free list, the page headers. */
#define NDBS 5
static const char *db_name[NDBS] = { "snap", "client", "pres", "roster", "meta" };

struct storewalk {
	struct dbwalk	 db[NDBS], mainw, freew;
	struct snapwalk	 sw;
	unsigned	 psize;
	size_t		 npages;	/* up to the last one used */
	size_t		 freepages;
	unsigned char	*isfree;	/* a bit per page */
	/* from the page headers: pages by type; node and index bytes in leaves */
	size_t		 pg_leaf, pg_branch, pg_overflow, pg_meta, pg_free, pg_other;
	double		 leafused;
};

/* Each database's records, the free list's pages, in one read transaction. */
static void
walk_store(const char *dir, struct storewalk *s)
{
	MDB_envinfo info;
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	MDB_stat est;
	MDB_cursor *c;
	MDB_val k, v;
	size_t i, n, pg;
	int rc;

	lm_check(mdb_env_create(&env), "mdb_env_create");
	lm_check(mdb_env_set_maxdbs(env, NDBS + 1), "mdb_env_set_maxdbs");
	lm_check(mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0600), "mdb_env_open");
	lm_check(mdb_env_stat(env, &est), "mdb_env_stat");
	lm_check(mdb_env_info(env, &info), "mdb_env_info");
	s->psize = est.ms_psize;
	s->npages = info.me_last_pgno + 1;
	if ((s->isfree = calloc(s->npages / 8 + 1, 1)) == NULL)
		bd_die("out of memory");
	lm_check(mdb_txn_begin(env, NULL, MDB_RDONLY, &t), "mdb_txn_begin");
	for (i = 0; i < NDBS; i++) {
		if ((rc = mdb_dbi_open(t, db_name[i], 0, &dbi)) == MDB_NOTFOUND)
			continue;
		lm_check(rc, db_name[i]);
		walk_db(t, dbi, s->psize, &s->db[i], i == 0 ? &s->sw : NULL);
	}
	lm_check(mdb_dbi_open(t, NULL, 0, &dbi), "main");
	walk_db(t, dbi, s->psize, &s->mainw, NULL);
	/* the free list (database 0): txn -> the pages it freed, a count then
	   the page numbers (LMDB's IDL of size_t) */
	walk_db(t, 0, s->psize, &s->freew, NULL);
	lm_check(mdb_cursor_open(t, 0, &c), "mdb_cursor_open");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		memcpy(&n, v.mv_data, sizeof(n));
		if (v.mv_size < (n + 1) * sizeof(size_t))
			bd_die("free list: a record shorter than its count");
		s->freepages += n;
		for (i = 1; i <= n; i++) {
			memcpy(&pg, (const char *)v.mv_data + i * sizeof(size_t), sizeof(pg));
			if (pg < s->npages)
				s->isfree[pg / 8] |= (unsigned char)(1u << (pg % 8));
		}
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		lm_check(rc, "mdb_cursor_get");
	mdb_txn_abort(t);
	mdb_env_close(env);
}

/*
 * What the records cannot say: each page's header, read from the file
 * (pread: the map is not touched), up to the last page used; free pages
 * are skipped, an overflow run at once.  Page header (mdb.c): u64 pgno,
 * u16 pad, u16 flags, then u16 lower and upper (the free gap between the
 * index slots and the nodes), or u32 pages of an overflow run.
 */
#define LM_P_BRANCH	0x01
#define LM_P_LEAF	0x02
#define LM_P_OVERFLOW	0x04
#define LM_P_META	0x08

static void
scan_pages(const char *path, struct storewalk *s)
{
	unsigned char h[LM_PAGEHDR];
	uint16_t flags, lower, upper;
	uint32_t run;
	size_t p;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		bd_die("data.mdb does not open");
	for (p = 0; p < s->npages; p++) {
		if (s->isfree[p / 8] & (1u << (p % 8))) {
			s->pg_free++;
			continue;
		}
		if (pread(fd, h, sizeof(h), (off_t)p * s->psize) != (ssize_t)sizeof(h))
			bd_die("data.mdb: a page header does not read");
		memcpy(&flags, h + 10, 2);
		memcpy(&lower, h + 12, 2);
		memcpy(&upper, h + 14, 2);
		memcpy(&run, h + 12, 4);
		if (flags & LM_P_OVERFLOW) {
			if (run == 0)
				bd_die("data.mdb: an overflow run of 0 pages");
			s->pg_overflow += run;
			p += run - 1;
		} else if (flags & LM_P_META) {
			s->pg_meta++;
		} else if (flags & LM_P_LEAF) {
			s->pg_leaf++;
			s->leafused += (double)(lower - LM_PAGEHDR) + (double)(s->psize - upper);
		} else if (flags & LM_P_BRANCH) {
			s->pg_branch++;
		} else {
			s->pg_other++;
		}
	}
	close(fd);
}

/* The pages of a database by mdb_stat. */
static size_t
db_pages(const struct dbwalk *w)
{
	return w->st.ms_branch_pages + w->st.ms_leaf_pages + w->st.ms_overflow_pages;
}

/* The lines: the blobs part by part, then each database, then LMDB's own pages. */
static void
store_lines(const struct storewalk *s)
{
	static const char *keywhy[NDBS] = { "bare JID 0 client ID 0 txn (8 B)", "bare JID 0 client ID",
		"contact's bare JID 0 resource", "user's bare JID", "schema, epoch, txn" };
	static const char *valwhy[NDBS] = { NULL, "41 B: version, session, cur, prev, created, used",
		"one per contact resource online, shared by every user", "the user's roster (adapter mode)",
		"the store's counters" };
	const struct snapwalk *sw = &s->sw;
	double nent = sw->entries[0] + sw->entries[1];
	size_t i, f;

	nlines = 0;
	add_line(sw->hdr, "magic, bucket bits, entry and string counts (16 B a blob)", "snap blob", "header");
	add_line(sw->firsts, "u32 first entry of each bucket (~8 entries a bucket)",
	    "snap blob", "bucket first-entry table");
	add_line(sw->xors, "16 B XOR of each bucket's hashes: the diff skips equal runs",
	    "snap blob", "bucket XOR table");
	for (f = 0; f < NFIELDS; f++)
		add_line(nent * (double)entry_field[f].bytes, entry_field[f].why, "snap blob",
		    entry_field[f].what);
	add_line(sw->rbare, "the contact's bare JID, once per roster entry", "snap blob", "strings, roster bare JIDs");
	add_line(sw->pbare_rep, "a presence entry's bare JID, the same as the entry's before it",
	    "snap blob", "strings, presence bare JIDs repeated");
	add_line(sw->pbare, "a presence entry's bare JID, not the entry's before",
	    "snap blob", "strings, presence bare JIDs");
	add_line(sw->res, "the presence entry's resource", "snap blob", "strings, resources");
	add_line(sw->strother, "string bytes no entry names (0 when the blobs read)", "snap blob", "strings, other");
	add_line(sw->bad, "blobs that do not read as snapshots (0)", "snap blob", "unreadable");
	for (i = 0; i < NDBS - 1; i++)
		db_lines(db_name[i], &s->db[i], s->psize, i ? "values" : NULL, valwhy[i], keywhy[i]);
	add_line((double)(db_pages(&s->db[NDBS - 1]) + db_pages(&s->mainw)) * s->psize,
	    "the store's counters; the five databases' names and roots", NULL, "meta and main database pages");
	add_line((double)db_pages(&s->freew) * s->psize, "the lists of free pages", NULL, "free list pages");
	add_line((double)s->freepages * s->psize, "pages freed by later writes (copy-on-write), kept for reuse",
	    NULL, "free pages");
	add_line((double)LM_METAS * s->psize, "LMDB's two meta pages", NULL, "meta pages");
}

/*
 * Prints, per user and client, the bytes of data.mdb in dir by what they
 * pay for, their sum and its difference from the file's size, and the
 * page headers' figures beside the ones computed from the records.
 */
static void
store_bytes(const char *when, const char *dir)
{
	struct storewalk s;
	struct stat st;
	char path[4200];
	double sum = 0, clients, fsize, nodes = 0, blobs, tbl;
	size_t i, f, leaf = 0, branch = 0, ovf = 0;
	const struct dbwalk *all[NDBS + 2];

	for (i = 0, f = 0; i < NFIELDS; i++)
		f += entry_field[i].bytes;
	if (f != SK_SNAP_ENTRY)
		bd_die("snap.h's entry is not the fields entry_field lists: update them");
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st) != 0)
		bd_die("no data.mdb");
	fsize = (double)st.st_size;
	memset(&s, 0, sizeof(s));
	walk_store(dir, &s);
	scan_pages(path, &s);
	store_lines(&s);
	for (i = 0; i < NDBS; i++)
		all[i] = &s.db[i];
	all[NDBS] = &s.mainw;
	all[NDBS + 1] = &s.freew;
	for (i = 0; i < NDBS + 2; i++) {
		nodes += all[i]->keys + all[i]->vals - all[i]->bigvals + all[i]->nodes;
		leaf += all[i]->st.ms_leaf_pages;
		branch += all[i]->st.ms_branch_pages;
		ovf += all[i]->st.ms_overflow_pages;
	}
	clients = s.db[1].st.ms_entries ? (double)s.db[1].st.ms_entries : 1;
	blobs = s.sw.blobs ? (double)s.sw.blobs : 1;
	printf("bench_scale: bytes %s: data.mdb %.0f B, %zu client records (one a user), %zu snapshots "
	    "(%zu of them a client's prev), %zu presence records, page %u B; per user and client:\n",
	    when, fsize, s.db[1].st.ms_entries, s.sw.blobs, s.sw.prev, s.db[2].st.ms_entries, s.psize);
	printf("bench_scale: bytes:   a snapshot: %.1f entries (%.1f roster, %.1f presence), %.1f bucket bits, "
	    "%.0f B; B-tree depth: snap %u, client %u, pres %u\n", (s.sw.entries[0] + s.sw.entries[1]) / blobs,
	    s.sw.entries[0] / blobs, s.sw.entries[1] / blobs, (double)s.sw.bits / blobs, s.db[0].vals / blobs,
	    s.db[0].st.ms_depth, s.db[1].st.ms_depth, s.db[2].st.ms_depth);
	printf("bench_scale: bytes:   %-48s %9s %6s  %s\n", "what", "B", "%", "what it pays for");
	for (i = 0; i < nlines; i++) {
		sum += lines[i].bytes;
		if (lines[i].bytes != 0)
			printf("bench_scale: bytes:   %-48s %9.1f %6.2f  %s\n", lines[i].what, lines[i].bytes / clients,
			    100.0 * lines[i].bytes / fsize, lines[i].why);
	}
	printf("bench_scale: bytes:   %-48s %9.1f %6.2f  (lines of 0 B left out)\n", "sum of the lines",
	    sum / clients, 100.0 * sum / fsize);
	printf("bench_scale: bytes:   %-48s %9.1f %6.2f  %zu pages to the last one used: %.0f B\n", "data.mdb",
	    fsize / clients, 100.0, s.npages, (double)s.npages * s.psize);
	printf("bench_scale: bytes:   %-48s %9.1f        %.0f B in all\n", "difference (data.mdb - sum)",
	    (fsize - sum) / clients, fsize - sum);
	tbl = s.sw.firsts + s.sw.xors;
	printf("bench_scale: bytes:   snapshot blobs %.1f B, LMDB around them %.1f B, a client's prev snapshot "
	    "(older key) %.1f B (value or overflow pages, and node); bucket tables %.1f B\n",
	    s.db[0].vals / clients, (db_pages(&s.db[0]) * (double)s.psize - s.db[0].vals) / clients,
	    s.sw.prev_bytes / clients, tbl / clients);
	printf("bench_scale: bytes:   check, page headers against records and mdb_stat: leaf pages %zu (%zu), "
	    "branch %zu (%zu), overflow %zu (%zu computed %zu), free %zu (%zu), meta %zu (2), other %zu (0); "
	    "node and index bytes in leaves %.0f (%.0f): %s\n", s.pg_leaf, leaf, s.pg_branch, branch,
	    s.pg_overflow, ovf, s.db[0].ovpages + s.db[1].ovpages + s.db[2].ovpages + s.db[3].ovpages,
	    s.pg_free, s.freepages, s.pg_meta, s.pg_other, s.leafused, nodes,
	    s.pg_leaf == leaf && s.pg_branch == branch && s.pg_overflow == ovf && s.pg_free == s.freepages &&
	    s.pg_meta == LM_METAS && s.pg_other == 0 && s.leafused == nodes && fsize == sum ? "ok" : "DIFFERENT");
	printf("bench_scale: bytes:   if the snapshot blobs did without (blobs on disk now %.1f B, %.2f pages a blob; "
	    "B per user and client; \"and above\": with the lines above; store: data.mdb then; blob: its average "
	    "bytes then):\n", s.sw.disk / clients, s.sw.disk / s.psize / blobs);
	printf("bench_scale: bytes:   %-40s %8s %9s %9s %7s %6s  %s\n", "without", "alone", "and above", "store",
	    "blob", "pages", "what it would cost");
	for (i = 0; i < NSTEPS; i++)
		printf("bench_scale: bytes:   %-40s %8.1f %9.1f %9.1f %7.0f %6.2f  %s\n", step[i].what,
		    (s.sw.alone[i] - s.sw.disk) / clients, (s.sw.cum[i] - s.sw.disk) / clients,
		    (fsize - s.sw.disk + s.sw.cum[i]) / clients, s.sw.cumlen[i] / blobs, s.sw.cumpages[i] / blobs,
		    step[i].cost);
	free(s.isfree);
}

int
main(int argc, char **argv)
{
	const char *eu = getenv("BENCH_SCALE_USERS");
	size_t want = argc > 1 ? strtoul(argv[1], NULL, 10) : eu && *eu ? strtoul(eu, NULL, 10) : 100000;
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
	bd_check(sk_store_flush(b.d.store), "commit");
	memory("after the deltas", &b);
	store_bytes("after the deltas", b.dir);
	for (u = 0; u < users; u++)
		free(keys[u]);
	free(keys);
	free(lat);
	bd_close(&b);
	return 0;
}
