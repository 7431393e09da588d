"""Households through the real stack: the server's people from plex.tv and each profile's
Plex token (docs/API.md "Households (profiles)", docs/UPSTREAM.md "The other people on a
server").

The fake plex.tv's household: the owner (plex.tv id 1001), Hannah (a Home user with a PIN,
in shared_servers), Max (a managed user missing from shared_servers: the worker switches to
him and reads the server's accessToken from his resources), Fran (a friend of this server and
another) and Oscar (a friend of another server only: not one of ours). The fake PMS knows each
person's server token and answers with that person's own views and ratings.
"""
import unittest

from household import HouseholdMixin, WAIT_S, profile_row, set_trakt
from stack import wait_for
from syncenv import OwnStackCase, settings_sql, sign_in_sql

OWNER_TOKEN = "plex-token-1"
TOKENS = {"1002": "plex-token-hannah", "1003": "plex-token-max"}


class PeopleCase(HouseholdMixin, OwnStackCase):
    def setUp(self):
        self.fakes.reset()
        self.reset_household(OWNER_TOKEN)

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
        self.refresh()
        hannah = self.create_profile("Hannah", "1002")
        maxp = self.create_profile("Max", "1003")
        body = self.refresh()
        ids = {u["id"]: u["profile_id"] for u in body["users"]}
        self.assertEqual((ids["1002"], ids["1003"], ids["2001"]), (hannah, maxp, None))
        self.assertEqual(self.plex_auth(hannah)[:3],
                         ("authorized", TOKENS["1002"], "Hannah Home"))
        self.assertEqual(self.plex_auth(maxp)[:3], ("authorized", TOKENS["1003"], "Max Managed"))
        st, status, _ = self.stack.api("GET", "/api/status?profile=%d" % hannah)
        self.assertEqual(st, 200)
        self.assertEqual((status["auth"]["plex"]["authorized"], status["auth"]["plex"]["user"]),
                         (True, "Hannah Home"))
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
        state, token, _, error = self.plex_auth(hannah)
        self.assertEqual((state, token), ("error", None))
        self.assertIn("Hannah Home has no access to this Plex server", error)
        # The household overview says why: no run of hers can.
        listed = {p["id"]: p for p in self.stack.api("GET", "/api/profiles")[1]["profiles"]}
        self.assertEqual(listed[hannah]["warnings"][:1], ["Plex: " + error])
        self.assertFalse([w for w in listed[maxp]["warnings"] if w.startswith("Plex:")])
        self.assertEqual(self.plex_auth(maxp)[0], "authorized")
        # No longer on the server's list at all: said so.
        self.fakes.post("plextv", "/_control/state",
                        {"household": [p for p in hh if p["id"] != "1002"]})
        self.refresh()
        state, token, _, error = self.plex_auth(hannah)
        self.assertEqual((state, token), ("error", None))
        self.assertIn("no longer on this server's list", error)

        # The owner signs out of Plex: the others' tokens go too.
        st, _, _ = self.stack.api("DELETE", "/api/auth/plex")
        self.assertEqual(st, 200)
        self.assertEqual(self.plex_auth(maxp)[:2], ("none", None))
        conn = self.stack.db()
        try:
            left = conn.execute("SELECT COUNT(*) FROM plex_users WHERE server_token IS NOT"
                                " NULL").fetchone()[0]
        finally:
            conn.close()
        self.assertEqual(left, 0)

    def test_a_plextv_without_friends_or_shared_servers_still_gives_home_tokens(self):
        """plex.tv answering 404 for the friends list and shared_servers leaves those parts
        out: the Home users are still listed, and an unprotected person's server token comes
        from switching to them (Max); the PIN user (Hannah) is told why she has none."""
        self.fakes.post("plextv", "/_control/faults", {
            "only": ["GET /api/users", "GET /api/servers/"], "fail_next": [404, 404]})
        try:
            body = self.refresh()
        finally:
            self.fakes.post("plextv", "/_control/faults/reset")
        self.assertEqual([(u["id"], u["kind"]) for u in body["users"]],
                         [("1001", "owner"), ("1002", "home"), ("1003", "managed")])
        conn = self.stack.db()
        try:
            toks = dict(conn.execute("SELECT id, server_token FROM plex_users"))
        finally:
            conn.close()
        self.assertEqual(toks, {"1001": OWNER_TOKEN, "1002": None, "1003": TOKENS["1003"]})
        self.assertIn("plex.tv has no shared_servers for this account (HTTP 404)",
                      self.all_logs())

    def test_the_owners_plex_sign_in_reads_the_people(self):
        st, body, _ = self.stack.api("POST", "/api/auth/plex")
        self.assertEqual(st, 202, body)
        wait_for(lambda: self.stack.api("GET", "/api/auth/plex")[1].get("code"), timeout=WAIT_S,
                 what="the PIN code")
        tok = self.fakes.post("plextv", "/_control/pins/link_latest")["authToken"]
        wait_for(lambda: self.stack.api("GET", "/api/auth/plex")[1]["state"] == "authorized",
                 timeout=WAIT_S, what="the owner's Plex sign-in")
        # With no refresh asked for, the people are read with the new token.
        body = wait_for(lambda: (lambda b: b["users"] and b)(
            self.stack.api("GET", "/api/plex/users")[1]), timeout=WAIT_S,
            what="the server's people after the sign-in")
        self.assertEqual(len(body["users"]), 4)
        conn = self.stack.db()
        try:
            owner = conn.execute("SELECT server_token FROM plex_users WHERE kind = 'owner'")
            self.assertEqual(owner.fetchone()[0], tok)
        finally:
            conn.close()
        self.assertNotIn(tok, self.all_logs())

    def test_moving_plex_url_forgets_the_profiles_tokens(self):
        self.refresh()
        maxp = self.create_profile("Max", "1003")
        st, _, _ = self.stack.api("PUT", "/api/settings", {"plex_url": "http://127.0.0.2:32400"})
        self.assertEqual(st, 200)
        state, token, _, error = self.plex_auth(maxp)
        self.assertEqual((state, token), ("none", None))
        self.assertIn("The Plex server changed", error)
        self.stack.api("PUT", "/api/settings", {"plex_url": self.fakes.urls["plex"]})


