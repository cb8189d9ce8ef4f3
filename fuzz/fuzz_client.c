/*
 * fuzz_client.c - the client's standard-path parsers (src/client/standard.h):
 * sk_std_roster_result (the roster result from the server) and
 * sk_std_presence (presence the server delivers), both exposed for the
 * tests and run here without a network.
 *
 * Input: XML text.  An <iq/> goes to sk_std_roster_result, anything
 * else to sk_std_presence, on a small state (bob: both, carol: to,
 * dave: from).  Properties: documented return codes (1 changed, 0 not,
 * or an error); the state stays sorted (duplicates are not checked: see doc/fuzzing.md).
 */
#include "fuzz_common.h"

#include <errno.h>

#include "error.h"
#include "standard.h"
#include "state.h"
#include "xml.h"

static void
base_state(struct sk_state *st)
{
	struct sk_item it = { 0 };
	static const char *jids[] = { "bob@p.test", "carol@p.test", "dave@p.test" };
	static const enum sk_sub subs[] = { SK_SUB_BOTH, SK_SUB_TO, SK_SUB_FROM };
	size_t i;

	sk_state_init(st);
	for (i = 0; i < 3; i++) {
		it.jid = (char *)jids[i];
		it.sub = subs[i];
		FZ_CHECK(sk_state_add_item(st, &it) == 0);
	}
	sk_state_sort(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	xmpp_stanza_t *st = fz_stanza(d, n);
	struct sk_state state;
	const char *name;
	char ver[256] = "old";
	size_t i;
	int rc;

	if (st == NULL)
		return 0;
	base_state(&state);
	name = xmpp_stanza_get_name(st);
	if (name != NULL && strcmp(name, "iq") == 0)
		rc = sk_std_roster_result(&state, st, ver, sizeof(ver));
	else
		rc = sk_std_presence(&state, st);
	FZ_CHECK(rc == 0 || rc == 1 || rc == SK_EINVAL || rc == ENOMEM);
	for (i = 1; i < state.nitems; i++)
		FZ_CHECK(strcmp(state.items[i - 1].jid, state.items[i].jid) <= 0);
	for (i = 1; i < state.npres; i++)
		FZ_CHECK(strcmp(state.pres[i - 1].jid, state.pres[i].jid) <= 0);
	sk_state_free(&state);
	xmpp_stanza_release(st);
	return 0;
}
