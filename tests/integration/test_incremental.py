"""Incremental syncs with every kind on (watched, ratings, watchlist, playback; the watchlist is
the Plex account's), through the real pts-worker --once against the fakes, counting the calls
the fakes see; and Trakt's known caps read before the writes that would pass them.

The default corpus (tests/fakes/README.md): Trakt rates TRON: Legacy (trakt 1) and The Dark
Knight (6) 10, Plex rates TRON (101) 10 and Léon (113, trakt 1213) 9; Trakt's watchlist is TRON
and The Dark Knight; Trakt has Batman Begins (103, trakt 3) paused at 10 %. Three plays Plex
has are unknown to Trakt (not_found).
"""
import time
import unittest

from fakes import Fakes, next_second
from syncenv import SyncEnvCase

FAKES = None
SERVICES = ("plex", "plextv", "trakt", "tmdb", "plexdisc")
EVERY_KIND = {"sync_direction": "both", "sync_watched": True, "sync_ratings": True,
              "sync_watchlist": True, "sync_playback": True}
# The budget for a no-change re-sync with every kind on.
MAX_NO_CHANGE_CALLS = 8
AMELIE, BREAKING_BAD = "5d77680000000000000c9118", "5d7768000000000000244014"
TRON, TDK = "5d77680000000000000c344b", "5d77680000000000000c533a"


def setUpModule():
    global FAKES
    FAKES = IncrementalCase.fakes = Fakes().start()


def tearDownModule():
    FAKES.stop()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


def plex_item(rk):
    return FAKES.get("plex", "/_control/state?ratingKeys=" + rk)["items"][0]


def disc_id(title):
    st = FAKES.get("plexdisc", "/_control/state")
    return next(e["ratingKey"] for e in st["catalog"] if e["title"] == title)


def account_watchlist():
    return sorted(FAKES.get("plexdisc", "/_control/state")["watchlist"])


def reset_calls():
    for svc in SERVICES:
        FAKES.post(svc, "/_control/calls/reset")


def all_calls():
    """{"svc METHOD /path": n} over every fake."""
    out = {}
    for svc in SERVICES:
        for k, n in FAKES.calls(svc)["calls"].items():
            out[svc + " " + k] = n
    return out


def trakt_writes(calls):
    return {k: n for k, n in calls.items() if k.startswith("trakt ") and
            not k.startswith("trakt GET ")}


class IncrementalCase(SyncEnvCase):
    SETTINGS = EVERY_KIND

    def changes(self, s, run):
        return sorted((c["action"], c["title"], c["result"]) for c in s.rows(
            "SELECT action, title, result FROM changes WHERE run_id = ?", run["id"]))

    def synced_then_quiet(self, s):
        """A first sync, then a resync that must be a no-change one: the checkpoint is set."""
        self.sync(s)
        reset_calls()
        run = self.sync(s)
        self.assertEqual(self.changes(s, run), [])
        reset_calls()
        next_second()


class TestNoChange(IncrementalCase):
    def test_second_sync_writes_nothing_within_the_budget(self):
        s = self.env()
        first = self.sync(s)
        self.assertEqual(first["added_to_trakt"], 17)
        self.assertEqual(first["not_found"], 3)
        reset_calls()
        run = self.sync(s)
        calls = all_calls()
        total = sum(calls.values())
        print("\nno-change resync, every kind on: %d upstream calls %s" % (total, calls))
        # Nothing is written to Trakt: not even the plays Trakt did not know last time.
        self.assertEqual(trakt_writes(calls), {})
        self.assertEqual(self.changes(s, run), [])
        self.assertLessEqual(total, MAX_NO_CHANGE_CALLS, calls)
        # And it stays so.
        reset_calls()
        self.sync(s)
        self.assertEqual(trakt_writes(all_calls()), {})
        self.assertLessEqual(sum(all_calls().values()), MAX_NO_CHANGE_CALLS)

    def test_plays_trakt_did_not_know_are_not_posted_again_until_a_full_sync(self):
        s = self.env()
        self.sync(s)
        next_second()
        # A new view in Plex: a full read, which sends that play only.
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "55", "viewCount": 1, "lastViewedAt": int(time.time())}]})
        reset_calls()
        run = self.sync(s)
        self.assertEqual(run["added_to_trakt"], 1)
        self.assertEqual(FAKES.calls("trakt")["calls"].get("POST /sync/history"), 1)
        self.assertEqual([c for c in self.changes(s, run) if c[0] == "add_play_trakt"],
                         [("add_play_trakt", "Big Buck Bunny", "done")])
        # Still counted as plays Trakt lacks.
        self.assertEqual(run["not_found"], 3)
        # --full sends them again (Trakt may know them by now).
        run = self.sync(s, "--full")
        self.assertEqual(sorted(c[2] for c in self.changes(s, run)
                                if c[0] == "add_play_trakt"), ["not_found"] * 3)


