"""The Plex account's watchlist (plex.tv discover + metadata, fake_plexdisc) against Trakt's,
through the real pts-worker --once (watchlist_plex_side = account, the default).

Catalog of the fake discover service: the server's new-agent movies and shows (same plex://
guid as the server copy: TRON: Legacy 5d77…c344b, The Dark Knight …c533a, Amélie …c9118,
Breaking Bad …244014, …) and every Trakt catalog movie/show the server lacks or has only under
a legacy agent (Big Buck Bunny, Sintel, Parks and Recreation, …) under made-up ids.
Trakt's watchlist in the corpus: TRON: Legacy (1) and The Dark Knight (6).
"""
import json
import time
import unittest

from fakes import Fakes
from syncenv import SyncEnvCase

FAKES = None
FAST = SyncEnvCase.FAST
ACTIONS = ("watchlist_add_trakt", "watchlist_remove_trakt", "watchlist_add_plex",
           "watchlist_remove_plex")
TRON, TDK, AMELIE = "5d77680000000000000c344b", "5d77680000000000000c533a", \
    "5d77680000000000000c9118"
BREAKING_BAD = "5d7768000000000000244014"


def setUpModule():
    global FAKES
    FAKES = AccountCase.fakes = Fakes().start()


def tearDownModule():
    FAKES.stop()


def disc_state():
    return FAKES.get("plexdisc", "/_control/state")


def disc_id(title):
    return next(e["ratingKey"] for e in disc_state()["catalog"] if e["title"] == title)


def account_titles():
    st = disc_state()
    names = {e["ratingKey"]: e["title"] for e in st["catalog"]}
    return sorted(names[rk] for rk in st["watchlist"])


def set_account(*rks):
    FAKES.post("plexdisc", "/_control/state", {"watchlist": list(rks)})


def set_trakt(*entries):
    FAKES.post("trakt", "/_control/state", {"watchlist": [
        {"type": k, k: {"ids": {"trakt": i}}} for k, i in entries]})


class AccountCase(SyncEnvCase):
    SETTINGS = {"sync_direction": "both", "sync_watched": False, "sync_watchlist": True}

    def changes(self, s, run):
        rows = s.rows("SELECT action, type, title, result, detail FROM changes WHERE run_id = ?"
                      " ORDER BY id", run["id"])
        return [r for r in rows if r["action"] in ACTIONS]

    def actions(self, s, run):
        return sorted((c["action"], c["title"], c["result"]) for c in self.changes(s, run))

    def disc_calls(self):
        return FAKES.calls("plexdisc")["calls"]

    def assert_stable(self, s):
        """A second sync changes nothing and writes nothing on either side."""
        for svc in ("plex", "trakt", "plexdisc"):
            FAKES.post(svc, "/_control/calls/reset")
        run = self.sync(s)
        self.assertEqual(self.changes(s, run), [])
        self.assertEqual(run["watchlist_changed"], 0)
        calls = self.disc_calls()
        self.assertFalse([k for k in calls if k.startswith("PUT")], calls)
        t = FAKES.calls("trakt")["calls"]
        self.assertFalse([k for k in t if k.startswith("POST /sync/watchlist")], t)
        return run


