/* bench_component.c - synckeyd against a FAKE SERVER on loopback: delta syncs/s, presence/s, parse floor */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <expat.h>
#include <strophe.h>

#include "testutil.h"

/*
 * This is a fake server, named as such: it plays the server's side of the
 * XEP-0114 link (handshake, the XEP-0356 privilege advertisement, roster
 * answers pre-serialised so that the fake costs little, injected presence,
 * sync IQs from many users) so that the figures are synckeyd's own, not
 * Prosody's (a real Prosody tops out near 11 000 IQ round trips/s here).
 *
 * Conditions: USERS users, each with CONTACTS contacts (subscription
 * both, 30 % online), CHANGED contacts changed before each delta sync
 * (1 %), syncs pipelined WINDOW at a time.  The floor is what libstrophe
 * needs just to parse the roster answer and one presence stanza
 * (xmpp_stanza_new_from_string: a new parser per stanza).  The
 * component's CPU time per sync is read from /proc (utime + stime).
 */
#define USERS		50
#define CONTACTS	200
#define CHANGED		2
#define ROUNDS		40	/* delta syncs per user */
#define WINDOW		8
#define RUNS		5	/* timed runs of the delta phase */
#define PRESENCE_N	200000
#define LIMIT_S		60	/* every phase stops after this */

static int fd = -1;
static pid_t child = -1;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *msg)
{
	fprintf(stderr, "bench_component: %s\n", msg);
	if (child > 0)
		kill(child, SIGKILL);
	exit(1);
}

static double
child_cpu_s(void)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
	if ((f = fopen(path, "r")) == NULL || fgets(buf, sizeof(buf), f) == NULL)
		die("cannot read the component's /proc stat");
	fclose(f);
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		die("cannot parse /proc stat");
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- output buffer to the component ---------------------------------- */

static char *obuf;
static size_t olen, ocap;

static void
out(const char *s, size_t n)
{
	if (olen + n > ocap) {
		ocap = (olen + n) * 2;
		if ((obuf = realloc(obuf, ocap)) == NULL)
			die("out of memory");
	}
	memcpy(obuf + olen, s, n);
	olen += n;
}

static void
outs(const char *s)
{
	out(s, strlen(s));
}

static void
flush_out(void)
{
	size_t off = 0;

	while (off < olen) {
		ssize_t n = write(fd, obuf + off, olen - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { fd, POLLOUT, 0 };

			poll(&p, 1, 1000);
			continue;
		}
		if (n <= 0)
			die("write to the component failed");
		off += (size_t)n;
	}
	olen = 0;
}

/* ---- the component's stream, parsed with expat ------------------------- */

struct event {
	char	name[32], type[16], id[64], to[128], key[160];
	int	is_sync_result, is_checkpoint, is_roster_get, is_error;
};

static XML_Parser xp;
static int depth;
static struct event cur;
static struct event *evq;
static size_t nev, capev;
static int handshake_ok, stream_open;

static const char *
attr(const char **a, const char *name)
{
	for (; a[0]; a += 2)
		if (strcmp(a[0], name) == 0)
			return a[1];
	return NULL;
}

static void
copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static void XMLCALL
on_start(void *ud, const char *name, const char **a)
{
	(void)ud;
	depth++;
	if (depth == 1) {
		stream_open = 1;
		return;
	}
	if (depth == 2) {
		memset(&cur, 0, sizeof(cur));
		copy(cur.name, sizeof(cur.name), name);
		copy(cur.type, sizeof(cur.type), attr(a, "type"));
		copy(cur.id, sizeof(cur.id), attr(a, "id"));
		copy(cur.to, sizeof(cur.to), attr(a, "to"));
		if (strstr(name, "handshake"))
			handshake_ok = 1;
		cur.is_error = strcmp(cur.type, "error") == 0;
		return;
	}
	if (depth == 3) {
		if (strstr(name, "urn:xmpp:synckey:0|sync")) {
			cur.is_sync_result = 1;
			copy(cur.key, sizeof(cur.key), attr(a, "key"));
		} else if (strstr(name, "urn:xmpp:synckey:0|checkpoint")) {
			cur.is_checkpoint = 1;
		} else if (strstr(name, "jabber:iq:roster|query") &&
		    strcmp(cur.type, "get") == 0) {
			cur.is_roster_get = 1;
		}
	}
}