class TestEachKindMoves(IncrementalCase):
    """Change one thing on one side: it is synced, and the lists of the other kinds are not
    read."""

    def lists_read(self):
        t = FAKES.calls("trakt")["calls"]
        return sorted(k for k in ("GET /sync/ratings", "GET /sync/watchlist",
                                  "GET /sync/playback") if t.get(k))

    def test_rating_on_trakt(self):
        s = self.env()
        self.synced_then_quiet(s)
        ratings = [r for r in FAKES.trakt_state("ratings") if r["movie"]["ids"]["trakt"] != 1213]
        ratings.append({"type": "movie", "rating": 3, "rated_at": iso(time.time()),
                        "movie": {"ids": {"trakt": 1213}}})
        FAKES.post("trakt", "/_control/state", {"ratings": ratings})
        run = self.sync(s)
        self.assertEqual(self.changes(s, run), [("rate_plex", "Léon", "done")])
        self.assertEqual(plex_item("113")["userRating"], 3.0)
        self.assertEqual(self.lists_read(), ["GET /sync/ratings"])

    def test_rating_in_plex(self):
        s = self.env()
        self.synced_then_quiet(s)
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "104", "userRating": 8.0}]})
        run = self.sync(s)
        self.assertEqual(self.changes(s, run), [("rate_trakt", "Amélie", "done")])
        self.assertEqual(FAKES.trakt_ratings()[1204], 8)
        self.assertEqual(self.lists_read(), ["GET /sync/ratings"])

    def test_watchlist_on_trakt(self):
        s = self.env()
        self.synced_then_quiet(s)
        wl = FAKES.trakt_state("watchlist")
        FAKES.post("trakt", "/_control/state", {"watchlist": [
            {"type": w["type"], w["type"]: {"ids": {"trakt": w[w["type"]]["ids"]["trakt"]}}}
            for w in wl] + [{"type": "movie", "movie": {"ids": {"trakt": 1204}}}]})
        run = self.sync(s)
        self.assertEqual(self.changes(s, run), [("watchlist_add_plex", "Amélie", "done")])
        self.assertIn(AMELIE, account_watchlist())
        self.assertEqual(self.lists_read(), ["GET /sync/watchlist"])

    def test_watchlist_in_the_plex_account(self):
        s = self.env()
        self.synced_then_quiet(s)
        FAKES.post("plexdisc", "/_control/state", {"watchlist": [BREAKING_BAD, TRON, TDK]})
        run = self.sync(s)
        self.assertEqual(self.changes(s, run), [("watchlist_add_trakt", "Breaking Bad",
                                                 "done")])
        self.assertIn(("show", 1), FAKES.trakt_watchlist())
        self.assertEqual(self.lists_read(), ["GET /sync/watchlist"])
        # A removal in the account (the size moves): Trakt follows.
        reset_calls()
        self.sync(s)
        FAKES.post("plexdisc", "/_control/state", {"watchlist": [TRON, TDK]})
        run = self.sync(s)
        self.assertEqual(self.changes(s, run), [("watchlist_remove_trakt", "Breaking Bad",
                                                 "done")])
        self.assertNotIn(("show", 1), FAKES.trakt_watchlist())

    def test_resume_point_on_trakt(self):
        s = self.env()
        self.synced_then_quiet(s)
        pb = [p for p in FAKES.trakt_state("playback") if p["type"] != "movie"]
        pb.append({"type": "movie", "progress": 50, "paused_at": iso(time.time()),
                   "movie": {"ids": {"trakt": 3}}})
        FAKES.post("trakt", "/_control/state", {"playback": pb})
        run = self.sync(s)
        self.assertEqual(self.changes(s, run), [("playback_plex", "Batman Begins", "done")])
        self.assertEqual(plex_item("103")["viewOffset"], 4200000)
        self.assertEqual(self.lists_read(), ["GET /sync/playback"])

    def test_resume_point_in_plex(self):
        s = self.env()
        self.synced_then_quiet(s)
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "103", "viewOffset": 5040000}]})
        run = self.sync(s)
        self.assertEqual(self.changes(s, run), [("playback_trakt", "Batman Begins", "done")])
        pb = [p for p in FAKES.trakt_state("playback") if p["type"] == "movie"
              and p["movie"]["ids"]["trakt"] == 3]
        self.assertAlmostEqual(pb[0]["progress"], 60.0, places=2)
        # A view moves lastViewedAt: the playback list is read with the watched state.
        self.assertEqual(self.lists_read(), ["GET /sync/playback"])

    def test_play_on_trakt_and_a_view_in_plex(self):
        s = self.env()
        self.synced_then_quiet(s)
        # Parasite (116, unwatched in Plex) played on Trakt; Big Buck Bunny (55) viewed in Plex.
        hist = FAKES.trakt_state("history")
        hist.append({"type": "movie", "watched_at": iso(time.time() - 60),
                     "movie": {"ids": {"trakt": 1216}}})
        FAKES.post("trakt", "/_control/state", {"history": hist})
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "55", "viewCount": 1, "lastViewedAt": int(time.time())}]})
        run = self.sync(s)
        self.assertEqual((run["added_to_trakt"], run["added_to_plex"]), (1, 1))
        self.assertEqual(plex_item("116").get("viewCount"), 1)
        # A view moves lastViewedAt, which resume points move too: playback is read; the
        # ratings and the watchlist are not.
        self.assertEqual(self.lists_read(), ["GET /sync/playback"])


