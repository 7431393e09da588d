"""Ratings, watchlist and playback progress through the real pts-worker --once against the fakes.

What the default corpus holds (tests/fakes/README.md):
  ratings    Trakt: TRON: Legacy (Plex 101, 4K copy 302) and The Dark Knight (102, 4K copy 301)
             rated 10. Plex: TRON 10, Léon (113) 9.
  watchlist  Trakt: TRON and The Dark Knight. Plex: no collection (tests make one).
  playback   Trakt: Batman Begins (103) 10 % paused in 2015 (Plex: 7.1 %, no lastViewedAt);
             Breaking Bad S00E01 65.5 % (watched in Plex since). Plex: The 100 S02E01 (204)
             at 33.3 %, nothing on Trakt.
The Plex side of the watchlist is a collection named by the setting watchlist_collection in
each library (worker/sync/sync_watchlist.h). Every sync here runs with sync_direction "both"
unless a test says otherwise.
"""
import json
import os
import subprocess
import time
import unittest

from fakes import Fakes, next_second
from stack import BUILD
from syncenv import WORKER, SyncEnvCase

CGI = os.path.join(BUILD, "cgi", "pts-cgi")

FAKES = None
FAST = SyncEnvCase.FAST
FEATURE_ACTIONS = ("rate_trakt", "rate_plex", "watchlist_add_trakt", "watchlist_remove_trakt",
                   "watchlist_add_plex", "watchlist_remove_plex", "playback_trakt",
                   "playback_plex", "playback_remove_trakt")
# Upstream writes the features make (calls counted by the fakes).
TRAKT_WRITES = ("POST /sync/ratings", "POST /sync/ratings/remove", "POST /sync/watchlist",
                "POST /sync/watchlist/remove", "POST /scrobble/pause")
PLEX_WRITES = ("PUT /:/rate", "PUT /:/progress", "POST /library/collections")


def setUpModule():
    global FAKES
    FAKES = FeatureCase.fakes = Fakes().start()


def tearDownModule():
    FAKES.stop()


def trakt_playback():
    """{("movie", trakt id) | ("episode", show trakt id, season, number): (progress, paused_at)}"""
    out = {}
    for p in FAKES.trakt_state("playback"):
        if p["type"] == "movie":
            key = ("movie", p["movie"]["ids"]["trakt"])
        else:
            key = ("episode", p["show"]["ids"]["trakt"], p["episode"]["season"],
                   p["episode"]["number"])
        out[key] = (p["progress"], p["paused_at"])
    return out


def plex_items(*rks):
    items = FAKES.get("plex", "/_control/state?ratingKeys=" + ",".join(rks))["items"]
    return {it["ratingKey"]: it for it in items}


def collections():
    """{section id: sorted member rating keys} of the Plex collections named Watchlist."""
    st = FAKES.get("plex", "/_control/state?items=0")
    return {c["librarySectionID"]: sorted(c["items"]) for c in st["collections"]
            if c["title"] == "Watchlist"}


def api(s, method, path, body=None):
    """One request to pts-cgi in plain CGI mode on the env's data folder -> (status, JSON)."""
    data = json.dumps(body).encode() if body is not None else b""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PTS_DATA_DIR": s.data,
           "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method, "REQUEST_URI": path,
           "QUERY_STRING": "", "HTTP_HOST": "127.0.0.1:8080", "CONTENT_TYPE": "application/json",
           "CONTENT_LENGTH": str(len(data)), "HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
    r = subprocess.run([CGI], input=data, env=env, capture_output=True, timeout=30)
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    status = int(head.split(b"\r\n")[0].split()[1])
    return status, json.loads(body)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


