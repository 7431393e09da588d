/*
 * h_health.c - GET /api/health: is the database usable, is the worker alive.
 */
#include "handler.h"

#include "clock.h"
#include "db.h"
#include "jsonx.h"

/* The worker rewrites its heartbeat every few seconds; silent longer than this is dead. */
#define HEALTH_WORKER_STALE_S 15

void
h_health_get(struct hctx *ctx)
{
	json_object *o = json_object_new_object(), *w = json_object_new_object();
	int64_t last_seen = 0;

	if (ctx->db == NULL || pts_db_int(ctx->db, &last_seen, 0,
	    "SELECT last_seen FROM heartbeat WHERE id = 1", "") != 0) {
		pts_json_add_bool(o, "ok", 0);
		pts_json_add_str(o, "db", "unavailable");
		pts_json_add_bool(w, "alive", 0);
		json_object_object_add(w, "last_seen", NULL);
		json_object_object_add(o, "worker", w);
		resp_json(ctx->resp, 503, o);
		return;
	}
	pts_json_add_bool(o, "ok", 1);
	pts_json_add_str(o, "db", "ok");
	pts_json_add_bool(w, "alive", last_seen > 0 && pts_now() - last_seen <= HEALTH_WORKER_STALE_S);
	pts_json_add_time(w, "last_seen", last_seen);
	json_object_object_add(o, "worker", w);
	resp_json(ctx->resp, 200, o);
}