static void XMLCALL
on_end(void *ud, const char *name)
{
	(void)ud;
	(void)name;
	if (depth == 2) {
		if (nev == capev) {
			capev = capev ? capev * 2 : 256;
			if ((evq = realloc(evq, capev * sizeof(*evq))) == NULL)
				die("out of memory");
		}
		evq[nev++] = cur;
	}
	depth--;
}

/* Reads what the component sent (waiting up to ms) into the event queue. */
static void
pump(int ms)
{
	char buf[65536];
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (XML_Parse(xp, buf, (int)n, 0) == XML_STATUS_ERROR)
			die("the component sent malformed XML");
	if (n == 0)
		die("the component closed the stream");
}

/* ---- the scenario ------------------------------------------------------- */

static char *roster_answer[USERS];	/* "...id='" + ID + "'..." in two halves */
static char *roster_tail[USERS];

static void
make_roster(int u)
{
	size_t cap = 128 * CONTACTS + 512, n;
	char *s = malloc(cap);
	int c;

	n = (size_t)snprintf(s, cap, "<iq type='result' from='u%d@bench.test' to='sync.bench.test' id='", u);
	roster_answer[u] = strndup(s, n);
	n = (size_t)snprintf(s, cap, "'><query xmlns='jabber:iq:roster'>");
	for (c = 0; c < CONTACTS; c++)
		n += (size_t)snprintf(s + n, cap - n,
		    "<item jid='c%d@bench.test' name='Contact %d' subscription='both'><group>G%d</group></item>",
		    (u * 37 + c) % 5000, c, c % 7);
	n += (size_t)snprintf(s + n, cap - n, "</query></iq>");
	roster_tail[u] = s;
}

static void
presence(int contact, int round)
{
	char s[256];

	snprintf(s, sizeof(s), "<presence from='c%d@bench.test/r' to='sync.bench.test'>"
	    "<show>away</show><status>round %d</status><priority>1</priority></presence>",
	    contact, round);
	outs(s);
}

static char keys[USERS][160];

static void
send_sync(int u, int round)
{
	char s[512];

	snprintf(s, sizeof(s), "<iq type='get' from='u%d@bench.test/r' to='sync.bench.test' id='s%d.%d'>"
	    "<sync xmlns='urn:xmpp:synckey:0' client='bench'%s%s%s/></iq>", u, u, round,
	    keys[u][0] ? " key='" : "", keys[u], keys[u][0] ? "'" : "");
	outs(s);
}

/* Answers roster gets, collects sync results; returns results seen. */
static int
serve(int *errors)
{
	int done = 0;
	size_t i;

	for (i = 0; i < nev; i++) {
		struct event *e = &evq[i];

		if (e->is_roster_get) {
			int u = atoi(e->to + 1);

			if (u < 0 || u >= USERS)
				die("roster get for an unknown user");
			outs(roster_answer[u]);
			outs(e->id);
			outs(roster_tail[u]);
		} else if (e->is_sync_result && strcmp(e->type, "result") == 0) {
			int u = atoi(e->id + 1);

			copy(keys[u], sizeof(keys[u]), e->key);
			done++;
		} else if (e->is_error) {
			(*errors)++;
			done++;
		}
	}
	nev = 0;
	flush_out();
	return done;
}

/*
 * The floor: libstrophe building the stanza from text, with a new parser
 * per stanza.  With `render` it also serialises it again, as libstrophe
 * 0.12's receive path does for every stanza (its debug log line); synckeyd
 * skips that render unless its log level is debug (nodefer.c), so below
 * debug, as here, the plain parse floor is the one it is measured against.
 */
static double
parse_floor(const char *xml, int loops, int render)
{
	xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
	double t0 = now_s();
	int i;

	for (i = 0; i < loops; i++) {
		xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);
		char *text;
		size_t len;

		if (st == NULL)
			die("libstrophe could not parse the floor stanza");
		if (render && xmpp_stanza_to_text(st, &text, &len) == XMPP_EOK)
			xmpp_free(ctx, text);
		xmpp_stanza_release(st);
	}
	t0 = (now_s() - t0) / loops;
	xmpp_ctx_free(ctx);
	return t0;
}