class FeatureCase(SyncEnvCase):
    SETTINGS = {"sync_direction": "both", "sync_watched": False}

    def fail_next(self, svc, what, n=4):
        """The next n requests matching what fail with 500 (every try of one write)."""
        FAKES.post(svc, "/_control/faults", {"only": [what], "fail_next": [500] * n})

    def changes(self, s, run):
        rows = s.rows("SELECT action, type, title, show, season, episode, result, detail"
                      " FROM changes WHERE run_id = ? ORDER BY id", run["id"])
        return [r for r in rows if r["action"] in FEATURE_ACTIONS]

    def actions(self, s, run):
        return sorted((c["action"], c["title"]) for c in self.changes(s, run))

    def writes(self):
        t, p = FAKES.calls("trakt")["calls"], FAKES.calls("plex")["calls"]
        out = {k: t.get(k, 0) for k in TRAKT_WRITES if t.get(k)}
        out.update({k: p.get(k, 0) for k in PLEX_WRITES if p.get(k)})
        out.update({k: n for k, n in p.items() if k.startswith(("PUT /library/collections",
                                                                  "DELETE /library/"))})
        out.update({k: n for k, n in t.items() if k.startswith("DELETE /sync/playback/")})
        return out

    def assert_stable(self, s):
        """A second sync changes nothing and writes nothing."""
        for svc in ("plex", "trakt"):
            FAKES.post(svc, "/_control/calls/reset")
        run = self.sync(s)
        self.assertEqual(self.changes(s, run), [])
        self.assertEqual(self.writes(), {})
        for col in ("ratings_changed", "watchlist_changed", "playback_changed"):
            self.assertEqual(run[col], 0, col)


