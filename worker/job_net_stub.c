/* Placeholder network jobs until the upstream clients land (weak: real ones override). */
#include "job_net.h"
#include "log.h"

#define STUB(name) int name(struct pts_wctx *w, json_object *a) __attribute__((weak)); \
int name(struct pts_wctx *w, json_object *a) { (void)w; (void)a; \
	PTS_ERROR("%s: not built yet", #name); return -1; }
STUB(pts_job_auth_plex)
STUB(pts_job_auth_trakt)
STUB(pts_job_signout_trakt)
STUB(pts_job_libraries_refresh)
STUB(pts_job_trakt_history_refresh)
STUB(pts_job_plex_in_progress_refresh)
