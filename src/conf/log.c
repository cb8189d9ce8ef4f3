/* log.c - daemon logging with OpenBSD's verbs: stderr in the foreground, or syslog */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int threshold = LOG_LVL_INFO;
static int use_syslog;
static const char *log_ident = "synckeyd";	/* the caller's, kept for log_reopen */
static const char *const names[] = { "error", "warn", "info", "debug" };
static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

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
	if (use_syslog) {
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

#define LOGGER(fn, level, with_errno)				\
void								\
fn(const char *fmt, ...)					\
{								\
	const char *e = with_errno ? strerror(errno) : NULL;	\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	vlog(level, fmt, ap, e);				\
	va_end(ap);						\
}

LOGGER(log_warn, LOG_LVL_WARN, 1)
LOGGER(log_warnx, LOG_LVL_WARN, 0)
LOGGER(log_info, LOG_LVL_INFO, 0)
LOGGER(log_debug, LOG_LVL_DEBUG, 0)

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