class TestKnownCaps(IncrementalCase):
    def test_watchlist_additions_past_the_cap_are_not_attempted(self):
        # Trakt: TRON and The Dark Knight, cap 3. The account adds four more.
        FAKES.post("trakt", "/_control/state", {"watchlist_cap": 3})
        adds = [AMELIE, BREAKING_BAD, disc_id("Inception"), disc_id("The Matrix")]
        FAKES.post("plexdisc", "/_control/state", {"watchlist": adds + [TRON, TDK]})
        s = self.env(sync_watched=False, sync_ratings=False, sync_playback=False)
        run = self.sync(s)
        calls = FAKES.calls("trakt")["calls"]
        # One POST, with what fits; the cap was read before it; no 420 answer came back.
        self.assertEqual(calls.get("POST /sync/watchlist"), 1)
        self.assertEqual(calls.get("GET /users/settings"), 1)
        self.assertEqual(len(FAKES.trakt_watchlist()), 3)
        results = sorted(c[2] for c in self.changes(s, run) if c[0] == "watchlist_add_trakt")
        self.assertEqual(results, ["done", "failed", "failed", "failed"])
        warnings = s.rows("SELECT warnings FROM runs WHERE id = ?", run["id"])[0]["warnings"]
        self.assertIn("watchlist", warnings)
        self.assertIn("3 items, 2 on Trakt", warnings)
        self.assertIn("3 items left undone", warnings)
        self.assertNotIn("(420)", warnings)
        # Not in step: the next sync reads the watchlist again and still sends nothing past it.
        reset_calls()
        run = self.sync(s)
        self.assertEqual(FAKES.calls("trakt")["calls"].get("POST /sync/watchlist", 0), 0)
        self.assertEqual(len(FAKES.trakt_watchlist()), 3)
        # Room again (a higher cap): the rest goes, and the warning is gone.
        FAKES.post("trakt", "/_control/state", {"watchlist_cap": 10})
        run = self.sync(s)
        self.assertEqual(len(FAKES.trakt_watchlist()), 6)
        self.assertEqual(s.run_row()["warnings"] in (None, "", "[]"), True)


if __name__ == "__main__":
    unittest.main()
