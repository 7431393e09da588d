/*
 * authgen.c - sign-in generation checks (see authgen.h).
 */
#include "authgen.h"

#include "db.h"
#include "log.h"

int64_t
pts_authgen_read(struct pts_wctx *w, const char *service)
{
	int64_t gen = -1;

	if (pts_db_int(w->db, &gen, -1, "SELECT gen FROM auth WHERE service = ?", "s",
	    service) != 0)
		return -1;
	return gen;
}

int
pts_authgen_current(struct pts_wctx *w, const char *service, int64_t gen)
{
	int64_t now_gen;

	if (gen < 0)
		return 1;
	now_gen = pts_authgen_read(w, service);
	if (now_gen < 0 || now_gen == gen)
		return 1;
	if (!w->cancelled)
		PTS_INFO("signed out of %s while this job ran: stopping without using its sign-in",
		    service);
	w->cancelled = 1;
	return 0;
}