class TestRatings(FeatureCase):
    def test_both_ways_then_stable(self):
        s = self.env(sync_ratings=True, sync_watched=True)
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [
            ("rate_plex", "TRON: Legacy"), ("rate_plex", "The Dark Knight"),
            ("rate_plex", "The Dark Knight"), ("rate_trakt", "Léon")])
        self.assertTrue(all(c["result"] == "done" for c in self.changes(s, run)))
        self.assertEqual(run["ratings_changed"], 4)
        # Plex → Trakt: Léon's 9; Trakt → Plex: every copy of The Dark Knight and the 4K TRON.
        self.assertEqual(FAKES.trakt_ratings(), {1: 10, 6: 10, 1213: 9})
        rates = {r["ratingKey"]: r["rating"]
                 for r in FAKES.get("plex", "/_control/scrobbles")["rates"]}
        self.assertEqual(rates, {"102": 10.0, "301": 10.0, "302": 10.0})
        leon = [c for c in self.changes(s, run) if c["action"] == "rate_trakt"][0]
        self.assertEqual(json.loads(leon["detail"]), {"rating": 9, "was": None})
        # One batch for the Trakt side.
        self.assertEqual(FAKES.calls("trakt")["calls"].get("POST /sync/ratings"), 1)
        # The watched sync ran as well.
        self.assertEqual(run["added_to_trakt"], 17)
        # The API shows the counter and what each change set.
        st, body = api(s, "GET", "/api/runs?limit=1")
        self.assertEqual(st, 200)
        self.assertEqual(body["runs"][0]["ratings_changed"], 4)
        st, body = api(s, "GET", "/api/runs/%d/changes" % run["id"])
        leon = [c for c in body["changes"] if c["action"] == "rate_trakt"]
        self.assertEqual([c["detail"] for c in leon], [{"rating": 9, "was": None}])
        self.assert_stable(s)

    def test_settings_are_validated(self):
        s = self.env()
        st, body = api(s, "PUT", "/api/settings", {"ratings_conflict": "oldest",
                                                   "watchlist_collection": "",
                                                   "watchlist_remove_max_percent": 101})
        self.assertEqual(st, 400)
        self.assertEqual(sorted(body["error"]["fields"]), [
            "ratings_conflict", "watchlist_collection", "watchlist_remove_max_percent"])
        st, body = api(s, "PUT", "/api/settings", {"ratings_conflict": "trakt",
                                                   "watchlist_collection": "À voir",
                                                   "watchlist_remove_max_percent": 0})
        self.assertEqual(st, 200)
        self.assertEqual((body["ratings_conflict"], body["watchlist_collection"],
                          body["watchlist_remove_max_percent"]), ("trakt", "À voir", 0))

    def test_plex_scale_rounds_and_unrated_is_not_a_rating(self):
        s = self.env(sync_ratings=True, sync_direction="plex_to_trakt")
        # Half stars round; 0 is "unrated" in Plex.
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "104", "userRating": 7.5}, {"ratingKey": "106", "userRating": 0.0},
            {"ratingKey": "113", "userRating": None}]})
        self.sync(s)
        self.assertEqual(FAKES.trakt_ratings(), {1: 10, 6: 10, 1204: 8})
        # A rating taken away in Plex is not taken off Trakt.
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "104", "userRating": None}]})
        run = self.sync(s)
        self.assertEqual(FAKES.trakt_ratings(), {1: 10, 6: 10, 1204: 8})
        self.assertEqual(FAKES.calls("trakt")["calls"].get("POST /sync/ratings/remove", 0), 0)
        self.assertEqual(self.changes(s, run), [])

    def test_conflicts_newest_wins(self):
        s = self.env(sync_ratings=True)
        self.sync(s)
        next_second()
        # Léon changed in Plex after the last sync: Plex is newer → Trakt follows.
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "113", "userRating": 6.0}]})
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("rate_trakt", "Léon")])
        self.assertEqual(FAKES.trakt_ratings()[1213], 6)
        # TRON re-rated on Trakt now; Plex's 10 is older → both Plex copies follow.
        ratings = [r for r in FAKES.trakt_state("ratings") if r["movie"]["ids"]["trakt"] != 1]
        ratings.append({"type": "movie", "rating": 7, "rated_at": iso(time.time()),
                        "movie": {"ids": {"trakt": 1}}})
        FAKES.post("trakt", "/_control/state", {"ratings": ratings})
        FAKES.post("plex", "/_control/scrobbles/reset")
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("rate_plex", "TRON: Legacy"),
                                                ("rate_plex", "TRON: Legacy")])
        self.assertEqual({k: v["userRating"] for k, v in plex_items("101", "302").items()},
                         {"101": 7.0, "302": 7.0})
        self.assertEqual(FAKES.trakt_ratings()[1], 7)
        self.assert_stable(s)

    def test_conflict_rule_setting(self):
        s = self.env(sync_ratings=True, ratings_conflict="plex")
        self.sync(s)
        ratings = [r for r in FAKES.trakt_state("ratings") if r["movie"]["ids"]["trakt"] != 1]
        ratings.append({"type": "movie", "rating": 3, "rated_at": iso(time.time()),
                        "movie": {"ids": {"trakt": 1}}})
        FAKES.post("trakt", "/_control/state", {"ratings": ratings})
        run = self.sync(s)
        # Plex always wins: its 10 goes back to Trakt, Plex is not touched.
        self.assertEqual(self.actions(s, run), [("rate_trakt", "TRON: Legacy")])
        self.assertEqual(FAKES.trakt_ratings()[1], 10)
        self.assertEqual(plex_items("101")["101"]["userRating"], 10.0)


    def test_failed_write_is_counted_and_made_next_time(self):
        s = self.env(sync_ratings=True)
        self.fail_next("plex", "PUT /:/rate", 4)
        run = self.sync(s, errors=1)
        results = sorted((c["action"], c["result"]) for c in self.changes(s, run))
        self.assertEqual(results, [("rate_plex", "done"), ("rate_plex", "done"),
                                   ("rate_plex", "failed"), ("rate_trakt", "done")])
        FAKES.post("plex", "/_control/faults/reset")
        run = self.sync(s)
        self.assertEqual([(c["action"], c["result"]) for c in self.changes(s, run)],
                         [("rate_plex", "done")])
        self.assert_stable(s)


class CollectionCase(FeatureCase):
    """watchlist_plex_side = collection: a server collection stands for Plex's watchlist,
    which holds Amélie in Movies and Breaking Bad in TV Shows when a test starts."""

    def env(self, **settings):
        settings.setdefault("watchlist_plex_side", "collection")
        return super().env(**settings)

    def setUp(self):
        super().setUp()
        FAKES.post("plex", "/_control/state", {"collections": [
            {"title": "Watchlist", "librarySectionID": 1, "items": ["104"]},
            {"title": "Watchlist", "librarySectionID": 2, "items": ["300"]}]})


