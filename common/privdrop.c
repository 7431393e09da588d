/*
 * privdrop.c - become an unprivileged user after the root-only set-up.
 */
#include "privdrop.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"

/* Room getpwnam_r may need for one passwd entry. */
#define PRIVDROP_PWBUF 16384

int
pts_privdrop_lookup(const char *name, struct pts_privdrop *p)
{
	struct passwd pw, *res = NULL;
	char *buf;
	int rc, dflt = 0;

	memset(p, 0, sizeof(*p));
	if (name == NULL || *name == '\0')
		name = pts_env("PTS_USER", NULL);
	if (name == NULL) {
		if (geteuid() != 0)
			return 0;
		/* Root without a user named: the dedicated one, never root itself. */
		name = PTS_PRIVDROP_DEFAULT_USER;
		dflt = 1;
	}
	if (strlen(name) >= sizeof(p->name)) {
		pts_log_raw(PTS_LOG_ERROR, "user name too long: %.40s...", name);
		return -1;
	}
	if ((buf = malloc(PRIVDROP_PWBUF)) == NULL) {
		pts_log_raw(PTS_LOG_ERROR, "out of memory looking up user %s", name);
		return -1;
	}
	rc = getpwnam_r(name, &pw, buf, PRIVDROP_PWBUF, &res);
	if (res == NULL && dflt) {
		pts_log_raw(PTS_LOG_ERROR, "started as root, this program runs as user %s, which"
		    " does not exist%s%s: create it with `%s` (./bootstrap run does), or name"
		    " another user with --user or PTS_USER", name, rc ? ": " : "",
		    rc ? strerror(rc) : "", PTS_PRIVDROP_USERADD);
		free(buf);
		return -1;
	}
	if (res == NULL) {
		pts_log_raw(PTS_LOG_ERROR, "unknown user '%s'%s%s", name, rc ? ": " : "",
		    rc ? strerror(rc) : "");
		free(buf);
		return -1;
	}
	memcpy(p->name, name, strlen(name) + 1);
	p->uid = pw.pw_uid;
	p->gid = pw.pw_gid;
	free(buf);
	if (geteuid() != 0) {
		if (p->uid == geteuid())
			return 0; /* already that user: nothing to drop */
		pts_log_raw(PTS_LOG_ERROR, "--user %s needs root (running as uid %ld): start as"
		    " root, or leave the option out to run as yourself", name, (long)geteuid());
		return -1;
	}
	if (p->uid == 0) {
		pts_log_raw(PTS_LOG_ERROR, "refusing to run as root (user %s has uid 0): name an"
		    " unprivileged user with --user or PTS_USER, or leave both out to run as %s",
		    name, PTS_PRIVDROP_DEFAULT_USER);
		return -1;
	}
	p->due = 1;
	return 0;
}

/*
 * An existing data folder the user may work in: their own, or root's shared with their
 * group, sticky (nobody but root and an entry's owner may rename or remove it) and closed to
 * writes by others.
 */
static int
privdrop_dir_ok(const struct pts_privdrop *p, const struct stat *st)
{
	if (st->st_uid == p->uid)
		return (st->st_mode & S_IRWXU) == S_IRWXU;
	return st->st_uid == 0 && st->st_gid == p->gid && (st->st_mode & S_ISVTX) &&
	    (st->st_mode & S_IRWXG) == S_IRWXG && !(st->st_mode & S_IWOTH);
}

