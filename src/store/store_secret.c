/* store_secret.c - the deployment secret: its files, rotation, the keys it accepts */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "bytes.h"
#include "error.h"
#include "store_impl.h"

/*
 * Two files beside the map (store.h, "The secret and its rotation"):
 *
 *   secret       SK_SECRET_LEN random bytes: signs new keys, verifies keys
 *   secret.prev  the secret before the last rotation, SK_SECRET_LEN bytes,
 *                then u64 big-endian `until`: it verifies keys while
 *                now < until, then is ignored
 *
 * Both mode 0600 (a group- or world-readable one is refused), and only
 * ever replaced whole: written to NAME.tmp, fsync'd, renamed over NAME,
 * the folder fsync'd, so a crash leaves the old file or the new one.  A
 * rotation writes secret.prev before secret: a crash between the two
 * leaves the old secret both current and previous, which loses nothing.
 */
#define PREV_LEN	(SK_SECRET_LEN + 8)

static const char *const names[2] = { "secret", "secret.prev" };

/* Reads exactly len bytes of the regular file name in dirfd. */
static int
read_file(int dirfd, const char *name, unsigned char *buf, size_t len,
    struct stat *sb)
{
	ssize_t n;
	int fd, rc = 0;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno;
	if (fstat(fd, sb) != 0)
		rc = errno;
	else if (!S_ISREG(sb->st_mode) || sb->st_size != (off_t)len ||
	    (sb->st_mode & 077) != 0)
		rc = SK_ESECRET;	/* wrong size, or group/world access */
	else if ((n = read(fd, buf, len)) != (ssize_t)len)
		rc = n < 0 ? errno : SK_ESECRET;
	close(fd);
	return rc;
}

/* First start: a new deployment secret, readable only by us.  O_EXCL:
   of two processes opening a new store at once, one creates it. */
static int
create_secret(int dirfd, unsigned char *secret)
{
	int fd, rc = 0;

	if (RAND_bytes(secret, SK_SECRET_LEN) != 1)
		return SK_ESECRET;
	fd = openat(dirfd, names[0], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	errno = 0;
	if (write(fd, secret, SK_SECRET_LEN) != SK_SECRET_LEN || fsync(fd) != 0)
		rc = errno ? errno : EIO;
	close(fd);
	return rc;
}

/* Replaces name in dirfd with buf, atomically and durably (see above). */
static int
write_file(int dirfd, const char *name, const unsigned char *buf, size_t len)
{
	struct stat dsb;
	char tmp[32];
	int fd, rc = 0;

	if (fstat(dirfd, &dsb) != 0)
		return errno;
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	/* A NAME.tmp left by a crash is ours to replace. */
	if (unlinkat(dirfd, tmp, 0) != 0 && errno != ENOENT)
		return errno;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	/* root rotating the secret of a daemon that runs as another user
	   (systemd's DynamicUser): the files stay the folder owner's. */
	if (geteuid() == 0 && fchown(fd, dsb.st_uid, dsb.st_gid) != 0)
		rc = errno;
	errno = 0;
	if (rc == 0 && (write(fd, buf, len) != (ssize_t)len || fsync(fd) != 0))
		rc = errno ? errno : EIO;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	if (rc == 0 && renameat(dirfd, tmp, dirfd, name) != 0)
		rc = errno;
	if (rc != 0)
		(void)unlinkat(dirfd, tmp, 0);
	else if (fsync(dirfd) != 0)
		rc = errno;
	return rc;
}

/* What a file looks like now; a rename or rewrite changes it. */
static void
stamp_of(int dirfd, const char *name, struct store_stamp *st)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->size = sb.st_size;
	st->mtim = sb.st_mtim;
	st->ctim = sb.st_ctim;
	st->present = 1;
}

/*
 * Reads both files; replaces what s holds only when both are usable, so
 * a daemon keeps verifying with the old secrets when a file is damaged.
 * The stamps are taken before reading: a change after them is seen by
 * the next refresh.
 */
static int
load(struct sk_store *s, int dirfd, int create)
{
	unsigned char cur[SK_SECRET_LEN], prev[PREV_LEN] = { 0 };
	struct store_stamp st[2];
	struct stat sb;
	int rc;

	stamp_of(dirfd, names[0], &st[0]);
	stamp_of(dirfd, names[1], &st[1]);
	rc = read_file(dirfd, names[0], cur, sizeof(cur), &sb);
	if (rc == ENOENT && create) {
		if ((rc = create_secret(dirfd, cur)) != 0)
			goto out;
		stamp_of(dirfd, names[0], &st[0]);
	} else if (rc != 0) {
		rc = rc == ENOENT ? SK_ESECRET : rc;
		goto out;
	}
	rc = read_file(dirfd, names[1], prev, sizeof(prev), &sb);
	if (rc == ENOENT)
		rc = 0;		/* never rotated, or rotated with --keep 0 */
	if (rc != 0)
		goto out;
	memcpy(s->secret, cur, SK_SECRET_LEN);
	memcpy(s->prev, prev, SK_SECRET_LEN);
	s->prev_until = sk_get_be(prev + SK_SECRET_LEN, 8);
	memcpy(s->stamp, st, sizeof(st));
out:
	OPENSSL_cleanse(cur, sizeof(cur));
	OPENSSL_cleanse(prev, sizeof(prev));
	return rc;
}