class TestWatchlist(CollectionCase):
    """watchlist_plex_side = collection: a server collection stands for Plex's watchlist."""

    def test_both_ways_additions_removals_then_stable(self):
        s = self.env(sync_watchlist=True)
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [
            ("watchlist_add_plex", "TRON: Legacy"), ("watchlist_add_plex", "The Dark Knight"),
            ("watchlist_add_trakt", "Amélie"), ("watchlist_add_trakt", "Breaking Bad")])
        self.assertEqual(run["watchlist_changed"], 4)
        self.assertEqual(FAKES.trakt_watchlist(), [("movie", 1), ("movie", 6), ("movie", 1204),
                                                   ("show", 1)])
        # The first copy (Movies, not 4K Movies) joined the collection.
        self.assertEqual(collections(), {1: ["101", "102", "104"], 2: ["300"]})
        show = [c for c in self.changes(s, run) if c["title"] == "Breaking Bad"][0]
        self.assertEqual(show["type"], "show")
        self.assertEqual(json.loads(show["detail"]), {"collection": "Watchlist"})
        self.assert_stable(s)

        # Removed in Plex (The Dark Knight) and on Trakt (Amélie): each side follows.
        FAKES.post("plex", "/_control/state", {"collections": [
            {"title": "Watchlist", "librarySectionID": 1, "items": ["101", "104"]},
            {"title": "Watchlist", "librarySectionID": 2, "items": ["300"]}]})
        wl = [w for w in FAKES.trakt_state("watchlist") if (w.get("movie") or {}).get(
            "ids", {}).get("trakt") != 1204]
        FAKES.post("trakt", "/_control/state", {"watchlist": wl})
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("watchlist_remove_plex", "Amélie"),
                                                ("watchlist_remove_trakt", "The Dark Knight")])
        self.assertEqual(FAKES.trakt_watchlist(), [("movie", 1), ("show", 1)])
        self.assertEqual(collections()[1], ["101"])
        self.assert_stable(s)

    def test_failed_removal_is_not_taken_for_an_addition(self):
        s = self.env(sync_watchlist=True)
        self.sync(s)
        wl = [w for w in FAKES.trakt_state("watchlist") if (w.get("movie") or {}).get(
            "ids", {}).get("trakt") != 1204]
        FAKES.post("trakt", "/_control/state", {"watchlist": wl})
        self.fail_next("plex", "DELETE /library/collections", 4)
        run = self.sync(s, errors=1)
        self.assertEqual([(c["action"], c["result"]) for c in self.changes(s, run)],
                         [("watchlist_remove_plex", "failed")])
        self.assertIn("104", collections()[1])
        # Amélie is still in Plex and not on Trakt: it was removed on Trakt, not added in Plex.
        FAKES.post("plex", "/_control/faults/reset")
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("watchlist_remove_plex", "Amélie")])
        self.assertNotIn(("movie", 1204), FAKES.trakt_watchlist())
        self.assert_stable(s)

    def test_new_collection_and_one_way(self):
        FAKES.post("plex", "/_control/state", {"collections": []})
        s = self.env(sync_watchlist=True, sync_direction="trakt_to_plex",
                     watchlist_collection="To Watch")
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("watchlist_add_plex", "TRON: Legacy"),
                                                ("watchlist_add_plex", "The Dark Knight")])
        cols = FAKES.get("plex", "/_control/state?items=0")["collections"]
        self.assertEqual([(c["title"], c["librarySectionID"], sorted(c["items"]))
                          for c in cols], [("To Watch", 1, ["101", "102"])])
        self.assertEqual(FAKES.calls("trakt")["calls"].get("POST /sync/watchlist", 0), 0)
        self.assert_stable(s)

    def test_removal_guard(self):
        s = self.env(sync_watchlist=True)
        self.sync(s)
        self.assertEqual(len(FAKES.trakt_watchlist()), 4)
        # The collection is gone (renamed, deleted): that is not four removals.
        FAKES.post("plex", "/_control/state", {"collections": []})
        r = s.once(env=FAST)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        run = s.run_row()
        self.assertEqual(self.changes(s, run), [])
        self.assertEqual(len(FAKES.trakt_watchlist()), 4)
        self.assertIn("none removed", r.stderr)
        self.assertEqual(FAKES.calls("trakt")["calls"].get("POST /sync/watchlist/remove", 0), 0)
        # Still refused on the next run (the memory was kept) ...
        run = self.sync(s)
        self.assertEqual(self.changes(s, run), [])
        # ... until the share allows it.
        s.set("watchlist_remove_max_percent", 100)
        run = self.sync(s)
        self.assertEqual(len([c for c in self.changes(s, run)
                              if c["action"] == "watchlist_remove_trakt"]), 4)
        self.assertEqual(FAKES.trakt_watchlist(), [])
        self.assert_stable(s)