if __name__ == "__main__":
    unittest.main()


# ==== each profile syncs, scrobbles and takes webhooks for its own person ====

import json  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402

from fakes import multipart  # noqa: E402

POLL_MS = 150          # PTS_SCROBBLE_POLL_MS


class HouseholdFlowCase(HouseholdMixin, OwnStackCase):
    """Hannah (Home user) and Max (managed) get profiles; each has a Trakt account of their
    own in the fake Trakt ("hannah", "max"); the owner's is the corpus's default account."""

    stack_env = {"PTS_SCROBBLE_POLL_MS": str(POLL_MS)}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        items = cls.fakes.get("plex", "/_control/state")["items"]
        cls.movies = []              # (ratingKey, imdb id, duration ms) of movies Trakt knows
        seen = set()
        for it in items:
            imdb = [g["id"][7:] for g in it.get("Guid", []) if g["id"].startswith("imdb://")]
            if it["type"] == "movie" and imdb and imdb[0] not in seen and \
                    cls.trakt_knows(cls, imdb[0]):
                seen.add(imdb[0])
                cls.movies.append((it["ratingKey"], imdb[0], it.get("duration") or 6_000_000))
        assert len(cls.movies) >= 7, "the corpus has too few movies with imdb ids"
        tok = cls.fakes.post("trakt", "/_control/token", {})
        cls.stack.exec(*settings_sql(cls.fakes.settings()), *sign_in_sql(tok, OWNER_TOKEN))
        st, body, _ = cls.stack.api("POST", "/api/plex/users/refresh")
        assert st == 202, body
        wait_for(lambda: len(cls.stack.api("GET", "/api/plex/users")[1]["users"]) == 4,
                 timeout=WAIT_S, what="the server's people")
        cls.pid = {}
        for uid, name, account in (("1002", "Hannah", "hannah"), ("1003", "Max", "max")):
            st, body, _ = cls.stack.api("POST", "/api/profiles",
                                        {"name": name, "plex_user_id": uid})
            assert st == 201, body
            pid = cls.pid[uid] = body["id"]
            wait_for(lambda: profile_row(cls.stack.data, pid, "SELECT state FROM auth WHERE"
                                         " service = 'plex'")[0] == "authorized",
                     timeout=WAIT_S, what="profile %d's Plex token" % pid)
            tok = cls.fakes.post("trakt", "/_control/token", {"account": account})
            set_trakt(cls.stack.data, pid, tok, account)

    # ---- helpers ----
    def trakt_knows(self, imdb):
        req = urllib.request.Request(self.fakes.urls["trakt"] + "/search/imdb/" + imdb +
                                     "?type=movie", headers={
                                         "trakt-api-key": self.fakes.urls["trakt_client_id"],
                                         "trakt-api-version": "2"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return bool(json.loads(r.read()))

    def history(self, account=""):
        return self.fakes.get("trakt", "/_control/history?account=" + account)["history"]

    def imdbs(self, account=""):
        return sorted(p["movie"]["ids"].get("imdb") for p in self.history(account)
                      if p["type"] == "movie")

    def trakt_add(self, account_token, imdb, when):
        return self.fakes.trakt_as(account_token, "/sync/history",
                                   {"movies": [{"ids": {"imdb": imdb}, "watched_at": when}]})

    def set_sessions(self, sessions):
        self.fakes.post("plex", "/_control/sessions", {"sessions": sessions})

    def wait_polls(self, n=3):
        start = self.fakes.get("plex", "/_control/sessions")["polls"]
        wait_for(lambda: self.fakes.get("plex", "/_control/sessions")["polls"] >= start + n,
                 timeout=WAIT_S, step=0.05, what="%d session polls" % n)

    def session(self, key, movie, percent, user_id, user):
        rk, _, duration = movie
        return {"sessionKey": key, "ratingKey": rk, "state": "playing", "user_id": user_id,
                "user": user, "viewOffset": int(duration * percent / 100)}

    # ---- tests ----
    def test_each_profile_syncs_its_own_person_both_ways(self):
        a, b, c = self.movies[0], self.movies[1], self.movies[2]
        hannah, maxp = self.pid["1002"], self.pid["1003"]
        for pid in (hannah, maxp):
            st, body, _ = self.stack.api("PUT", "/api/settings?profile=%d" % pid,
                                         {"sync_direction": "both"})
            self.assertEqual(st, 200, body)
        t = int(time.time()) - 3 * 86400
        # Hannah watched A in Plex, Max watched B; Hannah's Trakt account has C.
        self.fakes.post("plex", "/_control/state", {"user_views": {
            "1002": {a[0]: {"viewCount": 1, "lastViewedAt": t}},
            "1003": {b[0]: {"viewCount": 1, "lastViewedAt": t + 60}}}})
        htok = self.profile_row(hannah, "SELECT access_token FROM auth WHERE service ="
                                " 'trakt'")[0]
        self.trakt_add(htok, c[1], "2024-01-02T03:04:05.000Z")
        owner_before = self.imdbs()
        owner_marks = self.fakes.get("plex", "/_control/scrobbles")["scrobbles"]
        h_before, m_before = self.imdbs("hannah"), self.imdbs("max")
        self.assertIn(c[1], h_before)

        self.run_sync(hannah)
        self.assertEqual(self.imdbs("hannah"), sorted(h_before + [a[1]]))
        self.assertEqual(self.imdbs("max"), m_before)
        marks = self.fakes.get("plex", "/_control/state")["user_marks"]
        self.assertIn({"user": "1002", "action": "scrobble", "ratingKey": c[0]}, marks)
        self.assertFalse([m for m in marks if m["user"] != "1002"], marks)

        self.run_sync(maxp)
        self.assertEqual(self.imdbs("max"), sorted(m_before + [b[1]]))
        self.assertEqual(self.imdbs("hannah"), sorted(h_before + [a[1]]))
        views = self.fakes.get("plex", "/_control/state")["user_views"]
        self.assertNotIn(c[0], views.get("1003", {}), "Hannah's Trakt play reached Max's Plex")
        # Nothing of theirs on the owner's Trakt or the owner's Plex.
        self.assertEqual(self.imdbs(), owner_before)
        self.assertEqual(self.fakes.get("plex", "/_control/scrobbles")["scrobbles"], owner_marks)

    def test_two_people_scrobble_to_their_own_accounts_a_third_is_ignored(self):
        d, e, f = self.movies[3], self.movies[4], self.movies[5]
        hannah, maxp = self.pid["1002"], self.pid["1003"]
        conn = self.stack.db()
        try:
            conn.execute("DELETE FROM settings WHERE key = 'scrobble_users'")   # "owner"
            conn.commit()
        finally:
            conn.close()
        owner_calls = len(self.fakes.get("trakt", "/_control/scrobble_calls")["calls"])
        owner_before = self.imdbs()
        people = [("1", d, "1002", "Hannah Home"), ("2", e, "1003", "Max Managed"),
                  ("3", f, "2001", "Fran Friend")]
        self.set_sessions([self.session(k, m, 10, u, n) for k, m, u, n in people])
        self.wait_polls()
        st, body, _ = self.stack.api("GET", "/api/now-playing")
        self.assertEqual(st, 200)
        got = {s["user"]: (s["profile"], s["trakt"]) for s in body["sessions"]}
        self.assertEqual(got, {"Hannah Home": (hannah, "watching"),
                               "Max Managed": (maxp, "watching"),
                               "Fran Friend": (None, "ignored")}, body)
        self.set_sessions([self.session(k, m, 95, u, n) for k, m, u, n in people])
        self.wait_polls()
        self.set_sessions([])
        self.wait_polls()
        wait_for(lambda: d[1] in self.imdbs("hannah") and e[1] in self.imdbs("max"),
                 timeout=WAIT_S, what="the two plays on their own accounts")
        self.assertNotIn(e[1], self.imdbs("hannah"))
        self.assertNotIn(d[1], self.imdbs("max"))
        for acct, mine in (("hannah", d[1]), ("max", e[1])):
            calls = self.fakes.get("trakt", "/_control/scrobble_calls?account=" + acct)["calls"]
            trakt_id = {p["movie"]["ids"].get("imdb"): p["movie"]["ids"]["trakt"]
                        for p in self.history(acct) if p["type"] == "movie"}[mine]
            self.assertEqual({tuple(c["item"]) for c in calls}, {("movie", trakt_id)}, calls)
            self.assertEqual([c["action"] for c in calls][-1], "stop")
        self.assertEqual(len(self.fakes.get("trakt", "/_control/scrobble_calls")["calls"]),
                         owner_calls, "a play reached the owner's Trakt")
        self.assertEqual(self.imdbs(), owner_before)
        # Each scrobble run is in its own profile's file.
        for pid in (hannah, maxp):
            n = self.profile_row(pid, "SELECT COUNT(*) FROM runs WHERE trigger = 'scrobble'"
                                 " AND status = 'ok'")[0]
            self.assertEqual(n, 1)

    def test_a_webhook_play_of_the_home_user_lands_on_her_profile_only(self):
        g = self.movies[6]
        hannah = self.pid["1002"]
        st, body, _ = self.stack.api("GET", "/api/webhooks/plex")
        self.assertEqual(st, 200)
        owner_before = self.imdbs()
        payload = {"event": "media.scrobble", "user": False, "owner": True,
                   "Account": {"id": 1002, "title": "Hannah Home"},
                   "Server": {"title": "NAS", "uuid": self.fakes.machine_id()},
                   "Player": {"local": True, "title": "TV", "uuid": "p9"},
                   "Metadata": {"ratingKey": g[0], "type": "movie", "title": "G",
                                "Guid": [{"id": "imdb://" + g[1]}],
                                "lastViewedAt": int(time.time()) - 60}}
        raw, ct = multipart(payload)
        st, hdrs, data = self.stack.request("POST", body["url_path"], raw=raw,
                                            headers={"Content-Type": ct})
        self.assertEqual(st, 202, data)
        answer = json.loads(data)
        job = self.stack.query("SELECT profile FROM jobs WHERE id = ?", answer["job_id"])[0]
        self.assertEqual(job["profile"], hannah)
        wait_for(lambda: g[1] in self.imdbs("hannah"), timeout=WAIT_S,
                 what="the webhook play on Hannah's account")
        self.assertEqual(self.profile_row(hannah, "SELECT trigger, status FROM runs WHERE id"
                                          " = ?", answer["run_id"]), ("webhook", "ok"))
        self.assertNotIn(g[1], self.imdbs("max"))
        self.assertEqual(self.imdbs(), owner_before)
        # An unpaired account's play follows scrobble_users: ignored with "owner" (the
        # default) ...
        payload["Account"] = {"id": 2001, "title": "Fran Friend"}
        raw, ct = multipart(payload)
        st, _, data = self.stack.request("POST", body["url_path"], raw=raw,
                                         headers={"Content-Type": ct})
        self.assertEqual(st, 200, data)
        self.assertIn("another Plex account", json.loads(data)["ignored"])
        # ... and the owner's (profile 1) with "all".
        st, got, _ = self.stack.api("PUT", "/api/settings", {"scrobble_users": "all"})
        self.assertEqual(st, 200, got)
        try:
            st, _, data = self.stack.request("POST", body["url_path"], raw=raw,
                                             headers={"Content-Type": ct})
            self.assertEqual(st, 202, data)
            fran = json.loads(data)
            job = self.stack.query("SELECT profile FROM jobs WHERE id = ?", fran["job_id"])[0]
            self.assertEqual(job["profile"], 1)
            wait_for(lambda: g[1] in self.imdbs(), timeout=WAIT_S,
                     what="the unpaired play on the owner's account")
            self.assertEqual(self.imdbs("hannah").count(g[1]), 1)
        finally:
            self.stack.api("PUT", "/api/settings", {"scrobble_users": "owner"})
