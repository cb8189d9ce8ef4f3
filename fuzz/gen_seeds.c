/* gen_seeds.c - writes the binary seed inputs of fuzz/corpus/ (run by seeds.sh) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "key.h"
#include "snap.h"
#include "state.h"
#include "store.h"

static const char *top;

static void
put(const char *target, const char *name, const void *a, size_t alen,
    const void *b, size_t blen)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", top, target, name);
	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		exit(1);
	}
	fwrite(a, 1, alen, f);
	if (blen)
		fwrite(b, 1, blen, f);
	fclose(f);
}

/* A state of ni items and np presences; `salt` changes one of each. */
static void
state(struct sk_state *st, int ni, int np, int salt)
{
	char jid[64], full[80];
	int i;

	sk_state_init(st);
	for (i = 0; i < ni; i++) {
		struct sk_item it = { 0 };
		char *groups[] = { "Friends", "Work" };

		snprintf(jid, sizeof(jid), "c%d@p.test", i);
		it.jid = jid;
		it.sub = (enum sk_sub)(i % 4);
		it.ask = i % 5 == 0;
		it.name = i == salt ? "Changed" : "Name";
		it.groups = groups;
		it.ngroups = (size_t)(i % 3);
		sk_state_add_item(st, &it);
	}
	for (i = 0; i < np; i++) {
		struct sk_pres p = { 0 };

		snprintf(full, sizeof(full), "c%d@p.test/r%d", i, i % 3);
		p.jid = full;
		p.show = i % 2 ? "away" : NULL;
		p.status = i == salt ? "changed" : "here";
		p.priority = i % 7;
		sk_state_add_pres(st, &p);
	}
	sk_state_sort(st);
}

static void
snap_seeds(void)
{
	static const int sz[][2] = { {0, 0}, {1, 0}, {3, 2}, {20, 10}, {60, 30}, {120, 40} };
	int k;

	for (k = 0; k < 6; k++) {
		struct sk_state a, b;
		unsigned char *ba, *bb, hdr[2];
		size_t la, lb;
		char name[32], *buf;

		state(&a, sz[k][0], sz[k][1], -1);
		state(&b, sz[k][0] + (k & 1), sz[k][1] - (sz[k][1] > 3), 2);
		if (sk_snap_build(&a, &ba, &la) != 0 || sk_snap_build(&b, &bb, &lb) != 0)
			exit(1);
		hdr[0] = la & 0xff;	/* cut = la (< n - 1 here) */
		hdr[1] = (la >> 8) & 0xff;
		buf = malloc(2 + la);
		memcpy(buf, hdr, 2);
		memcpy(buf + 2, ba, la);
		snprintf(name, sizeof(name), "pair%d", k);
		put("snap", name, buf, 2 + la, bb, lb);
		free(buf);
		free(ba);
		free(bb);
		sk_state_free(&a);
		sk_state_free(&b);
	}
}

static void
pres_seeds(void)
{
	struct sk_pres p = { 0 };
	unsigned char *b;
	size_t l;

	p.jid = "bob@p.test/phone";
	p.show = "away";
	p.status = "in a meeting";
	p.priority = 5;
	p.ext = "<c xmlns=\"http://jabber.org/protocol/caps\" hash=\"sha-1\" node=\"n\" ver=\"v\"></>";
	p.xml = "<presence xmlns=\"jabber:client\" from=\"bob@p.test/phone\"><show>away</show>"
	    "<status>in a meeting</status><priority>5</priority></presence>";
	sk_pres_hash(&p);
	sk_store_pres_encode(&p, &b, &l);
	put("pres", "full", b, l, NULL, 0);
	free(b);
	memset(&p, 0, sizeof(p));
	p.jid = "bob@p.test";
	p.priority = -1;
	sk_pres_hash(&p);
	sk_store_pres_encode(&p, &b, &l);
	put("pres", "empty", b, l, NULL, 0);
	free(b);
	p.status = "";
	p.show = "dnd";
	sk_store_pres_encode(&p, &b, &l);
	put("pres", "emptystatus", b, l, NULL, 0);
	free(b);
}

static void
key_seeds(void)
{
	static const unsigned char secret[SK_SECRET_LEN] = "0123456789abcdef0123456789abcdef";
	struct sk_key k = { 3, 0x1122334455667788ULL, 42, 1700000000 };
	char text[SK_KEY_MAX + 1];
	unsigned char f[28];
	const char *tail[] = { "alice@p.test\nlaptop", "bob@q.test\nsynckey-0a1b2c",
	    "x@y\n", "\nphone", "carol@p.test" };
	char name[16];
	size_t i;

	/* a valid key for the binding the target decodes against */
	sk_key_encode(secret, "alice@p.test", "laptop", &k, text);
	put("key", "valid", text, strlen(text), NULL, 0);
	text[10] = text[10] == 'A' ? 'B' : 'A';
	put("key", "forged", text, strlen(text), NULL, 0);
	put("key", "short", "AQAAAAM", 7, NULL, 0);
	for (i = 0; i < sizeof(tail) / sizeof(tail[0]); i++) {
		sk_put_be(f, k.epoch + i, 4);
		sk_put_be(f + 4, k.session, 8);
		sk_put_be(f + 12, k.txn * (i + 1), 8);
		sk_put_be(f + 20, k.issued, 8);
		snprintf(name, sizeof(name), "fields%zu", i);
		put("key", name, f, sizeof(f), tail[i], strlen(tail[i]));
	}
}

/* The cache's item record (src/client/cache.c item_encode), after a JID. */
static void
cache_seed(const char *name, const char *jid, int sub, int ask, const char *iname,
    const char **groups, size_t ng)
{
	unsigned char b[1024];
	size_t off = 0, i, l;

	b[off++] = (unsigned char)strlen(jid);
	memcpy(b + off, jid, strlen(jid));
	off += strlen(jid);
	b[off++] = (unsigned char)sub;
	b[off++] = (unsigned char)ask;
	sk_put_le32(b + off, iname ? (uint32_t)strlen(iname) : 0xffffffffu);
	off += 4;
	if (iname) {
		memcpy(b + off, iname, strlen(iname));
		off += strlen(iname);
	}
	sk_put_le32(b + off, (uint32_t)ng);
	off += 4;
	for (i = 0; i < ng; i++) {
		l = strlen(groups[i]);
		sk_put_le32(b + off, (uint32_t)l);
		memcpy(b + off + 4, groups[i], l);
		off += 4 + l;
	}
	put("cache", name, b, off, NULL, 0);
}

int
main(int argc, char **argv)
{
	const char *g2[] = { "Friends", "Work" }, *g3[] = { "b", "a", "b" };

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
		return 2;
	}
	top = argv[1];
	snap_seeds();
	pres_seeds();
	key_seeds();
	cache_seed("plain", "bob@p.test", 3, 0, "Bob", g2, 2);
	cache_seed("noname", "carol@p.test", 1, 1, NULL, NULL, 0);
	cache_seed("dupgroups", "", 0, 0, "", g3, 3);
	return 0;
}
