/* synckeyd.c - the synckey component: flags, signals, the event loop */
#include "config.h"	/* autoconf: PACKAGE_VERSION */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <strophe.h>

#include "conf.h"
#include "daemon.h"
#include "error.h"
#include "link.h"
#include "log.h"
#include "nodefer.h"

#define GC_EVERY_MS (3600 * 1000)
#define SECRET_EVERY_MS 1000
#define STATUS_EVERY_MS 5000	/* the status file synckeyctl reads (status.h) */

static volatile sig_atomic_t stop, hup;

/*
 * synckeyctl rotate-secret replaces the secret files while we run: look
 * at them each second, and at once on SIGHUP.  Unusable new files leave
 * the secrets in use as they were; that is logged once, not each second.
 */
static void
refresh_secret(struct skd *d, int force)
{
	static int last_rc;
	int rc, reloaded = 0;

	rc = sk_store_secret_refresh(d->store, force, &reloaded);
	if (rc != 0 && rc != last_rc)
		log_warnx("secret files in %s unusable, keeping the secrets in use: %s",
		    d->cfg->db, sk_strerror(rc));
	else if (reloaded)
		log_info("secret files in %s read again", d->cfg->db);
	last_rc = rc;
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		hup = 1;
	else
		stop = 1;
}

int
main(int argc, char **argv)
{
	struct skd_config cfg;
	struct skd_link link;
	struct sigaction sa;
	struct skd d;
	xmpp_ctx_t *ctx;
	uint64_t last_gc, last_secret, last_status;
	int rc;

	if ((rc = skd_config_parse(&cfg, argc, argv)) != 0) {
		skd_config_free(&cfg);
		return rc == 2 ? 0 : 1;
	}
	if (skd_config_load_secret(&cfg) != 0) {
		skd_config_free(&cfg);
		return 1;
	}
	if (cfg.check_only) {
		printf("synckeyd: configuration OK\n");
		skd_config_free(&cfg);
		return 0;
	}
	log_init(cfg.log_level, cfg.syslog, "synckeyd");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	xmpp_initialize();
	/* libstrophe formats every stanza it sends or receives for its debug
	   log before the callback can filter it: below debug, give it none. */
	if ((ctx = xmpp_ctx_new(NULL, cfg.log_level >= LOG_LVL_DEBUG ?
	    &log_strophe : NULL)) == NULL)
		fatalx("cannot create the libstrophe context");
	/* It still renders each stanza it receives for that log before it
	   looks at the level (29 % of our CPU on roster answers): skip that
	   render too (nodefer.c) unless the line is wanted. */
	sk_nodefer_set_render(cfg.log_level >= LOG_LVL_DEBUG);
	if ((rc = skd_init(&d, &cfg, ctx)) != 0)
		fatalx("cannot open the store in %s: %s", cfg.db, sk_strerror(rc));
	log_info("synckeyd %s serving %zu domain%s, store %s", PACKAGE_VERSION,
	    cfg.ndomains, cfg.ndomains == 1 ? "" : "s", cfg.db);
	switch (sk_nodefer_status()) {
	case 1:
		log_info("expat reparse deferral turned off for the link (nodefer.c)");
		break;
	case 0:
		log_info("this expat does not defer reparsing");
		break;
	default:
		fatalx("expat's XML_Parse or libstrophe's xmpp_stanza_to_text not found");
	}

	skd_link_start(&link, &d);
	skd_status_update(&d);
	last_gc = last_secret = last_status = d.now_ms();
	while (!stop && !link.refused) {
		xmpp_run_once(ctx, 20);
		skd_link_poll(&link);
		skd_tick(&d);
		log_limited_tick();	/* counts of bursts that ended (log.h) */
		if (hup) {
			hup = 0;
			skd_ingest_flush(&d, 1);
			log_reopen();
			refresh_secret(&d, 1);
			last_secret = d.now_ms();
			log_info("SIGHUP: batch committed, log reopened, secret files checked");
		}
		if (d.now_ms() - last_status >= STATUS_EVERY_MS) {
			skd_status_update(&d);
			last_status = d.now_ms();
		}
		if (d.now_ms() - last_secret >= SECRET_EVERY_MS) {
			refresh_secret(&d, 0);
			last_secret = d.now_ms();
		}
		if (d.now_ms() - last_gc >= GC_EVERY_MS) {
			size_t removed = 0;

			if ((rc = sk_store_gc(d.store, (uint64_t)d.now_s(), d.sync.ttl, &removed)) != 0)
				log_warnx("store garbage collection failed: %s", sk_strerror(rc));
			else if (removed)
				log_info("garbage collection: %zu expired clients removed", removed);
			last_gc = d.now_ms();
		}
	}
	if (link.refused)
		log_warnx("stopping: this component name is served by another synckeyd");
	else
		log_info("stopping: committing the batch and closing the stream");
	skd_ingest_flush(&d, 1);
	skd_link_stop(&link);
	skd_free(&d);
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
	skd_config_free(&cfg);
	/* 3: refused, another synckeyd holds the name (synckeyd(8), EXIT STATUS) */
	return link.refused ? 3 : 0;
}
