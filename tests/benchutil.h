/* benchutil.h - clocks, order statistics and printed conditions shared by the benchmarks */
#ifndef SK_BENCHUTIL_H
#define SK_BENCHUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

static inline double
bu_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The CPU time of the whole process (every thread) in microseconds: the
   kernel's nanosecond count, not utime + stime, which move in clock ticks. */
static inline double
bu_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline int
bu_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The p-quantile (0..1, nearest rank) of v[0..n); sorts v.  n > 0. */
static inline double
bu_quantile(double *v, size_t n, double p)
{
	size_t i;

	qsort(v, n, sizeof(*v), bu_cmp_double);
	i = (size_t)(p * (double)n);
	return v[i < n ? i : n - 1];
}

static inline double
bu_median(double *v, size_t n)
{
	return bu_quantile(v, n, 0.5);
}

/* A field of /proc/self/status in kB (VmRSS, VmHWM, RssAnon, RssFile), -1 if absent. */
static inline long
bu_status_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			kb = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* The Debian version of a package, or "?" (popen of dpkg-query). */
static inline void
bu_pkg_version(const char *pkg, char *out, size_t len)
{
	char cmd[160];
	FILE *p;

	snprintf(out, len, "?");
	snprintf(cmd, sizeof(cmd), "dpkg-query -W -f '${Version}' %s 2>/dev/null", pkg);
	if ((p = popen(cmd, "r")) == NULL)
		return;
	if (fgets(out, (int)len, p) == NULL || out[0] == '\0')
		snprintf(out, len, "?");
	pclose(p);
}

/* One line: cores, load average now, library versions. */
static inline void
bu_conditions(const char *prog)
{
	char load[128] = "?", strophe[64], lmdb[64];
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL) {
		if (fgets(load, sizeof(load), f) != NULL)
			load[strcspn(load, "\n")] = '\0';
		fclose(f);
	}
	bu_pkg_version("libstrophe0", strophe, sizeof(strophe));
	bu_pkg_version("liblmdb0", lmdb, sizeof(lmdb));
	printf("%s: conditions: %ld cores online, /proc/loadavg %s, libstrophe %s, %s (Debian %s)\n",
	    prog, sysconf(_SC_NPROCESSORS_ONLN), load, strophe, mdb_version(NULL, NULL, NULL), lmdb);
}

#endif
