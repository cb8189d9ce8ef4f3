/* state.h - roster and presence state of one user: the data model */
#ifndef SK_STATE_H
#define SK_STATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The state a client must hold (xep/ "Sync result"): the user's
 * roster items and the presence of every available resource of every
 * contact it receives presence from.  A state owns every string in it.
 *
 * Each record carries a 16-byte hash of its content (SK_HASH_LEN): the
 * truncated SHA-256 of the record's canonical digest bytes, extended for
 * presence by `ext`.  Two records are "the same" for the diff exactly when
 * their hashes are equal; see xep/ section "Equality".
 */
#define SK_HASH_LEN 16

enum sk_sub {
	SK_SUB_NONE = 0,
	SK_SUB_TO,
	SK_SUB_FROM,
	SK_SUB_BOTH,
	SK_SUB_REMOVE		/* only in a delta: the item is deleted */
};

/* Groups kept per item: the parser keeps the first ones, the cache
   refuses more. */
#define SK_ITEM_GROUPS_MAX	256

struct sk_item {
	char		 *jid;		/* bare JID, never NULL */
	char		 *name;		/* NULL when absent */
	enum sk_sub	  sub;
	int		  ask;		/* 1: ask='subscribe' */
	char		**groups;	/* sorted bytewise, unique */
	size_t		  ngroups;
	unsigned char	  hash[SK_HASH_LEN];
};

struct sk_pres {
	char		*jid;		/* full JID the presence is from */
	char		*show;		/* NULL, "away", "chat", "dnd", "xa" */
	char		*status;	/* NULL when absent */
	int		 priority;	/* 0 when absent */
	char		*ext;		/* canonical text of the other children
					   except <delay/>; NULL when none */
	char		*xml;		/* the stanza as delivered, `to`
					   removed; NULL if not kept */
	unsigned char	 hash[SK_HASH_LEN];
};

struct sk_state {
	struct sk_item	*items;
	size_t		 nitems, capitems;
	struct sk_pres	*pres;
	size_t		 npres, cappres;
};

/* An empty state; sk_state_free() releases what it gathers. */
void sk_state_init(struct sk_state *st);
/* Frees every record and string; leaves st empty and reusable. */
void sk_state_free(struct sk_state *st);
/* Removes every record, keeps the arrays' capacity. */
void sk_state_clear(struct sk_state *st);

/*
 * Appends a deep copy of item (its hash is recomputed); groups are sorted
 * and de-duplicated in the copy.  Returns 0, ENOMEM, or SK_EINVAL when
 * the JID is empty.  On error st is unchanged.
 */
int sk_state_add_item(struct sk_state *st, const struct sk_item *item);
/* Appends a deep copy of p (hash recomputed).  0, ENOMEM or SK_EINVAL. */
int sk_state_add_pres(struct sk_state *st, const struct sk_pres *p);

/* Appends *it itself (hash kept): st takes its strings; *it is zeroed.
   0 or ENOMEM (then *it is untouched and still the caller's). */
int sk_state_adopt_item(struct sk_state *st, struct sk_item *it);
/* Appends *p itself: st takes ownership of its strings and keeps its
   hash as it is (the caller vouches for it); *p is zeroed.  0 or ENOMEM
   (then *p is untouched and still the caller's). */
int sk_state_adopt_pres(struct sk_state *st, struct sk_pres *p);

/* Sorts items by JID and presences by full JID (bytewise). */
void sk_state_sort(struct sk_state *st);

/* Lookups on a sorted state; NULL when absent. Borrowed pointers. */
struct sk_item *sk_state_find_item(const struct sk_state *st, const char *jid);
struct sk_pres *sk_state_find_pres(const struct sk_state *st, const char *fulljid);

/* Replaces (or inserts) the item/presence of that JID; keeps st sorted. */
int sk_state_put_item(struct sk_state *st, const struct sk_item *item);
int sk_state_put_pres(struct sk_state *st, const struct sk_pres *p);
/* Deletes the item of jid / the presence of fulljid / every presence
   whose bare JID is bare.  Absent records are not an error. */
void sk_state_del_item(struct sk_state *st, const char *jid);
void sk_state_del_pres(struct sk_state *st, const char *fulljid);
void sk_state_del_pres_bare(struct sk_state *st, const char *bare);

/* Deletes every presence for which drop(p, arg) returns 1, in one pass. */
void sk_state_del_pres_if(struct sk_state *st,
    int (*drop)(const struct sk_pres *p, void *arg), void *arg);
/* Moves every presence of add (sorted) into st (sorted), keeping st
   sorted, in one merge; add is left without presence.  A presence of add
   replaces one of st with the same JID.  0 or ENOMEM (then both are as
   they were). */
int sk_state_merge_pres(struct sk_state *st, struct sk_state *add);

/* Deep copy of src into dst (dst initialised by this call). 0 or ENOMEM. */
int sk_state_copy(struct sk_state *dst, const struct sk_state *src);

/* Computes item->hash / p->hash from their fields. */
void sk_item_hash(struct sk_item *item);
void sk_pres_hash(struct sk_pres *p);
/* Deep copies of one record into dst (hash recomputed); on error dst is
   left empty.  0, ENOMEM or SK_EINVAL (empty JID). */
int sk_item_copy(struct sk_item *dst, const struct sk_item *src);
int sk_pres_copy(struct sk_pres *dst, const struct sk_pres *src);
/* Frees the strings of one record (not the record itself). */
void sk_item_free(struct sk_item *item);
void sk_pres_free(struct sk_pres *p);

/* 1 when a contact with this subscription sends the user presence. */
int sk_sub_receives_presence(enum sk_sub sub);

/* Length of the bare part of jid (up to the first '/'). */
size_t sk_jid_barelen(const char *jid);

#endif
