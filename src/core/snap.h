/* snap.h - snapshot blobs: the sorted (record, hash) list behind a key */
#ifndef SK_SNAP_H
#define SK_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/*
 * A snapshot is not a copy of the state but the sorted list of
 * (record id, record hash) pairs the client held when its key was issued.
 * A record id is (contact bare JID, kind, resource): kind R is the roster
 * item, kind P one available resource of that contact.
 *
 * Order.  Entries are sorted by (h64, bare, kind, resource), where h64 is
 * a 64-bit FNV-1a of the bare JID.  The order does not depend on how many
 * buckets a blob has, so any two blobs merge.
 *
 * Buckets.  The top `bits` bits of h64 split the entries into 2^bits
 * contiguous runs; the bucket table holds each run's first entry and the
 * XOR of its entry hashes.  The diff compares bucket XORs first and merges
 * only runs that differ, so reading and diffing a snapshot costs about
 * O(2^bits + changed runs), not O(entries); see diff.h.  bits grows with
 * the entry count (about 8 entries a bucket) up to SK_SNAP_MAXBITS.
 *
 * Layout (all integers little-endian, no alignment assumed: a blob is read
 * in place from LMDB's map; the XORs are one contiguous table so that two
 * blobs with as many buckets compare whole runs of it with memcmp):
 *   header   16 B  "SKS1", u8 bits, 3 B zero, u32 nentries, u32 strlen
 *   firsts   2^bits x 4 B   u32 index of each bucket's first entry
 *   xors     2^bits x 16 B  XOR of each bucket's entry hashes
 *   entries  n x 40 B  { u64 h64; u32 stroff; u16 barelen; u16 reslen;
 *                        u32 ref; u8 kind; 3 B zero; u8 hash[16] }
 *   strings  strlen B  each entry's bare JID then resource, no NUL
 * `ref` is the record's index in the state the blob was built from
 * (items[] for R, pres[] for P); meaningless once stored.
 */
#define SK_SNAP_MAXBITS 10
#define SK_SNAP_HDR 16
#define SK_SNAP_BUCKET 20
#define SK_SNAP_ENTRY 40

enum sk_snap_kind { SK_SNAP_ROSTER = 0, SK_SNAP_PRES = 1 };

/* A validated, borrowed view of a blob. */
struct sk_snap {
	const unsigned char	*buckets;	/* the firsts table */
	const unsigned char	*xors;
	const unsigned char	*entries;
	const unsigned char	*strings;
	uint32_t		 n;
	uint32_t		 strlen;
	unsigned		 bits;
};

/* One decoded entry; bare/res point into the blob (borrowed). */
struct sk_snap_entry {
	uint64_t		 h64;
	const char		*bare;
	const char		*res;
	uint16_t		 barelen, reslen;
	uint32_t		 ref;
	enum sk_snap_kind	 kind;
	const unsigned char	*hash;		/* SK_HASH_LEN bytes */
};

/*
 * Builds the blob of st (every item and every presence in it).  On success
 * *blob is a malloc'd buffer the caller frees with free(), *len its size.
 * Returns 0, ENOMEM, SK_EINVAL (a JID longer than 65535 bytes) or
 * SK_ETOOBIG (more than 2^32 bytes).  On error *blob is NULL.
 */
int sk_snap_build(const struct sk_state *st, unsigned char **blob, size_t *len);

/*
 * The blob of st made from old, the view of the blob of the state st was
 * before the contacts changed[] (bare JIDs, each once, any order) changed
 * (their roster item and presence, nothing else): their entries are built
 * from st again, every other entry is copied from old with its ref
 * renumbered.  The result is byte for byte sk_snap_build(st)'s, without a
 * hash and sort of every record: O(entries) copies and O(changes log n)
 * lookups.  *blob as sk_snap_build's.  0, ENOMEM, SK_EINVAL (a contact
 * named twice, or a JID too long), SK_ETOOBIG, or SK_ECORRUPT (old is not
 * the blob of such a state).
 */
int sk_snap_patch(const struct sk_snap *old, const struct sk_state *st,
    const char *const *changed, size_t nchanged, unsigned char **blob, size_t *len);

/*
 * Checks the header and sizes of a blob and fills view; O(1).  Entries are
 * bounds-checked when read.  The view borrows blob.  0 or SK_ECORRUPT.
 */
int sk_snap_view(struct sk_snap *view, const void *blob, size_t len);

/* Decodes entry i (< view->n).  0, or SK_ECORRUPT when out of bounds. */
int sk_snap_entry(const struct sk_snap *view, uint32_t i, struct sk_snap_entry *e);

/* Bucket b's first entry index and XOR (borrowed). */
uint32_t sk_snap_bucket_first(const struct sk_snap *view, uint32_t b);
const unsigned char *sk_snap_bucket_xor(const struct sk_snap *view, uint32_t b);

/* The 64-bit order hash of a bare JID. */
uint64_t sk_snap_h64(const char *bare, size_t len);

#endif
