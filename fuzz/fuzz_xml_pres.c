/*
 * fuzz_xml_pres.c - sk_xml_pres_parse (src/xmpp/xml.h): every <presence/> the
 * server forwards to synckeyd, and every one the client receives.
 *
 * Input: XML text, parsed with xmpp_stanza_new_from_string (NUL-terminated
 * copy); only a top <presence/> is passed on, as the callers do.  Then what the daemon does with a parsed presence: the stored
 * record round trip (sk_store_pres_encode/decode must give back every
 * field).  Properties: the return code is one of those documented; an
 * available presence has a JID and a priority in [-128, 127]; the record
 * round trip is exact; p->xml, which answer.c splices into sync answers
 * without parsing it again, begins with SK_XML_PRES_OPEN (when xml.h
 * defines it) and is one well-formed <presence/> element from the same
 * JID (else an answer could carry injected markup).
 */
#include "fuzz_common.h"

#include <errno.h>

#include "error.h"
#include "state.h"
#include "store.h"
#include "xml.h"

static int
same_opt(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	xmpp_stanza_t *st = fz_stanza(d, n), *re;
	struct sk_pres p, q;
	unsigned char *rec;
	size_t len;
	char *text;
	int avail = -1, rc;

	if (st == NULL)
		return 0;
	/* callers hand it only <presence/> elements */
	if (xmpp_stanza_get_name(st) == NULL || strcmp(xmpp_stanza_get_name(st), "presence") != 0) {
		xmpp_stanza_release(st);
		return 0;
	}
	rc = sk_xml_pres_parse(st, &p, &avail);
	FZ_CHECK(rc == 0 || rc == SK_EINVAL || rc == SK_ENOTFOUND || rc == ENOMEM);
	if (rc == 0) {
		FZ_CHECK(p.jid != NULL && p.jid[0] != '\0');
		FZ_CHECK(avail == 0 || avail == 1);
		if (avail) {
			FZ_CHECK(p.priority >= -128 && p.priority <= 127);
			FZ_CHECK(sk_store_pres_encode(&p, &rec, &len) == 0);
			FZ_CHECK(sk_store_pres_decode(p.jid, rec, len, &q) == 0);
			FZ_CHECK(same_opt(p.show, q.show) && same_opt(p.status, q.status) &&
			    same_opt(p.ext, q.ext) && same_opt(p.xml, q.xml) &&
			    p.priority == q.priority &&
			    memcmp(p.hash, q.hash, SK_HASH_LEN) == 0);
			sk_pres_free(&q);
			free(rec);
			if (p.xml != NULL) {
#ifdef SK_XML_PRES_OPEN
				FZ_CHECK(strncmp(p.xml, SK_XML_PRES_OPEN,
				    strlen(SK_XML_PRES_OPEN)) == 0);
#endif
				re = xmpp_stanza_new_from_string(fz_ctx(), p.xml);
				FZ_CHECK(re != NULL);
				FZ_CHECK(xmpp_stanza_get_name(re) != NULL &&
				    strcmp(xmpp_stanza_get_name(re), "presence") == 0);
				/* (a raw tab, CR or LF in a value is normalised
				   by the parser: only such a JID may differ) */
				FZ_CHECK(xmpp_stanza_get_from(re) != NULL);
				FZ_CHECK(strcmp(xmpp_stanza_get_from(re), p.jid) == 0 ||
				    strpbrk(p.jid, "\t\r\n") != NULL);
				FZ_CHECK(xmpp_stanza_to_text(re, &text, &len) == XMPP_EOK);
				xmpp_free(fz_ctx(), text);
				xmpp_stanza_release(re);
			}
		}
		sk_pres_free(&p);
	}
	xmpp_stanza_release(st);
	return 0;
}
