/* record.c - one roster item or presence as a canonical record, its hash; subscription names */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "record.h"

/*
 * xep/ "Canonical form for the digest": each field followed by 0x00,
 * each record by 0x01.  The record is what the digest sorts and hashes
 * (digest.c) and, with a presence's other children, what a record's
 * hash names for equality (state.c).
 */
static const char *const sub_names[] = {
	[SK_SUB_NONE] = "none", [SK_SUB_TO] = "to", [SK_SUB_FROM] = "from",
	[SK_SUB_BOTH] = "both", [SK_SUB_REMOVE] = "remove"
};

const char *
sk_sub_name(enum sk_sub sub)
{
	if ((unsigned)sub > SK_SUB_REMOVE)
		return NULL;
	return sub_names[sub];
}

int
sk_sub_parse(const char *name)
{
	int i;

	if (name == NULL)
		return SK_SUB_NONE;	/* RFC 6121: absent means none */
	for (i = 0; i <= SK_SUB_REMOVE; i++)
		if (strcmp(name, sub_names[i]) == 0)
			return i;
	return -1;
}

/* Appends one field and its 0x00 terminator, counting past cap. */
static size_t
put_field(unsigned char *buf, size_t cap, size_t off, const char *s, size_t len)
{
	if (off + len + 1 <= cap) {
		memcpy(buf + off, s, len);
		buf[off + len] = 0x00;
	}
	return off + len + 1;
}

static size_t
put_str(unsigned char *buf, size_t cap, size_t off, const char *s)
{
	if (s == NULL)
		s = "";
	return put_field(buf, cap, off, s, strlen(s));
}

static size_t
put_end(unsigned char *buf, size_t cap, size_t off)
{
	if (off + 1 <= cap)
		buf[off] = 0x01;
	return off + 1;
}

size_t
sk_record_item(const struct sk_item *item, unsigned char *buf, size_t cap)
{
	const char *sub = sk_sub_name(item->sub);
	size_t off = 0, i;

	off = put_str(buf, cap, off, "R");
	off = put_str(buf, cap, off, item->jid);
	off = put_str(buf, cap, off, sub ? sub : "none");
	off = put_str(buf, cap, off, item->ask ? "subscribe" : "");
	off = put_str(buf, cap, off, item->name);
	for (i = 0; i < item->ngroups; i++)
		off = put_str(buf, cap, off, item->groups[i]);
	return put_end(buf, cap, off);
}

size_t
sk_record_pres(const struct sk_pres *p, unsigned char *buf, size_t cap)
{
	char prio[16];
	size_t off = 0;
	int n;

	n = snprintf(prio, sizeof(prio), "%d", p->priority);
	off = put_str(buf, cap, off, "P");
	off = put_str(buf, cap, off, p->jid);
	off = put_str(buf, cap, off, p->show);
	off = put_field(buf, cap, off, prio, (size_t)n);
	off = put_str(buf, cap, off, p->status);
	return put_end(buf, cap, off);
}

typedef size_t (*record_writer)(const void *, unsigned char *, size_t);

static size_t
rec_item(const void *rec, unsigned char *buf, size_t cap)
{
	return sk_record_item(rec, buf, cap);
}

static size_t
rec_pres(const void *rec, unsigned char *buf, size_t cap)
{
	return sk_record_pres(rec, buf, cap);
}

/*
 * Truncated SHA-256 of a record's canonical bytes followed by `extra`
 * (presence: the other children, which count for equality but not for
 * the digest).  Small records use a stack buffer.
 */
static void
record_hash(record_writer w, const void *rec, const char *extra,
    unsigned char out[SK_HASH_LEN])
{
	unsigned char stackbuf[512], *buf = stackbuf;
	unsigned char md[32];
	size_t xlen = extra ? strlen(extra) : 0, need;

	need = w(rec, buf, sizeof(stackbuf));
	if (need + xlen > sizeof(stackbuf)) {
		buf = malloc(need + xlen);
		if (buf == NULL) {
			/* A zero hash only makes the record look changed:
			   the client gets it again, never a wrong state. */
			memset(out, 0, SK_HASH_LEN);
			return;
		}
		w(rec, buf, need);
	}
	if (xlen > 0)
		memcpy(buf + need, extra, xlen);
	if (sk_sha256(buf, need + xlen, md) != 0)
		memset(md, 0, sizeof(md));	/* looks changed: resent, never wrong */
	memcpy(out, md, SK_HASH_LEN);
	if (buf != stackbuf)
		free(buf);
}

void
sk_record_item_hash(const struct sk_item *item, unsigned char out[SK_HASH_LEN])
{
	record_hash(rec_item, item, NULL, out);
}

void
sk_record_pres_hash(const struct sk_pres *p, unsigned char out[SK_HASH_LEN])
{
	record_hash(rec_pres, p, p->ext, out);
}

size_t
sk_record_item_any(const void *item, unsigned char *buf, size_t cap)
{
	return sk_record_item(item, buf, cap);
}

size_t
sk_record_pres_any(const void *p, unsigned char *buf, size_t cap)
{
	return sk_record_pres(p, buf, cap);
}
