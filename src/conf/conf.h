/* conf.h - synckeyd's settings: flags and configuration file */
#ifndef SKD_CONF_H
#define SKD_CONF_H

#include <stddef.h>

#define SKD_MAX_DOMAINS 64
#define SKD_MAX_SERVERS 16

struct skd_server {
	char		*host;
	unsigned	 port;
};

struct skd_config {
	char		*host;			/* the first --server HOST:PORT */
	unsigned	 port;
	/* every --server (or server = line), in order: a cluster's nodes,
	   tried one after the other (link.c); servers[0] is host:port */
	struct skd_server servers[SKD_MAX_SERVERS];
	size_t		 nservers;
	char		*jid;			/* --jid */
	char		*secret_file;		/* --secret-file */
	char		*secret;		/* read from it; wiped on free */
	char		*domains[SKD_MAX_DOMAINS];
	size_t		 ndomains;
	char		*db;			/* --db */
	int		 log_level;
	int		 syslog;
	int		 check_only;		/* -n */
	size_t		 stanza_budget;		/* bytes */
	unsigned	 roster_timeout;	/* seconds */
	unsigned	 key_ttl_days;
	unsigned	 max_clients;
	unsigned	 batch_events;
	unsigned	 batch_ms;
	size_t		 max_presence_bytes;	/* one stored presence */
	unsigned	 max_resources;		/* stored per contact */
	unsigned	 max_pending;		/* sync requests waiting for a roster */
	size_t		 max_pending_bytes;	/* what they hold, all users */
	unsigned	 max_user_pending;	/* ... of one user */
	size_t		 max_user_pending_bytes;
	size_t		 max_view_bytes;	/* live states kept between syncs */
	size_t		 max_user_view_bytes;	/* one user's */
	size_t		 max_page_bytes;	/* answer pages held, all users */
	size_t		 max_user_page_bytes;	/* answer pages held for one user */
	/* stored presence of contacts of domains not served (remote) */
	unsigned	 max_domain_presence;		/* per remote domain */
	size_t		 max_domain_presence_bytes;
	unsigned	 max_remote_presence;		/* every remote domain */
	size_t		 max_remote_presence_bytes;
	int		 adapter_required;	/* --adapter required: no privilege-only */
};

/*
 * Fills cfg from argv (and from --config FILE, flags winning).  Every
 * problem is reported on stderr ("file:line: message" for the file), all
 * at once.  Returns 0 when usable, 1 on a usage or configuration error,
 * 2 when --help or --version printed and the caller should exit 0.
 * Ownership: strings in cfg are owned by cfg: skd_config_free().
 */
int skd_config_parse(struct skd_config *cfg, int argc, char **argv);
/* cfg zeroed, then every setting's default from the settings table (no
   strings: jid, secret, domains, db stay unset).  Tests and fuzz targets
   start from it too. */
void skd_config_defaults(struct skd_config *cfg);
/*
 * Reads FILE alone into cfg (zeroed first: no defaults, no flags, no
 * required settings), for a tool that needs a setting of synckeyd's file
 * (synckeyctl -c: db, key-ttl).  Errors on stderr as above; 0 or 1.
 * Ownership as for skd_config_parse().
 */
int skd_config_read(struct skd_config *cfg, const char *path);
/* Reads the component secret (refusing group/world-readable files). 0/1. */
int skd_config_load_secret(struct skd_config *cfg);
void skd_config_free(struct skd_config *cfg);
/* The usage text, identical to synckeyd(8)'s SYNOPSIS. */
extern const char skd_usage[];

#endif
