/*
 * posters.c - poster images under the data folder: names, checks, atomic writes, size cap
 * and expiry.
 */
#include "posters.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "paths.h"

#define POSTERS_TMP_PREFIX ".tmp-"
#define POSTERS_STEM_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
/* Longest extension a TMDb poster path carries (".jpg", ".png"; ".jpeg" allowed). */
#define POSTERS_PATH_EXT_MAX 5

/* The image types kept: Content-Type, magic bytes (at offset 0, and "WEBP" at 8 for WebP). */
static const struct {
	const char *ctype, *ext, *magic;
	size_t magic_len;
} posters_types[] = {
	{ "image/jpeg", "jpg", "\xff\xd8\xff", 3 },
	{ "image/png", "png", "\x89PNG\r\n\x1a\n", 8 },
	{ "image/webp", "webp", "RIFF", 4 },
};
#define POSTERS_NTYPES (sizeof(posters_types) / sizeof(posters_types[0]))

int
pts_posters_stem(const char *tmdb_path, char *stem, size_t len)
{
	size_t n, e;

	if (tmdb_path == NULL || tmdb_path[0] != '/')
		return -1;
	n = strspn(tmdb_path + 1, POSTERS_STEM_CHARS);
	if (n == 0 || n > PTS_POSTERS_STEM_MAX || n + 1 > len || tmdb_path[1 + n] != '.')
		return -1;
	e = strspn(tmdb_path + 2 + n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
	if (e == 0 || e > POSTERS_PATH_EXT_MAX || tmdb_path[2 + n + e] != '\0')
		return -1;
	memcpy(stem, tmdb_path + 1, n);
	stem[n] = '\0';
	return 0;
}

const char *
pts_posters_check(const char *content_type, const void *buf, size_t len)
{
	const unsigned char *b = buf;
	size_t i, clen;

	if (content_type == NULL || buf == NULL || len == 0 || len > PTS_POSTERS_FILE_MAX)
		return NULL;
	while (*content_type == ' ')
		content_type++;
	clen = strcspn(content_type, "; ");
	for (i = 0; i < POSTERS_NTYPES; i++) {
		if (strlen(posters_types[i].ctype) != clen ||
		    strncasecmp(content_type, posters_types[i].ctype, clen) != 0)
			continue;
		if (len < posters_types[i].magic_len ||
		    memcmp(b, posters_types[i].magic, posters_types[i].magic_len) != 0)
			return NULL;
		if (strcmp(posters_types[i].ext, "webp") == 0 &&
		    (len < 12 || memcmp(b + 8, "WEBP", 4) != 0))
			return NULL;
		return posters_types[i].ext;
	}
	return NULL;
}

int
pts_posters_name_ok(const char *name)
{
	size_t n, i;

	if (name == NULL)
		return 0;
	n = strspn(name, POSTERS_STEM_CHARS);
	if (n == 0 || n > PTS_POSTERS_STEM_MAX || name[n] != '.')
		return 0;
	for (i = 0; i < POSTERS_NTYPES; i++)
		if (strcmp(name + n + 1, posters_types[i].ext) == 0)
			return 1;
	return 0;
}

/*
 * The folder as a directory descriptor (never through a link), made 0750 when missing and
 * create is set. -1 with errno ENOENT (not logged) when missing and !create; other failures
 * are logged.
 */
static int
posters_dir_open(int create)
{
	char path[PTS_PATH_MAX];
	int fd;

	if (pts_paths_join(path, sizeof(path), PTS_POSTERS_DIR) != 0) {
		PTS_ERROR("posters folder: the data folder's path is too long");
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdir(path, 0750) != 0 && errno != EEXIST) {
			PTS_ERROR("cannot make the posters folder %s: %s", path, strerror(errno));
			return -1;
		}
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* 0750 whatever the umask: the web server reads it through the group. */
		if (fd >= 0 && fchmod(fd, 0750) != 0)
			PTS_WARN("cannot set the mode of %s: %s", path, strerror(errno));
		PTS_INFO("made the posters folder %s", path);
	}
	if (fd < 0 && (errno != ENOENT || create)) {
		int e = errno;

		PTS_ERROR("cannot open the posters folder %s: %s", path, strerror(e));
		errno = e;
	}
	return fd;
}

int
pts_posters_find(const char *stem, char *name, size_t len)
{
	struct stat st;
	size_t i;
	int dfd, found = 0;

	if ((dfd = posters_dir_open(0)) < 0)
		return errno == ENOENT ? 0 : -1;
	for (i = 0; i < POSTERS_NTYPES && !found; i++) {
		if ((size_t)snprintf(name, len, "%s.%s", stem, posters_types[i].ext) >= len ||
		    !pts_posters_name_ok(name))
			continue;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		found = 1;
		/* The time says when it was last used: prune keeps what is shown. */
		if ((int64_t)st.st_mtime < pts_now() - PTS_POSTERS_TOUCH_S &&
		    utimensat(dfd, name, NULL, AT_SYMLINK_NOFOLLOW) != 0)
			PTS_WARN("cannot refresh the time of poster %s: %s", name, strerror(errno));
	}
	close(dfd);
	if (!found && len > 0)
		name[0] = '\0';
	return found;
}

