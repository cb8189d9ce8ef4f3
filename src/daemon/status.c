/* status.c - what each memory budget holds, into the status file synckeyctl reads */
#include <unistd.h>

#include "daemon.h"
#include "error.h"
#include "log.h"
#include "status.h"

void
skd_status_update(struct skd *d)
{
	const struct skd_config *c = d->cfg;
	struct skd_status st = { 0 };
	size_t nviews, vbytes, rn = 0, rb = 0;
	int rc;

	st.pid = (long)getpid();
	st.written = (long long)d->now_s();
	skd_status_add(&st, "pending", d->fetches.n, c->max_pending);
	skd_status_add(&st, "pending-bytes", d->fetches.bytes, c->max_pending_bytes);
	skd_status_add(&st, "pages", d->pages.n, 0);
	skd_status_add(&st, "page-bytes", d->pages.bytes, c->max_page_bytes);
	sk_views_stats(d->views, &nviews, &vbytes);
	skd_status_add(&st, "views", nviews, 0);
	skd_status_add(&st, "view-bytes", vbytes, c->max_view_bytes);
	if (skd_remote_usage(d, &rn, &rb) == 0) {
		skd_status_add(&st, "remote-presence", rn, c->max_remote_presence);
		skd_status_add(&st, "remote-presence-bytes", rb, c->max_remote_presence_bytes);
	}
	if ((rc = skd_status_write(c->db, &st)) != 0)
		log_limited(LOG_LVL_WARN, "status file", "cannot write %s/%s: %s", c->db,
		    SKD_STATUS_FILE, sk_strerror(rc));
}
