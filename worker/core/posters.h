/*
 * posters.h - the poster images kept under the data folder, which the dashboard loads from
 * its own origin (/posters/NAME through nginx or Apache), so the browser never contacts TMDb.
 *
 * Layout: <data dir>/posters/NAME, NAME = STEM "." EXT with STEM the TMDb poster path's name
 * ([A-Za-z0-9_-], at most PTS_POSTERS_STEM_MAX) and EXT "jpg", "png" or "webp" from the
 * image's own bytes. A TMDb poster path names one image for good (a new image gets a new
 * path), so a file never changes once written. Files are 0644 and written atomically (a
 * ".tmp-" file in the same folder, then rename), so the web server never serves half an
 * image and never sees a temp file (its location accepts only NAME's shape). The folder is
 * made 0750 when missing; ./bootstrap gives it the web server's group.
 *
 * Bounds: one image at most PTS_POSTERS_FILE_MAX bytes; the folder at most
 * PTS_POSTERS_TOTAL_MAX bytes (least recently used removed first) and no file unused for
 * PTS_POSTERS_IDLE_S (a use refreshes the file's time, at most once per PTS_POSTERS_TOUCH_S).
 *
 * No network here: worker/upstream/tmdb.c downloads, this module checks and keeps.
 * Functions return 0 / -1 (cause logged) unless said otherwise. Not thread-safe; several
 * processes may use the folder at once (each write is its own temp file and rename).
 */
#ifndef PTS_POSTERS_H
#define PTS_POSTERS_H

#include <stddef.h>
#include <stdint.h>

/* The folder's name under the data folder and the URL path the web server maps onto it. */
#define PTS_POSTERS_DIR "posters"
#define PTS_POSTERS_URL_PREFIX "/posters/"
/* Longest file name stem (TMDb's are about 27-32 characters). */
#define PTS_POSTERS_STEM_MAX 64
/* Longest file name: stem, ".", the longest extension ("webp"). */
#define PTS_POSTERS_NAME_MAX (PTS_POSTERS_STEM_MAX + 6)
/* Largest image accepted (a w342 poster is 20-80 KB). */
#define PTS_POSTERS_FILE_MAX (1024L * 1024)
/* Bytes the folder may hold; beyond it the least recently used go first. */
#define PTS_POSTERS_TOTAL_MAX (64LL * 1024 * 1024)
/* A poster unused this long is deleted (it is fetched again when needed). */
#define PTS_POSTERS_IDLE_S (30 * 86400)
/* A poster's time is refreshed on use at most this often (fewer writes). */
#define PTS_POSTERS_TOUCH_S 86400
/* A temp file older than this is a crashed write's leftover. */
#define PTS_POSTERS_TMP_STALE_S 3600
/* Entries a prune looks at (the cap allows a few thousand posters). */
#define PTS_POSTERS_SCAN_MAX 20000

/*
 * The file name stem of a TMDb poster path ("/kqjL17yufvn9OVLyXYpvtyrFfak.jpg" ->
 * "kqjL17yufvn9OVLyXYpvtyrFfak") into stem (PTS_POSTERS_STEM_MAX + 1 bytes). -1 when the path
 * is not of that shape (pure).
 */
int pts_posters_stem(const char *tmdb_path, char *stem, size_t len);

/*
 * The extension for an image: its Content-Type (image/jpeg, image/png or image/webp,
 * parameters ignored) and its magic bytes must name the same type, and len must be within
 * PTS_POSTERS_FILE_MAX. "jpg", "png", "webp", or NULL (pure).
 */
const char *pts_posters_check(const char *content_type, const void *buf, size_t len);

/* 1 when name has the shape STEM.EXT above (pure). */
int pts_posters_name_ok(const char *name);

/*
 * 1 with the file's name in name (PTS_POSTERS_NAME_MAX + 1 bytes) when a poster of that stem
 * is kept (its time refreshed when due), 0 when not, -1 on an error other than "missing".
 */
int pts_posters_find(const char *stem, char *name, size_t len);

/*
 * Keep buf (checked with pts_posters_check by the caller; ext is its answer) as STEM.EXT,
 * written atomically; the name into name. 0 or -1.
 */
int pts_posters_put(const char *stem, const char *ext, const void *buf, size_t len, char *name,
    size_t nlen);

/*
 * Delete posters unused for PTS_POSTERS_IDLE_S, temp files older than PTS_POSTERS_TMP_STALE_S,
 * then the least recently used until the folder is within total_max bytes (callers pass
 * PTS_POSTERS_TOTAL_MAX; tests a smaller cap). The number of files removed, or -1. A missing
 * folder is 0.
 */
int pts_posters_prune(int64_t now, long long total_max);

#endif