class TestPlayback(FeatureCase):
    def test_both_ways_then_stable(self):
        s = self.env(sync_playback=True)
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("playback_plex", "Batman Begins"),
                                                ("playback_remove_trakt", "Good Cop Bad Cop"),
                                                ("playback_trakt", "The 48")])
        # Plex 7.1 % (age unknown) < Trakt's 10 %: forward to 10 % of 8,400,000 ms.
        self.assertEqual(plex_items("103")["103"]["viewOffset"], 840000)
        ep = trakt_playback()[("episode", 2001, 2, 1)]
        self.assertAlmostEqual(ep[0], 33.33, places=2)
        # Breaking Bad S00E01 was finished in Plex after Trakt's pause: Trakt's resume point
        # is removed (once), and Plex gets no position back.
        self.assertNotIn("330", [p["ratingKey"] for p in
                                 FAKES.get("plex", "/_control/scrobbles")["progress"]])
        self.assertEqual([k for k in trakt_playback() if k[0] == "episode" and k[2] == 0], [])
        self.assertEqual(sum(n for k, n in FAKES.calls("trakt")["calls"].items()
                             if k.startswith("DELETE /sync/playback/")), 1)
        removed = [c for c in self.changes(s, run) if c["action"] == "playback_remove_trakt"]
        self.assertEqual(json.loads(removed[0]["detail"]), {"progress": None, "was": 65.5})
        self.assertEqual(run["playback_changed"], 3)
        self.assert_stable(s)

    def test_newer_wins_never_moving_a_newer_position_back(self):
        s = self.env(sync_playback=True)
        self.sync(s)
        # Batman Begins paused on Trakt now at 50 %: newer than Plex's → Plex follows.
        pb = [p for p in FAKES.trakt_state("playback") if p["type"] != "movie"]
        pb.append({"type": "movie", "progress": 50, "paused_at": iso(time.time()),
                   "movie": {"ids": {"trakt": 3}}})
        FAKES.post("trakt", "/_control/state", {"playback": pb})
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("playback_plex", "Batman Begins")])
        self.assertEqual(plex_items("103")["103"]["viewOffset"], 4200000)
        # Watched further in Plex since (a newer position): Trakt follows, Plex keeps it.
        next_second()
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "103", "viewOffset": 5040000}]})
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("playback_trakt", "Batman Begins")])
        self.assertAlmostEqual(trakt_playback()[("movie", 3)][0], 60.0, places=2)
        self.assertEqual(plex_items("103")["103"]["viewOffset"], 5040000)
        # An older Trakt position (paused long ago, further on) never moves Plex back or on.
        pb = [p for p in FAKES.trakt_state("playback") if p["type"] != "movie"]
        pb.append({"type": "movie", "progress": 80, "paused_at": "2015-01-01T00:00:00.000Z",
                   "movie": {"ids": {"trakt": 3}}})
        FAKES.post("trakt", "/_control/state", {"playback": pb})
        FAKES.post("plex", "/_control/scrobbles/reset")
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("playback_trakt", "Batman Begins")])
        self.assertEqual(plex_items("103")["103"]["viewOffset"], 5040000)
        self.assertEqual(FAKES.get("plex", "/_control/scrobbles")["progress"], [])
        self.assertAlmostEqual(trakt_playback()[("movie", 3)][0], 60.0, places=2)
        self.assert_stable(s)

    def test_position_older_than_a_trakt_play_is_not_sent(self):
        s = self.env(sync_playback=True, sync_watched=True)
        # The 100 S02E01: finished on Trakt (a play now) after Plex's position was set.
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "204", "lastViewedAt": int(time.time()) - 86400}]})
        hist = FAKES.get("trakt", "/_control/state?keys=history")["history"]
        hist.append({"type": "episode", "watched_at": iso(time.time() - 60),
                     "show": {"ids": {"trakt": 2001}}, "episode": {"season": 2, "number": 1}})
        FAKES.post("trakt", "/_control/state", {"history": hist})
        run = self.sync(s)
        self.assertNotIn(("playback_trakt", "The 48"), self.actions(s, run))
        self.assertNotIn(("episode", 2001, 2, 1), trakt_playback())


