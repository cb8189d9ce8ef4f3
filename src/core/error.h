/* error.h - the one error space of the synckey library */
#ifndef SK_ERROR_H
#define SK_ERROR_H

/*
 * Every library function returns int: 0 on success, a positive errno value
 * for system failures (ENOMEM, EIO, EACCES, ...), or one of the SK_E* codes
 * below, which live in a reserved negative range like LMDB's MDB_* codes.
 * LMDB's own codes are mapped at the store boundary and never escape it.
 * Library code returns codes and never logs; sk_strerror() names any code.
 */
enum sk_err {
	SK_OK = 0,
	SK_ENOTFOUND = -30900,	/* no such record (snapshot, client, presence) */
	SK_EINVAL,		/* malformed argument or input */
	SK_ECORRUPT,		/* stored record or blob fails validation */
	SK_ESCHEMA,		/* database has a schema version we do not know */
	SK_EKEY,		/* sync key malformed, forged or bound elsewhere */
	SK_EEXPIRED,		/* sync key older than its time to live */
	SK_ERESET,		/* sync key from an earlier epoch */
	SK_ESECRET,		/* secret file unreadable, wrong size or mode */
	SK_EFULL,		/* store map full */
	SK_ESTORE,		/* other LMDB failure */
	SK_ETOOBIG,		/* value exceeds a protocol or format limit */
	SK_EFOREIGN,		/* a client cache that belongs to another account */
	SK_EDIGEST,		/* an applied sync answer does not match its digest */
	SK_ELAST
};

/* Returns a static string describing code (an SK_E* code or an errno). */
const char *sk_strerror(int code);

#endif
