/*
 * test_posters.c - the poster folder (worker/core/posters.c): names from TMDb paths, the
 * image check (type and magic bytes agree, size cap), atomic 0644 writes, find with its time
 * refresh, and the prune (temp leftovers, expiry, size cap least recently used first).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "paths.h"
#include "posters.h"
#include "tap.h"

static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13 };
static const unsigned char jpg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F' };
static const unsigned char webp[] = { 'R', 'I', 'F', 'F', 8, 0, 0, 0, 'W', 'E', 'B', 'P' };

static char dir[600];

static void
test_names(void)
{
	char stem[PTS_POSTERS_STEM_MAX + 1], longp[200];

	TAP_OK(pts_posters_stem("/kqjL17yufvn9OVLyXYpvtyrFfak.jpg", stem, sizeof(stem)) == 0 &&
	    strcmp(stem, "kqjL17yufvn9OVLyXYpvtyrFfak") == 0, "stem of a TMDb path");
	TAP_OK(pts_posters_stem("/a_b-c.png", stem, sizeof(stem)) == 0 &&
	    strcmp(stem, "a_b-c") == 0, "underscore and dash kept");
	TAP_OK(pts_posters_stem("kq.jpg", stem, sizeof(stem)) != 0, "no leading slash refused");
	TAP_OK(pts_posters_stem("/../x.jpg", stem, sizeof(stem)) != 0, "dots refused");
	TAP_OK(pts_posters_stem("/a/b.jpg", stem, sizeof(stem)) != 0, "folders refused");
	TAP_OK(pts_posters_stem("/abc", stem, sizeof(stem)) != 0, "no extension refused");
	TAP_OK(pts_posters_stem("/abc.jpg?x", stem, sizeof(stem)) != 0, "junk after refused");
	TAP_OK(pts_posters_stem(NULL, stem, sizeof(stem)) != 0, "NULL refused");
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	snprintf(longp + 1 + PTS_POSTERS_STEM_MAX + 1, 5, ".jpg");
	TAP_OK(pts_posters_stem(longp, stem, sizeof(stem)) != 0, "stem over the limit refused");
	snprintf(longp + 1 + PTS_POSTERS_STEM_MAX, 5, ".jpg");
	TAP_OK(pts_posters_stem(longp, stem, sizeof(stem)) == 0, "stem at the limit kept");

	TAP_OK(pts_posters_name_ok("abc.jpg") && pts_posters_name_ok("a-b_c.png") &&
	    pts_posters_name_ok("x.webp"), "names of the worker's shape");
	TAP_OK(!pts_posters_name_ok(".tmp-1-abc.jpg") && !pts_posters_name_ok("abc.gif") &&
	    !pts_posters_name_ok("abc.jpg.x") && !pts_posters_name_ok("../a.jpg") &&
	    !pts_posters_name_ok(".jpg") && !pts_posters_name_ok(""), "other names refused");
}

static void
test_check(void)
{
	TAP_STREQ(pts_posters_check("image/png", png, sizeof(png)), "png", "PNG");
	TAP_STREQ(pts_posters_check("image/jpeg", jpg, sizeof(jpg)), "jpg", "JPEG");
	TAP_STREQ(pts_posters_check("image/webp", webp, sizeof(webp)), "webp", "WebP");
	TAP_STREQ(pts_posters_check("Image/PNG; charset=binary", png, sizeof(png)), "png",
	    "type without case, parameters ignored");
	TAP_OK(pts_posters_check("image/jpeg", png, sizeof(png)) == NULL,
	    "type and bytes disagree: refused");
	TAP_OK(pts_posters_check("text/html", "<html>", 6) == NULL, "a page refused");
	TAP_OK(pts_posters_check("image/svg+xml", "<svg/>", 6) == NULL, "SVG refused");
	TAP_OK(pts_posters_check("image/webp", "RIFF\0\0\0\0WAVE", 12) == NULL,
	    "a RIFF that is not WebP refused");
	TAP_OK(pts_posters_check("image/png", png, 0) == NULL &&
	    pts_posters_check(NULL, png, sizeof(png)) == NULL, "empty body or no type refused");
	TAP_OK(pts_posters_check("image/png", png, PTS_POSTERS_FILE_MAX + 1) == NULL,
	    "over PTS_POSTERS_FILE_MAX refused");
}

/* Set a kept file's time to now - age seconds. */
static void
age_file(const char *name, long age)
{
	char path[800];
	struct timeval tv[2];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= age;
	tv[1] = tv[0];
	(void)utimes(path, tv);
}

static long
file_mtime_age(const char *name)
{
	char path[800];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) != 0)
		return -1;
	return (long)(pts_now() - (int64_t)st.st_mtime);
}

