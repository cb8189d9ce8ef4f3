/* log.c - daemon logging with OpenBSD's verbs: stderr in the foreground, or syslog */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "clock.h"
#include "log.h"

static int threshold = LOG_LVL_INFO;
static int use_syslog;
static const char *log_ident = "synckeyd";	/* the caller's, kept for log_reopen */
static const char *const names[] = { "error", "warn", "info", "debug" };
static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
static void (*log_sink)(int, const char *);

void
log_init(int level, int to_syslog, const char *ident)
{
	threshold = level;
	use_syslog = to_syslog;
	log_ident = ident;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_reopen(void)
{
	if (use_syslog) {
		closelog();
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	fflush(stderr);
}

int
log_level_parse(const char *name)
{
	int i;

	for (i = 0; i <= LOG_LVL_DEBUG; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

static void
vlog(int level, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048];

	if (level > threshold)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_sink != NULL) {
		char line[2300];

		snprintf(line, sizeof(line), "%s%s%s", msg, suffix ? ": " : "", suffix ? suffix : "");
		log_sink(level, line);
	} else if (use_syslog) {
		syslog(prio[level], "%s%s%s", msg, suffix ? ": " : "", suffix ? suffix : "");
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ synckeyd %s: %s%s%s\n", when, ts.tv_nsec / 1000000,
		    names[level], msg, suffix ? ": " : "", suffix ? suffix : "");
	}
}

static void log_emit(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
log_emit(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap, NULL);
	va_end(ap);
}

static void vlog_guarded(int level, const char *fmt, va_list ap, const char *suffix);

#define LOGGER(fn, level, with_errno, out)			\
void								\
fn(const char *fmt, ...)					\
{								\
	const char *e = with_errno ? strerror(errno) : NULL;	\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	out(level, fmt, ap, e);					\
	va_end(ap);						\
}

/* warn and info lines can come once per stanza: a format that floods is
   held back past FLOOD_BURST lines an interval (log.h) */
LOGGER(log_warn, LOG_LVL_WARN, 1, vlog_guarded)
LOGGER(log_warnx, LOG_LVL_WARN, 0, vlog_guarded)
LOGGER(log_info, LOG_LVL_INFO, 0, vlog_guarded)
LOGGER(log_debug, LOG_LVL_DEBUG, 0, vlog)

void
fatal(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, fmt, ap, e);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

void
log_set_sink(void (*sink)(int level, const char *line))
{
	log_sink = sink;
}

/* ---- log_limited: one line per cause and interval -------------------- */

struct limit {
	char		key[64];	/* "" when free */
	uint64_t	window;		/* when its current interval began */
	uint64_t	last_ms;	/* when its last line was written */
	unsigned long	written;	/* lines written in this interval */
	unsigned long	held;		/* lines held back since the last one */
	int		level;
};

/* by cause (log_limited), and by format (every warn and info line: a
   burst of FLOOD_BURST lines of one format an interval, then held) */
static struct limit limits[LOG_LIMIT_KEYS], floods[LOG_LIMIT_KEYS];
static uint64_t limit_ms = LOG_LIMIT_INTERVAL_MS;
static uint64_t (*limit_clock)(void);
#define FLOOD_BURST	20

static uint64_t
limit_now(void)
{
	uint64_t t = limit_clock ? limit_clock() : sk_clock_ms();

	return t ? t : 1;	/* 0 means "never" below */
}

void
log_set_clock(uint64_t (*now_ms)(void))
{
	limit_clock = now_ms;
}

void
log_limit_interval(uint64_t ms)
{
	limit_ms = ms;
}

void
log_limited_reset(void)
{
	memset(limits, 0, sizeof(limits));
	memset(floods, 0, sizeof(floods));
}

static void
held_line(struct limit *l)
{
	char key[80];
	size_t n;

	/* a format as the key: up to its first conversion */
	snprintf(key, sizeof(key), "%s", l->key);
	n = strcspn(key, "%");
	key[n] = '\0';
	while (n > 0 && (key[n - 1] == ' ' || key[n - 1] == ':'))
		key[--n] = '\0';
	log_emit(l->level, "%s: %lu more such line%s held back", key, l->held,
	    l->held == 1 ? "" : "s");
	l->held = 0;
}

static struct limit *
find_limit(struct limit *table, const char *key)
{
	struct limit *l, *free_l = NULL, *oldest = NULL;

	for (l = table; l < table + LOG_LIMIT_KEYS; l++) {
		if (l->key[0] == '\0') {
			if (free_l == NULL)
				free_l = l;
		} else if (strncmp(l->key, key, sizeof(l->key) - 1) == 0) {
			return l;
		} else if (oldest == NULL || l->last_ms < oldest->last_ms) {
			oldest = l;
		}
	}
	if (free_l == NULL) {
		/* every slot taken: the least recent cause is forgotten */
		free_l = oldest;
		if (free_l->held > 0)
			held_line(free_l);
	}
	memset(free_l, 0, sizeof(*free_l));
	snprintf(free_l->key, sizeof(free_l->key), "%s", key);
	return free_l;
}

/* 1 when a line of l may be written now (and counts it); else counted
   as held back. */
static int
limit_pass(struct limit *l, unsigned long burst, uint64_t now)
{
	if (limit_ms == 0)
		return 1;
	if (l->window == 0 || now - l->window >= limit_ms) {
		l->window = now;
		l->written = 0;
	}
	if (l->written >= burst) {
		l->held++;
		return 0;
	}
	l->written++;
	l->last_ms = now;
	return 1;
}

static void
vlog_limited(struct limit *l, int level, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048];

	if (l->held == 0) {
		vlog(level, fmt, ap, suffix);
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_emit(level, "%s%s%s (%lu more such line%s held back)", msg, suffix ? ": " : "",
	    suffix ? suffix : "", l->held, l->held == 1 ? "" : "s");
	l->held = 0;
}

int
log_limited(int level, const char *key, const char *fmt, ...)
{
	struct limit *l;
	va_list ap;

	if (level > threshold)
		return 0;
	l = find_limit(limits, key);
	l->level = level;
	if (!limit_pass(l, 1, limit_now()))
		return 0;
	va_start(ap, fmt);
	vlog_limited(l, level, fmt, ap, NULL);
	va_end(ap);
	return 1;
}

/* The guard of every warn and info line: by its format. */
static void
vlog_guarded(int level, const char *fmt, va_list ap, const char *suffix)
{
	struct limit *l;

	if (level > threshold)
		return;
	l = find_limit(floods, fmt);
	l->level = level;
	if (limit_pass(l, FLOOD_BURST, limit_now()))
		vlog_limited(l, level, fmt, ap, suffix);
}

static void
tick_table(struct limit *table, uint64_t now)
{
	struct limit *l;

	for (l = table; l < table + LOG_LIMIT_KEYS; l++)
		if (l->key[0] != '\0' && l->held > 0 && now - l->window >= limit_ms) {
			held_line(l);
			l->window = l->last_ms = now;
			l->written = 1;
		}
}

void
log_limited_tick(void)
{
	uint64_t now = limit_now();

	tick_table(limits, now);
	tick_table(floods, now);
}

static void
strophe_cb(void *ud, xmpp_log_level_t level, const char *area, const char *msg)
{
	(void)ud;
	switch (level) {
	case XMPP_LEVEL_ERROR:
		log_warnx("libstrophe %s: %s", area, msg);
		break;
	case XMPP_LEVEL_WARN:
		log_info("libstrophe %s: %s", area, msg);
		break;
	default:
		/* libstrophe's debug output holds every stanza: only at debug */
		if (threshold >= LOG_LVL_DEBUG)
			log_debug("libstrophe %s: %.300s", area, msg);
		break;
	}
}

const xmpp_log_t log_strophe = { strophe_cb, NULL };