class TestAccountWatchlist(AccountCase):
    def test_both_ways_then_removals_then_stable(self):
        # Account: Amélie and Breaking Bad (on the server), Parks and Recreation (not: its ids
        # come from the metadata service). Trakt: TRON, The Dark Knight (server, plex:// guid),
        # Big Buck Bunny (server, legacy agent: found by search, confirmed by ids) and the
        # <script> title the server does not have (search).
        parks = disc_id("Parks and Recreation")
        set_account(AMELIE, BREAKING_BAD, parks)
        set_trakt(("movie", 1), ("movie", 6), ("movie", 1101), ("movie", 1299))
        s = self.env()
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [
            ("watchlist_add_plex", "<script>alert('trakt')</script>", "done"),
            ("watchlist_add_plex", "Big Buck Bunny", "done"),
            ("watchlist_add_plex", "TRON: Legacy", "done"),
            ("watchlist_add_plex", "The Dark Knight", "done"),
            ("watchlist_add_trakt", "Amélie", "done"),
            ("watchlist_add_trakt", "Breaking Bad", "done"),
            ("watchlist_add_trakt", "Parks and Recreation", "done")])
        self.assertEqual(run["watchlist_changed"], 7)
        self.assertEqual(account_titles(), sorted([
            "<script>alert('trakt')</script>", "Amélie", "Big Buck Bunny", "Breaking Bad",
            "Parks and Recreation", "TRON: Legacy", "The Dark Knight"]))
        self.assertEqual(FAKES.trakt_watchlist(), [("movie", 1), ("movie", 6), ("movie", 1101),
                                                   ("movie", 1204), ("movie", 1299), ("show", 1),
                                                   ("show", 4)])
        detail = json.loads(self.changes(s, run)[0]["detail"])
        self.assertEqual(detail, {"watchlist": "account"})
        # No collection was touched: the server is not Plex's side any more.
        self.assertEqual(FAKES.calls("plex")["calls"].get("POST /library/collections", 0), 0)
        self.assert_stable(s)

        # Taken off the Plex watchlist (Amélie) and off Trakt's (The Dark Knight).
        st = disc_state()["watchlist"]
        set_account(*[rk for rk in st if rk != AMELIE])
        wl = [w for w in FAKES.get("trakt", "/_control/state?keys=watchlist")["watchlist"]
              if (w.get("movie") or {}).get("ids", {}).get("trakt") != 6]
        FAKES.post("trakt", "/_control/state", {"watchlist": wl})
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [
            ("watchlist_remove_plex", "The Dark Knight", "done"),
            ("watchlist_remove_trakt", "Amélie", "done")])
        self.assertNotIn("The Dark Knight", account_titles())
        self.assertNotIn(("movie", 1204), FAKES.trakt_watchlist())
        self.assert_stable(s)

    def test_removal_guard(self):
        # An account watchlist that comes back empty (another account signed in, say) is not
        # four removals from Trakt: the guard refuses them and keeps the memory.
        set_account(AMELIE, BREAKING_BAD)
        s = self.env()
        self.sync(s)
        self.assertEqual(len(FAKES.trakt_watchlist()), 4)
        set_account()
        r = s.once(env=FAST)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        run = s.run_row()
        self.assertEqual([c for c in self.changes(s, run)
                          if c["action"] == "watchlist_remove_trakt"], [])
        self.assertEqual(len(FAKES.trakt_watchlist()), 4)
        self.assertIn("watchlist_remove_max_percent", r.stderr)
        self.assertEqual(len(s.rows("SELECT * FROM watchlist_state")), 4)

    def test_switching_sides_starts_the_memory_over(self):
        # A collection-side sync leaves TRON, The Dark Knight and Amélie remembered on both
        # lists. The account side's (empty) watchlist is another list: nothing is removed from
        # Trakt, everything is added to the account instead.
        FAKES.post("plex", "/_control/state", {"collections": [
            {"title": "Watchlist", "librarySectionID": 1, "items": ["104"]}]})
        s = self.env(watchlist_plex_side="collection", watchlist_remove_max_percent=100)
        self.sync(s)
        self.assertEqual(len(s.rows("SELECT * FROM watchlist_state")), 3)
        set_account()
        s.exec("UPDATE settings SET value = 'account' WHERE key = 'watchlist_plex_side'")
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [
            ("watchlist_add_plex", "Amélie", "done"),
            ("watchlist_add_plex", "TRON: Legacy", "done"),
            ("watchlist_add_plex", "The Dark Knight", "done")])
        self.assertEqual(FAKES.trakt_watchlist(), [("movie", 1), ("movie", 6), ("movie", 1204)])
        self.assertEqual(account_titles(), ["Amélie", "TRON: Legacy", "The Dark Knight"])
        self.assert_stable(s)

    def test_every_page_is_read(self):
        # Eight entries, pages of three: a reader of the first page only would miss five.
        cat = [e for e in disc_state()["catalog"] if e["type"] == "movie"][:8]
        set_account(*[e["ratingKey"] for e in cat])
        FAKES.post("plexdisc", "/_control/state", {"max_page": 3})
        set_trakt()
        s = self.env(sync_direction="plex_to_trakt")
        run = self.sync(s)
        self.assertEqual(len([c for c in self.changes(s, run)
                              if c["action"] == "watchlist_add_trakt"]), 8)
        self.assertEqual(len(FAKES.trakt_watchlist()), 8)
        # Three pages, then the newest entry alone (the next sync's quick check compares it).
        self.assertEqual(self.disc_calls().get("GET /library/sections/watchlist/all"), 4)

    def test_not_found_is_reported_and_nothing_added_by_title(self):
        # Sintel is on Trakt only; the discover search finds no entry with its ids (a title
        # match alone is never taken: "Sintel" is dropped from the results, and a look-alike
        # with other ids would not match).
        set_account()
        set_trakt(("movie", 1104))
        FAKES.post("plexdisc", "/_control/state", {"catalog_drop": [disc_id("Sintel")]})
        s = self.env()
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("watchlist_add_plex", "Sintel", "not_found")])
        self.assertGreaterEqual(run["not_found"], 1)
        self.assertEqual(account_titles(), [])
        self.assertEqual(FAKES.trakt_watchlist(), [("movie", 1104)])

    def test_already_there_counts_as_done(self):
        # The account gets TRON between the worker's read and its write: plex.tv answers the
        # add with an error, which means it is there.
        set_account()
        set_trakt(("movie", 1))
        FAKES.post("plexdisc", "/_control/faults", {"only": ["PUT /actions/addToWatchlist"],
                                                   "fail_next": [400]})
        s = self.env(sync_direction="trakt_to_plex")
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("watchlist_add_plex", "TRON: Legacy", "done")])

    def test_dry_run_writes_nothing(self):
        set_account(AMELIE)
        s = self.env()
        r = s.once("--dry-run", env=FAST)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        run = s.run_row()
        self.assertEqual(self.actions(s, run), [
            ("watchlist_add_plex", "TRON: Legacy", "planned"),
            ("watchlist_add_plex", "The Dark Knight", "planned"),
            ("watchlist_add_trakt", "Amélie", "planned")])
        self.assertFalse([k for k in self.disc_calls() if k.startswith("PUT")])
        self.assertEqual(account_titles(), ["Amélie"])
        self.assertEqual(FAKES.trakt_watchlist(), [("movie", 1), ("movie", 6)])

    def test_collection_side_leaves_the_account_alone(self):
        set_account(AMELIE)
        s = self.env(watchlist_plex_side="collection")
        self.sync(s)
        self.assertEqual(self.disc_calls(), {})
        self.assertEqual(account_titles(), ["Amélie"])

    def test_no_change_resync_calls(self):
        # Parks and Recreation is not on the server: its ids come from the metadata service
        # once, then from table plex_disc_ids.
        set_account(AMELIE, BREAKING_BAD, disc_id("Parks and Recreation"))
        set_trakt(("movie", 1))
        s = self.env()
        self.sync(s)
        self.assertEqual(self.disc_calls().get("GET /library/metadata/" +
                                               disc_id("Parks and Recreation")), 1)
        self.assert_stable(s)
        calls = self.disc_calls()
        # A no-change re-sync: one page of the account watchlist, nothing else on plex.tv.
        self.assertEqual(calls, {"GET /library/sections/watchlist/all": 1}, calls)
        self.assertEqual(len(s.rows("SELECT * FROM plex_disc_ids")), 1)


if __name__ == "__main__":
    unittest.main()