static int
exists(const char *name)
{
	char path[800];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

static void
test_store(void)
{
	char name[PTS_POSTERS_NAME_MAX + 1], path[800], big[4096];
	struct stat st;
	FILE *fp;
	int i;

	TAP_OK(pts_posters_find("abc", name, sizeof(name)) == 0, "no folder: nothing found");
	TAP_OK(pts_posters_prune(pts_now(), PTS_POSTERS_TOTAL_MAX) == 0, "no folder: nothing pruned");
	umask(077);
	TAP_OK(pts_posters_put("abc", "png", png, sizeof(png), name, sizeof(name)) == 0 &&
	    strcmp(name, "abc.png") == 0, "put abc.png");
	TAP_OK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0750,
	    "folder made 0750");
	snprintf(path, sizeof(path), "%s/abc.png", dir);
	TAP_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644 &&
	    st.st_size == (off_t)sizeof(png), "file 0644 whatever the umask, all bytes");
	TAP_OK(pts_posters_put("../x", "png", png, sizeof(png), name, sizeof(name)) != 0,
	    "a name of another shape refused");
	TAP_OK(pts_posters_find("abc", name, sizeof(name)) == 1 && strcmp(name, "abc.png") == 0,
	    "find by stem gives the typed name");
	TAP_OK(pts_posters_find("abd", name, sizeof(name)) == 0, "another stem: not found");
	age_file("abc.png", PTS_POSTERS_TOUCH_S + 100);
	TAP_OK(pts_posters_find("abc", name, sizeof(name)) == 1 && file_mtime_age("abc.png") < 100,
	    "a use refreshes an old time");
	age_file("abc.png", 100);
	(void)pts_posters_find("abc", name, sizeof(name));
	TAP_OK(file_mtime_age("abc.png") >= 99, "a recent time is left alone");
	snprintf(path, sizeof(path), "%s/lnk.jpg", dir);
	TAP_OK(symlink("abc.png", path) == 0 && pts_posters_find("lnk", name, sizeof(name)) == 0,
	    "a link is not a poster");

	/* Prune: a stale temp file, an expired poster, then the size cap, oldest first. */
	snprintf(path, sizeof(path), "%s/.tmp-1-1-old.png", dir);
	if ((fp = fopen(path, "w")) != NULL)
		fclose(fp);
	age_file(".tmp-1-1-old.png", PTS_POSTERS_TMP_STALE_S + 10);
	snprintf(path, sizeof(path), "%s/.tmp-1-2-new.png", dir);
	if ((fp = fopen(path, "w")) != NULL)
		fclose(fp);
	(void)pts_posters_put("expired", "jpg", jpg, sizeof(jpg), name, sizeof(name));
	age_file("expired.jpg", PTS_POSTERS_IDLE_S + 10);
	TAP_OK(pts_posters_prune(pts_now(), PTS_POSTERS_TOTAL_MAX) == 2 &&
	    !exists(".tmp-1-1-old.png") && exists(".tmp-1-2-new.png") && !exists("expired.jpg") &&
	    exists("abc.png") && exists("lnk.jpg"),
	    "prune: stale temp file and expired poster gone, the rest kept");
	memset(big, 0, sizeof(big));
	memcpy(big, png, sizeof(png));
	for (i = 0; i < 4; i++) {
		char stem[16];

		snprintf(stem, sizeof(stem), "p%d", i);
		(void)pts_posters_put(stem, "png", big, sizeof(big), name, sizeof(name));
		snprintf(stem, sizeof(stem), "p%d.png", i);
		age_file(stem, 1000 - i * 100);   /* p0 the least recently used */
	}
	age_file("abc.png", 50);
	TAP_OK(pts_posters_prune(pts_now(), 2 * (long long)sizeof(big) + (long long)sizeof(png))
	    == 2 && !exists("p0.png") && !exists("p1.png") && exists("p2.png") &&
	    exists("p3.png") && exists("abc.png"), "prune: size cap, least recently used first");
	TAP_OK(pts_posters_prune(pts_now(), PTS_POSTERS_TOTAL_MAX) == 0, "nothing more to prune");
}

int
main(void)
{
	char tmp[512];

	pts_log_init("test_posters", PTS_LOG_ERROR);
	snprintf(tmp, sizeof(tmp), "%s/pts-posters-XXXXXX", pts_env("TMPDIR", "/tmp"));
	if (mkdtemp(tmp) == NULL) {
		printf("not ok 1 - temporary folder: %s\n", strerror(errno));
		return 1;
	}
	setenv("PTS_DATA_DIR", tmp, 1);
	snprintf(dir, sizeof(dir), "%s/%s", tmp, PTS_POSTERS_DIR);
	test_names();
	test_check();
	test_store();
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", tmp);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmp);
	}
	return tap_done();
}