class TestDryRun(FeatureCase):
    def test_dry_run_writes_nothing(self):
        FAKES.post("plex", "/_control/state", {"collections": [
            {"title": "Watchlist", "librarySectionID": 1, "items": ["104"]}]})
        s = self.env(sync_ratings=True, sync_watchlist=True, sync_playback=True,
                     sync_watched=True, watchlist_plex_side="collection")
        before = {k: FAKES.trakt_state(k) for k in ("ratings", "watchlist", "playback")}
        run = self.sync(s, "--dry-run")
        planned = self.changes(s, run)
        self.assertEqual(sorted({c["action"] for c in planned}), [
            "playback_plex", "playback_remove_trakt", "playback_trakt", "rate_plex",
            "rate_trakt", "watchlist_add_plex", "watchlist_add_trakt"])
        self.assertTrue(all(c["result"] == "planned" for c in planned))
        self.assertEqual(run["dry_run"], 1)
        self.assertEqual((run["ratings_changed"], run["watchlist_changed"],
                          run["playback_changed"]), (4, 3, 3))
        self.assertEqual(self.writes(), {})
        self.assertEqual({k: FAKES.trakt_state(k) for k in before}, before)
        self.assertEqual(collections(), {1: ["104"]})
        self.assertEqual(s.rows("SELECT * FROM plex_seen"), [])
        self.assertEqual(s.rows("SELECT * FROM watchlist_state"), [])
        # The real run afterwards makes exactly the planned changes.
        run = self.sync(s)
        self.assertEqual(sorted((c["action"], c["title"]) for c in self.changes(s, run)),
                         sorted((c["action"], c["title"]) for c in planned))


