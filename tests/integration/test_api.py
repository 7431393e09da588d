"""The HTTP API through the real stack: nginx + pts-cgi (FastCGI) + pts-worker.

One stack for the module (starting nginx per test would be slow); tests that change global
state (password, settings) restore it.
"""
import json
import os
import time
import unittest

from stack import Stack, wait_for

STACK = None
SECRET = "trakt-secret-NEVER-SHOWN-1234"
TMDB = "tmdb-key-NEVER-SHOWN-5678"


def setUpModule():
    global STACK
    STACK = Stack().start()


def tearDownModule():
    STACK.stop()
    STACK.cleanup()


def api(method, path, body=None, headers=None, raw=None):
    return STACK.api(method, path, body, headers, raw)


class ApiCase(unittest.TestCase):
    def assertError(self, got, status, code=None):
        st, body, hdrs = got
        self.assertEqual(st, status, body)
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"), hdrs)
        self.assertIsInstance(body, dict, "error body must be JSON")
        self.assertIn("error", body)
        self.assertIsInstance(body["error"].get("message"), str)
        if code:
            self.assertEqual(body["error"].get("code"), code)
        return body["error"]

    def settings_rows(self):
        return {r["key"]: r["value"] for r in STACK.query("SELECT key, value FROM settings")}

    def wait_idle(self):
        wait_for(lambda: api("GET", "/api/status")[1]["sync"]["state"] == "idle", timeout=20,
                 what="sync idle")


class TestHealthStatus(ApiCase):
    def test_health(self):
        st, body, hdrs = api("GET", "/api/health")
        self.assertEqual(st, 200)
        self.assertIs(body["ok"], True)
        self.assertEqual(body["db"], "ok")
        self.assertIs(body["worker"]["alive"], True)
        self.assertTrue(body["worker"]["last_seen"].endswith("Z"))
        self.assertIn("no-store", hdrs.get("cache-control", ""))

    def test_security_headers(self):
        st, hdrs, _ = STACK.request("GET", "/")
        self.assertEqual(st, 200)
        self.assertIn("default-src 'self'", hdrs.get("content-security-policy", ""))
        self.assertEqual(hdrs.get("x-content-type-options"), "nosniff")
        self.assertEqual(hdrs.get("x-frame-options"), "DENY")
        self.assertEqual(hdrs.get("referrer-policy"), "no-referrer")
        st, hdrs, _ = STACK.request("GET", "/api/health")
        self.assertIn("default-src 'self'", hdrs.get("content-security-policy", ""))

    def test_status_shape(self):
        st, body, _ = api("GET", "/api/status")
        self.assertEqual(st, 200)
        self.assertIn(body["sync"]["state"], ("idle", "queued", "running", "stopping"))
        self.assertIn("run_id", body["sync"])
        self.assertIsInstance(body["schedule"]["interval_hours"], int)
        self.assertIn("next_run_at", body["schedule"])
        self.assertIs(body["auth"]["plex"]["authorized"], False)
        self.assertIs(body["auth"]["trakt"]["authorized"], False)
        self.assertIn("expires_at", body["auth"]["trakt"])
        self.assertIsInstance(body["version"], str)

    def test_schedule_shows_next_run(self):
        st, body, _ = api("GET", "/api/status")
        nxt = wait_for(lambda: api("GET", "/api/status")[1]["schedule"]["next_run_at"],
                       what="next_run_at")
        self.assertTrue(nxt.endswith("Z"))


