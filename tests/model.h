/* model.h - a random roster and presence world for property tests and benchmarks */
#ifndef SK_TEST_MODEL_H
#define SK_TEST_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/*
 * The world one user sees: its roster and the presence the server holds
 * for every contact (whatever the subscription).  model_live() composes
 * them the way synckeyd does (sk_view_live): items, plus the presence of
 * contacts with subscription to or both.  Deterministic for a seed.
 */
struct model {
	struct sk_state	roster;		/* items only, sorted */
	struct sk_state	pres;		/* every contact's presence, sorted */
	uint64_t	rng;
	size_t		ncontacts;	/* contact universe c0..c(n-1) */
};

void model_init(struct model *m, uint64_t seed, size_t ncontacts);
void model_free(struct model *m);
uint64_t model_rand(struct model *m);
/* Fills the roster with every contact (subscription both) and puts
   `online` (0..1) of them online with one resource. */
int model_populate(struct model *m, double online);
/* One random change: roster add/modify/remove, presence on/off/modify,
   or a change immediately undone.  Returns the kind (for statistics). */
int model_step(struct model *m);
/* Changes `count` distinct contacts (roster or presence). */
int model_change(struct model *m, size_t count);
/* The live state: a new state the caller frees (sk_state_free). */
int model_live(const struct model *m, struct sk_state *live);

#endif
