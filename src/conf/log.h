/* log.h - daemon logging with OpenBSD's verbs: stderr in the foreground, or syslog */
#ifndef SKD_LOG_H
#define SKD_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include <strophe.h>

enum { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Sets the threshold and the sink (to_syslog: syslog, else stderr). */
void log_init(int level, int to_syslog, const char *ident);
/* Closes and opens the sink again (SIGHUP: syslog restarted, or a log
   file behind standard error rotated by copytruncate). */
void log_reopen(void);
/* "error", "warn", "info", "debug" -> level; -1 when unknown. */
int log_level_parse(const char *name);

/* log_warn appends ": strerror(errno)"; the x variants do not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Lines that a peer can cause, one per stanza, cannot flood the log:
 * log_limited writes the first line for a cause (key: a fixed string
 * naming the cause, not built from the input) at once, then at most one
 * line per interval for that cause, which says how many lines of that
 * cause were held back since the last one.  The level is LOG_LVL_*.
 * Returns 1 when the line was written, 0 when it was held back.  At most
 * LOG_LIMIT_KEYS causes are tracked; past that, the one written longest
 * ago is forgotten (its count is written first).
 *
 * log_warn, log_warnx and log_info have the same guard by format, with a
 * burst: past 20 lines of one format an interval the rest are held back
 * and counted the same way, so that no line, whoever calls it, floods.
 */
#define LOG_LIMIT_KEYS		64
#define LOG_LIMIT_INTERVAL_MS	60000
int log_limited(int level, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes "KEY: N more lines held back" for each cause whose interval has
   passed with lines held back (the main loop calls it now and then, so
   the count of a burst that ended is not lost); then forgets it. */
void log_limited_tick(void);
/* The interval (ms, default LOG_LIMIT_INTERVAL_MS; 0 writes every line). */
void log_limit_interval(uint64_t ms);
/* The clock of log_limited (monotonic ms; NULL: CLOCK_MONOTONIC), and
   where lines go instead of stderr/syslog (NULL: there): for tests. */
void log_set_clock(uint64_t (*now_ms)(void));
void log_set_sink(void (*sink)(int level, const char *line));
/* Forgets every cause (tests). */
void log_limited_reset(void);

/* libstrophe's log callback, bridged into the levels above. */
extern const xmpp_log_t log_strophe;

#endif