/* Write all of buf to fd. 0 or -1 (errno set). */
static int
posters_write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int
pts_posters_put(const char *stem, const char *ext, const void *buf, size_t len, char *name,
    size_t nlen)
{
	static unsigned seq;
	char tmp[PTS_POSTERS_NAME_MAX + 48];
	int dfd, fd, rc = -1;

	if ((size_t)snprintf(name, nlen, "%s.%s", stem, ext) >= nlen || !pts_posters_name_ok(name) ||
	    len == 0 || len > PTS_POSTERS_FILE_MAX) {
		PTS_ERROR("poster %s.%s refused: bad name or size (%zu bytes)", stem, ext, len);
		return -1;
	}
	if ((dfd = posters_dir_open(1)) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), POSTERS_TMP_PREFIX "%ld-%u-%s", (long)getpid(), seq++, name);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		PTS_ERROR("cannot write poster %s: %s", name, strerror(errno));
		goto done;
	}
	/* 0644 whatever the umask: the web server's user reads it. */
	if (fchmod(fd, 0644) != 0 || posters_write_all(fd, buf, len) != 0) {
		PTS_ERROR("cannot write poster %s: %s", name, strerror(errno));
		close(fd);
		goto unlink;
	}
	if (close(fd) != 0) {
		PTS_ERROR("cannot write poster %s: %s", name, strerror(errno));
		goto unlink;
	}
	if (renameat(dfd, tmp, dfd, name) != 0) {
		PTS_ERROR("cannot put poster %s in place: %s", name, strerror(errno));
		goto unlink;
	}
	rc = 0;
	goto done;
unlink:
	(void)unlinkat(dfd, tmp, 0);
done:
	close(dfd);
	return rc;
}

struct posters_entry {
	int64_t mtime;
	long long size;
	char name[PTS_POSTERS_NAME_MAX + 1];
};

static int
posters_older_first(const void *a, const void *b)
{
	const struct posters_entry *x = a, *y = b;

	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Remove one entry of the folder; 1 when removed, 0 when not (logged unless already gone). */
static int
posters_remove(int dfd, const char *name)
{
	if (unlinkat(dfd, name, 0) == 0)
		return 1;
	if (errno != ENOENT)
		PTS_WARN("cannot remove poster %s: %s", name, strerror(errno));
	return 0;
}

int
pts_posters_prune(int64_t now, long long total_max)
{
	struct posters_entry *v = NULL;
	struct dirent *de;
	struct stat st;
	DIR *d;
	size_t n = 0, cap = 0, i, seen = 0;
	long long total = 0;
	int dfd, removed = 0, rc = -1;

	if ((dfd = posters_dir_open(0)) < 0)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(dfd)) == NULL) {
		PTS_ERROR("cannot list the posters folder: %s", strerror(errno));
		close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL && seen++ < PTS_POSTERS_SCAN_MAX) {
		int is_tmp = strncmp(de->d_name, POSTERS_TMP_PREFIX, strlen(POSTERS_TMP_PREFIX)) == 0;

		if ((!is_tmp && !pts_posters_name_ok(de->d_name)) ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (is_tmp) {
			if ((int64_t)st.st_mtime < now - PTS_POSTERS_TMP_STALE_S)
				removed += posters_remove(dfd, de->d_name);
			continue;
		}
		if ((int64_t)st.st_mtime < now - PTS_POSTERS_IDLE_S) {
			removed += posters_remove(dfd, de->d_name);
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct posters_entry *nv = realloc(v, ncap * sizeof(*nv));

			if (nv == NULL) {
				PTS_ERROR("posters prune: out of memory");
				goto done;
			}
			v = nv;
			cap = ncap;
		}
		v[n].mtime = (int64_t)st.st_mtime;
		v[n].size = (long long)st.st_size;
		/* name_ok bounds the name's length. */
		memcpy(v[n].name, de->d_name, strlen(de->d_name) + 1);
		total += v[n].size;
		n++;
	}
	if (total > total_max) {
		qsort(v, n, sizeof(*v), posters_older_first);
		for (i = 0; i < n && total > total_max; i++) {
			removed += posters_remove(dfd, v[i].name);
			total -= v[i].size;
		}
	}
	if (removed > 0)
		PTS_DEBUG("posters: %d files removed, %lld bytes kept", removed, total);
	rc = removed;
done:
	free(v);
	closedir(d);
	return rc;
}
