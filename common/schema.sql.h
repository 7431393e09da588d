/*
 * schema.sql.h - the schema, one migration step per version (PRAGMA user_version).
 * Step N takes the database from version N-1 to N. Never edit a released step: add one.
 */
#ifndef PTS_SCHEMA_SQL_H
#define PTS_SCHEMA_SQL_H

static const char *const pts_schema_steps[] = {
/* 1: everything the walking skeleton needs */
"CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
/* internal state: client identifier, schedule clock, webhook secret, cache times */
"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
"CREATE TABLE libraries(key TEXT PRIMARY KEY, title TEXT NOT NULL, type TEXT NOT NULL,"
"  count INTEGER NOT NULL DEFAULT 0, selected INTEGER NOT NULL DEFAULT 0,"
"  present INTEGER NOT NULL DEFAULT 1);"
"CREATE TABLE jobs(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, args TEXT NOT NULL DEFAULT '{}',"
"  state TEXT NOT NULL DEFAULT 'queued'"
"    CHECK(state IN ('queued','running','done','failed','cancelled')),"
"  cancel INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, run_id INTEGER,"
"  error TEXT,"
"  created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER);"
"CREATE INDEX jobs_state ON jobs(state, id);"
"CREATE TABLE runs(id INTEGER PRIMARY KEY, job_id INTEGER,"
"  trigger TEXT NOT NULL CHECK(trigger IN ('manual','schedule','webhook','undo')),"
"  status TEXT NOT NULL DEFAULT 'queued'"
"    CHECK(status IN ('queued','running','ok','failed','cancelled')),"
"  created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER,"
"  items_scanned INTEGER NOT NULL DEFAULT 0, items_total INTEGER NOT NULL DEFAULT 0,"
"  added_to_trakt INTEGER NOT NULL DEFAULT 0, added_to_plex INTEGER NOT NULL DEFAULT 0,"
"  not_found INTEGER NOT NULL DEFAULT 0, unmatched INTEGER NOT NULL DEFAULT 0,"
"  errors INTEGER NOT NULL DEFAULT 0, dry_run INTEGER NOT NULL DEFAULT 0,"
"  full INTEGER NOT NULL DEFAULT 0, message TEXT);"
/* one progress row per run, owned by the worker */
"CREATE TABLE progress(run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
"  phase TEXT NOT NULL DEFAULT 'starting', lib_title TEXT, lib_done INTEGER NOT NULL DEFAULT 0,"
"  lib_total INTEGER NOT NULL DEFAULT 0, overall_done INTEGER NOT NULL DEFAULT 0,"
"  overall_total INTEGER NOT NULL DEFAULT 0, current_item TEXT, rate_per_s REAL NOT NULL DEFAULT 0,"
"  started_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
"  wait_until INTEGER, wait_reason TEXT);"
"CREATE TABLE rate_samples(id INTEGER PRIMARY KEY,"
"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, t REAL NOT NULL, rate REAL NOT NULL);"
"CREATE INDEX rate_samples_run ON rate_samples(run_id, id);"
"CREATE TABLE log(id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, level TEXT NOT NULL,"
"  run_id INTEGER, message TEXT NOT NULL);"
/* what a run changed or would change; also the no-duplicate ledger for upstream writes */
"CREATE TABLE batches(id INTEGER PRIMARY KEY, run_id INTEGER, service TEXT NOT NULL,"
"  state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN ('pending','settled','unknown')),"
"  created_at INTEGER NOT NULL, settled_at INTEGER);"
"CREATE TABLE changes(id INTEGER PRIMARY KEY, run_id INTEGER, batch_id INTEGER REFERENCES batches(id),"
"  action TEXT NOT NULL, type TEXT NOT NULL, item_key TEXT, title TEXT, show TEXT,"
"  season INTEGER, episode INTEGER, year INTEGER, watched_at INTEGER, ids TEXT,"
"  result TEXT NOT NULL CHECK(result IN ('planned','pending','done','not_found','failed','unknown')),"
"  created_at INTEGER NOT NULL, settled_at INTEGER);"
"CREATE INDEX changes_run ON changes(run_id, id);"
"CREATE INDEX changes_item ON changes(action, item_key, watched_at);"
"CREATE INDEX changes_batch ON changes(batch_id);"
"CREATE TABLE id_map(plex_guid TEXT PRIMARY KEY, type TEXT NOT NULL, imdb TEXT, tmdb INTEGER,"
"  tvdb INTEGER, trakt INTEGER, updated_at INTEGER NOT NULL);"
"CREATE TABLE meta_cache(kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT,"
"  fetched_at INTEGER NOT NULL, PRIMARY KEY(kind, key));"
"CREATE TABLE trakt_history(pos INTEGER PRIMARY KEY, history_id INTEGER, watched_at INTEGER,"
"  type TEXT NOT NULL, title TEXT, show TEXT, season INTEGER, episode INTEGER, year INTEGER,"
"  ids TEXT NOT NULL DEFAULT '{}', poster TEXT);"
"CREATE TABLE plex_in_progress(pos INTEGER PRIMARY KEY, type TEXT NOT NULL, title TEXT,"
"  show TEXT, season INTEGER, episode INTEGER, year INTEGER, progress_percent REAL,"
"  last_viewed_at INTEGER, poster TEXT);"
"CREATE TABLE auth(service TEXT PRIMARY KEY CHECK(service IN ('plex','trakt')),"
"  state TEXT NOT NULL DEFAULT 'none'"
"    CHECK(state IN ('none','pending','authorized','expired','error')),"
"  code TEXT, url TEXT, flow_id TEXT, poll_interval INTEGER, flow_expires_at INTEGER,"
"  access_token TEXT, refresh_token TEXT, token_expires_at INTEGER, user TEXT, error TEXT,"
"  updated_at INTEGER NOT NULL DEFAULT 0);"
"INSERT INTO auth(service) VALUES('plex'),('trakt');"
"CREATE TABLE heartbeat(id INTEGER PRIMARY KEY CHECK(id = 1), pid INTEGER NOT NULL,"
"  started_at INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
"CREATE TABLE sessions(token_hash TEXT PRIMARY KEY, created_at INTEGER NOT NULL,"
"  expires_at INTEGER NOT NULL);"
"CREATE TABLE api_counters(service TEXT PRIMARY KEY, calls INTEGER NOT NULL DEFAULT 0,"
"  retries INTEGER NOT NULL DEFAULT 0, rate_limited INTEGER NOT NULL DEFAULT 0,"
"  errors INTEGER NOT NULL DEFAULT 0);",
/*
 * 2: undo and the duplicate cleaner. An undo is a run (trigger 'undo') with undo_of set; the
 * run it took back gets undone_by once it ended ok. Undone changes keep their result and get
 * undone_by, so the ledger no longer counts them (a separate column rather than a new result
 * value: the CHECK on changes.result would need the table rebuilt). history_id is the Trakt
 * play an undo removed. trakt_dupes holds the last duplicate scan, one row per group.
 */
"ALTER TABLE runs ADD COLUMN undo_of INTEGER;"
"ALTER TABLE runs ADD COLUMN undone_by INTEGER;"
"ALTER TABLE runs ADD COLUMN removed_from_trakt INTEGER NOT NULL DEFAULT 0;"
"CREATE INDEX runs_undo_of ON runs(undo_of);"
"ALTER TABLE changes ADD COLUMN undone_by INTEGER;"
"ALTER TABLE changes ADD COLUMN history_id INTEGER;"
"CREATE TABLE trakt_dupes(id INTEGER PRIMARY KEY, type TEXT NOT NULL, title TEXT, show TEXT,"
"  season INTEGER, episode INTEGER, year INTEGER, watched_at INTEGER NOT NULL,"
"  history_ids TEXT NOT NULL, keep INTEGER NOT NULL);",
/*
 * 3: ratings, watchlist and playback progress (worker/sync_*.c). changes.detail holds what a
 * change set, as JSON ({"rating": 8, "was": 6}); runs count each feature's writes. plex_seen
 * dates Plex values (worker/sync/plex_seen.h); watchlist_state holds the items the last sync left
 * on both watchlists (worker/sync/sync_watchlist.h).
 */
"ALTER TABLE changes ADD COLUMN detail TEXT;"
"ALTER TABLE runs ADD COLUMN ratings_changed INTEGER NOT NULL DEFAULT 0;"
"ALTER TABLE runs ADD COLUMN watchlist_changed INTEGER NOT NULL DEFAULT 0;"
"ALTER TABLE runs ADD COLUMN playback_changed INTEGER NOT NULL DEFAULT 0;"
"CREATE TABLE plex_seen(rating_key TEXT NOT NULL, kind TEXT NOT NULL"
"  CHECK(kind IN ('rating','offset')), value REAL NOT NULL, seen_at INTEGER NOT NULL DEFAULT 0,"
"  PRIMARY KEY(rating_key, kind));"
"CREATE TABLE watchlist_state(item_key TEXT PRIMARY KEY, synced_at INTEGER NOT NULL);",
/*
 * 4: login throttling for the whole service (cgi/throttle.h): one row per password attempt
 * of the last minute that failed or is still being checked.
 */
"CREATE TABLE login_attempts(id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL);",
/*
 * 5: sign-out races and retention. auth.gen counts sign-ins and sign-outs of a service: a job
 * remembers the generation it started with and writes the auth row only while it is unchanged
 * (worker/upstream/trakt_auth.c, worker/jobs/job_auth.c), so a sign-out always wins. The indexes serve the
 * retention deletes (worker/jobs/retention.c) and the webhook merge (cgi/h_webhooks.c).
 */
"ALTER TABLE auth ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;"
"CREATE INDEX log_run ON log(run_id);"
"CREATE INDEX jobs_run ON jobs(run_id);"
"CREATE INDEX jobs_kind_state ON jobs(kind, state);"
"CREATE INDEX batches_run ON batches(run_id);",
/*
 * 6: the external ids of Plex account watchlist entries (worker/sync/sync_watchlist.c), read
 * once from plex.tv's metadata service per plex:// id (ids of a title do not change), so a
 * re-sync does not ask again. NULL imdb, 0 tmdb/tvdb: the entry has no such id.
 */
"CREATE TABLE plex_disc_ids(plex_id TEXT PRIMARY KEY, imdb TEXT, tmdb INTEGER, tvdb INTEGER,"
"  fetched_at INTEGER NOT NULL);",
/*
 * 7: a run's warnings (worker/core/run.h): a JSON array of texts, such as a kind of data
 * Trakt refused for its account limit (420), or NULL when there were none.
 */
"ALTER TABLE runs ADD COLUMN warnings TEXT;",
/*
 * 8: live scrobbling (worker/jobs/scrobble.h). now_playing holds the Plex sessions the
 * scrobbler saw on its last poll, one row per session (GET /api/now-playing reads it), with
 * what it needs to end them: the item's ledger key and ids, the last Trakt call that took
 * (sent), the poll that last saw it. meta 'now_playing_at' is the time of the last poll.
 */
"CREATE TABLE now_playing(session_key TEXT PRIMARY KEY, rating_key TEXT NOT NULL,"
"  type TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', show TEXT, season INTEGER,"
"  episode INTEGER, year INTEGER, user TEXT, player TEXT, state TEXT NOT NULL"
"  CHECK(state IN ('playing','paused','buffering')), progress REAL NOT NULL DEFAULT 0,"
"  trakt TEXT NOT NULL CHECK(trakt IN ('watching','paused','scrobbled','unmatched','ignored')),"
"  seen_at INTEGER NOT NULL, user_id TEXT, duration_ms INTEGER NOT NULL DEFAULT 0,"
"  item_key TEXT, ids TEXT, by_episode_ids INTEGER NOT NULL DEFAULT 0,"
"  sent TEXT CHECK(sent IN ('start','pause')), poll INTEGER NOT NULL DEFAULT 0);"
/*
 * A play scrobbled live is a run of trigger 'scrobble': the CHECK on runs.trigger learns it.
 * A rebuild of runs would cascade into its children (progress, rate_samples) under
 * foreign_keys, so the table's text is edited in place (a CHECK is no part of the file
 * format; SQLite's ALTER TABLE page describes this); RESET re-reads the schema here, and the
 * table made and dropped moves the schema cookie so other connections re-read it too.
 */
"PRAGMA writable_schema = ON;"
"UPDATE sqlite_master SET sql = replace(sql, '''webhook'',''undo'')',"
"  '''webhook'',''undo'',''scrobble'')') WHERE type = 'table' AND name = 'runs';"
"PRAGMA writable_schema = RESET;"
"CREATE TABLE schema_step8_touch(x);"
"DROP TABLE schema_step8_touch;",
/*
 * 9 (installation): households. profiles pairs a Plex user of the server with the
 * per-person state of one SQLite file: profile 1 is the owner's and lives in this file (every
 * table as before, so an upgrade moves no row), profile N > 1 in profiles/pN.db under the
 * data folder (common/db.h, pts_db_open_profile). plex_users is plex.tv's list of the
 * server's people. A job and a now-playing session belong to a profile.
 */
"CREATE TABLE profiles(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
"  plex_user_id TEXT UNIQUE, created_at INTEGER NOT NULL);"
"INSERT INTO profiles(id, name, plex_user_id, created_at) VALUES(1, 'Owner', NULL,"
"  CAST(strftime('%s', 'now') AS INTEGER));"
"CREATE TABLE plex_users(id TEXT PRIMARY KEY, uuid TEXT, title TEXT NOT NULL, username TEXT,"
"  kind TEXT NOT NULL CHECK(kind IN ('owner','home','managed','shared')), server_token TEXT,"
"  fetched_at INTEGER NOT NULL);"
"ALTER TABLE jobs ADD COLUMN profile INTEGER NOT NULL DEFAULT 1;"
"CREATE INDEX jobs_profile ON jobs(profile, kind, state);"
"ALTER TABLE now_playing ADD COLUMN profile INTEGER;",
/*
 * 10 (installation): the Now playing card's poster and its "scrobbled" moment
 * (worker/jobs/scrobble.h, np_posters.h). poster: the same-origin path of the item's poster, NULL while unknown or
 * when there is none; poster_ids: what TMDb is asked by (JSON ids of the movie or show),
 * NULL when there is nothing to ask; poster_done: looked up (1) or still to look up (0).
 * shown_until: a session that ended with a play on Trakt stays listed as "scrobbled" until
 * then (NULL: a live session). id_map (step 1) is filled by the sync with the ids of its
 * shows that Plex names only by a plex:// guid, so the scrobbler finds an episode's show
 * without asking the server.
 */
"ALTER TABLE now_playing ADD COLUMN poster TEXT;"
"ALTER TABLE now_playing ADD COLUMN poster_ids TEXT;"
"ALTER TABLE now_playing ADD COLUMN poster_done INTEGER NOT NULL DEFAULT 0;"
"ALTER TABLE now_playing ADD COLUMN shown_until INTEGER;",
/*
 * 11 (installation): a Home or managed user's plex.tv account token (the authenticationToken
 * of switching to the user, worker/upstream/plexusers.h), which plex.tv's discover service
 * takes for the person's account watchlist; their server token does not do there. NULL for
 * the owner (their sign-in token is both), a friend, and a user with a PIN.
 */
"ALTER TABLE plex_users ADD COLUMN account_token TEXT;",
/*
 * 12 (per person): the person's plex.tv account token beside their server token in the
 * 'plex' auth row of a profile N > 1 (common/profauth.h); NULL on profile 1, whose
 * access_token is its plex.tv token, and for a person who has none.
 */
"ALTER TABLE auth ADD COLUMN account_token TEXT;"
};

