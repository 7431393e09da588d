/*
 * app.h - answer one API request: the edge checks in the contract's order, then the handler.
 *
 * Order (docs/API.md): Host rule (421) → route (404 / 405) → login rule (401) → CSRF rule on
 * POST/PUT/DELETE (403) → webhook token (401 / 403) → body size (413) → content type (415)
 * → JSON parse (400 bad_json) → PTS_REQUIRE_PASSWORD (403 password_required) → query
 * parameters (400 with fields) → handler. Both transports call this; it never exits.
 */
#ifndef PTS_CGI_APP_H
#define PTS_CGI_APP_H

#include "req.h"
#include "resp.h"

/* Fill rs (initialised by the caller) for rq; reads the body through rq when allowed. */
void app_handle(struct req *rq, struct resp *rs);

/* Release per-process state (the database handle) before exiting. */
void app_shutdown(void);

#endif