class TestTraktLimits(CollectionCase):
    """Trakt refuses a kind for the account (420, 423, 426): that kind stops, the rest goes on.
    Plex's watchlist is a server collection here (watchlist_plex_side = collection)."""

    def warnings(self, s):
        st, body = api(s, "GET", "/api/runs?limit=1")
        self.assertEqual(st, 200)
        return body["runs"][0]["warnings"]

    def test_420_on_the_watchlist_ratings_still_synced(self):
        s = self.env(sync_watchlist=True, sync_ratings=True)
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /sync/watchlist"],
                                                 "fail_next": [420]})
        run = self.sync(s)
        calls = FAKES.calls("trakt")["calls"]
        # Sent once, never retried (a retry would have been taken); the cap read once.
        self.assertEqual(calls.get("POST /sync/watchlist"), 1)
        self.assertEqual(calls.get("GET /users/settings"), 1)
        self.assertEqual(FAKES.trakt_watchlist(), [("movie", 1), ("movie", 6)])
        # Ratings went on: Léon's 9 reached Trakt.
        self.assertEqual(FAKES.trakt_ratings(), {1: 10, 6: 10, 1213: 9})
        self.assertEqual(run["ratings_changed"], 4)
        warnings = self.warnings(s)
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("watchlist", warnings[0])
        self.assertIn("(420)", warnings[0])
        self.assertIn("100 items", warnings[0])     # limits.watchlist.item_count of the fake
        self.assertIn("2 items left undone", warnings[0])
        refused = [c for c in self.changes(s, run) if c["action"] == "watchlist_add_trakt"]
        self.assertEqual(sorted(c["result"] for c in refused), ["failed", "failed"])
        # The next run (the account has room again) makes up for it and has no warning.
        run = self.sync(s)
        self.assertEqual(FAKES.trakt_watchlist(), [("movie", 1), ("movie", 6), ("movie", 1204),
                                                   ("show", 1)])
        self.assertEqual(self.warnings(s), [])

    def test_423_locked_account_on_ratings_watchlist_still_synced(self):
        s = self.env(sync_watchlist=True, sync_ratings=True)
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /sync/ratings"],
                                                 "fail_next": [423]})
        self.sync(s)
        calls = FAKES.calls("trakt")["calls"]
        self.assertEqual(calls.get("POST /sync/ratings"), 1)
        # Read once, for the watchlist's cap before its additions; none for the lock.
        self.assertEqual(calls.get("GET /users/settings", 0), 1)
        self.assertEqual(FAKES.trakt_ratings(), {1: 10, 6: 10})
        self.assertEqual(FAKES.trakt_watchlist(), [("movie", 1), ("movie", 6), ("movie", 1204),
                                                   ("show", 1)])
        warnings = self.warnings(s)
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("ratings", warnings[0])
        self.assertIn("locked (423)", warnings[0])
        self.assertIn("1 item left undone", warnings[0])

    def test_420_on_the_history_ratings_still_synced_plays_sent_next_run(self):
        s = self.env(sync_watched=True, sync_ratings=True)
        before = len(FAKES.trakt_state("history"))
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /sync/history"],
                                                 "fail_next": [420]})
        run = self.sync(s)
        calls = FAKES.calls("trakt")["calls"]
        self.assertEqual(calls.get("POST /sync/history"), 1)    # never retried
        self.assertEqual(run["added_to_trakt"], 0)
        self.assertEqual(len(FAKES.trakt_state("history")), before)
        self.assertEqual(FAKES.trakt_ratings(), {1: 10, 6: 10, 1213: 9})
        warnings = self.warnings(s)
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("history: Trakt refused the plays (HTTP 420", warnings[0])
        self.assertIn("20 plays left undone", warnings[0])   # 17 taken, 3 Trakt lacks
        # The checkpoint did not move past them: the next run sends all 17, once.
        run = self.sync(s)
        self.assertEqual(run["added_to_trakt"], 17)
        self.assertEqual(len(FAKES.trakt_state("history")), before + 17)
        self.assertEqual(self.warnings(s), [])

    def test_retry_after_300_on_the_first_history_post_is_waited_visibly(self):
        s = self.env(sync_watched=True)
        FAKES.post("trakt", "/_control/faults", {"only": ["POST /sync/history"],
                                                 "fail_next": [429], "retry_after_s": 300})
        # 300 s of Retry-After last 3 s here (10 ms a second); production waits them all.
        env = dict(s.env, **FAST, PTS_HTTP_RETRY_AFTER_MS="10")
        t0 = time.time()
        before = len(FAKES.trakt_state("history"))
        p = subprocess.Popen([WORKER, "--once"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        seen = None
        try:
            deadline = time.time() + 60
            while p.poll() is None and time.time() < deadline and seen is None:
                st, body = api(s, "GET", "/api/progress")
                if st == 200 and body.get("waiting"):
                    seen = body["waiting"]
                time.sleep(0.1)
            _, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
        took = time.time() - t0
        self.assertEqual(p.returncode, 0, err[-3000:])
        self.assertIsNotNone(seen, "no waiting state was shown")
        self.assertEqual(seen["reason"], "rate_limit")
        self.assertTrue(seen["until"].endswith("Z"))
        self.assertGreaterEqual(took, 3.0)          # not retried before the Retry-After
        run = s.run_row()
        self.assertEqual((run["status"], run["errors"]), ("ok", 0))
        self.assertEqual(run["added_to_trakt"], 17)
        # The refused POST and the one that took the batch: no play twice.
        self.assertEqual(FAKES.calls("trakt")["calls"].get("POST /sync/history"), 2)
        self.assertEqual(len(FAKES.trakt_state("history")), before + 17)


class TestRatingsByTime(FeatureCase):
    """Conflicts go by when each side was rated: Plex's lastRatedAt against Trakt's rated_at."""

    def set_trakt(self, trakt_id, rating, at):
        ratings = [r for r in FAKES.trakt_state("ratings")
                   if r["movie"]["ids"]["trakt"] != trakt_id]
        ratings.append({"type": "movie", "rating": rating, "rated_at": iso(at),
                        "movie": {"ids": {"trakt": trakt_id}}})
        FAKES.post("trakt", "/_control/state", {"ratings": ratings})

    def test_plex_rated_after_trakt_wins_on_a_first_sync(self):
        # Never seen by this sync before, but Plex says it was rated after Trakt's rating.
        t = time.time()
        self.set_trakt(1, 7, t - 1000)
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "101", "userRating": 4.0, "lastRatedAt": int(t - 100)}]})
        s = self.env(sync_ratings=True)
        run = self.sync(s)
        self.assertIn(("rate_trakt", "TRON: Legacy"), self.actions(s, run))
        self.assertEqual(FAKES.trakt_ratings()[1], 4)
        self.assertEqual(plex_items("302")["302"].get("userRating"), 4.0)
        self.assert_stable(s)

    def test_trakt_rated_after_plex_wins_though_plex_changed_since_the_last_sync(self):
        t = time.time()
        s = self.env(sync_ratings=True)
        self.sync(s)
        # Léon: rated 8 on Trakt 1000 s ago; Plex's new 6 is older (lastRatedAt 5000 s ago),
        # although this sync sees it for the first time now.
        self.set_trakt(1213, 8, t - 1000)
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": "113", "userRating": 6.0, "lastRatedAt": int(t - 5000)}]})
        run = self.sync(s)
        self.assertEqual(self.actions(s, run), [("rate_plex", "Léon")])
        self.assertEqual(FAKES.trakt_ratings()[1213], 8)
        self.assertEqual(plex_items("113")["113"]["userRating"], 8.0)
        self.assert_stable(s)


