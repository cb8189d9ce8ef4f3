/* error.c - messages for the synckey error space */
#include <string.h>

#include "error.h"

const char *
sk_strerror(int code)
{
	switch (code) {
	case SK_OK:		return "success";
	case SK_ENOTFOUND:	return "no such record";
	case SK_EINVAL:		return "invalid argument or input";
	case SK_ECORRUPT:	return "stored data is corrupt";
	case SK_ESCHEMA:	return "unknown database schema version";
	case SK_EKEY:		return "sync key malformed, forged or bound to another user or client";
	case SK_EEXPIRED:	return "sync key expired";
	case SK_ERESET:		return "sync key predates a state reset";
	case SK_ESECRET:	return "secret file unusable";
	case SK_EFULL:		return "database map full";
	case SK_ESTORE:		return "database failure";
	case SK_ETOOBIG:	return "value too large";
	case SK_EFOREIGN:	return "the cache belongs to another account";
	case SK_EDIGEST:	return "the synced state does not match the server's digest";
	default:
		if (code > 0)
			return strerror(code);
		return "unknown error";
	}
}
