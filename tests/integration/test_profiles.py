"""Households (profiles) through the real stack: each profile's own file, Trakt account,
settings, libraries, runs and log; ?profile= on the per-person routes; create and delete; and
the upgrade of a database of schema version 8 (before profiles) with every row kept as the
owner's.

The fake Trakt serves two accounts told apart by the access token (tests/fakes/README.md,
"Accounts"): the corpus's one (profile 1) and "kid" (profile 2). plex.tv's list of the server's
users is not fetched here: the test writes the plex_users row, and profile 2's Plex token into
its file's auth row, as the worker's fetch does.
"""
import os
import re
import sqlite3
import subprocess
import tempfile
import time
import unittest

from fakes import Fakes, play_key
from stack import TOP, Stack, wait_for
from syncenv import WORKER, SyncEnv

FAKES = None
# How long a sync or a job of the default corpus may take here (sanitizer build, 2 cores).
SYNC_TIMEOUT = 120
# The corpus numbers (tests/fakes/README.md): a Plex->Trakt sync of every library adds 17.
ADDED = 17
KID_USER = "22"
KID_PLEX_TOKEN = "kid-server-token"


def setUpModule():
    global FAKES
    FAKES = Fakes().start()


def tearDownModule():
    FAKES.stop()


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def history(account=""):
    return FAKES.get("trakt", "/_control/history?account=" + account)["history"]


def plays(account=""):
    return sorted(play_key(p) for p in history(account))


