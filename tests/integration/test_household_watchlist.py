"""Households: each person's own Plex account watchlist, through the real stack
(docs/UPSTREAM.md "The other people on a server", "Plex account watchlist").

plex.tv's discover service keeps the watchlist of a plex.tv account and takes that account's
token, never a server token. The worker switches to every Home and managed user once per
refresh for their account token (plex_users.account_token, the profile's
auth.account_token) and sends it to the discover service; a friend has none, so a friend's
profile says why its account watchlist cannot be read and syncs its other kinds.

The household here: the owner (1001), Hannah (1002, a Home user without a PIN, in
shared_servers), Max (1003, managed, missing from shared_servers: his server token comes
from his resources, read with the same switch) and Fran (2001, a friend). The fake discover
(fake_plexdisc) keeps one watchlist per account; each person has a Trakt account of their own
in the fake Trakt.
"""
import json
import time
import unittest

from household import HouseholdMixin, profile_db, set_trakt
from stack import wait_for
from syncenv import OwnStackCase

OWNER_TOKEN = "plex-token-1"
SERVER_TOKENS = ("plex-token-hannah", "plex-token-max", "plex-token-fran")
TRON, TDK, AMELIE = "5d77680000000000000c344b", "5d77680000000000000c533a", \
    "5d77680000000000000c9118"
FRAN_NO_ACCOUNT = ("Fran Friend has no Plex account token: a friend's or PIN-protected Home"
                   " user's account watchlist cannot be read; choose watchlist_plex_side ="
                   " collection")


def household(owner):
    return [
        {"id": "1001", "title": owner, "username": owner, "kind": "owner"},
        {"id": "1002", "title": "Hannah Home", "username": "hannah", "kind": "home",
         "server_token": "plex-token-hannah", "shared": True},
        {"id": "1003", "title": "Max Managed", "username": "", "kind": "managed",
         "server_token": "plex-token-max", "shared": False},
        {"id": "2001", "title": "Fran Friend", "username": "fran", "kind": "shared",
         "server_token": "plex-token-fran", "shared": True},
    ]


