"""Households through the real stack: the server's people from plex.tv and each profile's
Plex token (docs/API.md "Households (profiles)", docs/UPSTREAM.md "The other people on a
server").

The fake plex.tv's household: the owner (plex.tv id 1001), Hannah (a Home user with a PIN,
in shared_servers), Max (a managed user missing from shared_servers: the worker switches to
him and reads the server's accessToken from his resources), Fran (a friend of this server and
another) and Oscar (a friend of another server only: not one of ours). The fake PMS knows each
person's server token and answers with that person's own views and ratings.
"""
import os
import sqlite3
import unittest

from fakes import Fakes
from stack import Stack, wait_for

WAIT_S = 30
OWNER_TOKEN = "plex-token-1"
TOKENS = {"1002": "plex-token-hannah", "1003": "plex-token-max"}


class PeopleCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fakes = Fakes().start()
        cls.stack = Stack(env=cls.fakes.env()).start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()
        cls.fakes.stop()

    def setUp(self):
        self.fakes.reset()
        conn = self.stack.db()
        try:
            for k, v in self.fakes.settings().items():
                conn.execute("INSERT OR REPLACE INTO settings(key, value) VALUES(?, ?)", (k, v))
            conn.execute("UPDATE auth SET state = 'authorized', access_token = ?,"
                         " user = 'plexuser' WHERE service = 'plex'", (OWNER_TOKEN,))
            conn.execute("DELETE FROM plex_users")
            conn.execute("DELETE FROM profiles WHERE id > 1")
            conn.commit()
        finally:
            conn.close()
        folder = os.path.join(self.stack.data, "profiles")
        for name in os.listdir(folder) if os.path.isdir(folder) else ():
            os.unlink(os.path.join(folder, name))

    # ---- helpers ----
    def refresh(self):
        st, body, _ = self.stack.api("POST", "/api/plex/users/refresh")
        self.assertEqual(st, 202)
        self.assertIn("job_id", body)
        job = body["job_id"]

        def done():
            conn = self.stack.db()
            try:
                return conn.execute("SELECT state FROM jobs WHERE id = ? AND state NOT IN"
                                    " ('queued','running')", (job,)).fetchone()
            finally:
                conn.close()
        row = wait_for(done, timeout=WAIT_S, what="the plex_users job")
        self.assertEqual(row[0], "done")
        st, body, _ = self.stack.api("GET", "/api/plex/users")
        self.assertEqual(st, 200)
        return body

    def add_profile(self, pid, name, plex_user_id):
        conn = self.stack.db()
        try:
            conn.execute("INSERT OR REPLACE INTO profiles(id, name, plex_user_id, created_at)"
                         " VALUES(?, ?, ?, strftime('%s','now'))", (pid, name, plex_user_id))
            conn.commit()
        finally:
            conn.close()

    def plex_auth(self, pid):
        path = os.path.join(self.stack.data, "profiles", "p%d.db" % pid)
        conn = sqlite3.connect(path)
        try:
            return conn.execute("SELECT state, access_token, user, error FROM auth"
                                " WHERE service = 'plex'").fetchone()
        finally:
            conn.close()

    def all_logs(self):
        conn = self.stack.db()
        try:
            text = "\n".join(r[0] for r in conn.execute("SELECT message FROM log"))
        finally:
            conn.close()
        with open(self.stack.log_path, errors="replace") as f:
            return text + f.read()

    # ---- tests ----
    def test_people_listed_with_kinds_and_profiles(self):
        st, body, _ = self.stack.api("GET", "/api/plex/users")
        self.assertEqual(st, 200)
        self.assertEqual(body["users"], [])
        self.assertIsNone(body["fetched_at"])
        body = self.refresh()
        self.assertIsNotNone(body["fetched_at"])
        self.assertEqual([(u["id"], u["title"], u["kind"], u["profile_id"])
                          for u in body["users"]],
                         [("1001", "plexuser", "owner", 1),
                          ("1002", "Hannah Home", "home", None),
                          ("1003", "Max Managed", "managed", None),
                          ("2001", "Fran Friend", "shared", None)])
        for u in body["users"]:
            self.assertEqual(set(u), {"id", "title", "kind", "profile_id"})
        # The server tokens stay in the database: never in an answer.
        conn = self.stack.db()
        try:
            toks = dict(conn.execute("SELECT id, server_token FROM plex_users"))
        finally:
            conn.close()
        self.assertEqual(toks, {"1001": OWNER_TOKEN, "1002": "plex-token-hannah",
                                "1003": "plex-token-max", "2001": "plex-token-fran"})

    def test_refresh_is_queued_once(self):
        conn = self.stack.db()
        try:
            # With the worker's plex lane busy elsewhere, two refreshes are one job.
            conn.execute("INSERT INTO jobs(kind, args, created_at, state) VALUES"
                         " ('plex_users', '{}', strftime('%s','now'), 'queued')")
            conn.commit()
            queued = conn.execute("SELECT MAX(id) FROM jobs WHERE kind = 'plex_users'"
                                  " AND state = 'queued'").fetchone()[0]
        finally:
            conn.close()
        st, body, _ = self.stack.api("POST", "/api/plex/users/refresh")
        self.assertEqual(st, 202)
        if body["job_id"] != queued:     # the worker may have claimed it in between
            conn = self.stack.db()
            try:
                state = conn.execute("SELECT state FROM jobs WHERE id = ?",
                                     (queued,)).fetchone()[0]
            finally:
                conn.close()
            self.assertNotEqual(state, "queued")

    def test_profiles_get_their_persons_token_and_lose_it_with_the_owner(self):
        self.add_profile(2, "Hannah", "1002")
        self.add_profile(3, "Max", "1003")
        self.add_profile(4, "Oscar", "2002")
        body = self.refresh()
        ids = {u["id"]: u["profile_id"] for u in body["users"]}
        self.assertEqual(ids["1002"], 2)
        self.assertEqual(ids["1003"], 3)
        self.assertEqual(self.plex_auth(2)[:3], ("authorized", TOKENS["1002"], "Hannah Home"))
        self.assertEqual(self.plex_auth(3)[:3], ("authorized", TOKENS["1003"], "Max Managed"))
        state, token, _, error = self.plex_auth(4)
        self.assertEqual((state, token), ("error", None))
        self.assertIn("no longer on this server", error)
        switches = sorted(k for k in self.fakes.calls("plextv")["calls"]
                          if k.endswith("/switch"))
        self.assertEqual(switches, ["POST /api/home/users/1003/switch"])
        logs = self.all_logs()
        for tok in list(TOKENS.values()) + [OWNER_TOKEN, "plextv-acct-"]:
            self.assertNotIn(tok, logs)

        # Hannah's server is no longer shared with her: her profile says why.
        hh = self.fakes.get("plextv", "/_control/state")["household"]
        for p in hh:
            if p["id"] == "1002":
                p["shared"] = False
        self.fakes.post("plextv", "/_control/state", {"household": hh})
        self.refresh()
        state, token, _, error = self.plex_auth(2)
        self.assertEqual((state, token), ("error", None))
        self.assertIn("Hannah Home has no access to this Plex server", error)
        self.assertEqual(self.plex_auth(3)[0], "authorized")

        # The owner signs out of Plex: the others' tokens go too.
        st, _, _ = self.stack.api("DELETE", "/api/auth/plex")
        self.assertEqual(st, 200)
        self.assertEqual(self.plex_auth(3)[:2], ("none", None))
        conn = self.stack.db()
        try:
            left = conn.execute("SELECT COUNT(*) FROM plex_users WHERE server_token IS NOT"
                                " NULL").fetchone()[0]
        finally:
            conn.close()
        self.assertEqual(left, 0)

    def test_moving_plex_url_forgets_the_profiles_tokens(self):
        self.add_profile(3, "Max", "1003")
        self.refresh()
        self.assertEqual(self.plex_auth(3)[0], "authorized")
        st, _, _ = self.stack.api("PUT", "/api/settings", {"plex_url": "http://127.0.0.2:32400"})
        self.assertEqual(st, 200)
        state, token, _, error = self.plex_auth(3)
        self.assertEqual((state, token), ("none", None))
        self.assertIn("The Plex server changed", error)
        self.stack.api("PUT", "/api/settings", {"plex_url": self.fakes.urls["plex"]})


if __name__ == "__main__":
    unittest.main()
