/* status.h - synckeyd's status file: the budgets' use, for synckeyctl */
#ifndef SKD_STATUS_H
#define SKD_STATUS_H

#include <stddef.h>

/*
 * The running synckeyd writes DB/synckeyd.status every few seconds
 * (write to a temporary file, then rename: a reader sees a whole file or
 * the previous one); synckeyctl reads it to show what each memory budget
 * holds.  The file is text, one budget a line: "NAME USED LIMIT", after
 * "pid PID" and "written UNIXTIME".  LIMIT 0: a figure without a limit.
 */
#define SKD_STATUS_FILE		"synckeyd.status"
#define SKD_STATUS_ROWS		16
#define SKD_STATUS_NAME		32

struct skd_status_row {
	char			 name[SKD_STATUS_NAME];
	unsigned long long	 used, limit;
};

struct skd_status {
	long			 pid;
	long long		 written;	/* seconds since the epoch */
	size_t			 n;
	struct skd_status_row	 rows[SKD_STATUS_ROWS];
};

/* Appends a row (names of [a-z-], shorter than SKD_STATUS_NAME); rows
   past SKD_STATUS_ROWS are left out. */
void skd_status_add(struct skd_status *st, const char *name,
    unsigned long long used, unsigned long long limit);
/* Writes st into dir.  0 or an errno value. */
int skd_status_write(const char *dir, const struct skd_status *st);
/* Reads dir's status file into *st.  0, ENOENT (no synckeyd wrote one
   there), EINVAL (not a status file: a line that does not parse, more
   than SKD_STATUS_ROWS rows, a file over 4 kB), or another errno value. */
int skd_status_read(const char *dir, struct skd_status *st);

#endif