int
main(int argc, char **argv)
{
	const char *daemon = argc > 1 ? argv[1] : "src/synckeyd";
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	char *dir = tmpdir_new(), secret[4200], db[4200], port[16], buf[4096], *full;
	double t0, cpu0, elapsed, cpu, floor_roster, floor_pres;
	double floor_roster_recv, floor_pres_recv;
	int lfd, u, round = 1, sent, done, errors = 0, one = 1, r, r2, run, total = 0;
	double wall[RUNS], cpus[RUNS];
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	if (access(daemon, X_OK) != 0) {
		fprintf(stderr, "bench_component: no synckeyd at %s (give its path)\n", daemon);
		return 77;
	}
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	snprintf(db, sizeof(db), "%s/db", dir);
	if ((f = fopen(secret, "w")) == NULL)
		die("cannot write the secret file");
	fputs("bench-secret\n", f);
	fclose(f);
	chmod(secret, 0600);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) != 0)
		die("cannot listen on 127.0.0.1");
	snprintf(port, sizeof(port), "127.0.0.1:%d", ntohs(sa.sin_port));

	if ((child = fork()) == 0) {
		if (getenv("BENCH_PERF"))
			execlp("perf", "perf", "record", "-F", "999", "--call-graph", "dwarf,16384", "-o", getenv("BENCH_PERF"), "--",
			    daemon, "--server", port, "--jid", "sync.bench.test",
			    "--secret-file", secret, "--domain", "bench.test", "--db", db,
			    "--log-level", "warn", (char *)NULL);
		execl(daemon, daemon, "--server", port, "--jid", "sync.bench.test",
		    "--secret-file", secret, "--domain", "bench.test", "--db", db,
		    "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	{
		struct pollfd p = { lfd, POLLIN, 0 };

		if (poll(&p, 1, 10000) <= 0)
			die("synckeyd did not connect within 10 s");
	}
	fd = accept(lfd, NULL, NULL);
	close(lfd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, O_NONBLOCK);

	xp = XML_ParserCreateNS(NULL, '|');
	XML_SetElementHandler(xp, on_start, on_end);
	for (t0 = now_s(); !stream_open && now_s() - t0 < 10;)
		pump(100);
	if (!stream_open)
		die("no stream header from synckeyd");
	outs("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
	    "xmlns:stream='http://etherx.jabber.org/streams' from='sync.bench.test' id='benchid'>");
	flush_out();
	/* The fake server accepts any handshake digest: it measures, not guards. */
	for (t0 = now_s(); !handshake_ok && now_s() - t0 < 10;)
		pump(100);
	if (!handshake_ok)
		die("no handshake from synckeyd");
	nev = 0;
	outs("<handshake/><message from='bench.test' to='sync.bench.test'>"
	    "<privilege xmlns='urn:xmpp:privilege:2'><perm access='roster' type='get'/>"
	    "<perm access='presence' type='roster'/></privilege></message>");
	for (u = 0; u < 5000; u++)
		if (u % 10 < 3)
			presence(u, 0);		/* 30 % of the contacts online */
	flush_out();
	for (u = 0; u < USERS; u++)
		make_roster(u);

	/* ---- presence ingest: PRESENCE_N updates, then a ping as a fence */
	cpu0 = child_cpu_s();
	t0 = now_s();
	for (sent = 0; sent < PRESENCE_N && now_s() - t0 < LIMIT_S; sent++) {
		presence(sent % 5000, sent);
		if (olen > 60000) {
			flush_out();
			pump(0);
			nev = 0;
		}
	}
	outs("<iq type='get' from='bench.test' to='sync.bench.test' id='fence'><ping xmlns='urn:xmpp:ping'/></iq>");
	flush_out();
	for (done = 0; !done && now_s() - t0 < LIMIT_S + 30;) {
		size_t i;

		pump(100);
		for (i = 0; i < nev; i++)
			if (strcmp(evq[i].id, "fence") == 0)
				done = 1;
		nev = 0;
	}
	if (!done)
		die("the component did not answer the ping fence");
	elapsed = now_s() - t0;
	cpu = child_cpu_s() - cpu0;
#define PRES_XML "<presence from='c1@bench.test/r' to='sync.bench.test'>" \
	    "<show>away</show><status>round 1</status><priority>1</priority></presence>"
	floor_pres = parse_floor(PRES_XML, 20000, 0);
	floor_pres_recv = parse_floor(PRES_XML, 20000, 1);
	printf("bench_component (fake server): presence ingest, %d updates over %d contacts, median not applicable (one timed run of %d updates)\n",
	    sent, 5000, sent);
	printf("  %.0f updates/s wall, component CPU %.2f us/update (%.0f/s on one core)\n",
	    sent / elapsed, cpu / sent * 1e6, sent / cpu);
	printf("  floor: libstrophe parse %.2f us (%.2fx), parse + libstrophe's receive-side render %.2f us (%.2fx); goal <= 2x and >= 50000/s\n",
	    floor_pres * 1e6, (cpu / sent) / floor_pres, floor_pres_recv * 1e6,
	    (cpu / sent) / floor_pres_recv);

	/* ---- full syncs: every user gets its first key */
	for (u = 0; u < USERS; u++)
		send_sync(u, 0);
	flush_out();
	for (done = 0, t0 = now_s(); done < USERS && now_s() - t0 < LIMIT_S;) {
		pump(100);
		done += serve(&errors);
	}
	if (done < USERS || errors)
		die("the first (full) syncs did not all succeed");

	/* ---- delta syncs, WINDOW in flight, CHANGED contacts per user each
	   round; RUNS timed runs of ROUNDS / RUNS rounds, median reported */
	for (run = 0; run < RUNS; run++) {
		cpu0 = child_cpu_s();
		t0 = now_s();
		sent = done = 0;
		for (r2 = 0; r2 < ROUNDS / RUNS && now_s() - t0 < LIMIT_S; r2++, round++) {
			for (u = 0; u < USERS; u++) {
				for (r = 0; r < CHANGED; r++)
					presence((u * 37 + r * 13) % 5000, round);
				send_sync(u, round);
				sent++;
				while (sent - done >= WINDOW && now_s() - t0 < LIMIT_S) {
					flush_out();
					pump(100);
					done += serve(&errors);
				}
			}
		}
		while (done < sent && now_s() - t0 < LIMIT_S + 10) {
			flush_out();
			pump(100);
			done += serve(&errors);
		}
		wall[run] = done / (now_s() - t0);
		cpus[run] = (child_cpu_s() - cpu0) / done;
		total += done;
	}
	qsort(wall, RUNS, sizeof(double), cmp_double);
	qsort(cpus, RUNS, sizeof(double), cmp_double);
	elapsed = 1 / wall[RUNS / 2];
	cpu = cpus[RUNS / 2];
	done = 1;

	full = malloc(strlen(roster_answer[0]) + strlen(roster_tail[0]) + 8);
	sprintf(full, "%sX1%s", roster_answer[0], roster_tail[0]);
	floor_roster = parse_floor(full, 500, 0);
	floor_roster_recv = parse_floor(full, 500, 1);
	free(full);
	printf("bench_component (fake server): delta syncs, %d users x %d contacts, %d changed (1%%), %d in flight, %d syncs in %d runs, median run, %d errors\n",
	    USERS, CONTACTS, CHANGED, WINDOW, total, RUNS, errors);
	printf("  %.0f delta syncs/s wall, component CPU %.1f us/sync (%.0f syncs/s on one core)\n",
	    done / elapsed, cpu / done * 1e6, done / cpu);
	printf("  floor (roster answer + %d presences): libstrophe parse %.1f us (%.2fx), parse + receive-side render %.1f us (%.2fx); goal <= 1.5x\n",
	    CHANGED, (floor_roster + CHANGED * floor_pres) * 1e6,
	    (cpu / done) / (floor_roster + CHANGED * floor_pres),
	    (floor_roster_recv + CHANGED * floor_pres_recv) * 1e6,
	    (cpu / done) / (floor_roster_recv + CHANGED * floor_pres_recv));

	/* Stop the component; its stream closes, which is not an error here. */
	kill(child, SIGTERM);
	close(fd);
	fd = -1;
	for (t0 = now_s(); now_s() - t0 < 10;) {
		if (waitpid(child, &r, WNOHANG) == child)
			break;
		usleep(20000);
	}
	if (now_s() - t0 >= 10) {
		kill(child, SIGKILL);
		waitpid(child, &r, 0);
	}
	(void)buf;
	XML_ParserFree(xp);
	for (u = 0; u < USERS; u++) {
		free(roster_answer[u]);
		free(roster_tail[u]);
	}
	free(evq);
	free(obuf);
	tmpdir_free(dir);
	return errors ? 1 : 0;
}
