/* request.c - sync and checkpoint requests: every check, then a page or a roster fetch */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "error.h"
#include "key.h"
#include "log.h"
#include "xml.h"

static char *
bare_of(const char *jid)
{
	return strndup(jid, sk_jid_barelen(jid));
}

void
skd_request(struct skd *d, const struct skd_origin *o, xmpp_stanza_t *iq, xmpp_stanza_t *child)
{
	const char *from = o->to;
	const char *type = xmpp_stanza_get_type(iq), *name = xmpp_stanza_get_name(child);
	const char *client = xmpp_stanza_get_attribute(child, "client");
	const char *key = xmpp_stanza_get_attribute(child, "key");
	const char *more = xmpp_stanza_get_attribute(child, "more");
	const char *missing, *limit = NULL;
	char *bare = NULL, text[256];
	int dom, checkpoint;

	/* Every IQ get/set gets exactly one answer: each check below sends
	   its error and returns; the success path sends the roster get. */
	if ((dom = skd_user_domain(d, from)) < 0) {
		log_limited(LOG_LVL_INFO, "request not served", "request from %s refused: not a user of a served domain", from);
		skd_reply_error(d, o, "auth", "forbidden",
		    "this sync service serves only the users of its own domains");
		return;
	}
	checkpoint = strcmp(name, "checkpoint") == 0;
	if (!checkpoint && strcmp(name, "sync") != 0) {
		snprintf(text, sizeof(text), "unknown request <%.64s/> in %s", name,
		    sk_xml_sync_ns(o->version));
		skd_reply_error(d, o, "modify", "bad-request", text);
		return;
	}
	if (strcmp(type, checkpoint ? "set" : "get") != 0) {
		snprintf(text, sizeof(text), "<%s/> must be sent in an IQ of type '%s'",
		    name, checkpoint ? "set" : "get");
		skd_reply_error(d, o, "modify", "bad-request", text);
		return;
	}
	if (client == NULL || !sk_key_client_ok(client)) {
		skd_reply_error(d, o, "modify", "bad-request", client == NULL ?
		    "the client attribute is missing" :
		    "the client attribute must be 1-64 characters of A-Z a-z 0-9 . _ -");
		return;
	}
	if ((bare = bare_of(from)) == NULL) {
		skd_reply_error(d, o, "wait", "resource-constraint", "out of memory");
		return;
	}
	if (!checkpoint && more != NULL) {
		skd_answer_more(d, o, bare, client, more);
		goto out;
	}
	if (checkpoint && key == NULL) {
		skd_reply_error(d, o, "modify", "bad-request",
		    "a checkpoint needs the key attribute");
		goto out;
	}
	if ((missing = skd_privilege_missing(d, dom)) != NULL ||
	    (missing = skd_adapter_missing(d, dom)) != NULL) {
		log_limited(LOG_LVL_WARN, "request refused", "request from %s refused: %s", from, missing);
		skd_reply_error(d, o, "cancel", "service-unavailable", missing);
		goto out;
	}
	switch (skd_roster_fetch(d, dom, o, bare, client, key, checkpoint, &limit)) {
	case 0:
		break;
	case SK_EFULL:
		log_limited(LOG_LVL_WARN, limit, "request from %s refused: %zu requests of %zu bytes wait "
		    "for a roster (%s)", from, d->fetches.n, d->fetches.bytes, limit);
		snprintf(text, sizeof(text), "too many sync requests are waiting (%s); "
		    "try again in a few seconds", limit);
		skd_reply_error(d, o, "wait", "resource-constraint", text);
		break;
	default:
		skd_reply_error(d, o, "wait", "resource-constraint", "out of memory");
	}
out:
	free(bare);
}