/*
 * Where each table lives (households, schema step 9 on). The installation's file (pts.db,
 * also profile 1's) has every table. A profile file (profiles/pN.db) is born at the version
 * of the build that created it by running every step in a fresh file and then dropping the
 * installation tables below; it holds the per-person tables only: settings, meta, libraries,
 * runs, progress, rate_samples, log, batches, changes, id_map, meta_cache, trakt_history,
 * plex_in_progress, auth, trakt_dupes, plex_seen, watchlist_state, plex_disc_ids.
 */
#define PTS_SCHEMA_INSTALLATION_TABLES \
	"jobs", "heartbeat", "sessions", "login_attempts", "api_counters", "now_playing", \
	"profiles", "plex_users"

/*
 * What the steps from 9 on touch, in step order (pts_schema_scope[i] is step 9 + i): a
 * profile file, never older than step 9 since profiles are born there, applies only the
 * steps that touch per-person tables (PTS_SCOPE_PERSON) when it is opened by a newer build;
 * an installation-only step just moves its version on. A step must not touch both kinds:
 * split it into two steps. tests/unit/test_profiles.c checks that the list has one entry
 * per step from 9 on.
 */
enum pts_schema_scope {
	PTS_SCOPE_INSTALLATION,  /* jobs, heartbeat, sessions, ...: pts.db only */
	PTS_SCOPE_PERSON         /* per-person tables: pts.db and every profile file */
};

/* The first step whose scope is listed; profile files are born at this version. */
#define PTS_SCHEMA_PROFILE_BASE 9

static const enum pts_schema_scope pts_schema_scope[] = {
	PTS_SCOPE_INSTALLATION,  /* 9: profiles, plex_users, jobs.profile, now_playing.profile */
	PTS_SCOPE_INSTALLATION,  /* 10: now_playing's poster and shown_until */
	PTS_SCOPE_INSTALLATION,  /* 11: plex_users.account_token */
	PTS_SCOPE_PERSON         /* 12: auth.account_token */
};

#define PTS_SCHEMA_STEPS (sizeof(pts_schema_steps) / sizeof(pts_schema_steps[0]))
#define PTS_SCHEMA_SCOPES (sizeof(pts_schema_scope) / sizeof(pts_schema_scope[0]))

#endif