class AccountWatchlistCase(HouseholdMixin, OwnStackCase):
    stack_env = {"PTS_TRAKT_POST_INTERVAL_MS": "0"}

    def setUp(self):
        self.fakes.reset()
        self.fakes.post("trakt", "/_control/state", {"enforce_post_rate": False})
        owner = self.fakes.get("plextv", "/_control/state")["username"]
        self.fakes.post("plextv", "/_control/state", {"household": household(owner)})
        self.reset_household(OWNER_TOKEN)
        self.trakt_tokens = {}
        self.refresh()

    # ---- helpers ----
    def add_profile(self, name, uid, account, **settings):
        """A profile for Plex user uid with its own Trakt account and these settings."""
        pid = self.create_profile(name, uid)
        tok = self.fakes.post("trakt", "/_control/token", {"account": account})
        self.trakt_tokens[account] = tok["access_token"]
        set_trakt(self.stack.data, pid, tok, account)
        vals = {"sync_direction": "both", "sync_watched": False, "sync_watchlist": True}
        vals.update(settings)
        st, body, _ = self.stack.api("PUT", "/api/settings?profile=%d" % pid, vals)
        self.assertEqual(st, 200, body)
        return pid

    def imdb_of(self, rk):
        cat = self.fakes.get("plexdisc", "/_control/state")["catalog"]
        e = next(e for e in cat if e["ratingKey"] == rk)
        return next(g["id"][7:] for g in e["Guid"] if g["id"].startswith("imdb://"))

    def trakt_post(self, account, path, body):
        return self.fakes.trakt_as(self.trakt_tokens[account], path, body)

    def trakt_watchlist(self, account=""):
        st = self.fakes.get("trakt", "/_control/state?keys=watchlist&account=" + account)
        return sorted(w["movie"]["ids"]["imdb"] for w in st["watchlist"] if w.get("movie"))

    def plex_lists(self):
        """{"owner": [...], "1002": [...], ...}: every account's watchlist, sorted."""
        st = self.fakes.get("plexdisc", "/_control/state")
        out = {u: sorted(wl) for u, wl in st["watchlists"].items()}
        out["owner"] = sorted(st["watchlist"])
        return out

    def all_logs(self):
        conn = self.stack.db()
        try:
            text = "\n".join(r[0] for r in conn.execute("SELECT message FROM log"))
        finally:
            conn.close()
        for pid in self.pids:
            conn = profile_db(self.stack.data, pid)
            try:
                text += "\n".join(r[0] for r in conn.execute("SELECT message FROM log"))
            finally:
                conn.close()
        with open(self.stack.log_path, errors="replace") as f:
            return text + f.read()

    # ---- tests ----
    def test_each_person_syncs_their_own_account_watchlist_both_ways(self):
        hannah = self.add_profile("Hannah", "1002", "hannah")
        maxp = self.add_profile("Max", "1003", "max")
        self.pids = (hannah, maxp)
        # One switch per Home or managed person and refresh, whatever shared_servers says;
        # Max's resources are read with his.
        self.fakes.post("plextv", "/_control/calls/reset")
        self.refresh()
        calls = self.fakes.calls("plextv")["calls"]
        self.assertEqual({k: n for k, n in calls.items() if k.endswith("/switch") or
                          "resources" in k},
                         {"POST /api/home/users/1002/switch": 1,
                          "POST /api/home/users/1003/switch": 1,
                          "GET /api/v2/resources": 1}, calls)
        conn = self.stack.db()
        try:
            acct = dict(conn.execute("SELECT id, account_token FROM plex_users"))
        finally:
            conn.close()
        self.assertTrue(acct["1002"].startswith("plextv-acct-1002-"), acct)
        self.assertTrue(acct["1003"].startswith("plextv-acct-1003-"), acct)
        self.assertIsNone(acct["1001"])
        self.assertIsNone(acct["2001"])
        for pid, uid, server in ((hannah, "1002", "plex-token-hannah"),
                                 (maxp, "1003", "plex-token-max")):
            self.assertEqual(self.profile_row(pid, "SELECT access_token, account_token FROM"
                                              " auth WHERE service = 'plex'"),
                             (server, acct[uid]))
        st, body, _ = self.stack.api("GET", "/api/plex/users")
        self.assertEqual(st, 200)
        self.assertNotIn("plextv-acct-", json.dumps(body))

        # Each account's own Plex watchlist and Trakt watchlist.
        self.fakes.post("plexdisc", "/_control/state", {"watchlist": [TRON]})
        self.fakes.post("plexdisc", "/_control/state", {"user": "1002", "watchlist": [AMELIE]})
        self.fakes.post("plexdisc", "/_control/state", {"user": "1003", "watchlist": [TDK]})
        self.trakt_post("hannah", "/sync/watchlist", {"movies": [{"ids": {
            "imdb": self.imdb_of(TDK)}}]})
        self.trakt_post("max", "/sync/watchlist", {"movies": [{"ids": {
            "imdb": self.imdb_of(TRON)}}]})
        owner_trakt = self.trakt_watchlist()
        tron, tdk, amelie = self.imdb_of(TRON), self.imdb_of(TDK), self.imdb_of(AMELIE)

        got = self.run_sync(hannah)
        self.assertEqual((got["changed"], got["errors"], got["warnings"]), (2, 0, []), got)
        self.assertEqual(self.plex_lists(), {"owner": [TRON], "1002": sorted([AMELIE, TDK]),
                                             "1003": [TDK]})
        self.assertEqual(self.trakt_watchlist("hannah"), sorted([amelie, tdk]))
        self.assertEqual(self.trakt_watchlist("max"), [tron])

        got = self.run_sync(maxp)
        self.assertEqual((got["changed"], got["errors"], got["warnings"]), (2, 0, []), got)
        self.assertEqual(self.plex_lists(), {"owner": [TRON], "1002": sorted([AMELIE, TDK]),
                                             "1003": sorted([TDK, TRON])})
        self.assertEqual(self.trakt_watchlist("max"), sorted([tdk, tron]))
        self.assertEqual(self.trakt_watchlist("hannah"), sorted([amelie, tdk]))
        self.assertEqual(self.trakt_watchlist(), owner_trakt)

        # A second sync of each changes nothing.
        for pid in (hannah, maxp):
            got = self.run_sync(pid)
            self.assertEqual((got["changed"], got["errors"]), (0, 0), got)
        self.assertEqual(self.plex_lists(), {"owner": [TRON], "1002": sorted([AMELIE, TDK]),
                                             "1003": sorted([TDK, TRON])})
        self.assertEqual(self.trakt_watchlist("hannah"), sorted([amelie, tdk]))
        self.assertEqual(self.trakt_watchlist("max"), sorted([tdk, tron]))
        self.assertEqual(self.trakt_watchlist(), owner_trakt)
        logs = self.all_logs()
        for tok in SERVER_TOKENS + (OWNER_TOKEN, "plextv-acct-"):
            self.assertNotIn(tok, logs)

    def test_a_friends_account_watchlist_is_refused_with_the_reason_and_plays_still_sync(self):
        fran = self.add_profile("Fran", "2001", "fran", sync_watched=True)
        self.pids = (fran,)
        self.assertEqual(self.profile_row(fran, "SELECT access_token, account_token FROM auth"
                                          " WHERE service = 'plex'"), ("plex-token-fran", None))
        items = self.fakes.get("plex", "/_control/state")["items"]
        movie = next(it for it in items if it["type"] == "movie" and it.get("guid") ==
                     "plex://movie/" + TDK)
        self.fakes.post("plex", "/_control/state", {"user_views": {
            "2001": {movie["ratingKey"]: {"viewCount": 1,
                                          "lastViewedAt": int(time.time()) - 86400}}}})
        self.fakes.post("plexdisc", "/_control/state", {"watchlist": [TRON]})
        before = self.fakes.calls("plexdisc")["total"]

        got = self.run_sync(fran)
        self.assertEqual(got["warnings"], ["watchlist: " + FRAN_NO_ACCOUNT], got)
        self.assertEqual(got["errors"], 1, got)
        # Her plays went on to her own Trakt account.
        hist = self.fakes.get("trakt", "/_control/history?account=fran")["history"]
        self.assertEqual([p["movie"]["ids"]["imdb"] for p in hist if p["type"] == "movie"],
                         [self.imdb_of(TDK)])
        # Nothing was asked of the discover service with her server token, nothing moved.
        self.assertEqual(self.fakes.calls("plexdisc")["total"], before)
        self.assertEqual(self.plex_lists(), {"owner": [TRON]})
        self.assertEqual(self.trakt_watchlist("fran"), [])
        st, runs, _ = self.stack.api("GET", "/api/runs?profile=%d" % fran)
        self.assertEqual(st, 200)
        self.assertIn(FRAN_NO_ACCOUNT, json.dumps(runs))
        logs = self.all_logs()
        self.assertIn(FRAN_NO_ACCOUNT, logs)
        for tok in SERVER_TOKENS + (OWNER_TOKEN, "plextv-acct-"):
            self.assertNotIn(tok, logs)


if __name__ == "__main__":
    unittest.main()
