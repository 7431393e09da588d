"""Self-test of the fake upstream servers.

    python3 -m unittest tests/fakes/test_fakes.py -v

Starts fakeup.py once (default corpus) and resets every server before each test.
"""

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
from urllib.parse import urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import corpus  # noqa: E402

FAKEUP = os.path.join(HERE, "fakeup.py")
PLEX_TOKEN = "plex-token-1"
TRAKT_ID = "trakt-client-id"
TRAKT_SECRET = "trakt-client-secret"


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def call(base, method, path, body=None, headers=None, raw=None):
    u = urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
    hdrs = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


class FakesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.ready = os.path.join(cls.tmp.name, "ready.json")
        cls.proc = subprocess.Popen([sys.executable, FAKEUP, "--ready-file", cls.ready,
                                     "--max-seconds", "300"])
        deadline = time.monotonic() + 20
        while not os.path.exists(cls.ready):
            if time.monotonic() > deadline or cls.proc.poll() is not None:
                cls.proc.kill()
                raise RuntimeError("fakeup did not become ready")
            time.sleep(0.05)
        with open(cls.ready) as fh:
            cls.urls = json.load(fh)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        gone = not os.path.exists(cls.ready)
        cls.tmp.cleanup()
        assert gone, "ready file should be removed on exit"

    def setUp(self):
        for name in ("plex", "plextv", "trakt", "tmdb", "plexdisc"):
            r = call(self.urls[name], "POST", "/_control/reset", {})
            self.assertEqual(r.status, 200)
        self.ctl("trakt", "/_control/state", {"device_interval": 1})

    # ---- helpers ----
    def ctl(self, name, path, body=None):
        r = call(self.urls[name], "POST" if body is not None else "GET", path, body)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def plex(self, path, token=PLEX_TOKEN, json_accept=True, method="GET", headers=None):
        h = dict(headers or {})
        if token:
            h["X-Plex-Token"] = token
        if json_accept:
            h["Accept"] = "application/json"
        return call(self.urls["plex"], method, path, headers=h)

    def trakt(self, method, path, body=None, token=None, headers=None, raw=None):
        h = {"trakt-api-key": TRAKT_ID, "trakt-api-version": "2"}
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        return call(self.urls["trakt"], method, path, body, h, raw)

    def token(self, name="tok", **extra):
        return self.ctl("trakt", "/_control/token", dict({"access_token": name}, **extra))

    # ==== Plex =========================================================

    def test_plex_xml_unless_accept_json(self):
        r = self.plex("/library/sections", json_accept=False)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/xml"))
        self.assertIn(b"<MediaContainer", r.body)
        r = self.plex("/library/sections")
        self.assertTrue(r.headers["content-type"].startswith("application/json"))
        dirs = r.json()["MediaContainer"]["Directory"]
        self.assertEqual({d["type"] for d in dirs}, {"movie", "show", "artist"})

    def test_plex_token_required(self):
        self.assertEqual(self.plex("/library/sections", token=None).status, 401)
        self.assertEqual(self.plex("/library/sections", token="wrong").status, 401)
        r = self.plex("/library/sections?X-Plex-Token=" + PLEX_TOKEN, token=None)
        self.assertEqual(r.status, 200)

    def test_plex_paging_count_and_short_pages(self):
        r = self.plex("/library/sections/1/all?type=1",
                      headers={"X-Plex-Container-Start": "0", "X-Plex-Container-Size": "0"})
        mc = r.json()["MediaContainer"]
        total = mc["totalSize"]
        self.assertGreater(total, 15)
        self.assertEqual(mc["size"], 0)
        self.assertNotIn("Metadata", mc)
        self.ctl("plex", "/_control/state", {"max_page": 3})
        seen, start = [], 0
        while start < total:
            mc = self.plex("/library/sections/1/all?type=1&includeGuids=1"
                           "&X-Plex-Container-Start=%d&X-Plex-Container-Size=10" % start
                           ).json()["MediaContainer"]
            self.assertLessEqual(mc["size"], 3)
            self.assertEqual(mc["offset"], start)
            seen += [m["ratingKey"] for m in mc["Metadata"]]
            start = mc["offset"] + mc["size"]
        self.assertEqual(len(seen), total)
        self.assertEqual(len(set(seen)), total)

    def test_plex_filters_and_guids(self):
        base = "/library/sections/1/all?type=1&X-Plex-Container-Size=0"
        watched = self.plex(base + "&viewCount>=1").json()["MediaContainer"]["totalSize"]
        items = self.ctl("plex", "/_control/state")["items"]
        expect = sum(1 for i in items if i["librarySectionID"] == 1 and i.get("viewCount"))
        self.assertEqual(watched, expect)
        since = 1_700_000_000 - 10 * 86400
        expect = sum(1 for i in items if i["librarySectionID"] == 1 and i["type"] == "movie"
                     and i.get("lastViewedAt", 0) >= since)
        for q in ("&lastViewedAt>>=%d" % since, "&lastViewedAt%%3E%%3E=%d" % since):
            self.assertEqual(self.plex(base + q).json()["MediaContainer"]["totalSize"], expect)
        self.assertEqual(self.plex(base + "&viewCount>=abc").status, 400)
        mc = self.plex("/library/sections/1/all?type=1").json()["MediaContainer"]
        self.assertFalse(any("Guid" in m for m in mc["Metadata"]))
        for m in mc["Metadata"]:
            self.assertEqual("viewCount" in m, "lastViewedAt" in m)
        mc = self.plex("/library/sections/1/all?type=1&includeGuids=1").json()["MediaContainer"]
        tron = next(m for m in mc["Metadata"] if m["ratingKey"] == "101")
        self.assertIn({"id": "imdb://tt1104001"}, tron["Guid"])
        eps = self.plex("/library/sections/2/allLeaves").json()["MediaContainer"]["Metadata"]
        self.assertTrue(any(e["parentIndex"] == 0 for e in eps))
        self.assertTrue(all("grandparentGuid" in e for e in eps))

    def test_plex_scrobble_rate_and_control(self):
        path = "/:/scrobble?key=55&identifier=com.plexapp.plugins.library"
        self.assertEqual(self.plex(path, method="PUT").status, 200)
        it = self.plex("/library/metadata/55").json()["MediaContainer"]["Metadata"][0]
        self.assertEqual(it["viewCount"], 1)
        self.assertLess(abs(it["lastViewedAt"] - time.time()), 5)
        self.assertEqual(self.plex("/:/scrobble?key=999999&identifier=com.plexapp.plugins."
                                   "library").status, 404)
        self.assertEqual(self.ctl("plex", "/_control/scrobbles")["scrobbles"], ["55"])
        self.plex("/:/unscrobble?key=55&identifier=com.plexapp.plugins.library")
        it = self.plex("/library/metadata/55").json()["MediaContainer"]["Metadata"][0]
        self.assertNotIn("viewCount", it)
        self.assertEqual(self.plex("/:/rate?key=55&identifier=com.plexapp.plugins.library"
                                   "&rating=7", method="PUT").status, 200)
        st = self.ctl("plex", "/_control/state?ratingKeys=55")
        self.assertEqual(st["items"][0]["userRating"], 7.0)
        cw = self.plex("/hubs/continueWatching/items").json()["MediaContainer"]["Metadata"]
        self.assertIn("103", [m["ratingKey"] for m in cw])

    # ==== plex.tv ========================================================

    def test_plextv_pin_flow(self):
        hdr = {"X-Plex-Client-Identifier": "cid-1", "X-Plex-Product": "PTS",
               "Accept": "application/json"}
        base = self.urls["plextv"]
        r = call(base, "POST", "/api/v2/pins?strong=true", headers=hdr)
        self.assertEqual(r.status, 201)
        pin = r.json()
        self.assertEqual(len(pin["code"]), 25)
        self.assertIsNone(pin["authToken"])
        weak = call(base, "POST", "/api/v2/pins", headers=hdr).json()
        self.assertEqual(len(weak["code"]), 4)
        self.assertEqual(call(base, "POST", "/api/v2/pins", headers={"Accept": "application/json"}
                              ).status, 400)
        path = "/api/v2/pins/%d" % pin["id"]
        self.assertIsNone(call(base, "GET", path, headers=hdr).json()["authToken"])
        other = dict(hdr, **{"X-Plex-Client-Identifier": "someone-else"})
        self.assertEqual(call(base, "GET", path, headers=other).status, 404)
        self.ctl("plextv", "/_control/pins/%d/link" % pin["id"], {})
        tok = call(base, "GET", path, headers=hdr).json()["authToken"]
        self.assertTrue(tok)
        self.assertEqual(self.plex("/library/sections", token=tok).status, 200)
        user = call(base, "GET", "/api/v2/user", headers=dict(hdr, **{"X-Plex-Token": tok}))
        self.assertEqual(user.json()["username"], "plexuser")
        self.assertEqual(call(base, "GET", "/api/v2/user", headers=hdr).status, 401)
        res = call(base, "GET", "/api/v2/resources?includeHttps=1",
                   headers=dict(hdr, **{"X-Plex-Token": tok})).json()
        self.assertEqual(res[0]["connections"][0]["uri"], self.urls["plex"])
        self.ctl("plextv", "/_control/pins/%d/expire" % pin["id"], {})
        self.assertEqual(call(base, "GET", path, headers=hdr).status, 404)

    # ==== Trakt ============================================================

    def test_trakt_header_checks(self):
        self.token("hdr")
        r = call(self.urls["trakt"], "GET", "/sync/last_activities",
                 headers={"trakt-api-version": "2", "Authorization": "Bearer hdr"})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.trakt("GET", "/sync/last_activities").status, 401)
        r = self.trakt("POST", "/sync/history", raw=b"{}", token="hdr",
                       headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status, 412)
        r = self.trakt("POST", "/sync/history", raw=b"{not json", token="hdr",
                       headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(self.trakt("GET", "/users/settings", token="hdr").json()["user"]
                         ["username"], "traktuser")

    def test_trakt_device_flow(self):
        r = self.trakt("POST", "/oauth/device/code", {"client_id": TRAKT_ID})
        self.assertEqual(r.status, 200)
        code = r.json()
        self.assertEqual(code["interval"], 1)
        poll = {"code": code["device_code"], "client_id": TRAKT_ID,
                "client_secret": TRAKT_SECRET}
        self.assertEqual(self.trakt("POST", "/oauth/device/token", poll).status, 400)
        self.assertEqual(self.trakt("POST", "/oauth/device/token", poll).status, 429)
        bad = dict(poll, code="nope")
        self.assertEqual(self.trakt("POST", "/oauth/device/token", bad).status, 404)
        self.ctl("trakt", "/_control/device/approve", {})
        time.sleep(1.0)
        r = self.trakt("POST", "/oauth/device/token", poll)
        self.assertEqual(r.status, 200, r.body)
        tok = r.json()
        self.assertEqual(tok["token_type"], "bearer")
        self.assertEqual(self.trakt("GET", "/users/settings", token=tok["access_token"]).status,
                         200)
        self.assertEqual(self.trakt("POST", "/oauth/device/token", poll).status, 409)
        code2 = self.trakt("POST", "/oauth/device/code", {"client_id": TRAKT_ID}).json()
        self.ctl("trakt", "/_control/device/deny", {"user_code": code2["user_code"]})
        r = self.trakt("POST", "/oauth/device/token", dict(poll, code=code2["device_code"]))
        self.assertEqual(r.status, 418)

    def test_trakt_refresh_token_single_use(self):
        first = self.token("old-access", refresh_token="old-refresh")
        body = {"refresh_token": first["refresh_token"], "client_id": TRAKT_ID,
                "client_secret": TRAKT_SECRET, "grant_type": "refresh_token",
                "redirect_uri": "urn:ietf:wg:oauth:2.0:oob"}
        r = self.trakt("POST", "/oauth/token", body)
        self.assertEqual(r.status, 200)
        new = r.json()
        self.assertNotEqual(new["refresh_token"], "old-refresh")
        self.assertEqual(self.trakt("GET", "/users/settings", token="old-access").status, 401)
        self.assertEqual(self.trakt("GET", "/users/settings", token=new["access_token"]).status,
                         200)
        r = self.trakt("POST", "/oauth/token", body)
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_grant"))
        r = self.trakt("POST", "/oauth/token", dict(body, refresh_token=new["refresh_token"],
                                                    client_secret="bad"))
        self.assertEqual((r.status, r.json()["error"]), (401, "invalid_client"))
        self.ctl("trakt", "/_control/expire_token", {})
        self.assertEqual(self.trakt("GET", "/users/settings", token=new["access_token"]).status,
                         401)

    def test_trakt_post_pacing(self):
        self.token("pace")
        body = {"movies": [{"ids": {"imdb": "tt0468569"}, "watched_at": "2024-01-02T03:04:05Z"}]}
        self.assertEqual(self.trakt("POST", "/sync/history", body, "pace").status, 201)
        r = self.trakt("POST", "/sync/history", body, "pace")
        self.assertEqual(r.status, 429)
        self.assertEqual(r.headers["retry-after"], "1")
        self.assertEqual(json.loads(r.headers["x-ratelimit"])["limit"], 1)
        time.sleep(1.0)
        self.assertEqual(self.trakt("POST", "/sync/history", body, "pace").status, 201)

    def test_trakt_duplicates_minutes_and_not_found(self):
        self.ctl("trakt", "/_control/state", {"enforce_post_rate": False, "history": []})
        self.token("dup")
        body = {"movies": [{"ids": {"imdb": "tt0468569"}, "watched_at": "2024-01-02T03:04:05Z"},
                           {"ids": {"imdb": "tt0000111"}}],
                "shows": [{"ids": {"tvdb": 121361}, "seasons": [{"number": 1, "episodes": [
                    {"number": 1, "watched_at": "2024-01-03T00:00:59.999Z"},
                    {"number": 11}]}]}],
                "episodes": [{"ids": {"tvdb": 3859781}}]}
        before = self.trakt("GET", "/sync/last_activities", token="dup").json()
        for _ in range(2):
            r = self.trakt("POST", "/sync/history", body, "dup")
            self.assertEqual(r.status, 201)
            out = r.json()
            self.assertEqual(out["added"], {"movies": 1, "episodes": 2})
            self.assertEqual(out["not_found"]["movies"], [{"ids": {"imdb": "tt0000111"}}])
            self.assertEqual(out["not_found"]["episodes"], [{"number": 11}])
        hist = self.ctl("trakt", "/_control/history")["history"]
        self.assertEqual(len(hist), 6)
        dk = [h for h in hist if h["type"] == "movie"]
        self.assertEqual([h["watched_at"] for h in dk], ["2024-01-02T03:04:00.000Z"] * 2)
        self.assertGreater(dk[0]["id"], 2 ** 32)
        after = self.trakt("GET", "/sync/last_activities", token="dup").json()
        self.assertGreater(after["movies"]["watched_at"], before["movies"]["watched_at"])
        w = self.trakt("GET", "/sync/watched/movies", token="dup").json()
        self.assertEqual(w[0]["plays"], 2)
        r = self.trakt("POST", "/sync/history/remove", {"ids": [dk[0]["id"], 1]}, "dup").json()
        self.assertEqual(r["deleted"]["movies"], 1)
        self.assertEqual(r["not_found"]["ids"], [1])

    def test_trakt_pagination(self):
        self.token("pg")
        r = self.trakt("GET", "/sync/history?limit=4&page=1", token="pg")
        total = int(r.headers["x-pagination-item-count"])
        self.assertGreater(total, 4)
        self.assertEqual(len(r.json()), 4)
        pages = int(r.headers["x-pagination-page-count"])
        self.assertEqual(pages, -(-total // 4))
        got = []
        for page in range(1, pages + 1):
            got += self.trakt("GET", "/sync/history?limit=4&page=%d" % page, token="pg").json()
        self.assertEqual(len({h["id"] for h in got}), total)
        stamps = [h["watched_at"] for h in got]
        self.assertEqual(stamps, sorted(stamps, reverse=True))
        r = self.trakt("GET", "/sync/watched/movies?limit=1000", token="pg")
        self.assertEqual(r.headers["x-pagination-limit"], "250")
        r = self.trakt("GET", "/sync/watched/shows", token="pg")
        self.assertEqual(r.headers["x-pagination-limit"], "100")
        self.assertNotIn("seasons", r.json()[0])
        r = self.trakt("GET", "/sync/watched/shows?extended=progress", token="pg")
        self.assertIn("seasons", r.json()[0])

    def test_trakt_lost_answer_is_applied(self):
        self.token("lost")
        self.ctl("trakt", "/_control/faults", {"lost_answer_rate": 1.0})
        n = self.ctl("trakt", "/_control/history")["count"]
        body = {"movies": [{"ids": {"tmdb": 155}, "watched_at": "2024-05-06T07:08:09Z"}]}
        r = self.trakt("POST", "/sync/history", body, "lost")
        self.assertEqual(r.status, 502)
        self.assertEqual(self.ctl("trakt", "/_control/history")["count"], n + 1)
        self.assertEqual(self.trakt("GET", "/sync/history", token="lost").status, 200)

    def test_trakt_search_and_catalog_unknown(self):
        r = self.trakt("GET", "/search/imdb/tt1104001?type=movie").json()
        self.assertEqual(r[0]["movie"]["ids"]["tmdb"], 20526)
        self.assertEqual(self.trakt("GET", "/search/imdb/tt9999998?type=movie").json(), [])
        r = self.trakt("GET", "/search/tvdb/3859781?type=episode").json()
        self.assertEqual(r[0]["show"]["title"], "Breaking Bad")

    def test_trakt_lists(self):
        self.ctl("trakt", "/_control/state", {"enforce_post_rate": False})
        self.token("lists")
        r = self.trakt("GET", "/sync/ratings/movies", token="lists").json()
        self.assertEqual({x["movie"]["ids"]["trakt"] for x in r}, {1, 6})
        r = self.trakt("POST", "/sync/ratings", {"movies": [{"ids": {"imdb": "tt0110413"},
                                                             "rating": 9}]}, "lists")
        self.assertEqual((r.status, r.json()["added"]["movies"]), (201, 1))
        r = self.trakt("POST", "/sync/watchlist", {"movies": [{"ids": {"trakt": 1}}]}, "lists")
        self.assertEqual(r.json()["existing"]["movies"], 1)
        pb = self.trakt("GET", "/sync/playback/movies", token="lists").json()
        self.assertEqual(pb[0]["movie"]["ids"]["imdb"], "tt0372784")
        r = self.trakt("DELETE", "/sync/playback/%d" % pb[0]["id"], token="lists")
        self.assertEqual(r.status, 204)

    def test_trakt_scrobble_pause(self):
        self.ctl("trakt", "/_control/state", {"enforce_post_rate": False})
        self.token("pause")
        r = self.trakt("POST", "/scrobble/pause", {"movie": {"ids": {"trakt": 3}},
                                                   "progress": 42.5}, "pause")
        self.assertEqual((r.status, r.json()["action"], r.json()["progress"]),
                         (201, "pause", 42.5))
        r = self.trakt("POST", "/scrobble/pause", {"show": {"ids": {"tvdb": 268592}},
                                                   "episode": {"season": 2, "number": 1},
                                                   "progress": 20}, "pause")
        self.assertEqual(r.status, 201)
        pb = self.trakt("GET", "/sync/playback", token="pause").json()
        movies = [p for p in pb if p["type"] == "movie"]
        self.assertEqual([(p["movie"]["ids"]["trakt"], p["progress"]) for p in movies],
                         [(3, 42.5)], "one resume point per item, replaced")
        self.assertEqual(len(pb), 3)
        self.assertEqual(self.trakt("POST", "/scrobble/pause", {"movie": {"ids": {"trakt": 999}},
                                                               "progress": 5}, "pause").status,
                         404)
        self.assertEqual(self.trakt("POST", "/scrobble/pause", {"movie": {"ids": {"trakt": 3}},
                                                               "progress": 101}, "pause").status,
                         422)

    def test_plex_progress_and_collections(self):
        lib = "identifier=com.plexapp.plugins.library"
        self.assertEqual(self.plex("/:/progress?key=55&time=60000&state=stopped&" + lib,
                                   method="PUT").status, 200)
        it = self.ctl("plex", "/_control/state?ratingKeys=55")["items"][0]
        self.assertEqual(it["viewOffset"], 60000)
        self.assertNotIn("viewCount", it)
        self.assertEqual(self.ctl("plex", "/_control/scrobbles")["progress"],
                         [{"ratingKey": "55", "time": 60000, "state": "stopped"}])
        self.assertEqual(self.plex("/:/progress?key=55&time=x&" + lib, method="PUT").status, 400)
        # Collections: none, create one, add, list, remove.
        r = self.plex("/library/sections/1/collections").json()["MediaContainer"]
        self.assertNotIn("Metadata", r)
        mid = self.plex("/identity").json()["MediaContainer"]["machineIdentifier"]
        uri = "server://%s/com.plexapp.plugins.library/library/metadata/" % mid
        r = self.plex("/library/collections?type=1&title=Watchlist&smart=0&sectionId=1&uri="
                      + uri + "101", method="POST")
        self.assertEqual(r.status, 200)
        crk = r.json()["MediaContainer"]["Metadata"][0]["ratingKey"]
        self.assertEqual(self.plex("/library/collections/%s/items?uri=%s102,104" % (crk, uri),
                                   method="PUT").status, 200)
        kids = self.plex("/library/collections/%s/children" % crk).json()["MediaContainer"]
        self.assertEqual([m["ratingKey"] for m in kids["Metadata"]], ["101", "102", "104"])
        self.assertEqual(self.plex("/library/collections/%s/items/102" % crk,
                                   method="DELETE").status, 200)
        cols = self.plex("/library/sections/1/collections").json()["MediaContainer"]["Metadata"]
        self.assertEqual([(c["title"], c["childCount"]) for c in cols], [("Watchlist", "2")])
        # A show cannot join a movie collection; other sections have their own.
        self.assertEqual(self.plex("/library/collections/%s/items?uri=%s300" % (crk, uri),
                                   method="PUT").status, 400)
        self.ctl("plex", "/_control/state", {"collections": [
            {"title": "Watchlist", "librarySectionID": 2, "items": ["300"]}]})
        st = self.ctl("plex", "/_control/state?items=0")["collections"]
        self.assertEqual([(c["librarySectionID"], c["items"]) for c in st], [(2, ["300"])])

    def test_plex_state_update_items(self):
        self.ctl("plex", "/_control/state", {"update_items": [
            {"ratingKey": "57", "viewCount": 1, "lastViewedAt": 1600000000}]})
        it = self.plex("/library/metadata/57").json()["MediaContainer"]["Metadata"][0]
        self.assertEqual((it["viewCount"], it["lastViewedAt"]), (1, 1600000000))
        self.ctl("plex", "/_control/state", {"update_items": [
            {"ratingKey": "57", "viewCount": None, "lastViewedAt": None}]})
        it = self.plex("/library/metadata/57").json()["MediaContainer"]["Metadata"][0]
        self.assertNotIn("viewCount", it)
        r = call(self.urls["plex"], "POST", "/_control/state",
                 {"update_items": [{"ratingKey": "nope"}]})
        self.assertEqual(r.status, 400)

    def test_plex_library_all_seasons_and_dated_changes(self):
        # /library/all: one type over every section, with filters and a count.
        r = self.plex("/library/all?type=1&X-Plex-Container-Size=0").json()["MediaContainer"]
        items = self.ctl("plex", "/_control/state")["items"]
        self.assertEqual(r["totalSize"], sum(1 for i in items if i["type"] == "movie"))
        self.assertEqual(self.plex("/library/all").status, 400)
        # Seasons are items made from the episodes, rateable.
        seasons = self.plex("/library/sections/2/all?type=3").json()["MediaContainer"]["Metadata"]
        bb1 = next(m for m in seasons if m["parentRatingKey"] == "300" and m["index"] == 1)
        lib = "identifier=com.plexapp.plugins.library"
        t0 = int(time.time())
        self.assertEqual(self.plex("/:/rate?key=%s&rating=6&%s" % (bb1["ratingKey"], lib),
                                   method="PUT").status, 200)
        q = "/library/all?type=3&X-Plex-Container-Size=0&lastRatedAt>>=%d" % t0
        self.assertEqual(self.plex(q).json()["MediaContainer"]["totalSize"], 1)
        # A position moves lastViewedAt; so do control changes of a rating or a position.
        self.assertEqual(self.plex("/:/progress?key=103&time=60000&" + lib,
                                   method="PUT").status, 200)
        self.assertGreaterEqual(self.ctl("plex", "/_control/state?ratingKeys=103")[
            "items"][0]["lastViewedAt"], t0)
        self.ctl("plex", "/_control/state", {"update_items": [
            {"ratingKey": "113", "userRating": 4.0}, {"ratingKey": "55", "viewOffset": 1000}]})
        st = {i["ratingKey"]: i for i in self.ctl("plex", "/_control/state?ratingKeys=113,55")[
            "items"]}
        self.assertGreaterEqual(st["113"]["lastRatedAt"], t0)
        self.assertGreaterEqual(st["55"]["lastViewedAt"], t0)

    def test_trakt_watchlist_cap_and_moved_stamps(self):
        self.ctl("trakt", "/_control/state", {"enforce_post_rate": False, "watchlist_cap": 3})
        self.token("cap")
        lim = self.trakt("GET", "/users/settings", token="cap").json()["limits"]
        self.assertEqual(lim["watchlist"]["item_count"], 3)
        before = self.trakt("GET", "/sync/last_activities", token="cap").json()
        # Two on the list: one more fits, two more do not (nothing applied).
        r = self.trakt("POST", "/sync/watchlist", {"movies": [{"ids": {"trakt": 1204}},
                                                              {"ids": {"trakt": 1213}}]}, "cap")
        self.assertEqual((r.status, r.headers.get("x-account-limit")), (420, "3"))
        r = self.trakt("POST", "/sync/watchlist", {"movies": [{"ids": {"trakt": 1204}}]}, "cap")
        self.assertEqual(r.status, 201)
        # A list replaced through control moves its stamps.
        time.sleep(0.01)
        self.ctl("trakt", "/_control/state", {"playback": []})
        after = self.trakt("GET", "/sync/last_activities", token="cap").json()
        self.assertGreater(after["movies"]["paused_at"], before["movies"]["paused_at"])
        self.assertGreater(after["watchlist"]["updated_at"], before["watchlist"]["updated_at"])
        self.assertEqual(after["movies"]["rated_at"], before["movies"]["rated_at"])

    # ==== common: counters and faults =========================================

    def test_control_counters(self):
        self.ctl("plex", "/_control/calls/reset", {})
        self.plex("/library/sections")
        self.plex("/library/sections?X-Plex-Container-Size=1")
        self.plex("/library/sections/1/all?type=1", token=None)
        calls = self.ctl("plex", "/_control/calls")
        self.assertEqual(calls["calls"], {"GET /library/sections": 2,
                                          "GET /library/sections/1/all": 1})
        self.assertEqual(calls["total"], 3)

    def test_faults(self):
        self.ctl("plex", "/_control/faults", {"rate_5xx": 1.0, "seed": 3})
        r = self.plex("/library/sections")
        self.assertIn(r.status, (500, 502, 503, 520))
        self.assertEqual(call(self.urls["plex"], "GET", "/_control/calls").status, 200)
        self.ctl("plex", "/_control/faults", {"rate_5xx": 0.0, "fail_next": [429, "malformed"]})
        r = self.plex("/library/sections")
        self.assertEqual((r.status, r.headers.get("retry-after")), (429, "1"))
        r = self.plex("/library/sections")
        self.assertEqual(r.status, 200)
        self.assertRaises(ValueError, json.loads, r.body)
        self.assertEqual(self.plex("/library/sections").status, 200)
        self.ctl("tmdb", "/_control/faults", {"oversized": True})
        r = call(self.urls["tmdb"], "GET", "/3/movie/155?api_key=tmdb-key")
        self.assertGreater(len(r.body), 20 * 1024 * 1024)
        json.loads(r.body)
        r = call(self.urls["plex"], "POST", "/_control/faults", {"rate_5xx": 2})
        self.assertEqual(r.status, 400)
        r = call(self.urls["plex"], "POST", "/_control/faults", raw=b"{oops",
                 headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        r = call(self.urls["plex"], "POST", "/_control/state", {"bogus": 1})
        self.assertEqual(r.status, 400)

    def test_redirect_and_tiny_objects_faults(self):
        to = "http://127.0.0.1:9/x"
        self.ctl("plex", "/_control/faults", {"redirect": {"status": 302, "location": to},
                                              "only": ["/library/sections/"]})
        r = self.plex("/library/sections/1/all")
        self.assertEqual((r.status, r.headers.get("location")), (302, to))
        self.assertEqual(self.plex("/library/sections").status, 200, "only limits it")
        self.ctl("plex", "/_control/faults", {"redirect": None, "fail_next": ["tiny_objects"]})
        r = self.plex("/library/sections/1/all")
        mc = json.loads(r.body)["MediaContainer"]
        self.assertEqual((r.status, len(mc["Metadata"]), mc["Metadata"][0]), (200, 1100000, {}))
        self.assertEqual(self.plex("/library/sections/1/all").status, 200)
        for bad in ({"status": 200, "location": to}, {"status": 302}, "x"):
            r = call(self.urls["plex"], "POST", "/_control/faults", {"redirect": bad})
            self.assertEqual(r.status, 400, bad)

    def test_bad_requests_get_4xx(self):
        self.assertEqual(self.plex("/no/such/path").status, 404)
        self.assertEqual(self.plex("/library/sections", method="PATCH").status, 405)
        self.assertEqual(self.plex("/library/sections/1/all?X-Plex-Container-Start=x").status, 400)
        self.assertEqual(self.plex("/library/sections/99/all").status, 404)
        self.assertEqual(self.plex("/:/scrobble?key=55").status, 400)
        r = call(self.urls["trakt"], "POST", "/_control/token", raw=b"[",
                 headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)

    # ==== TMDb ==============================================================

    def test_tmdb(self):
        base = self.urls["tmdb"]
        r = call(base, "GET", "/3/find/tt0468569?external_source=imdb_id&api_key=tmdb-key")
        poster = r.json()["movie_results"][0]["poster_path"]
        self.assertTrue(poster.startswith("/"))
        r = call(base, "GET", "/3/movie/155?api_key=wrong")
        self.assertEqual((r.status, r.json()["status_code"]), (401, 7))
        self.assertEqual(call(base, "GET", "/3/tv/1396?api_key=tmdb-key").json()["id"], 1396)
        img = call(base, "GET", "/t/p/w342" + poster)
        self.assertEqual(img.body[:8], b"\x89PNG\r\n\x1a\n")

    # ---- plexdisc: the account watchlist (discover + metadata) ----
    def disc(self, method, path, token=PLEX_TOKEN):
        return call(self.urls["plexdisc"], method, path, headers={
            "X-Plex-Token": token, "Accept": "application/json"} if token else None)

    def test_plexdisc_watchlist_paging_set_search_guids(self):
        tron, tdk = "5d77680000000000000c344b", "5d77680000000000000c533a"
        self.assertEqual(self.disc("GET", "/library/sections/watchlist/all", None).status, 401)
        self.assertEqual(self.disc("PUT", "/actions/addToWatchlist?ratingKey=" + tron).status, 200)
        self.assertEqual(self.disc("PUT", "/actions/addToWatchlist?ratingKey=" + tdk).status, 200)
        # Already there / not there: an error, as plex.tv answers.
        self.assertEqual(self.disc("PUT", "/actions/addToWatchlist?ratingKey=" + tron).status, 400)
        self.assertEqual(self.disc("PUT", "/actions/removeFromWatchlist?ratingKey=" + tdk).status,
                         200)
        self.assertEqual(self.disc("PUT", "/actions/removeFromWatchlist?ratingKey=" + tdk).status,
                         400)
        self.disc("PUT", "/actions/addToWatchlist?ratingKey=" + tdk)
        # Pages against totalSize, newest first, no Guid[] in the listing.
        mc = self.disc("GET", "/library/sections/watchlist/all?X-Plex-Container-Start=0"
                       "&X-Plex-Container-Size=1").json()["MediaContainer"]
        self.assertEqual((mc["size"], mc["totalSize"]), (1, 2))
        self.assertEqual(mc["Metadata"][0]["guid"], "plex://movie/" + tdk)
        self.assertNotIn("Guid", mc["Metadata"][0])
        mc = self.disc("GET", "/library/sections/watchlist/all?X-Plex-Container-Start=1"
                       "&X-Plex-Container-Size=1").json()["MediaContainer"]
        self.assertEqual([m["ratingKey"] for m in mc["Metadata"]], [tron])
        # Guid[] by id (metadata service), only with includeGuids=1.
        md = self.disc("GET", "/library/metadata/%s?includeGuids=1" % tron).json()
        self.assertEqual(md["MediaContainer"]["Metadata"][0]["Guid"],
                         [{"id": "imdb://tt1104001"}, {"id": "tmdb://20526"}])
        self.assertNotIn("Guid", self.disc("GET", "/library/metadata/" + tron).json()[
            "MediaContainer"]["Metadata"][0])
        # Search: titles the server lacks too (Parks and Recreation), with Guid[].
        res = self.disc("GET", "/library/search?query=parks&searchTypes=tv"
                        "&searchProviders=discover&includeMetadata=1").json()
        hits = [r["Metadata"] for g in res["MediaContainer"]["SearchResults"]
                for r in g["SearchResult"]]
        self.assertEqual([(h["title"], h["type"]) for h in hits],
                         [("Parks and Recreation", "show")])
        self.assertIn({"id": "tvdb://84912"}, hits[0]["Guid"])

    def test_plexdisc_one_watchlist_per_account(self):
        tron, tdk = "5d77680000000000000c344b", "5d77680000000000000c533a"
        self.disc("PUT", "/actions/addToWatchlist?ratingKey=" + tron)
        # Max (managed, 1003) by a switch with the owner's token: his own plex.tv token.
        r = call(self.urls["plextv"], "POST", "/api/home/users/1003/switch",
                 headers={"X-Plex-Token": PLEX_TOKEN})
        self.assertEqual(r.status, 201)
        acct = re.search(rb'authenticationToken="([^"]+)"', r.body).group(1).decode()
        wl = "/library/sections/watchlist/all"
        self.assertEqual(self.disc("GET", wl, acct).json()["MediaContainer"]["size"], 0)
        self.assertEqual(self.disc("PUT", "/actions/addToWatchlist?ratingKey=" + tdk,
                                   acct).status, 200)
        self.assertEqual([m["ratingKey"] for m in self.disc("GET", wl, acct).json()[
            "MediaContainer"]["Metadata"]], [tdk])
        self.assertEqual([m["ratingKey"] for m in self.disc("GET", wl).json()[
            "MediaContainer"]["Metadata"]], [tron])
        # A person's server token is no plex.tv token.
        self.assertEqual(self.disc("GET", wl, "plex-token-max").status, 401)
        self.ctl("plexdisc", "/_control/state", {"user": "1002", "watchlist": [tron, tdk]})
        st = self.ctl("plexdisc", "/_control/state")
        self.assertEqual((st["watchlist"], st["watchlists"]),
                         ([tron], {"1003": [tdk], "1002": [tron, tdk]}))


class GeneratorTest(unittest.TestCase):
    def test_mix_and_speed(self):
        t = time.monotonic()
        c = corpus.generate_corpus(movies=10000, shows=800, episodes=40000, watched=0.2, seed=1)
        elapsed = time.monotonic() - t
        self.assertLess(elapsed, 10)
        s = corpus.summarize(c)["plex"]
        self.assertEqual(s["episode"], 40000)
        movies = s["movie"]
        self.assertAlmostEqual(s["movie_new"] / movies, 0.70, delta=0.04)
        self.assertAlmostEqual(s["movie_legacy"] / movies, 0.25, delta=0.04)
        self.assertAlmostEqual(s["movie_unmatched"] / movies, 0.05, delta=0.02)
        self.assertAlmostEqual(s["movie_watched"] / movies, 0.20, delta=0.03)
        self.assertGreater(s["episode_specials"], 0)
        again = corpus.generate_corpus(movies=50, shows=5, episodes=100, seed=7)
        self.assertEqual(again, corpus.generate_corpus(movies=50, shows=5, episodes=100, seed=7))


if __name__ == "__main__":
    unittest.main()
