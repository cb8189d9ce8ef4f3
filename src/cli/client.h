/* client.h - the synckey client library: sync with a key, or the standard way */
#ifndef SK_CLIENT_H
#define SK_CLIENT_H

#include <stddef.h>

#include <strophe.h>

#include "cache.h"

/*
 * One session of a client: log in, find the sync service, sync with the
 * key stored in the cache (or, when the server offers no sync service,
 * retrieve roster and presence the RFC 6121 way), stay online a while,
 * checkpoint, log out.  The cache is changed only by whole transactions:
 * the state and the key that names it are committed together, after the
 * state's digest matched the server's.
 *
 * Presence.  The sync answer carries the contacts' presence, so the
 * client sends its initial presence only when it stays online (stay > 0),
 * after the sync: the server then sends the usual presence, which the
 * client applies to its state before the checkpoint.  The standard path
 * sends initial presence at once and collects what arrives until 300 ms
 * pass without any (at most 5 s).
 */
enum sk_client_rc {
	SK_CLIENT_OK = 0,
	SK_CLIENT_EUSAGE = 1,	/* bad options */
	SK_CLIENT_EAUTH = 2,	/* authentication failed */
	SK_CLIENT_ECONN = 3,	/* server unreachable, connection lost */
	SK_CLIENT_ECACHE = 4,	/* cache corrupt, foreign or unknown schema */
	SK_CLIENT_EPROTO = 5,	/* the server's answer was wrong */
	SK_CLIENT_ETIMEOUT = 6,	/* no answer in time */
	SK_CLIENT_ETLS = 7	/* the server's certificate is not trusted, the
				   TLS handshake failed, or the server offers
				   no TLS and plaintext was not allowed */
};

struct sk_client_opts {
	const char	*jid;		/* bare JID to log in as */
	const char	*password;
	const char	*host;		/* NULL: the JID's domain */
	unsigned short	 port;		/* 0: 5222 */
	const char	*component;	/* NULL: discover the service */
	int		 standard;	/* 1: RFC 6121 even with a service */
	unsigned	 stay;		/* seconds online after syncing */
	unsigned	 timeout;	/* seconds per step; 0: 15 */
	/* TLS.  The client always asks for STARTTLS when the server offers
	   it and verifies the certificate against the JID's domain: the
	   system's CAs, and cafile's certificates when given.  A server
	   that offers no TLS is refused before any SASL mechanism is tried
	   (the password never crosses a plaintext stream) unless
	   allow_plaintext is set; a failed certificate is refused always. */
	const char	*cafile;	/* PEM file of trusted CAs, or NULL */
	int		 allow_plaintext;
	/* Called for every record an answer changes ("item", "remove",
	   "presence", "unavailable"); may be NULL. */
	void		(*on_change)(void *data, const char *kind, const char *jid);
	void		*data;
};

struct sk_client_report {
	char		mode[16];	/* full, delta, null, standard */
	char		reason[24];	/* of a full sync, else "" */
	char		service[256];	/* the sync service used, or "" */
	unsigned	version;	/* the protocol version asked in (0, 1) */
	size_t		items;		/* records in the answer(s) */
	unsigned long long bytes;	/* bytes received on the stream, from
					   login to synced (TCP_INFO) */
	unsigned long long login_bytes;	/* of those, until authenticated */
	unsigned long long disco_bytes;	/* then finding the sync service
					   (0 when cached) */
	double		ms;		/* from authenticated to synced */
	int		secured;	/* 1: the stream was encrypted (TLS) */
	int		partial;	/* 1: the service may not know every
					   contact's presence (xep/ "Sync result"); the
					   server's own replay is the truth */
};

/*
 * Runs one session against cache (opened by the caller for opts->jid).
 * Returns an sk_client_rc; on error err (errlen bytes) says what failed.
 */
int sk_client_sync(struct sk_cache *cache, const struct sk_client_opts *opts,
    struct sk_client_report *report, char *err, size_t errlen);


#endif