class TestEdge(ApiCase):
    def test_unknown_route_404(self):
        self.assertError(api("GET", "/api/nope"), 404)
        self.assertError(api("GET", "/api/runs/1/nope"), 404)

    def test_wrong_method_405(self):
        self.assertError(api("DELETE", "/api/health"), 405)
        self.assertError(api("POST", "/api/settings", {}), 405)

    def test_missing_csrf_header_403(self):
        before = self.settings_rows()
        got = api("PUT", "/api/settings", {"sync_interval_hours": 3},
                  headers={"X-Requested-With": None})
        self.assertError(got, 403)
        self.assertEqual(self.settings_rows(), before)

    def test_foreign_origin_403(self):
        before = self.settings_rows()
        got = api("PUT", "/api/settings", {"sync_interval_hours": 3},
                  headers={"Origin": "http://evil.example"})
        self.assertError(got, 403)
        self.assertEqual(self.settings_rows(), before)

    def test_same_origin_allowed(self):
        got = api("PUT", "/api/settings", {"sync_interval_hours": 6},
                  headers={"Origin": "http://127.0.0.1:%d" % STACK.port})
        self.assertEqual(got[0], 200, got[1])

    def test_wrong_content_type_415(self):
        got = api("PUT", "/api/settings", raw=b'{"sync_interval_hours": 3}',
                  headers={"Content-Type": "text/plain"})
        self.assertError(got, 415)
        self.assertNotEqual(self.settings_rows().get("sync_interval_hours"), "3")

    def test_oversized_body_413(self):
        big = json.dumps({"plex_url": "http://x/" + "a" * 70000}).encode()
        got = api("PUT", "/api/settings", raw=big, headers={"Content-Type": "application/json"})
        self.assertError(got, 413)
        self.assertNotIn("plex_url", self.settings_rows())

    def test_malformed_json_400(self):
        for raw in (b'{"sync_interval_hours": ', b"[1,2", b'{"a":1} trailing', b"\xff\xfe"):
            got = api("PUT", "/api/settings", raw=raw,
                      headers={"Content-Type": "application/json"})
            self.assertError(got, 400)
        self.assertNotEqual(self.settings_rows().get("sync_interval_hours"), "3")

    def test_errors_are_json_not_html(self):
        for method, path in (("GET", "/api/"), ("GET", "/api/runs/abc/changes"),
                             ("GET", "/api/log?limit=%ff")):
            st, body, hdrs = api(method, path)
            self.assertGreaterEqual(st, 400)
            self.assertIsInstance(body, dict, (path, st))