int
store_secret_load(struct sk_store *s, const char *dir, int create)
{
	int dirfd, rc;

	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno;
	rc = load(s, dirfd, create);
	close(dirfd);
	return rc;
}

int
sk_store_secret_refresh(struct sk_store *s, int force, int *reloaded)
{
	struct store_stamp st[2];
	const char *dir;
	int dirfd, rc = 0;

	if (reloaded)
		*reloaded = 0;
	if (mdb_env_get_path(s->env, &dir) != 0)
		return SK_ESTORE;
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno;
	stamp_of(dirfd, names[0], &st[0]);
	stamp_of(dirfd, names[1], &st[1]);
	if (force || memcmp(st, s->stamp, sizeof(st)) != 0) {
		if ((rc = load(s, dirfd, 0)) == 0 && reloaded)
			*reloaded = 1;
	}
	close(dirfd);
	return rc;
}

int
sk_store_key_decode(const struct sk_store *s, const char *bare,
    const char *client, const char *text, uint64_t now, struct sk_key *k)
{
	if (sk_key_decode(s->secret, bare, client, text, k) == 0)
		return 0;
	/* Keys signed before the last rotation, until its keep date. */
	if (s->prev_until != 0 && now < s->prev_until)
		return sk_key_decode(s->prev, bare, client, text, k);
	return SK_EKEY;
}

/* ---- for synckeyctl: the files alone, without opening the map ----------- */

static int
info_at(int dirfd, struct sk_store_secret_info *info)
{
	unsigned char prev[PREV_LEN];
	struct stat sb;
	int rc;

	memset(info, 0, sizeof(*info));
	if (fstatat(dirfd, names[0], &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? SK_ESECRET : errno;
	info->changed = (uint64_t)sb.st_mtime;
	rc = read_file(dirfd, names[1], prev, sizeof(prev), &sb);
	if (rc == 0) {
		info->has_prev = 1;
		info->prev_until = sk_get_be(prev + SK_SECRET_LEN, 8);
	}
	OPENSSL_cleanse(prev, sizeof(prev));
	return rc == ENOENT ? 0 : rc;
}

int
sk_store_secret_info(const char *dir, struct sk_store_secret_info *info)
{
	int dirfd, rc;

	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno;
	rc = info_at(dirfd, info);
	close(dirfd);
	return rc;
}

int
sk_store_secret_rotate(const char *dir, uint64_t now, uint64_t keep,
    struct sk_store_secret_info *before)
{
	unsigned char cur[SK_SECRET_LEN], prev[PREV_LEN], fresh[SK_SECRET_LEN];
	struct stat sb;
	int dirfd, rc;

	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno;
	/* One rotation at a time: two at once would both demote the same
	   secret, and keys signed with the one between would be lost. */
	if (flock(dirfd, LOCK_EX) != 0) {
		rc = errno;
		goto out;
	}
	if ((rc = info_at(dirfd, before)) != 0 ||
	    (rc = read_file(dirfd, names[0], cur, sizeof(cur), &sb)) != 0) {
		rc = rc == ENOENT ? SK_ESECRET : rc;
		goto out;
	}
	if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
		rc = SK_ESECRET;
		goto out;
	}
	if (keep == 0) {
		/* An emergency (the secret leaked): no key signed with it
		   verifies any more, so it is not kept either. */
		if (unlinkat(dirfd, names[1], 0) != 0 && errno != ENOENT)
			rc = errno;
	} else {
		memcpy(prev, cur, SK_SECRET_LEN);
		sk_put_be(prev + SK_SECRET_LEN, now + keep, 8);
		rc = write_file(dirfd, names[1], prev, sizeof(prev));
	}
	if (rc == 0)
		rc = write_file(dirfd, names[0], fresh, sizeof(fresh));
out:
	OPENSSL_cleanse(cur, sizeof(cur));
	OPENSSL_cleanse(prev, sizeof(prev));
	OPENSSL_cleanse(fresh, sizeof(fresh));
	close(dirfd);	/* releases the lock */
	return rc;
}