int
pts_privdrop_prepare_dir(const struct pts_privdrop *p, const char *dir)
{
	struct stat st;

	if (!p->due)
		return 0;
	if (mkdir(dir, 0700) == 0) {
		if (lchown(dir, p->uid, p->gid) != 0) {
			pts_log_raw(PTS_LOG_ERROR, "chown %s to %s: %s", dir, p->name, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno != EEXIST) {
		pts_log_raw(PTS_LOG_ERROR, "cannot create data folder %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		pts_log_raw(PTS_LOG_ERROR, "data folder %s is not a folder", dir);
		return -1;
	}
	/*
	 * Root never chowns a folder it did not make (PTS_DATA_DIR=/etc would be a disaster):
	 * the owner fixes it once, or lets the program create the folder.
	 */
	if (!privdrop_dir_ok(p, &st)) {
		pts_log_raw(PTS_LOG_ERROR, "data folder %s must belong to user %s (it belongs to"
		    " uid %ld, mode %04o): chown -R %s %s", dir, p->name, (long)st.st_uid,
		    (unsigned)(st.st_mode & 07777), p->name, dir);
		return -1;
	}
	return 0;
}

int
pts_privdrop_give_file(const struct pts_privdrop *p, const char *path, int create)
{
	struct stat st;
	int fd;

	if (!p->due)
		return 0;
	/*
	 * The folder is the user's: what sits in it may be a trap for root. Never follow. An
	 * existing file is opened without O_CREAT (fs.protected_regular refuses root that on
	 * another's file in a shared sticky folder); a missing one is made with O_EXCL.
	 */
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT && create) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
		    0600);
		/* pts-cgi and pts-worker start together: the other may have made it meanwhile. */
		if (fd < 0 && errno == EEXIST)
			fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	}
	if (fd < 0) {
		if (!create && errno == ENOENT)
			return 0;
		pts_log_raw(PTS_LOG_ERROR, "cannot open %s for user %s: %s", path, p->name,
		    errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		pts_log_raw(PTS_LOG_ERROR, "%s is not a plain file (or has other links): refusing"
		    " to hand it to %s", path, p->name);
		close(fd);
		return -1;
	}
	if ((st.st_uid != p->uid || st.st_gid != p->gid) && fchown(fd, p->uid, p->gid) != 0) {
		pts_log_raw(PTS_LOG_ERROR, "chown %s to %s: %s", path, p->name, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
pts_privdrop_prepare_data(const struct pts_privdrop *p)
{
	static const char *const files[] = { "pts.db", "pts.db-wal", "pts.db-shm" };
	char path[PTS_PATH_MAX];
	size_t i;

	if (!p->due)
		return pts_paths_ensure_data_dir();
	if (pts_privdrop_prepare_dir(p, pts_paths_data_dir()) != 0)
		return -1;
	/*
	 * The database first: SQLite, running as root, gives the -wal and -shm files it
	 * creates to the database file's owner.
	 */
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (pts_paths_join(path, sizeof(path), files[i]) != 0 ||
		    pts_privdrop_give_file(p, path, i == 0) != 0)
			return -1;
	return 0;
}

int
pts_privdrop_fs_enter(const struct pts_privdrop *p, gid_t gid)
{
	if (!p->due)
		return 0;
	if (gid == (gid_t)-1)
		gid = p->gid;
	/* Root's own groups must not lend their rights meanwhile; the drop sets the user's. */
	if (setgroups(0, NULL) != 0 || setegid(gid) != 0 || seteuid(p->uid) != 0) {
		pts_log_raw(PTS_LOG_ERROR, "cannot act as user %s (gid %ld): %s", p->name,
		    (long)gid, strerror(errno));
		(void)pts_privdrop_fs_leave(p);
		return -1;
	}
	return 0;
}

int
pts_privdrop_fs_leave(const struct pts_privdrop *p)
{
	if (!p->due)
		return 0;
	/* The saved uid is still 0: the effective ids come back. */
	if (seteuid(0) != 0 || setegid(0) != 0) {
		pts_log_raw(PTS_LOG_ERROR, "cannot return to root's ids: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
pts_privdrop_group(const char *name, gid_t *gid)
{
	struct group gr, *res = NULL;
	char *buf;
	int rc;

	if ((buf = malloc(PRIVDROP_PWBUF)) == NULL) {
		pts_log_raw(PTS_LOG_ERROR, "out of memory looking up group %s", name);
		return -1;
	}
	rc = getgrnam_r(name, &gr, buf, PRIVDROP_PWBUF, &res);
	if (res == NULL) {
		pts_log_raw(PTS_LOG_ERROR, "unknown group '%s'%s%s", name, rc ? ": " : "",
		    rc ? strerror(rc) : "");
		free(buf);
		return -1;
	}
	*gid = gr.gr_gid;
	free(buf);
	return 0;
}

int
pts_privdrop_drop(const struct pts_privdrop *p)
{
	if (!p->due)
		return 0;
	/* Group first: once the uid is gone, the right to change groups is gone too. */
	if (setgid(p->gid) != 0) {
		pts_log_raw(PTS_LOG_ERROR, "setgid(%ld): %s", (long)p->gid, strerror(errno));
		return -1;
	}
	if (initgroups(p->name, p->gid) != 0) {
		pts_log_raw(PTS_LOG_ERROR, "initgroups(%s): %s", p->name, strerror(errno));
		return -1;
	}
	if (setuid(p->uid) != 0) {
		pts_log_raw(PTS_LOG_ERROR, "setuid(%ld): %s", (long)p->uid, strerror(errno));
		return -1;
	}
	/* Prove it: root must be gone for good (saved ids included). */
	if (setuid(0) == 0 || seteuid(0) == 0) {
		pts_log_raw(PTS_LOG_ERROR, "regained root after dropping to %s: aborting", p->name);
		abort();
	}
	if (getuid() != p->uid || geteuid() != p->uid || getgid() != p->gid ||
	    getegid() != p->gid) {
		pts_log_raw(PTS_LOG_ERROR, "ids after dropping to %s are not %ld:%ld", p->name,
		    (long)p->uid, (long)p->gid);
		return -1;
	}
	pts_log_raw(PTS_LOG_INFO, "running as user %s (uid %ld, gid %ld)", p->name, (long)p->uid,
	    (long)p->gid);
	return 0;
}

int
pts_privdrop_check_data(const struct pts_privdrop *p)
{
	if (!p->due)
		return 0;
	if (access(pts_paths_data_dir(), R_OK | W_OK | X_OK) != 0) {
		pts_log_raw(PTS_LOG_ERROR, "user %s cannot use the data folder %s (%s): every folder"
		    " above it must let %s pass (chmod o+x DIR, or setfacl -m u:%s:--x DIR)",
		    p->name, pts_paths_data_dir(), strerror(errno), p->name, p->name);
		return -1;
	}
	return 0;
}