class TestSettings(ApiCase):
    def test_get_defaults_and_masking(self):
        st, body, _ = api("GET", "/api/settings")
        self.assertEqual(st, 200)
        for key in ("plex_url", "trakt_client_id", "trakt_client_secret", "tmdb_api_key",
                    "sync_direction", "sync_interval_hours", "sync_watched", "sync_ratings",
                    "sync_watchlist", "sync_playback", "dry_run", "dashboard_password"):
            self.assertIn(key, body)
        self.assertEqual(body["sync_direction"], "plex_to_trakt")
        self.assertIs(body["sync_watched"], True)
        self.assertIs(body["sync_ratings"], False)
        self.assertEqual(body["watchlist_plex_side"], "account")
        self.assertEqual(body["trakt_client_secret"], {"set": False})

    def test_put_valid_partial(self):
        st, body, _ = api("PUT", "/api/settings", {"plex_url": "http://127.0.0.1:32400",
                                                   "sync_direction": "both"})
        self.assertEqual(st, 200, body)
        st, body, _ = api("GET", "/api/settings")
        self.assertEqual(body["plex_url"], "http://127.0.0.1:32400")
        self.assertEqual(body["sync_direction"], "both")
        self.assertEqual(body["sync_interval_hours"], 6)
        api("PUT", "/api/settings", {"sync_direction": "plex_to_trakt"})

    def test_put_bad_fields_all_or_nothing(self):
        before = self.settings_rows()
        st, body, _ = api("PUT", "/api/settings", {
            "sync_interval_hours": 200, "sync_direction": "sideways", "dry_run": "yes",
            "plex_url": "ftp://x", "bogus_key": 1, "trakt_client_id": "ok-id"})
        err = self.assertError((st, body, {"content-type": "application/json"}), 400)
        for key in ("sync_interval_hours", "sync_direction", "dry_run", "plex_url", "bogus_key"):
            self.assertIn(key, err["fields"], err)
        self.assertNotIn("trakt_client_id", err["fields"])
        self.assertEqual(self.settings_rows(), before, "nothing saved when anything is bad")

    def test_wrong_types(self):
        for bad in ({"sync_interval_hours": "6"}, {"sync_interval_hours": 1.5},
                    {"sync_watched": 1}, {"plex_url": None}, {"trakt_client_id": ""},
                    {"trakt_client_id": "x" * 129}, {"sync_interval_hours": -1}):
            st, body, _ = api("PUT", "/api/settings", bad)
            self.assertEqual(st, 400, bad)
            self.assertIn(list(bad)[0], body["error"]["fields"])
        st, body, _ = api("PUT", "/api/settings", [1, 2])
        self.assertEqual(st, 400)

    def test_secrets_never_leave_the_api(self):
        st, body, _ = api("PUT", "/api/settings", {"trakt_client_secret": SECRET,
                                                   "tmdb_api_key": TMDB})
        self.assertEqual(st, 200)
        self.assertNotIn(SECRET, json.dumps(body))
        st, body, _ = api("GET", "/api/settings")
        self.assertEqual(body["trakt_client_secret"], {"set": True})
        self.assertEqual(body["tmdb_api_key"], {"set": True})
        # Echoing the mask back keeps the secret.
        st, _, _ = api("PUT", "/api/settings", {"trakt_client_secret": {"set": True}})
        self.assertEqual(st, 200)
        self.assertEqual(self.settings_rows()["trakt_client_secret"], SECRET)
        for path in ("/api/settings", "/api/status", "/api/health", "/api/log?limit=1000",
                     "/api/runs", "/api/progress", "/api/auth/trakt", "/api/auth/plex",
                     "/api/metrics"):
            st, _, raw = STACK.request("GET", path)
            self.assertNotIn(SECRET.encode(), raw, path)
            self.assertNotIn(TMDB.encode(), raw, path)
        for row in STACK.query("SELECT message FROM log"):
            self.assertNotIn(SECRET, row["message"])
            self.assertNotIn(TMDB, row["message"])

    def test_interval_takes_effect(self):
        st, _, _ = api("PUT", "/api/settings", {"sync_interval_hours": 1})
        self.assertEqual(st, 200)

        def next_run():
            nxt = api("GET", "/api/status")[1]["schedule"]
            return nxt if nxt["interval_hours"] == 1 and nxt["next_run_at"] else None
        nxt = wait_for(next_run, what="interval 1")
        t = time.mktime(time.strptime(nxt["next_run_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        self.assertLessEqual(t, time.time() + 3600 + 5)
        api("PUT", "/api/settings", {"sync_interval_hours": 0})
        wait_for(lambda: api("GET", "/api/status")[1]["schedule"]["next_run_at"] is None,
                 what="schedule off")
        api("PUT", "/api/settings", {"sync_interval_hours": 6})


class TestSync(ApiCase):
    def test_sync_lifecycle(self):
        self.wait_idle()
        st, body, _ = api("POST", "/api/sync")
        self.assertEqual(st, 202, body)
        run_id = body["run_id"]
        self.assertIsInstance(run_id, int)
        wait_for(lambda: api("GET", "/api/runs")[1]["runs"][0]["status"] in ("ok", "failed"),
                 timeout=20, what="run finished")
        runs = api("GET", "/api/runs")[1]["runs"]
        self.assertEqual(runs[0]["id"], run_id)
        for key in ("started_at", "finished_at", "duration_s", "trigger", "status",
                    "items_scanned", "items_total", "added_to_trakt", "added_to_plex",
                    "not_found", "errors", "dry_run"):
            self.assertIn(key, runs[0])
        self.assertEqual(runs[0]["trigger"], "manual")
        st, body, _ = api("GET", "/api/runs/%d/changes" % run_id)
        self.assertEqual(st, 200)
        self.assertIsInstance(body["changes"], list)
        st, body, _ = api("GET", "/api/log?after=0&limit=1000")
        self.assertTrue(any(e["run_id"] == run_id for e in body["entries"]))
        st, body, _ = api("GET", "/api/progress")
        self.assertEqual(st, 200)
        if body["state"] == "idle":
            self.assertEqual(body["last_run"]["id"], run_id)

    def test_second_sync_conflicts(self):
        self.wait_idle()
        conn = STACK.db()
        # Hold the queue: a sync job the worker cannot start yet (lane busy is not
        # observable), so insert one directly as 'running' by a phantom worker.
        conn.execute("INSERT INTO jobs(kind, args, state, created_at) VALUES('sync', '{}',"
                     " 'running', 0)")
        conn.commit()
        try:
            got = api("POST", "/api/sync")
            err = self.assertError(got, 409, "conflict")
            # The run in the way is named in "error" and at the top level (0: the phantom
            # job has none), and a sync conflict has no reason.
            self.assertEqual(err["run_id"], got[1]["run_id"])
            self.assertNotIn("reason", err)
            st, body, _ = api("GET", "/api/status")
            self.assertEqual(body["sync"]["state"], "running")
            st, body, _ = api("POST", "/api/sync/stop")
            self.assertEqual(st, 202)
            self.assertEqual(api("GET", "/api/status")[1]["sync"]["state"], "stopping")
        finally:
            conn.execute("DELETE FROM jobs WHERE created_at = 0 AND kind = 'sync'")
            conn.commit()
            conn.close()

    def test_stop_when_idle_409(self):
        self.wait_idle()
        err = self.assertError(api("POST", "/api/sync/stop"), 409, "conflict")
        self.assertEqual(set(err), {"code", "message"})

    def test_sync_bad_body(self):
        self.wait_idle()
        self.assertError(api("POST", "/api/sync", {"dry_run": "yes"}), 400)
        self.assertError(api("POST", "/api/sync", {"bogus": True}), 400)
        self.assertEqual(api("GET", "/api/status")[1]["sync"]["state"], "idle")

    def test_dry_run_flag_recorded(self):
        self.wait_idle()
        st, body, _ = api("POST", "/api/sync", {"dry_run": True})
        self.assertEqual(st, 202)
        run_id = body["run_id"]
        wait_for(lambda: api("GET", "/api/runs")[1]["runs"][0]["status"] != "running",
                 timeout=20, what="dry run done")
        run = [r for r in api("GET", "/api/runs")[1]["runs"] if r["id"] == run_id][0]
        self.assertIs(run["dry_run"], True)


class TestReads(ApiCase):
    def test_log_after_and_limit(self):
        st, body, _ = api("GET", "/api/log?limit=5")
        self.assertEqual(st, 200)
        self.assertLessEqual(len(body["entries"]), 5)
        last = body["last_id"]
        st, body, _ = api("GET", "/api/log?after=%d&limit=1000" % last)
        self.assertTrue(all(e["id"] > last for e in body["entries"]))
        for e in body["entries"]:
            self.assertTrue(e["ts"].endswith("Z"))
            self.assertIn(e["level"], ("debug", "info", "warn", "error"))
        for bad in ("limit=0", "limit=1001", "limit=abc", "after=-1", "after=1x"):
            self.assertError(api("GET", "/api/log?" + bad), 400)

    def test_runs_limit(self):
        self.assertEqual(api("GET", "/api/runs?limit=1")[0], 200)
        self.assertError(api("GET", "/api/runs?limit=0"), 400)
        self.assertError(api("GET", "/api/runs?limit=x"), 400)

    def test_changes_unknown_run_404(self):
        self.assertError(api("GET", "/api/runs/999999/changes"), 404)

    def test_libraries(self):
        st, body, _ = api("GET", "/api/libraries")
        self.assertEqual(st, 200)
        self.assertEqual(body["libraries"], [])
        self.assertIn("fetched_at", body)
        conn = STACK.db()
        conn.execute("INSERT INTO libraries(key, title, type, count) VALUES('1', 'Movies',"
                     " 'movie', 10), ('2', 'TV', 'show', 50)")
        conn.commit()
        conn.close()
        st, body, _ = api("PUT", "/api/libraries", {"selected": ["2"]})
        self.assertEqual(st, 200, body)
        libs = {l["key"]: l for l in api("GET", "/api/libraries")[1]["libraries"]}
        self.assertIs(libs["2"]["selected"], True)
        self.assertIs(libs["1"]["selected"], False)
        self.assertEqual(libs["1"]["count"], 10)
        self.assertError(api("PUT", "/api/libraries", {"selected": ["2", "nope"]}), 400)
        self.assertError(api("PUT", "/api/libraries", {"selected": "2"}), 400)
        libs = {l["key"]: l for l in api("GET", "/api/libraries")[1]["libraries"]}
        self.assertIs(libs["2"]["selected"], True, "a bad PUT changes nothing")

    def test_network_endpoints_queue_jobs(self):
        for path, kind in (("/api/libraries/refresh", "libraries_refresh"),
                           ("/api/trakt/history/refresh", "trakt_history_refresh")):
            st, body, _ = api("POST", path)
            self.assertEqual(st, 202, path)
            # The answer names the queued job (or the one already queued or running).
            self.assertEqual(set(body), {"job_id"}, body)
            self.assertEqual(STACK.query("SELECT kind FROM jobs WHERE id = ?", body["job_id"]),
                             [{"kind": kind}])
        st, body, _ = api("GET", "/api/trakt/history")
        self.assertEqual(st, 200)
        self.assertIsInstance(body["items"], list)
        st, body, _ = api("GET", "/api/plex/in-progress")
        self.assertEqual(st, 200)
        self.assertIsInstance(body["items"], list)

    def test_auth_endpoints(self):
        st, body, _ = api("GET", "/api/auth/plex")
        self.assertEqual(st, 200)
        self.assertIn(body["state"], ("none", "pending", "authorized", "expired", "error"))
        st, body, _ = api("GET", "/api/auth/trakt")
        self.assertEqual(st, 200)
        for key in ("state", "user_code", "verification_url", "expires_at", "user"):
            self.assertIn(key, body)
        st, body, _ = api("POST", "/api/auth/plex")
        self.assertEqual(st, 202)
        self.assertEqual(api("DELETE", "/api/auth/plex")[0], 200)
        self.assertEqual(api("GET", "/api/auth/plex")[1]["state"], "none")

    def test_metrics(self):
        st, hdrs, raw = STACK.request("GET", "/api/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/plain"))
        self.assertIn(b"pts_runs_total", raw)


class TestLogin(ApiCase):
    def test_password_flow(self):
        st, _, _ = api("PUT", "/api/settings", {"dashboard_password": "correct horse"})
        self.assertEqual(st, 200)
        try:
            self.assertError(api("GET", "/api/status"), 401)
            self.assertEqual(api("GET", "/api/health")[0], 200)
            self.assertError(api("POST", "/api/login", {"password": "wrong"}), 401)
            st, hdrs, raw = STACK.request("POST", "/api/login", {"password": "correct horse"})
            self.assertEqual(st, 200, raw)
            cookie = hdrs["set-cookie"]
            self.assertIn("HttpOnly", cookie)
            self.assertIn("SameSite=Strict", cookie)
            jar = {"Cookie": cookie.split(";")[0]}
            self.assertEqual(api("GET", "/api/status", headers=jar)[0], 200)
            self.assertEqual(api("POST", "/api/logout", headers=jar)[0], 200)
            self.assertError(api("GET", "/api/status", headers=jar), 401)
            st, hdrs, raw = STACK.request("POST", "/api/login", {"password": "correct horse"})
            jar = {"Cookie": hdrs["set-cookie"].split(";")[0]}
            st, _, _ = api("PUT", "/api/settings", {"dashboard_password": "",
                                                    "current_password": "correct horse"},
                           headers=jar)
            self.assertEqual(st, 200)
        finally:
            STACK.db().execute("DELETE FROM settings WHERE key = 'dashboard_password'").connection.commit()
        self.assertEqual(api("GET", "/api/status")[0], 200)


if __name__ == "__main__":
    unittest.main()
