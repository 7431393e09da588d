"""pts-worker --cron against the fakes: shared hosting without a daemon.

Each --cron pass does what is due and exits: queued jobs, the scheduled sync, and a bounded
slice of a sign-in flow that continues at the next pass (the flow's code lives in the auth
row). The data folder comes from tests/lib/syncenv.py; the worker runs as cron would run it.
"""
import os
import subprocess
import time
import unittest

from fakes import Fakes
from syncenv import WORKER, SyncEnv

FAKES = None
# A sign-in flow polls this long per pass here (the default is 15 s; cron runs every minute).
AUTH_WAIT_MS = 2500
# A pass with nothing due must be over about as fast as the program starts (sanitizer build).
IDLE_PASS_MAX_S = 3.0


def setUpModule():
    global FAKES
    FAKES = Fakes().start()


def tearDownModule():
    if FAKES is not None:
        FAKES.stop()


class CronCase(unittest.TestCase):
    authorize = True

    def setUp(self):
        FAKES.reset()
        FAKES.post("trakt", "/_control/state", {"device_interval": 1})
        self.env = SyncEnv(FAKES, settings={"sync_interval_hours": 0},
                           env={"PTS_CRON_AUTH_WAIT_MS": str(AUTH_WAIT_MS)},
                           authorize=self.authorize)

    def tearDown(self):
        self.env.close()

    def cron(self, timeout=300):
        t0 = time.monotonic()
        r = subprocess.run([WORKER, "--cron"], env=self.env.env, capture_output=True, text=True,
                           timeout=timeout)
        r.took = time.monotonic() - t0
        return r

    def one(self, sql, *params):
        rows = self.env.rows(sql, *params)
        return list(rows[0].values())[0] if rows else None