class ProfileFile:
    """Writes into a profile's file as the worker does (root here: the file stays its owner's)."""

    def __init__(self, data, pid):
        self.path = os.path.join(data, "profiles", "p%d.db" % pid)

    def _mine(self, st):
        """SQLite may have made the -wal/-shm files as root: give them back."""
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.chown(self.path + suffix, st.st_uid, st.st_gid)

    def exec(self, sql, *params):
        st = os.stat(self.path)
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()
            self._mine(st)

    def rows(self, sql, *params):
        st = os.stat(self.path)
        conn = sqlite3.connect(self.path, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()
            self._mine(st)


class TestProfiles(unittest.TestCase):
    """One stack for the whole story: the steps depend on each other, in name order."""

    @classmethod
    def setUpClass(cls):
        FAKES.reset()
        cls.stack = Stack(env=FAKES.env()).start()
        body = dict(FAKES.settings())
        body["sync_interval_hours"] = 0
        st, got, _ = cls.stack.api("PUT", "/api/settings", body)
        if st != 200:
            cls.tearDownClass()
            raise RuntimeError("PUT /api/settings: %d %r" % (st, got))
        # Profile 1 (the owner): signed in to Plex and to the corpus's Trakt account.
        tok = FAKES.post("trakt", "/_control/token", {})
        cls.owner_token = tok["access_token"]
        conn = cls.stack.db()
        conn.execute("UPDATE auth SET state = 'authorized', access_token = ?, refresh_token = ?,"
                     " token_expires_at = ?, user = 'traktuser' WHERE service = 'trakt'",
                     (tok["access_token"], tok["refresh_token"],
                      tok["created_at"] + tok["expires_in"]))
        conn.execute("UPDATE auth SET state = 'authorized', access_token = 'plex-token-1',"
                     " user = 'plexuser' WHERE service = 'plex'")
        # plex.tv's list of the server's people, as the worker's fetch leaves it.
        now = int(time.time())
        conn.executemany("INSERT INTO plex_users(id, uuid, title, username, kind, server_token,"
                         " fetched_at) VALUES(?, ?, ?, ?, ?, ?, ?)",
                         [("1", "u1", "plexuser", "plexuser", "owner", None, now),
                          (KID_USER, "u22", "Kid", None, "home", KID_PLEX_TOKEN, now),
                          ("33", "u33", "Gran", None, "managed", "gran-token", now)])
        conn.commit()
        conn.close()
        # The fake PMS accepts the kid's server token.
        FAKES.post("plextv", "/_control/state", {"tokens": [KID_PLEX_TOKEN]})
        # The fake plex.tv lists the same people (creating a profile queues the worker's fetch
        # of them, which rewrites plex_users and the profiles' Plex tokens), and the fake PMS,
        # which answers each person's token with their own views, shows the kid the owner's.
        FAKES.post("plextv", "/_control/state", {"household": [
            {"id": "1", "title": "plexuser", "username": "plexuser", "kind": "owner"},
            {"id": KID_USER, "title": "Kid", "kind": "home", "server_token": KID_PLEX_TOKEN,
             "shared": True},
            {"id": "33", "title": "Gran", "kind": "managed", "server_token": "gran-token",
             "shared": True}]})
        personal = ("viewCount", "lastViewedAt", "viewOffset", "userRating", "lastRatedAt")
        FAKES.post("plex", "/_control/state", {"user_views": {KID_USER: {
            it["ratingKey"]: {f: it[f] for f in personal if f in it}
            for it in FAKES.get("plex", "/_control/state")["items"]}}})

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()

    def api(self, method, path, body=None, raw=None, headers=None):
        return self.stack.api(method, path, body, headers=headers, raw=raw)

    def get(self, path):
        st, body, _ = self.api("GET", path)
        self.assertEqual(st, 200, body)
        return body

    def job_done(self, job_id):
        def done():
            rows = self.stack.query("SELECT state, error FROM jobs WHERE id = ?", job_id)
            return rows and rows[0]["state"] not in ("queued", "running") and rows[0]
        return wait_for(done, timeout=SYNC_TIMEOUT, step=0.1, what="job %d" % job_id)

    def sync(self, profile=None):
        q = "" if profile is None else "?profile=%d" % profile
        st, body, _ = self.api("POST", "/api/sync" + q)
        self.assertEqual(st, 202, body)
        run_id = body["run_id"]

        def ended():
            runs = self.get("/api/runs" + q)["runs"]
            run = next(r for r in runs if r["id"] == run_id)
            return run if run["status"] != "running" else None
        return wait_for(ended, timeout=SYNC_TIMEOUT, step=0.2, what="run %d%s" % (run_id, q))

    # ---- create ----
    def test_a_create_validates(self):
        for body, field in (({"name": "", "plex_user_id": KID_USER}, "name"),
                            ({"name": "x" * 65, "plex_user_id": KID_USER}, "name"),
                            ({"name": "a\u0001b", "plex_user_id": KID_USER}, "name"),
                            ({"name": "Kid", "plex_user_id": "999"}, "plex_user_id"),
                            ({"name": "Kid", "plex_user_id": 999}, "plex_user_id"),
                            ({"name": "Kid", "plex_user_id": True}, "plex_user_id"),
                            ({"name": "Kid", "plex_user_id": "1"}, "plex_user_id"),
                            ({"name": "Kid"}, "plex_user_id"),
                            ({"name": "Kid", "plex_user_id": KID_USER, "x": 1}, "x")):
            st, got, _ = self.api("POST", "/api/profiles", body)
            self.assertEqual(st, 400, (body, got))
            self.assertIn(field, got["error"]["fields"], body)
        self.assertEqual(self.stack.query("SELECT COUNT(*) AS n FROM profiles")[0]["n"], 1)

    def test_b_create(self):
        st, got, _ = self.api("POST", "/api/profiles", {"name": "Kid", "plex_user_id": KID_USER})
        self.assertEqual((st, got), (201, {"id": 2}))
        path = os.path.join(self.stack.data, "profiles", "p2.db")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(path)).st_mode & 0o777, 0o700)
        st, got, _ = self.api("POST", "/api/profiles", {"name": "Kid 2", "plex_user_id": KID_USER})
        self.assertEqual(st, 409, got)
        # plex.tv's ids are numbers: the same user sent as a JSON number is the same user.
        st, got, _ = self.api("POST", "/api/profiles", {"name": "Kid 3",
                                                        "plex_user_id": int(KID_USER)})
        self.assertEqual(st, 409, got)
        self.assertEqual(got["error"]["code"], "conflict")
        # The kid's Plex token, as the worker's fetch of the users' server tokens writes it.
        ProfileFile(self.stack.data, 2).exec(
            "UPDATE auth SET state = 'authorized', access_token = ?, user = 'Kid'"
            " WHERE service = 'plex'", KID_PLEX_TOKEN)

    def test_c_list(self):
        got = self.get("/api/profiles")["profiles"]
        self.assertEqual([p["id"] for p in got], [1, 2])
        owner, kid = got
        self.assertEqual(owner["name"], "Owner")
        self.assertEqual(owner["plex_user"], {"id": "1", "title": "plexuser", "kind": "owner"})
        self.assertEqual(owner["trakt"], {"authorized": True, "user": "traktuser"})
        self.assertEqual(kid["name"], "Kid")
        self.assertEqual(kid["plex_user"], {"id": KID_USER, "title": "Kid", "kind": "home"})
        self.assertEqual(kid["trakt"], {"authorized": False, "user": None})
        self.assertIsNone(kid["last_run"])
        self.assertEqual(kid["warnings"], [])
        self.assertIn("next_run_at", kid)

    # ---- per-person routes ----
    def test_d_unknown_and_malformed_profile(self):
        for path in ("/api/status", "/api/runs", "/api/log", "/api/progress", "/api/settings",
                     "/api/libraries", "/api/auth/trakt", "/api/trakt/history",
                     "/api/plex/in-progress", "/api/runs/1/changes"):
            st, got, _ = self.api("GET", path + "?profile=99")
            self.assertEqual((st, got["error"]["code"]), (404, "not_found"), path)
        for method, path in (("POST", "/api/sync"), ("POST", "/api/sync/stop"),
                             ("POST", "/api/libraries/refresh"), ("POST", "/api/auth/trakt"),
                             ("DELETE", "/api/auth/trakt"),
                             ("POST", "/api/trakt/history/refresh")):
            st, got, _ = self.api(method, path + "?profile=99")
            self.assertEqual(st, 404, (method, path, got))
        for bad in ("0", "-1", "abc", "2x", ""):
            st, got, _ = self.api("GET", "/api/status?profile=" + bad)
            self.assertEqual(st, 400, (bad, got))
            self.assertIn("profile", got["error"]["fields"])
        self.assertEqual(self.stack.query("SELECT COUNT(*) AS n FROM jobs WHERE profile = 99")
                         [0]["n"], 0)
        # The Plex sign-in is the owner's alone: naming another profile is refused on that
        # field, and the owner's sign-in is neither read for it nor ended.
        for method in ("GET", "POST", "DELETE"):
            st, got, _ = self.api(method, "/api/auth/plex?profile=2")
            self.assertEqual(st, 400, (method, got))
            self.assertIn("owner", got["error"]["fields"]["profile"])
        self.assertEqual(self.get("/api/auth/plex?profile=1")["state"], "authorized")
        self.assertEqual(self.stack.query("SELECT COUNT(*) AS n FROM jobs WHERE kind ="
                                          " 'auth_plex'")[0]["n"], 0)

    def test_e_settings_are_the_profiles(self):
        st, got, _ = self.api("PUT", "/api/settings?profile=2",
                              {"plex_url": "http://127.0.0.1:1", "sync_ratings": True})
        self.assertEqual(st, 400, got)
        self.assertEqual(set(got["error"]["fields"]), {"plex_url"})
        # Refused, so it moved no server: the kid's Plex sign-in stays.
        self.assertTrue(self.get("/api/status?profile=2")["auth"]["plex"]["authorized"])
        for key in ("trakt_client_id", "trakt_client_secret", "tmdb_api_key",
                    "dashboard_password", "scrobble_live", "scrobble_users"):
            value = {"trakt_client_id": "x", "trakt_client_secret": "y", "tmdb_api_key": "z",
                     "dashboard_password": "longenough1", "scrobble_live": False,
                     "scrobble_users": "all"}[key]
            st, got, _ = self.api("PUT", "/api/settings?profile=2", {key: value})
            self.assertEqual(st, 400, (key, got))
            self.assertIn(key, got["error"]["fields"])
        st, got, _ = self.api("PUT", "/api/settings?profile=2",
                              {"sync_interval_hours": 0, "sync_ratings": True})
        self.assertEqual(st, 200, got)
        kid = self.get("/api/settings?profile=2")
        owner = self.get("/api/settings")
        self.assertTrue(kid["sync_ratings"])
        self.assertFalse(owner["sync_ratings"])
        # The installation's settings show on every profile, from profile 1.
        self.assertEqual(kid["plex_url"], owner["plex_url"])
        self.assertEqual(kid["trakt_client_secret"], {"set": True})
        self.assertEqual(self.get("/api/settings?profile=1"), owner)
        st, got, _ = self.api("PUT", "/api/settings?profile=2", {"sync_ratings": False})
        self.assertEqual(st, 200, got)

    def test_ea_schedule_is_the_profiles(self):
        """Each profile has its own schedule clock: the worker computes profile 2's alone."""
        st, got, _ = self.api("PUT", "/api/settings?profile=2", {"sync_interval_hours": 2})
        self.assertEqual(st, 200, got)
        sched = wait_for(lambda: self.get("/api/status?profile=2")["schedule"]["next_run_at"],
                         timeout=SYNC_TIMEOUT, step=0.1, what="profile 2's next run")
        self.assertEqual(self.get("/api/status?profile=2")["schedule"]["interval_hours"], 2)
        self.assertIsNone(self.get("/api/status")["schedule"]["next_run_at"])
        self.assertEqual(self.get("/api/status")["schedule"]["interval_hours"], 0)
        listed = {p["id"]: p for p in self.get("/api/profiles")["profiles"]}
        self.assertEqual(listed[2]["next_run_at"], sched)
        self.assertIsNone(listed[1]["next_run_at"])
        st, got, _ = self.api("PUT", "/api/settings?profile=2", {"sync_interval_hours": 0})
        self.assertEqual(st, 200, got)

    def test_f_trakt_sign_in_of_profile_2(self):
        """The device flow on ?profile=2 signs profile 2 in, to the kid's account."""
        st, got, _ = self.api("POST", "/api/auth/trakt?profile=2")
        self.assertEqual(st, 202, got)
        code = wait_for(lambda: self.get("/api/auth/trakt?profile=2").get("user_code"),
                        timeout=SYNC_TIMEOUT, step=0.1, what="kid's user code")
        self.assertEqual(self.get("/api/auth/trakt")["state"], "authorized")
        FAKES.post("trakt", "/_control/device/approve", {"user_code": code, "account": "kid"})
        got = wait_for(lambda: (lambda b: b if b["state"] == "authorized" and b["user"] else
                                None)(self.get("/api/auth/trakt?profile=2")),
                       timeout=SYNC_TIMEOUT, step=0.1, what="kid authorized")
        self.assertEqual(got["user"], "kid")
        self.assertEqual(self.get("/api/auth/trakt")["user"], "traktuser")
        toks = FAKES.get("trakt", "/_control/state?keys=tokens")["tokens"]
        kid = [t for t, v in toks.items() if t != self.owner_token and v["valid"]]
        self.assertEqual(len(kid), 1, toks)
        type(self).kid_token = kid[0]
        self.assertEqual(self.stack.query("SELECT access_token FROM auth WHERE service ="
                                          " 'trakt'")[0]["access_token"], self.owner_token)

    def test_g_libraries_are_the_profiles(self):
        st, got, _ = self.api("POST", "/api/libraries/refresh?profile=2")
        self.assertEqual(st, 202, got)
        job = self.stack.query("SELECT profile FROM jobs WHERE id = ?", got["job_id"])[0]
        self.assertEqual(job["profile"], 2)
        self.assertEqual(self.job_done(got["job_id"])["state"], "done")
        libs = self.get("/api/libraries?profile=2")
        self.assertTrue(libs["libraries"] and libs["fetched_at"])
        self.assertEqual(self.get("/api/libraries")["libraries"], [])
        movies = [lib["key"] for lib in libs["libraries"] if lib["type"] == "movie"]
        self.assertTrue(movies)
        st, got, _ = self.api("PUT", "/api/libraries?profile=2", {"selected": movies})
        self.assertEqual(st, 200, got)
        self.assertEqual(sorted(lib["key"] for lib in got["libraries"] if lib["selected"]),
                         sorted(movies))

    def test_h_each_profile_syncs_to_its_own_account(self):
        owner_before = plays()
        self.assertEqual(plays("kid"), [])
        run = self.sync(profile=2)
        self.assertEqual(run["status"], "ok", run)
        self.assertEqual(run["profile"], 2)
        kid = plays("kid")
        self.assertTrue(kid)
        self.assertTrue(all(k[0] == "movie" for k in kid), kid)
        self.assertEqual(len(kid), run["added_to_trakt"])
        self.assertEqual(plays(), owner_before, "the kid's sync wrote on the owner's account")
        type(self).kid_run = run["id"]

        run = self.sync()
        self.assertEqual(run["status"], "ok", run)
        self.assertEqual(run["profile"], 1)
        self.assertEqual(run["added_to_trakt"], ADDED)
        self.assertEqual(len(plays()), len(owner_before) + ADDED)
        self.assertEqual(plays("kid"), kid, "the owner's sync wrote on the kid's account")
        type(self).owner_run = run["id"]

        # Again: nothing new on either account (the ledger and the check are per profile).
        self.assertEqual(self.sync(profile=2)["added_to_trakt"], 0)
        self.assertEqual(plays("kid"), kid)
        self.assertEqual(len(plays()), len(owner_before) + ADDED)

    def test_ha_duplicate_cleaner_is_the_profiles(self):
        """?profile=2 scans and cleans the kid's Trakt account; the owner's is not read or
        touched, and the owner's cleaner state stays its own."""
        movie = FAKES.get("trakt", "/_control/state?keys=catalog")["catalog"]["movies"][0]
        t = 1600000000 // 60 * 60
        self.kid_trakt("/sync/history", {"movies": [{"ids": {"trakt": movie["ids"]["trakt"]},
                                                     "watched_at": iso(t + s)}
                                                    for s in (0, 20)]})
        kid_before, owner_before = history("kid"), history()
        st, got, _ = self.api("POST", "/api/trakt/duplicates/scan?profile=2")
        self.assertEqual(st, 202, got)
        self.assertEqual(self.stack.query("SELECT profile FROM jobs WHERE id = ?",
                                          got["job_id"])[0]["profile"], 2)
        self.assertEqual(self.job_done(got["job_id"])["state"], "done")
        kid = self.get("/api/trakt/duplicates?profile=2")
        self.assertEqual((kid["state"], kid["extra"], len(kid["groups"])), ("idle", 1, 1), kid)
        self.assertEqual(kid["plays_scanned"], len(kid_before))
        owner = self.get("/api/trakt/duplicates")
        self.assertEqual((owner["scanned_at"], owner["groups"]), (None, []))
        st, got, _ = self.api("POST", "/api/trakt/duplicates/remove", {})
        self.assertEqual((st, got["error"]["reason"]), (409, "no_scan"), got)
        st, got, _ = self.api("POST", "/api/trakt/duplicates/remove?profile=2", {})
        self.assertEqual(st, 202, got)
        self.assertEqual(self.job_done(got["job_id"])["state"], "done")
        self.assertEqual(len(history("kid")), len(kid_before) - 1)
        self.assertEqual(history(), owner_before)
        # The seeded play that was kept goes too: the kid's account is as its syncs left it.
        self.kid_trakt("/sync/history/remove", {"ids": [kid["groups"][0]["keep"]]})

    def kid_trakt(self, path, body):
        """POST path to the fake Trakt as the kid (profile 2's token)."""
        FAKES.trakt_as(self.kid_token, path, body)

    def test_i_routes_show_the_profiles_own(self):
        kid_runs = self.get("/api/runs?profile=2")["runs"]
        owner_runs = self.get("/api/runs")["runs"]
        self.assertEqual([r["profile"] for r in kid_runs], [2, 2])
        self.assertEqual([r["profile"] for r in owner_runs], [1])
        self.assertEqual(owner_runs[0]["id"], self.owner_run)
        self.assertEqual(self.get("/api/runs?profile=1"), self.get("/api/runs"))
        changes = self.get("/api/runs/%d/changes?profile=2" % self.kid_run)["changes"]
        self.assertTrue(changes and all(c["type"] == "movie" for c in changes))

        prog = self.get("/api/progress?profile=2")
        self.assertEqual(prog["last_run"]["profile"], 2)
        self.assertEqual(prog["last_run"]["id"], kid_runs[0]["id"])
        self.assertEqual(self.get("/api/progress")["last_run"]["id"], self.owner_run)

        kid_status = self.get("/api/status?profile=2")
        self.assertEqual(kid_status["auth"]["trakt"]["user"], "kid")
        self.assertEqual(kid_status["auth"]["plex"]["user"], "Kid")
        self.assertEqual(self.get("/api/status")["auth"]["trakt"]["user"], "traktuser")

        kid_log = self.get("/api/log?profile=2&run_id=%d" % self.kid_run)["entries"]
        self.assertTrue(kid_log)
        owner_log = self.get("/api/log?run_id=%d" % self.kid_run)["entries"]
        self.assertNotEqual([ln["message"] for ln in owner_log],
                            [ln["message"] for ln in kid_log])

        listed = {p["id"]: p for p in self.get("/api/profiles")["profiles"]}
        self.assertEqual(listed[2]["last_run"]["id"], kid_runs[0]["id"])
        self.assertEqual(listed[2]["last_run"]["status"], "ok")
        self.assertEqual(listed[2]["trakt"], {"authorized": True, "user": "kid"})
        self.assertEqual(listed[1]["last_run"]["id"], self.owner_run)

    def test_j_stop_and_state_are_per_profile(self):
        st, got, _ = self.api("POST", "/api/sync/stop?profile=2")
        self.assertEqual(st, 409, got)   # nothing of the kid's runs
        self.assertEqual(self.get("/api/status?profile=2")["sync"]["state"], "idle")

    def test_ja_undo_is_the_profiles(self):
        """Undo of profile 2's run takes its plays off the kid's account, nothing else."""
        owner = plays()
        self.assertTrue(plays("kid"))
        st, got, _ = self.api("POST", "/api/runs/%d/undo?profile=2" % self.kid_run)
        self.assertEqual(st, 202, got)
        undo = got["run_id"]

        def ended():
            run = next(r for r in self.get("/api/runs?profile=2")["runs"] if r["id"] == undo)
            return run if run["status"] != "running" else None
        run = wait_for(ended, timeout=SYNC_TIMEOUT, step=0.2, what="undo run")
        self.assertEqual((run["status"], run["trigger"], run["profile"]), ("ok", "undo", 2))
        self.assertEqual(plays("kid"), [])
        self.assertEqual(plays(), owner)
        self.assertEqual([r["id"] for r in self.get("/api/runs")["runs"]], [self.owner_run])

    # ---- delete ----
    def test_k_delete(self):
        owner_runs = self.get("/api/runs")
        for body in (None, {}, {"confirm": "kid"}, {"confirm": "Kid "}):
            st, got, _ = self.api("DELETE", "/api/profiles/2", body)
            self.assertEqual(st, 400, (body, got))
        st, got, _ = self.api("DELETE", "/api/profiles/1", {"confirm": "Owner"})
        self.assertEqual(st, 409, got)
        st, got, _ = self.api("DELETE", "/api/profiles/99", {"confirm": "x"})
        self.assertEqual(st, 404, got)
        path = os.path.join(self.stack.data, "profiles", "p2.db")
        self.assertTrue(os.path.exists(path))

        st, got, _ = self.api("DELETE", "/api/profiles/2", {"confirm": "Kid"})
        self.assertEqual(st, 200, got)
        for suffix in ("", "-wal", "-shm"):
            self.assertFalse(os.path.exists(path + suffix), suffix)
        self.assertEqual([p["id"] for p in self.get("/api/profiles")["profiles"]], [1])
        st, got, _ = self.api("GET", "/api/status?profile=2")
        self.assertEqual(st, 404, got)
        self.assertEqual(self.stack.query("SELECT COUNT(*) AS n FROM jobs WHERE profile = 2")
                         [0]["n"], 0)
        # Its Trakt token is revoked (by the worker, on the Trakt lane); the owner's is not.
        wait_for(lambda: FAKES.get("trakt", "/_control/state?keys=tokens")["tokens"]
                 [self.kid_token]["revoked"], timeout=SYNC_TIMEOUT, step=0.1,
                 what="kid's token revoked")
        self.assertFalse(FAKES.get("trakt", "/_control/state?keys=tokens")["tokens"]
                         [self.owner_token]["revoked"])
        self.assertEqual(self.get("/api/runs"), owner_runs)
        self.assertEqual(self.get("/api/auth/trakt")["state"], "authorized")
        # Its id is not given again: a new profile gets a new file.
        st, got, _ = self.api("POST", "/api/profiles", {"name": "Kid", "plex_user_id": KID_USER})
        self.assertEqual((st, got), (201, {"id": 3}))
        self.assertEqual(self.get("/api/runs?profile=3")["runs"], [])

    def test_l_delete_while_its_sync_runs(self):
        """The running sync of a deleted profile is told to stop; its job row goes once it
        ended, and its token is revoked after it; the owner keeps everything."""
        tok = FAKES.post("trakt", "/_control/token", {"account": "kid3"})
        kid3 = ProfileFile(self.stack.data, 3)
        kid3.exec("UPDATE auth SET state = 'authorized', access_token = ?, refresh_token = ?,"
                  " token_expires_at = ?, user = 'kid3' WHERE service = 'trakt'",
                  tok["access_token"], tok["refresh_token"],
                  tok["created_at"] + tok["expires_in"])
        kid3.exec("UPDATE auth SET state = 'authorized', access_token = ?, user = 'Kid'"
                  " WHERE service = 'plex'", KID_PLEX_TOKEN)
        owner_runs = self.get("/api/runs")
        FAKES.post("plex", "/_control/faults", {"latency_ms": 300})
        try:
            st, got, _ = self.api("POST", "/api/sync?profile=3")
            self.assertEqual(st, 202, got)
            wait_for(lambda: self.get("/api/status?profile=3")["sync"]["state"] == "running",
                     timeout=SYNC_TIMEOUT, step=0.05, what="profile 3's sync running")
            st, got, _ = self.api("DELETE", "/api/profiles/3", {"confirm": "Kid"})
            self.assertEqual((st, got), (200, {"id": 3}))
            self.assertFalse(os.path.exists(kid3.path))
            self.assertEqual(self.api("GET", "/api/runs?profile=3")[0], 404)
            wait_for(lambda: not self.stack.query("SELECT id FROM jobs WHERE profile = 3"),
                     timeout=SYNC_TIMEOUT, step=0.1, what="profile 3's jobs gone")
        finally:
            FAKES.post("plex", "/_control/faults/reset")
        wait_for(lambda: FAKES.get("trakt", "/_control/state?keys=tokens")["tokens"]
                 [tok["access_token"]]["revoked"], timeout=SYNC_TIMEOUT, step=0.1,
                 what="profile 3's token revoked")
        self.assertEqual(self.get("/api/runs"), owner_runs)
        self.assertEqual([p["id"] for p in self.get("/api/profiles")["profiles"]], [1])
        self.assertEqual(self.get("/api/status")["sync"]["state"], "idle")

    def test_m_household_cap(self):
        """A household holds at most 64 profiles: the 65th is refused and nothing is made."""
        conn = self.stack.db()
        try:
            now = int(time.time())
            conn.executemany("INSERT INTO plex_users(id, uuid, title, kind, fetched_at)"
                             " VALUES(?, ?, ?, 'managed', ?)",
                             [("9%03d" % i, "c%d" % i, "Cap %d" % i, now) for i in range(64)])
            # 63 rows beside the owner's, without files (the cap is read from the rows).
            conn.executemany("INSERT INTO profiles(id, name, plex_user_id, created_at)"
                             " VALUES(?, ?, ?, ?)",
                             [(100 + i, "Cap %d" % i, "9%03d" % i, now) for i in range(63)])
            conn.commit()
        finally:
            conn.close()
        try:
            st, got, _ = self.api("POST", "/api/profiles", {"name": "One more",
                                                            "plex_user_id": "9063"})
            self.assertEqual(st, 409, got)
            self.assertEqual(got["error"]["reason"], "limit")
            self.assertIn("64", got["error"]["message"])
            self.assertEqual(self.stack.query("SELECT COUNT(*) AS n FROM profiles")[0]["n"], 64)
        finally:
            conn = self.stack.db()
            try:
                conn.execute("DELETE FROM profiles WHERE id >= 100")
                conn.execute("DELETE FROM plex_users WHERE id LIKE '9___'")
                conn.commit()
            finally:
                conn.close()
        st, got, _ = self.api("POST", "/api/profiles", {"name": "One more",
                                                        "plex_user_id": "33"})
        self.assertEqual(st, 201, got)


