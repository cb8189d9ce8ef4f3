/* model.c - a random roster and presence world for property tests and benchmarks */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static const char *const shows[] = { NULL, "away", "chat", "dnd", "xa" };
static const char *const groups[] = { "Work", "Friends", "Family", "Zoo", "\xc3\x89quipe" };

uint64_t
model_rand(struct model *m)
{
	/* splitmix64: small, fast, good enough for test data */
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
pick(struct model *m, size_t n)
{
	return (size_t)(model_rand(m) % n);
}

void
model_init(struct model *m, uint64_t seed, size_t ncontacts)
{
	memset(m, 0, sizeof(*m));
	sk_state_init(&m->roster);
	sk_state_init(&m->pres);
	m->rng = seed;
	m->ncontacts = ncontacts;
}

void
model_free(struct model *m)
{
	sk_state_free(&m->roster);
	sk_state_free(&m->pres);
}

static void
contact_jid(size_t i, char *buf, size_t len)
{
	/* Varied domains, and bare JIDs that prefix one another
	   ("c1@a.test" vs "c1@a.test.x") to catch range mistakes. */
	static const char *const domains[] = { "a.test", "a.test.x", "b.example", "a.tes" };

	snprintf(buf, len, "c%zu@%s", i / 4, domains[i % 4]);
}

static int
put_item(struct model *m, size_t c, int sub)
{
	char jid[64], name[32];
	char *g[2];
	struct sk_item it = { 0 };

	contact_jid(c, jid, sizeof(jid));
	snprintf(name, sizeof(name), "Name %llu", (unsigned long long)(model_rand(m) % 7));
	g[0] = (char *)groups[pick(m, 5)];
	g[1] = (char *)groups[pick(m, 5)];
	it.jid = jid;
	it.name = pick(m, 4) ? name : NULL;
	it.sub = sub;
	it.ask = pick(m, 8) == 0;
	it.groups = g;
	it.ngroups = pick(m, 3);
	return sk_state_put_item(&m->roster, &it);
}

static int
put_pres(struct model *m, size_t c, size_t res)
{
	char jid[96], status[32], ext[64];
	struct sk_pres p = { 0 };

	contact_jid(c, jid, sizeof(jid));
	snprintf(jid + strlen(jid), sizeof(jid) - strlen(jid), "/r%zu", res);
	snprintf(status, sizeof(status), "status %llu", (unsigned long long)(model_rand(m) % 5));
	snprintf(ext, sizeof(ext), "<c xmlns='caps' ver='%llu'/>",
	    (unsigned long long)(model_rand(m) % 3));
	p.jid = jid;
	p.show = (char *)shows[pick(m, 5)];
	p.status = pick(m, 3) ? status : NULL;
	p.priority = (int)pick(m, 5) - 1;
	p.ext = pick(m, 2) ? ext : NULL;
	return sk_state_put_pres(&m->pres, &p);
}

int
model_populate(struct model *m, double online)
{
	size_t c;
	int rc;

	for (c = 0; c < m->ncontacts; c++) {
		if ((rc = put_item(m, c, SK_SUB_BOTH)) != 0)
			return rc;
		if ((double)(model_rand(m) % 10000) < online * 10000 &&
		    (rc = put_pres(m, c, 0)) != 0)
			return rc;
	}
	return 0;
}

static int
change_one(struct model *m, size_t c, int kind)
{
	char jid[64], full[96];
	struct sk_pres *p;

	contact_jid(c, jid, sizeof(jid));
	switch (kind) {
	case 0:		/* roster add or modify */
		return put_item(m, c, (int)pick(m, 4));
	case 1:		/* roster remove */
		sk_state_del_item(&m->roster, jid);
		return 0;
	case 2:		/* a resource comes online or changes */
		return put_pres(m, c, pick(m, 3));
	case 3:		/* a resource goes offline */
		snprintf(full, sizeof(full), "%s/r%zu", jid, pick(m, 3));
		sk_state_del_pres(&m->pres, full);
		return 0;
	case 4:		/* every resource goes offline */
		sk_state_del_pres_bare(&m->pres, jid);
		return 0;
	default:	/* change a presence and change it back */
		snprintf(full, sizeof(full), "%s/r0", jid);
		if ((p = sk_state_find_pres(&m->pres, full)) != NULL) {
			struct sk_pres saved;
			int rc;

			if ((rc = sk_pres_copy(&saved, p)) != 0)
				return rc;
			if ((rc = put_pres(m, c, 0)) == 0)
				rc = sk_state_put_pres(&m->pres, &saved);
			sk_pres_free(&saved);
			return rc;
		}
		return 0;
	}
}

int
model_step(struct model *m)
{
	int kind = (int)pick(m, 6);
	int rc = change_one(m, pick(m, m->ncontacts), kind);

	return rc ? -1 : kind;
}

int
model_change(struct model *m, size_t count)
{
	size_t i, start = pick(m, m->ncontacts);
	int rc;

	/* Distinct contacts: a stride through the universe. */
	for (i = 0; i < count && i < m->ncontacts; i++) {
		size_t c = (start + i * 7919) % m->ncontacts;

		if ((rc = change_one(m, c, pick(m, 2) ? 0 : 2)) != 0)
			return rc;
	}
	return 0;
}

int
model_live(const struct model *m, struct sk_state *live)
{
	char key[80];
	size_t i, lo, hi, klen;
	int rc;

	if ((rc = sk_state_copy(live, &m->roster)) != 0)
		return rc;
	for (i = 0; i < m->roster.nitems; i++) {
		if (!sk_sub_receives_presence(m->roster.items[i].sub))
			continue;
		/* Every "bare/..." is one contiguous run in full-JID order. */
		klen = (size_t)snprintf(key, sizeof(key), "%s/", m->roster.items[i].jid);
		lo = 0;
		hi = m->pres.npres;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (strcmp(m->pres.pres[mid].jid, key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < m->pres.npres &&
		    strncmp(m->pres.pres[lo].jid, key, klen) == 0; lo++)
			if ((rc = sk_state_add_pres(live, &m->pres.pres[lo])) != 0) {
				sk_state_free(live);
				return rc;
			}
	}
	sk_state_sort(live);
	return 0;
}
