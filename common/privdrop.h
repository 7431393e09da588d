/*
 * privdrop.h - least privilege: started as root, become a configured user once everything
 * that needs root is open.
 *
 * Both programs take `--user NAME` (or PTS_USER); started as root without either, they become
 * the dedicated system user PTS_PRIVDROP_DEFAULT_USER. Nothing of ours keeps root: a user
 * with uid 0 is refused. The order is always:
 *   1. pts_privdrop_lookup()        who to become (refuses another user without root)
 *   2. pts_privdrop_prepare_dir()   the data folder exists and the user may write in it
 *      pts_privdrop_give_file()     files an earlier root run left there become theirs
 *      pts_privdrop_fs_enter/leave() around creating a file in a folder the user controls
 *                                   (the socket): created with the user's ids, not root's
 *   3. pts_privdrop_drop()          setgid, setgroups, setuid, then prove root is gone
 * The database and the worker's lock are opened after the drop. Every call is a no-op when
 * no drop is due (not root), so callers need no branches of their own. Failures are logged
 * with their cause; a caller exits on any -1 (a half-dropped process must never go on).
 */
#ifndef PTS_PRIVDROP_H
#define PTS_PRIVDROP_H

#include <sys/types.h>

/* Longest user name accepted (POSIX allows 32 on Linux; leave room). */
#define PTS_PRIVDROP_NAME_MAX 64
/* The user root becomes when no --user or PTS_USER names one (created by ./bootstrap). */
#define PTS_PRIVDROP_DEFAULT_USER "plex-trakt-sync"
/* The command that creates it, for the message when it is missing. */
#define PTS_PRIVDROP_USERADD "useradd --system --user-group --no-create-home" \
	" --home-dir /nonexistent --shell /usr/sbin/nologin " PTS_PRIVDROP_DEFAULT_USER

struct pts_privdrop {
	char name[PTS_PRIVDROP_NAME_MAX];
	uid_t uid;
	gid_t gid;          /* the user's primary group */
	int due;            /* 1: root now, becoming name later */
};

/*
 * Resolve name (NULL or "" → the PTS_USER environment variable; neither → as root
 * PTS_PRIVDROP_DEFAULT_USER, else no drop). Not root and name is another user → -1 with a
 * clear message; not root and name is ourselves → no drop. As root, a user with uid 0 → -1
 * (refused), a missing default user → -1 naming the useradd command. 0 or -1 (logged).
 */
int pts_privdrop_lookup(const char *name, struct pts_privdrop *p);

/*
 * The data folder dir: created 0700 when missing (and given to the user); an existing one
 * must be a folder the user owns, or root's folder shared with the user's primary group
 * (group rwx, sticky, not writable by others: ./bootstrap run's layout, where root's own files
 * sit beside the user's and the sticky bit keeps the user from renaming or replacing them).
 * Root never changes a folder it did not make. 0 or -1 (logged, with the command that fixes
 * it).
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

/*
 * Until pts_privdrop_fs_leave(): the effective ids become the user's (the group: gid, or the
 * user's primary group when gid is (gid_t)-1), and root's supplementary groups are gone for
 * good. Files created meanwhile are theirs from birth (no chown by path afterwards), and
 * paths the user controls are walked with the user's rights only. 0 or -1 (logged).
 */
int pts_privdrop_fs_enter(const struct pts_privdrop *p, gid_t gid);
/* Back to root's effective ids (the drop is still to come). 0 or -1 (logged). */
int pts_privdrop_fs_leave(const struct pts_privdrop *p);

/* The group named name into *gid. 0 or -1 (logged: no such group). */
int pts_privdrop_group(const char *name, gid_t *gid);

/*
 * Become the user: setgid, setgroups (the user's supplementary groups), setuid, in that
 * order; then check that setuid(0) fails and the ids are what they should be. 0 or -1.
 */
int pts_privdrop_drop(const struct pts_privdrop *p);

/*
 * After the drop: the user can use the data folder. One below a folder closed to the user
 * (a home, 0700) is refused with the fix, for the daemons to stop at once. 0 or -1 (logged).
 */
int pts_privdrop_check_data(const struct pts_privdrop *p);

#endif