class TestCron(unittest.TestCase):
    """pts-worker --cron runs a queued job of profile 2 on profile 2's file and account."""

    def test_cron_runs_a_profiles_sync(self):
        FAKES.reset()
        env = SyncEnv(FAKES, settings={"sync_interval_hours": 0})
        self.addCleanup(env.close)
        env.exec("INSERT INTO profiles(id, name, plex_user_id, created_at)"
                 " VALUES(2, 'Kid', ?, 0)", KID_USER)
        # A pass with nothing due makes profile 2's file (its schedule is looked at).
        r = subprocess.run([WORKER, "--cron"], env=env.env, capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        kid = ProfileFile(env.data, 2)
        self.assertTrue(os.path.exists(kid.path))
        tok = FAKES.post("trakt", "/_control/token", {"account": "kid"})
        FAKES.post("plextv", "/_control/state", {"tokens": [KID_PLEX_TOKEN]})
        kid.exec("UPDATE auth SET state = 'authorized', access_token = ?, refresh_token = ?,"
                 " token_expires_at = ?, user = 'kid' WHERE service = 'trakt'",
                 tok["access_token"], tok["refresh_token"],
                 tok["created_at"] + tok["expires_in"])
        kid.exec("UPDATE auth SET state = 'authorized', access_token = ? WHERE service ="
                 " 'plex'", KID_PLEX_TOKEN)
        now = int(time.time())
        conn = env.db()
        job = conn.execute("INSERT INTO jobs(kind, args, created_at, profile) VALUES('sync',"
                           " '{}', ?, 2)", (now,)).lastrowid
        conn.commit()
        conn.close()
        kid.exec("INSERT INTO runs(id, job_id, trigger, created_at, started_at)"
                 " VALUES(1, ?, 'manual', ?, ?)", job, now, now)
        env.exec("UPDATE jobs SET run_id = 1 WHERE id = ?", job)
        owner = plays()

        r = subprocess.run([WORKER, "--cron"], env=env.env, capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        run = kid.rows("SELECT status, added_to_trakt FROM runs WHERE id = 1")[0]
        self.assertEqual(run["status"], "ok", r.stderr[-2000:])
        self.assertEqual(len(plays("kid")), run["added_to_trakt"])
        self.assertTrue(plays("kid"))
        self.assertEqual(plays(), owner)
        self.assertEqual(env.rows("SELECT COUNT(*) AS n FROM runs")[0]["n"], 0)
        # The sync's log lines are the kid's, in the kid's file.
        self.assertTrue(kid.rows("SELECT id FROM log WHERE run_id = 1"))
        self.assertFalse(env.rows("SELECT id FROM log WHERE run_id = 1"))


# ---- the upgrade from a database of schema version 8 ----

def schema_steps():
    """The SQL of each step in common/schema.sql.h (steps are never edited once released)."""
    with open(os.path.join(TOP, "common", "schema.sql.h")) as f:
        text = f.read()
    body = text[text.index("pts_schema_steps[] = {") + 22:]
    body = body[:body.index("\n};")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    steps, cur = [], []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(,)', body):
        if m.group(2):
            steps.append("".join(cur))
            cur = []
        else:
            cur.append(m.group(1).replace('\\"', '"').replace("\\\\", "\\"))
    if cur:
        steps.append("".join(cur))
    return steps


class TestUpgrade(unittest.TestCase):
    def test_version_8_database_is_profile_1(self):
        tmp = tempfile.TemporaryDirectory(prefix="pts-upgrade-")
        self.addCleanup(tmp.cleanup)
        os.chmod(tmp.name, 0o711)
        data = os.path.join(tmp.name, "var")
        os.mkdir(data, 0o711)
        db = os.path.join(data, "pts.db")
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA journal_mode = WAL")
        for sql in schema_steps()[:8]:
            conn.executescript(sql)
        conn.execute("PRAGMA user_version = 8")
        t = 1700000000
        for i in range(1, 4):
            conn.execute("INSERT INTO runs(id, trigger, status, created_at, started_at,"
                         " finished_at, added_to_trakt) VALUES(?, 'manual', 'ok', ?, ?, ?, ?)",
                         (i, t + i, t + i, t + i + 5, i))
            conn.execute("INSERT INTO batches(id, run_id, service, state, created_at,"
                         " settled_at) VALUES(?, ?, 'trakt', 'settled', ?, ?)",
                         (i, i, t + i, t + i))
            conn.execute("INSERT INTO changes(run_id, batch_id, action, type, item_key, title,"
                         " watched_at, result, created_at) VALUES(?, ?, 'add_play_trakt',"
                         " 'movie', ?, ?, ?, 'done', ?)",
                         (i, i, "movie:%d" % i, "Film %d" % i, t, t + i))
        conn.execute("INSERT INTO jobs(kind, state, run_id, created_at) VALUES('sync', 'done',"
                     " 3, ?)", (t,))
        conn.execute("INSERT INTO settings(key, value) VALUES('sync_interval_hours', '0')")
        conn.commit()
        conn.close()
        with Stack(data_dir=data) as s:
            runs = s.api("GET", "/api/runs")[1]["runs"]
            self.assertEqual([(r["id"], r["added_to_trakt"], r["profile"]) for r in runs],
                             [(3, 3, 1), (2, 2, 1), (1, 1, 1)])
            self.assertEqual(s.api("GET", "/api/runs?profile=1")[1]["runs"], runs)
            changes = s.api("GET", "/api/runs/2/changes")[1]["changes"]
            self.assertEqual([(c["title"], c["result"]) for c in changes], [("Film 2", "done")])
            profiles = s.api("GET", "/api/profiles")[1]["profiles"]
            self.assertEqual([(p["id"], p["name"], p["plex_user"]["kind"]) for p in profiles],
                             [(1, "Owner", "owner")])
            self.assertEqual(profiles[0]["last_run"]["id"], 3)
            self.assertGreaterEqual(s.query("PRAGMA user_version")[0]["user_version"], 9)
            self.assertEqual(s.query("SELECT profile FROM jobs"), [{"profile": 1}])
            self.assertEqual(s.query("SELECT COUNT(*) AS n FROM changes")[0]["n"], 3)
            self.assertFalse(os.path.exists(os.path.join(data, "profiles", "p1.db")))


if __name__ == "__main__":
    unittest.main()
