/* log.h - daemon logging with OpenBSD's verbs: stderr in the foreground, or syslog */
#ifndef SKD_LOG_H
#define SKD_LOG_H

#include <stdarg.h>

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

/* libstrophe's log callback, bridged into the levels above. */
extern const xmpp_log_t log_strophe;

#endif
