/*
 * metricstoken.h - the metrics token: GET /api/metrics with "Authorization: Bearer <token>"
 * answers without a login (docs/API.md, "Metrics token"), so a scraper such as Prometheus,
 * which cannot log in, can read it once a dashboard password is set.
 *
 * The token is the secret setting metrics_token (common/settings.c). The presented token is
 * compared in constant time, whatever its length, and is never written to a log.
 */
#ifndef PTS_CGI_METRICSTOKEN_H
#define PTS_CGI_METRICSTOKEN_H

#include <sqlite3.h>

/*
 * Check the Authorization header (NULL when absent) against the stored metrics token:
 * 1 when it is "Bearer <the token>", 0 when it is not or no token is set, -1 on a database
 * error (logged).
 */
int mtoken_check(sqlite3 *db, const char *authorization);

#endif