class TestCronSync(CronCase):
    def test_queued_sync_is_done_by_one_pass(self):
        before = len(FAKES.history())
        run = self.env.queue_sync()
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        row = self.env.run_row(run)
        self.assertEqual(row["status"], "ok", r.stderr)
        self.assertGreater(row["added_to_trakt"], 0)
        self.assertEqual(len(FAKES.history()), before + row["added_to_trakt"])
        self.assertEqual(self.one("SELECT state FROM jobs WHERE run_id = ?", run), "done")
        # Done is done: the next pass finds nothing and writes nothing upstream.
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.one("SELECT COUNT(*) FROM runs"), 1)
        self.assertEqual(len(FAKES.history()), before + row["added_to_trakt"])

    def test_due_schedule_runs_the_sync(self):
        self.env.set("sync_interval_hours", 2)
        now = int(time.time())
        self.env.exec("INSERT OR REPLACE INTO meta(key, value) VALUES('next_run_at', ?)",
                      str(now - 5))
        self.env.exec("INSERT OR REPLACE INTO meta(key, value) VALUES('next_run_interval', '2')")
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        runs = self.env.rows("SELECT * FROM runs")
        self.assertEqual(len(runs), 1)
        self.assertEqual(runs[0]["trigger"], "schedule")
        self.assertEqual(runs[0]["status"], "ok")
        self.assertGreater(runs[0]["added_to_trakt"], 0)
        nxt = int(self.one("SELECT value FROM meta WHERE key = 'next_run_at'"))
        self.assertAlmostEqual(nxt, now + 2 * 3600, delta=60)

    def test_schedule_not_due_does_nothing_fast(self):
        self.env.set("sync_interval_hours", 2)
        due = int(time.time()) + 3600
        self.env.exec("INSERT OR REPLACE INTO meta(key, value) VALUES('next_run_at', ?)", str(due))
        self.env.exec("INSERT OR REPLACE INTO meta(key, value) VALUES('next_run_interval', '2')")
        FAKES.post("trakt", "/_control/calls/reset")
        FAKES.post("plex", "/_control/calls/reset")
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLess(r.took, IDLE_PASS_MAX_S)
        self.assertEqual(r.stdout + r.stderr, "", "a pass with nothing to do prints nothing")
        self.assertEqual(self.one("SELECT COUNT(*) FROM runs"), 0)
        self.assertEqual(int(self.one("SELECT value FROM meta WHERE key = 'next_run_at'")), due)
        self.assertEqual(FAKES.calls("trakt")["total"], 0)
        # The live scrobbler's one look at who is playing (scrobble_live is on by default).
        self.assertEqual(FAKES.calls("plex")["total"], 1)
        self.env.set("scrobble_live", 0)
        FAKES.post("plex", "/_control/calls/reset")
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(FAKES.calls("plex")["total"], 0)

    def test_each_pass_looks_once_at_who_is_playing(self):
        """--cron: the live scrobbler looks once per pass and ends what is gone."""
        dk = 6_000_000
        FAKES.post("plex", "/_control/sessions", {"sessions": [
            {"sessionKey": "1", "ratingKey": "102", "state": "playing", "user_id": "1",
             "viewOffset": dk // 10, "duration": dk}]})
        before = len(FAKES.history())
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        calls = FAKES.get("trakt", "/_control/scrobble_calls")["calls"]
        self.assertEqual([c["action"] for c in calls], ["start"])
        FAKES.post("plex", "/_control/sessions", {"sessions": [
            {"sessionKey": "1", "ratingKey": "102", "state": "playing", "user_id": "1",
             "viewOffset": dk * 93 // 100, "duration": dk}]})
        self.assertEqual(self.cron().returncode, 0)
        FAKES.post("plex", "/_control/sessions", {"sessions": []})
        self.assertEqual(self.cron().returncode, 0)
        calls = FAKES.get("trakt", "/_control/scrobble_calls")["calls"]
        self.assertEqual([c["action"] for c in calls], ["start", "stop"])
        self.assertEqual(len(FAKES.history()), before + 1)
        self.assertEqual(self.one("SELECT COUNT(*) FROM runs WHERE trigger = 'scrobble'"
                                  " AND status = 'ok' AND added_to_trakt = 1"), 1)

    def test_first_pass_only_sets_the_clock(self):
        self.env.set("sync_interval_hours", 3)
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.one("SELECT COUNT(*) FROM runs"), 0)
        nxt = int(self.one("SELECT value FROM meta WHERE key = 'next_run_at'"))
        self.assertAlmostEqual(nxt, time.time() + 3 * 3600, delta=60)

    def test_daemon_holds_the_lock_cron_exits_quietly(self):
        daemon = self.env.start_daemon()
        deadline = time.monotonic() + 20
        while self.one("SELECT COUNT(*) FROM heartbeat") != 1:
            self.assertIsNone(daemon.poll(), "daemon exited")
            self.assertLess(time.monotonic(), deadline, "daemon heartbeat")
            time.sleep(0.05)
        r = self.cron()
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout + r.stderr, "")
        self.assertLess(r.took, IDLE_PASS_MAX_S)
        self.env.stop_daemon()


class TestCronSignIn(CronCase):
    authorize = False

    def queue_auth(self, service):
        """What POST /api/auth/<service> does: a job, and the auth row pending without a flow."""
        self.env.exec("INSERT INTO jobs(kind, args, created_at) VALUES(?, '{}', ?)",
                      "auth_" + service, int(time.time()))
        self.env.exec("UPDATE auth SET state = 'pending', code = NULL, url = NULL, flow_id = NULL,"
                      " flow_expires_at = NULL, error = NULL WHERE service = ?", service)

    def auth(self, service):
        return self.env.rows("SELECT * FROM auth WHERE service = ?", service)[0]

    def devices(self):
        return FAKES.get("trakt", "/_control/device")["device_codes"]

    def test_trakt_device_flow_across_passes(self):
        self.queue_auth("trakt")
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        # A bounded slice: the pass left the flow waiting, its code shown, the job queued.
        self.assertLess(r.took, AUTH_WAIT_MS / 1000 + 5)
        a = self.auth("trakt")
        self.assertEqual(a["state"], "pending")
        code = a["code"]
        self.assertTrue(code)
        self.assertTrue(a["url"].endswith("/activate"), a["url"])
        self.assertEqual(self.one("SELECT state FROM jobs WHERE kind = 'auth_trakt'"), "queued")
        self.assertEqual(len(self.devices()), 1)
        polls = self.devices()[0]["polls"]
        self.assertGreaterEqual(polls, 1)

        # The next pass polls the same code on; no new code is asked for.
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.auth("trakt")["code"], code)
        self.assertEqual(self.auth("trakt")["state"], "pending")
        self.assertEqual(len(self.devices()), 1)
        self.assertGreater(self.devices()[0]["polls"], polls)
        self.assertEqual(self.one("SELECT state FROM jobs WHERE kind = 'auth_trakt'"), "queued")
        self.assertEqual(self.one("SELECT attempts FROM jobs WHERE kind = 'auth_trakt'"), 0,
                         "a pause is not an attempt")

        # The person approves between passes: the next pass finishes the sign-in.
        FAKES.post("trakt", "/_control/device/approve", {"user_code": code})
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        a = self.auth("trakt")
        self.assertEqual(a["state"], "authorized")
        self.assertEqual(a["user"], "traktuser")
        self.assertIsNone(a["code"])
        self.assertTrue(a["access_token"])
        self.assertEqual(self.one("SELECT state FROM jobs WHERE kind = 'auth_trakt'"), "done")
        self.assertEqual(len(self.devices()), 1)

    def test_plex_pin_across_passes(self):
        self.queue_auth("plex")
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        a = self.auth("plex")
        self.assertEqual(a["state"], "pending")
        pins = FAKES.get("plextv", "/_control/pins")["pins"]
        self.assertEqual(len(pins), 1)
        self.assertEqual(pins[0]["code"], a["code"])
        FAKES.post("plextv", "/_control/pins/%d/link" % pins[0]["id"])
        r = self.cron()
        self.assertEqual(r.returncode, 0, r.stderr)
        a = self.auth("plex")
        self.assertEqual(a["state"], "authorized")
        self.assertEqual(a["user"], "plexuser")
        self.assertEqual(len(FAKES.get("plextv", "/_control/pins")["pins"]), 1)
        self.assertEqual(self.one("SELECT state FROM jobs WHERE kind = 'auth_plex'"), "done")

    def test_new_sign_in_from_the_dashboard_drops_the_old_code(self):
        self.queue_auth("trakt")
        self.assertEqual(self.cron().returncode, 0)
        old = self.auth("trakt")["code"]
        # The dashboard starts again: older flows are cancelled and the row loses its flow.
        self.env.exec("UPDATE jobs SET cancel = 1 WHERE kind = 'auth_trakt'")
        self.queue_auth("trakt")
        self.assertEqual(self.cron().returncode, 0)
        a = self.auth("trakt")
        self.assertEqual(a["state"], "pending")
        self.assertNotEqual(a["code"], old)
        states = [r["state"] for r in self.env.rows(
            "SELECT state FROM jobs WHERE kind = 'auth_trakt' ORDER BY id")]
        self.assertEqual(states, ["cancelled", "queued"])


if __name__ == "__main__":
    unittest.main()
