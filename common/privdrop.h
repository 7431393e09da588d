/*
 * privdrop.h - least privilege: started as root, become a configured user once everything
 * that needs root is open.
 *
 * Both programs take `--user NAME` (or PTS_USER). The order is always:
 *   1. pts_privdrop_lookup()        who to become (refuses another user without root)
 *   2. pts_privdrop_prepare_dir()   the data folder exists and belongs to that user
 *      pts_privdrop_give_file()     files root creates there (database, lock) are theirs
 *      ... open the database, lock file, socket (pts_privdrop_give_socket()) ...
 *   3. pts_privdrop_drop()          setgid, setgroups, setuid, then prove root is gone
 * Every call is a no-op when no drop is due (not root, no user named, or the user is root),
 * so callers need no branches of their own. Failures are logged with their cause; a caller
 * exits on any -1 (a half-dropped process must never go on).
 */
#ifndef PTS_PRIVDROP_H
#define PTS_PRIVDROP_H

#include <sys/types.h>

/* Longest user name accepted (POSIX allows 32 on Linux; leave room). */
#define PTS_PRIVDROP_NAME_MAX 64

struct pts_privdrop {
	char name[PTS_PRIVDROP_NAME_MAX];
	uid_t uid;
	gid_t gid;          /* the user's primary group */
	int due;            /* 1: root now, becoming name later */
};

/*
 * Resolve name (NULL or "" → the PTS_USER environment variable; neither → no drop). Not root
 * and name is another user → -1 with a clear message; not root and name is ourselves → no
 * drop. 0 or -1 (logged).
 */
int pts_privdrop_lookup(const char *name, struct pts_privdrop *p);

/*
 * The data folder dir: created 0700 when missing (and given to the user); an existing one
 * must be a folder the user owns. 0 or -1 (logged, with the command that fixes it).
 */
int pts_privdrop_prepare_dir(const struct pts_privdrop *p, const char *dir);

/*
 * A regular file root creates or opens under the user's folder (the database, its -wal and
 * -shm companions, a lock file): given to the user. create = 0 skips a missing file. Symbolic
 * links and hard-linked files are refused, never followed. 0 or -1 (logged).
 */
int pts_privdrop_give_file(const struct pts_privdrop *p, const char *path, int create);

/*
 * The data folder and the database in it (pts.db, created when missing, and its -wal/-shm
 * companions) made ready for the user: pts_privdrop_prepare_dir() and
 * pts_privdrop_give_file() on each. Without a drop due it only creates the folder (0700).
 * 0 or -1 (logged).
 */
int pts_privdrop_prepare_data(const struct pts_privdrop *p);

/* A socket file just created at path: to the user and the user's group (lchown). 0 or -1. */
int pts_privdrop_give_socket(const struct pts_privdrop *p, const char *path);

/*
 * Become the user: setgid, setgroups (the user's supplementary groups), setuid, in that
 * order; then check that setuid(0) fails and the ids are what they should be. 0 or -1.
 */
int pts_privdrop_drop(const struct pts_privdrop *p);

#endif