class TestShowSeasonEpisodeRatingsByTime(FeatureCase):
    """Shows, seasons and episodes too: Breaking Bad (show 300, Trakt show 1), its season 1
    (310) and S01E01 (320), rated on both sides, newest wins by lastRatedAt against rated_at,
    in both orders."""

    ITEMS = {"show": ("300", {"show": {"ids": {"trakt": 1}}}),
             "episode": ("320", {"show": {"ids": {"trakt": 1}},
                                 "episode": {"season": 1, "number": 1}}),
             "season": ("310", {"show": {"ids": {"trakt": 1}}, "season": {"number": 1}})}

    def trakt_rating(self, kind):
        for r in FAKES.trakt_state("ratings"):
            if r["type"] != kind or r["show"]["ids"]["trakt"] != 1:
                continue
            if kind == "show" or (kind == "season" and r["season"]["number"] == 1) or (
                    kind == "episode" and (r["episode"]["season"], r["episode"]["number"]) ==
                    (1, 1)):
                return r["rating"]
        return None

    def rate_both(self, kind, plex, plex_at, trakt, trakt_at):
        rk, ref = self.ITEMS[kind]
        ratings = FAKES.trakt_state("ratings")
        ratings.append(dict(ref, type=kind, rating=trakt, rated_at=iso(trakt_at)))
        FAKES.post("trakt", "/_control/state", {"ratings": ratings})
        FAKES.post("plex", "/_control/state", {"update_items": [
            {"ratingKey": rk, "userRating": float(plex), "lastRatedAt": int(plex_at)}]})

    def check(self, kind, plex_newer):
        t = time.time()
        rk = self.ITEMS[kind][0]
        if plex_newer:
            self.rate_both(kind, 8, t - 100, 5, t - 1000)
        else:
            self.rate_both(kind, 8, t - 1000, 5, t - 100)
        s = self.env(sync_ratings=True)
        run = self.sync(s)
        want = 8 if plex_newer else 5
        acts = [a for a, _ in self.actions(s, run) if a in ("rate_trakt", "rate_plex")]
        self.assertIn("rate_trakt" if plex_newer else "rate_plex", acts)
        self.assertEqual(self.trakt_rating(kind), want)
        self.assertEqual(plex_items(rk)[rk].get("userRating"), float(want))
        self.assert_stable(s)

    def test_show_rated_later_in_plex(self):
        self.check("show", True)

    def test_show_rated_later_on_trakt(self):
        self.check("show", False)

    def test_episode_rated_later_in_plex(self):
        self.check("episode", True)

    def test_episode_rated_later_on_trakt(self):
        self.check("episode", False)

    def test_season_rated_later_in_plex(self):
        self.check("season", True)

    def test_season_rated_later_on_trakt(self):
        self.check("season", False)


if __name__ == "__main__":
    unittest.main()
