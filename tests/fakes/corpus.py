"""The corpus: one JSON-able description of the world every fake serves.

Shape (see README.md, "Corpus format"):

    {"version": 1,
     "plex":   {"sections": [...], "items": [...]},        # items = Plex JSON items
     "plextv": {"username": "plexuser"},
     "trakt":  {"movies": [...], "shows": [...],           # the Trakt catalog
                "history": [...], "ratings": [...],
                "watchlist": [...], "playback": [...]}}

Three sources: default_corpus() (small, hand-made, from the fixtures),
generate_corpus(...) (synthetic, large) and load_corpus_file(path).
"""

import json
import random
import re
import unicodedata

from common import iso_ms, load_data

CORPUS_VERSION = 1
T0 = 1_700_000_000          # 2023-11-14T22:13:20Z: "now" of the default corpus
DAY = 86400
LIB_ID = "com.plexapp.plugins.library"


def minute_iso(epoch):
    """Trakt's stored form of a play time: seconds zeroed, '.000Z'."""
    return iso_ms(int(epoch) // 60 * 60)


def slugify(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "untitled"


# ==== Plex item builders ====================================================


def plex_section(key, title, stype, agent, scanner, uuid):
    return {"key": key, "title": title, "type": stype, "agent": agent, "scanner": scanner,
            "language": "en-US", "uuid": uuid}


def _view_fields(item, view_count, last_viewed, view_offset, user_rating):
    if view_count:
        item["viewCount"] = view_count
        item["lastViewedAt"] = last_viewed
    if view_offset:
        item["viewOffset"] = view_offset
    if user_rating is not None:
        item["userRating"] = float(user_rating)


def plex_movie(rk, section, title, year, guid, guids=None, added=T0 - 400 * DAY,
               duration=6_000_000, view_count=0, last_viewed=None, view_offset=0,
               user_rating=None):
    """A Plex movie item in PMS JSON shape.  guids=None -> no Guid array (legacy)."""
    it = {"ratingKey": str(rk), "key": "/library/metadata/%s" % rk, "guid": guid,
          "type": "movie", "title": title, "librarySectionTitle": section["title"],
          "librarySectionID": int(section["key"]),
          "librarySectionKey": "/library/sections/%s" % section["key"], "year": year,
          "thumb": "/library/metadata/%s/thumb/%d" % (rk, added + 60),
          "duration": duration, "addedAt": added, "updatedAt": added + 60}
    _view_fields(it, view_count, last_viewed, view_offset, user_rating)
    if guids is not None:
        it["Guid"] = [{"id": g} for g in guids]
    return it


def plex_show(rk, section, title, year, guid, guids=None, added=T0 - 500 * DAY):
    it = {"ratingKey": str(rk), "key": "/library/metadata/%s/children" % rk, "guid": guid,
          "type": "show", "title": title, "librarySectionTitle": section["title"],
          "librarySectionID": int(section["key"]),
          "librarySectionKey": "/library/sections/%s" % section["key"], "year": year,
          "thumb": "/library/metadata/%s/thumb/%d" % (rk, added + 60),
          "addedAt": added, "updatedAt": added + 60}
    if guids is not None:
        it["Guid"] = [{"id": g} for g in guids]
    return it


def plex_episode(rk, show, season_rk, season, number, title, guid, guids=None,
                 added=T0 - 450 * DAY, duration=2_700_000, view_count=0, last_viewed=None,
                 view_offset=0, user_rating=None):
    it = {"ratingKey": str(rk), "key": "/library/metadata/%s" % rk,
          "parentRatingKey": str(season_rk), "grandparentRatingKey": show["ratingKey"],
          "guid": guid, "grandparentGuid": show["guid"], "type": "episode", "title": title,
          "grandparentKey": "/library/metadata/%s" % show["ratingKey"],
          "parentKey": "/library/metadata/%s" % season_rk,
          "grandparentTitle": show["title"],
          "parentTitle": "Specials" if season == 0 else "Season %d" % season,
          "index": number, "parentIndex": season,
          "librarySectionTitle": show["librarySectionTitle"],
          "librarySectionID": show["librarySectionID"],
          "librarySectionKey": show["librarySectionKey"], "year": show.get("year"),
          "thumb": "/library/metadata/%s/thumb/%d" % (rk, added + 60),
          "duration": duration, "addedAt": added, "updatedAt": added + 60}
    _view_fields(it, view_count, last_viewed, view_offset, user_rating)
    if guids is not None:
        it["Guid"] = [{"id": g} for g in guids]
    return it


def plex_hex(kind, n):
    """A plausible 24-hex-digit plex:// id, deterministic in n."""
    return "plex://%s/%024x" % (kind, (0x5d7768 << 72) + n * 7919)


# ==== Trakt catalog builders ================================================


def trakt_movie(title, year, trakt, imdb, tmdb, slug=None):
    return {"title": title, "year": year,
            "ids": {"trakt": trakt, "slug": slug or "%s-%d" % (slugify(title), year),
                    "imdb": imdb, "tmdb": tmdb}}


def trakt_show(title, year, trakt, tvdb, imdb, tmdb, seasons, slug=None):
    return {"title": title, "year": year,
            "ids": {"trakt": trakt, "slug": slug or slugify(title), "tvdb": tvdb,
                    "imdb": imdb, "tmdb": tmdb},
            "seasons": seasons}


def trakt_episode(number, title, trakt, tvdb, tmdb, imdb=None):
    return {"number": number, "title": title,
            "ids": {"trakt": trakt, "tvdb": tvdb, "imdb": imdb, "tmdb": tmdb}}


def hist_movie(epoch, trakt_id, action="watch"):
    return {"watched_at": minute_iso(epoch), "action": action, "type": "movie",
            "movie": {"ids": {"trakt": trakt_id}}}


def hist_episode(epoch, show_trakt, season, number, action="watch"):
    return {"watched_at": minute_iso(epoch), "action": action, "type": "episode",
            "show": {"ids": {"trakt": show_trakt}},
            "episode": {"season": season, "number": number}}


# ==== The default hand-made corpus =========================================


def default_corpus():
    """~20 movies, 4 shows / 26 episodes covering every case in README.md."""
    movies_s = plex_section("1", "Movies", "movie", "tv.plex.agents.movie", "Plex Movie",
                            "cebcb7e3-5031-436b-906a-3640d878ba2c")
    tv_s = plex_section("2", "TV Shows", "show", "tv.plex.agents.series", "Plex TV Series",
                        "95c0f894-3716-41c8-9f70-38e344a93019")
    uhd_s = plex_section("3", "4K Movies", "movie", "tv.plex.agents.movie", "Plex Movie",
                         "5f1b7a4c-2c4e-4d4f-9c53-4e7a0c5b8d21")
    music_s = plex_section("4", "Music", "artist", "tv.plex.agents.music", "Plex Music",
                           "0c5b8d21-9c53-4d4f-2c4e-5f1b7a4c4e7a")
    items, movies, shows, history = [], [], [], []

    # -- legacy-agent movies straight from the recorded library --------------
    recorded = {m["ratingKey"]: m for m in
                load_data("plex_movie_library.json")["MediaContainer"]["Metadata"]}

    def from_recording(rk, **view):
        it = dict(recorded[rk])
        it.update({"librarySectionTitle": "Movies", "librarySectionID": 1,
                   "librarySectionKey": "/library/sections/1"})
        _view_fields(it, view.get("view_count"), view.get("last_viewed"),
                     view.get("view_offset"), view.get("user_rating"))
        return it

    items.append(from_recording("55"))                                   # unwatched
    movies.append(trakt_movie("Big Buck Bunny", 2008, 1101, "tt1254207", 10378))
    items.append(from_recording("56", view_count=1, last_viewed=T0 - 30 * DAY + 17))
    movies.append(trakt_movie("Elephants Dream", 2006, 1102, "tt0807840", 9761))
    i60_seen = 1_650_000_047                                             # :47 seconds
    items.append(from_recording("108", view_count=1, last_viewed=i60_seen))
    movies.append(trakt_movie("Interstate 60", 2002, 1103, "tt0165832", 15235))
    history.append(hist_movie(i60_seen, 1103))                            # same minute
    items.append(from_recording("57"))                                   # Trakt-only
    movies.append(trakt_movie("Sintel", 2010, 1104, "tt1727587", 45745))
    history.append(hist_movie(T0 - 200 * DAY + 3601, 1104))

    # -- new-agent movies ---------------------------------------------------
    def new_movie(rk, title, year, imdb, tmdb, section=movies_s, same_as=None, **kw):
        guids = ([("imdb://" + imdb)] if imdb else []) + ([("tmdb://%d" % tmdb)] if tmdb else [])
        return plex_movie(rk, section, title, year, plex_hex("movie", same_as or rk), guids,
                          **kw)

    tron_seen = T0 - 5 * DAY + 1234
    items.append(new_movie(101, "TRON: Legacy", 2010, "tt1104001", 20526, view_count=2,
                           last_viewed=tron_seen, user_rating=10))
    movies.append(trakt_movie("TRON: Legacy", 2010, 1, "tt1104001", 20526))
    history.append(hist_movie(tron_seen, 1, "scrobble"))
    items.append(new_movie(102, "The Dark Knight", 2008, "tt0468569", 155, view_count=1,
                           last_viewed=T0 - 12 * DAY + 99))
    movies.append(trakt_movie("The Dark Knight", 2008, 6, "tt0468569", 155))
    items.append(new_movie(103, "Batman Begins", 2005, "tt0372784", 272, duration=8_400_000,
                           view_offset=600_000))                          # in progress
    movies.append(trakt_movie("Batman Begins", 2005, 3, "tt0372784", 272))
    items.append(new_movie(104, "Amélie", 2001, "tt0211915", 194, view_count=1,
                           last_viewed=T0 - 40 * DAY + 5))
    movies.append(trakt_movie("Amélie", 2001, 1204, "tt0211915", 194))
    items.append(new_movie(105, "千と千尋の神隠し", 2001, "tt0245429", 129))
    movies.append(trakt_movie("Spirited Away", 2001, 1205, "tt0245429", 129))
    history.append(hist_movie(T0 - 90 * DAY + 7777, 1205))                # Trakt-only
    hostile = "<img src=x onerror=alert(1)>"
    items.append(new_movie(106, hostile, 2020, "tt9990001", 9990001, view_count=1,
                           last_viewed=T0 - 3 * DAY + 42))
    movies.append(trakt_movie(hostile, 2020, 1206, "tt9990001", 9990001,
                              slug="img-src-x-onerror-alert-1-2020"))
    items.append(plex_movie(107, movies_s, "Ein fabelhafter Tag", 2012,
                            "com.plexapp.agents.themoviedb://119243?lang=en", None,
                            view_count=1, last_viewed=T0 - 20 * DAY + 11))
    movies.append(trakt_movie("Ein fabelhafter Tag", 2012, 1207, "tt2090000", 119243))
    items.append(plex_movie(109, movies_s, "Home Video 2019", 2019, "local://109", None,
                            view_count=1, last_viewed=T0 - 7 * DAY))
    items.append(plex_movie(110, movies_s, "Family Trip", 2018,
                            "com.plexapp.agents.none://8a730d03-e7a5-4067-b3df-495aba75c5ce",
                            None, view_count=3, last_viewed=T0 - 8 * DAY))
    items.append(new_movie(111, "Obscure Festival Short", 2022, "tt9999998", 9999998,
                           view_count=1, last_viewed=T0 - 2 * DAY + 30))  # not on Trakt
    items.append(plex_movie(112, movies_s, "Lost Reel", 1931,
                            "com.plexapp.agents.imdb://tt0000111?lang=en", None,
                            view_count=1, last_viewed=T0 - 60 * DAY))    # not on Trakt
    items.append(new_movie(113, "Léon", 1994, "tt0110413", 101, view_count=2,
                           last_viewed=T0 - 15 * DAY + 3, user_rating=9))
    movies.append(trakt_movie("Léon: The Professional", 1994, 1213, "tt0110413", 101))
    items.append(new_movie(114, "The Matrix", 1999, "tt0133093", 603))   # Trakt-only x2
    movies.append(trakt_movie("The Matrix", 1999, 1214, "tt0133093", 603))
    history.append(hist_movie(T0 - 700 * DAY + 600, 1214))
    history.append(hist_movie(T0 - 300 * DAY + 600, 1214))
    items.append(new_movie(115, "Inception", 2010, "tt1375666", 27205, view_count=1,
                           last_viewed=T0 - 10 * DAY + 1))
    movies.append(trakt_movie("Inception", 2010, 1215, "tt1375666", 27205))
    history.append(hist_movie(1_560_000_000, 1215))                       # older play
    items.append(new_movie(116, "기생충", 2019, "tt6751668", 496243))
    movies.append(trakt_movie("Parasite", 2019, 1216, "tt6751668", 496243))
    items.append(new_movie(117, "Kurzfilm ohne IMDb", 2021, None, 880001, view_count=1,
                           last_viewed=T0 - 4 * DAY + 4))                 # tmdb only
    movies.append(trakt_movie("Kurzfilm ohne IMDb", 2021, 1217, None, 880001))
    items.append(plex_movie(118, movies_s, "Plex Only Title", 2023, plex_hex("movie", 118), [],
                            view_count=1, last_viewed=T0 - DAY))          # empty Guid[]
    # Same movies in a second library.
    items.append(new_movie(301, "The Dark Knight", 2008, "tt0468569", 155, section=uhd_s,
                           same_as=102, view_count=1, last_viewed=T0 - 2 * DAY + 59))
    items.append(new_movie(302, "TRON: Legacy", 2010, "tt1104001", 20526, section=uhd_s,
                           same_as=101))
    # Trakt-only catalog entries (never in Plex).
    hostile2 = "<script>alert('trakt')</script>"
    movies.append(trakt_movie(hostile2, 2015, 1299, "tt9990002", 9990002,
                              slug="script-alert-trakt-2015"))
    history.append(hist_movie(T0 - 1 * DAY + 300, 1299))

    # -- TV: The 100 (legacy thetvdb, from the recording) --------------------
    rec_show = dict(load_data("plex_tv_library.json")["MediaContainer"]["Metadata"][0])
    rec_show.update({"librarySectionTitle": "TV Shows", "librarySectionID": 2,
                     "librarySectionKey": "/library/sections/2"})
    the100 = rec_show
    items.append(the100)
    rec_eps = {e["ratingKey"]: e for e in
               load_data("plex_tv_episodes.json")["MediaContainer"]["Metadata"]}
    seen = {}

    def legacy_ep(rk, season, number, title, season_rk, **view):
        if str(rk) in rec_eps:
            it = dict(rec_eps[str(rk)])
            it.update({"librarySectionTitle": "TV Shows", "librarySectionID": 2,
                       "librarySectionKey": "/library/sections/2", "parentIndex": season,
                       "index": number, "grandparentTitle": the100["title"]})
            _view_fields(it, view.get("view_count"), view.get("last_viewed"),
                         view.get("view_offset"), None)
            return it
        return plex_episode(rk, the100, season_rk, season, number, title,
                            "com.plexapp.agents.thetvdb://268592/%d/%d?lang=en" % (season, number),
                            None, **view)

    seen[(1, 1)] = T0 - 100 * DAY + 61
    items.append(legacy_ep(90, 1, 1, "Pilot", 89, view_count=1, last_viewed=seen[(1, 1)]))
    items.append(legacy_ep(91, 1, 2, "Earth Skills", 89, view_count=1,
                           last_viewed=T0 - 99 * DAY + 62))
    items.append(legacy_ep(92, 1, 3, "Earth Kills", 89, view_count=1,
                           last_viewed=T0 - 98 * DAY + 63))
    items.append(legacy_ep(202, 1, 4, "Murphy's Law", 89))               # Trakt-only
    items.append(legacy_ep(203, 1, 5, "Twilight's Last Gleaming", 89))
    items.append(legacy_ep(204, 2, 1, "The 48", 200, view_offset=900_000))
    items.append(legacy_ep(205, 2, 2, "Inclement Weather", 200))
    items.append(legacy_ep(206, 2, 3, "Reapercussions", 200))
    items.append(legacy_ep(207, 0, 1, "The 100: Inside the Ark", 201, view_count=1,
                           last_viewed=T0 - 97 * DAY + 64))              # special
    s100 = [{"number": 0, "episodes": [trakt_episode(1, "The 100: Inside the Ark", 20100,
                                                     4800100, 900100)]},
            {"number": 1, "episodes": [trakt_episode(n, t, 20100 + n, 4800100 + n, 900100 + n)
                                       for n, t in enumerate(["Pilot", "Earth Skills",
                                                              "Earth Kills", "Murphy's Law",
                                                              "Twilight's Last Gleaming",
                                                              "His Sister's Keeper"], 1)]},
            {"number": 2, "episodes": [trakt_episode(n, t, 20200 + n, 4800200 + n, 900200 + n)
                                       for n, t in enumerate(["The 48", "Inclement Weather",
                                                              "Reapercussions"], 1)]}]
    shows.append(trakt_show("The 100", 2014, 2001, 268592, "tt2661044", 48866, s100))
    history.append(hist_episode(seen[(1, 1)], 2001, 1, 1))
    history.append(hist_episode(T0 - 95 * DAY + 600, 2001, 1, 4))

    # -- TV: Breaking Bad (new agent) ----------------------------------------
    bb = plex_show(300, tv_s, "Breaking Bad", 2008, plex_hex("show", 300),
                   ["imdb://tt0903747", "tmdb://1396", "tvdb://81189"])
    items.append(bb)
    bb_titles = {1: ["Pilot", "Cat's in the Bag...", "...And the Bag's in the River",
                     "Cancer Man", "Gray Matter", "Crazy Handful of Nothin'",
                     "A No-Rough-Stuff-Type Deal"],
                 2: ["Seven Thirty-Seven", "Grilled — «Ü»", "Bit by a Dead Bee"],
                 0: ["Good Cop Bad Cop"]}
    bb_seasons, rk = [], 320
    for season in (1, 2, 0):
        eps = []
        for n, title in enumerate(bb_titles[season], 1):
            tvdb = 3859781 if season == 0 else 349232 + season * 100 + n
            tmdb = 62131 if season == 0 else 62085 + season * 100 + n
            imdb = "tt0959621" if (season, n) == (1, 1) else ("" if n % 2 else None)
            eps.append(trakt_episode(n, title, 70000 + season * 100 + n, tvdb, tmdb, imdb))
            guids = ["tvdb://%d" % tvdb, "tmdb://%d" % tmdb] + (["imdb://" + imdb] if imdb else [])
            view = {}
            if season == 1:
                view = {"view_count": 1, "last_viewed": T0 - 50 * DAY + n * 3600 + 13}
                seen[("bb", n)] = view["last_viewed"]
            if season == 0:
                view = {"view_count": 1, "last_viewed": T0 - 45 * DAY + 1}
            items.append(plex_episode(rk, bb, {1: 310, 2: 311, 0: 312}[season], season, n, title,
                                      plex_hex("episode", rk), guids, **view))
            rk += 1
        bb_seasons.append({"number": season, "episodes": eps})
    shows.append(trakt_show("Breaking Bad", 2008, 1, 81189, "tt0903747", 1396, bb_seasons))
    history.append(hist_episode(seen[("bb", 1)], 1, 1, 1))
    history.append(hist_episode(T0 - 300 * DAY, 1, 1, 2))                 # other time
    history.append(hist_episode(seen[("bb", 3)], 1, 1, 3))
    history.append(hist_episode(T0 - 40 * DAY + 120, 1, 2, 1))            # Trakt-only

    # -- TV: Game of Thrones (legacy, one episode unknown to Trakt) ----------
    rec_got = dict(load_data("plex_tv_library.json")["MediaContainer"]["Metadata"][1])
    rec_got.update({"librarySectionTitle": "TV Shows", "librarySectionID": 2,
                    "librarySectionKey": "/library/sections/2"})
    items.append(rec_got)
    for n, title, view in [(1, "Winter Is Coming", {"view_count": 1,
                                                   "last_viewed": T0 - 33 * DAY + 5}),
                           (2, "The Kingsroad", {"view_count": 1,
                                                 "last_viewed": T0 - 32 * DAY + 5}),
                           (3, "Lord Snow", {}),
                           (11, "Unaired Pilot (Director's Cut)", {"view_count": 1,
                                                                   "last_viewed": T0 - 31 * DAY})]:
        items.append(plex_episode(400 + n, rec_got, 69, 1, n, title,
                                  "com.plexapp.agents.thetvdb://121361/1/%d?lang=en" % n, None,
                                  **view))
    got_eps = [trakt_episode(n, "Episode %d" % n, 73000 + n, 3254640 + n, 63056 + n,
                             "tt%07d" % (1480055 + n)) for n in range(1, 11)]
    got_eps[0]["title"], got_eps[1]["title"], got_eps[2]["title"] = \
        "Winter Is Coming", "The Kingsroad", "Lord Snow"
    shows.append(trakt_show("Game of Thrones", 2011, 1390, 121361, "tt0944947", 1399,
                            [{"number": 1, "episodes": got_eps}]))

    # -- TV: an unmatched home series ------------------------------------------
    home = plex_show(500, tv_s, "Home Series", 2020, "local://500", None)
    items.append(home)
    for n in (1, 2):
        items.append(plex_episode(500 + n, home, 510, 1, n, "Home Episode %d" % n,
                                  "local://%d" % (500 + n), None, view_count=1,
                                  last_viewed=T0 - 9 * DAY + n))

    # -- Trakt-only show (from the recorded history) -------------------------
    shows.append(trakt_show("Parks and Recreation", 2009, 4, 84912, "tt1266020", 8592,
                            [{"number": 2, "episodes": [trakt_episode(1, "Pawnee Zoo", 251,
                                                                      797571, 397629)]}],
                            slug="parks-and-recreation"))
    history.append({"watched_at": "2014-03-28T09:28:00.000Z", "action": "checkin",
                    "type": "episode", "show": {"ids": {"trakt": 4}},
                    "episode": {"season": 2, "number": 1}})

    trakt = {"movies": movies, "shows": shows, "history": history,
             "ratings": [{"type": "movie", "rating": 10, "rated_at": "2014-09-01T09:10:11.000Z",
                          "movie": {"ids": {"trakt": 1}}},
                         {"type": "movie", "rating": 10, "rated_at": "2014-09-01T09:10:11.000Z",
                          "movie": {"ids": {"trakt": 6}}}],
             "watchlist": [{"type": "movie", "listed_at": "2014-09-01T09:10:11.000Z",
                            "notes": "Need to catch up before TRON 3 is out.",
                            "movie": {"ids": {"trakt": 1}}},
                           {"type": "movie", "listed_at": "2014-09-01T09:10:11.000Z",
                            "notes": None, "movie": {"ids": {"trakt": 6}}}],
             "playback": [{"type": "movie", "progress": 10, "paused_at": "2015-01-25T22:01:32.000Z",
                           "movie": {"ids": {"trakt": 3}}},
                          {"type": "episode", "progress": 65.5,
                           "paused_at": "2015-01-25T22:01:32.000Z",
                           "show": {"ids": {"trakt": 1}}, "episode": {"season": 0, "number": 1}}]}
    return {"version": CORPUS_VERSION, "description": "default hand-made corpus",
            "plex": {"sections": [movies_s, tv_s, uhd_s, music_s], "items": items},
            "plextv": {"username": "plexuser"}, "trakt": trakt}


# ==== The synthetic generator ===============================================

ADJ = ("Silent", "Crimson", "Last", "Hidden", "Broken", "Golden", "Midnight", "Lost",
       "Electric", "Frozen", "Distant", "Savage", "Hollow", "Secret", "Iron", "Paper",
       "Wild", "Quiet", "Burning", "Endless", "Velvet", "Northern", "Lucky", "Bitter")
NOUN = ("River", "Empire", "Garden", "Signal", "Harbor", "Machine", "Summer", "Witness",
        "Kingdom", "Orchard", "Frontier", "Lantern", "Horizon", "Circus", "Island",
        "Mirror", "Highway", "Letter", "Station", "Forest", "Tide", "Crown", "Engine")
SPECIAL_TITLES = ("Amélie", "千と千尋の神隠し", "<img src=x onerror=alert(1)>", "Ça & Là \"quoted\"",
                  "Zoë's Ünïcode Ünïverse", "Ночной дозор", "🎬 Emoji Night", "O'Brien's <b>Bold</b>")
GEN_T_END = T0
GEN_SPAN = 8 * 365 * DAY


def parse_spec(spec):
    """'movies=10000,shows=800,episodes=40000,watched=0.2,seed=1' -> kwargs."""
    out = {}
    ints = {"movies", "shows", "episodes", "seed"}
    floats = {"watched", "on_trakt", "trakt_only", "unknown"}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, val = part.partition("=")
        if not sep or key not in ints | floats:
            raise ValueError("bad generator spec item %r (keys: %s)"
                             % (part, ", ".join(sorted(ints | floats))))
        try:
            out[key] = int(val) if key in ints else float(val)
        except ValueError:
            raise ValueError("generator spec %s=%r is not a number" % (key, val))
        if out[key] < 0 or (key in floats and out[key] > 1):
            raise ValueError("generator spec %s out of range" % key)
    return out


def _title(rng, i):
    if i % 97 == 13:
        return "%s %d" % (SPECIAL_TITLES[(i // 97) % len(SPECIAL_TITLES)], i)
    return "%s %s" % (ADJ[rng.randrange(len(ADJ))], NOUN[rng.randrange(len(NOUN))]) + \
        ("" if i % 3 else " %d" % (i % 50 + 2))


def generate_corpus(movies=1000, shows=50, episodes=2000, watched=0.2, seed=1,
                    on_trakt=0.5, trakt_only=0.05, unknown=0.02):
    """A large synthetic corpus with the same mix as the default one.

    movies/shows/episodes: Plex item counts (episodes spread over the shows).
    watched: share of Plex items watched in Plex.  on_trakt: share of those
    already on Trakt (same minute).  trakt_only: share of unwatched Plex items
    that have a Trakt play.  unknown: share of matched items Trakt lacks.
    Agents: ~70% new (plex:// + Guid[]), ~25% legacy, ~5% unmatched.
    """
    rng = random.Random(seed)
    rnd = rng.random
    movies_s = plex_section("1", "Movies", "movie", "tv.plex.agents.movie", "Plex Movie",
                            "00000000-0000-4000-8000-000000000001")
    tv_s = plex_section("2", "TV Shows", "show", "tv.plex.agents.series", "Plex TV Series",
                        "00000000-0000-4000-8000-000000000002")
    uhd_s = plex_section("3", "4K Movies", "movie", "tv.plex.agents.movie", "Plex Movie",
                         "00000000-0000-4000-8000-000000000003")
    items, t_movies, t_shows, history = [], [], [], []
    slugs = set()
    rk = 1000
    t_start = GEN_T_END - GEN_SPAN

    def view(watched_p):
        if rnd() < watched_p:
            seen = int(t_start + rnd() * (GEN_SPAN - DAY))
            vc = 1 if rnd() < 0.8 else 2 + int(rnd() * 3)
            return {"view_count": vc, "last_viewed": seen}
        if rnd() < 0.01:
            return {"view_offset": 60_000 + int(rnd() * 3_000_000)}
        return {}

    def uniq_slug(base):
        slug, n = base, 2
        while slug in slugs:
            slug = "%s-%d" % (base, n)
            n += 1
        slugs.add(slug)
        return slug

    # -- movies ---------------------------------------------------------------
    for i in range(movies):
        rk += 1
        title = _title(rng, i)
        year = 1950 + int(rnd() * 75)
        trakt_id, tmdb, imdb = 100000 + i, 200000 + i, "tt%07d" % (3000000 + i)
        r = rnd()
        v = view(watched)
        added = int(t_start + rnd() * GEN_SPAN) - 30 * DAY
        if r < 0.70:
            it = plex_movie(rk, movies_s, title, year, plex_hex("movie", rk),
                            ["imdb://" + imdb, "tmdb://%d" % tmdb], added=added, **v)
        elif r < 0.95:
            guid = ("com.plexapp.agents.imdb://%s?lang=en" % imdb if r < 0.89 else
                    "com.plexapp.agents.themoviedb://%d?lang=en" % tmdb)
            it = plex_movie(rk, movies_s, title, year, guid, None, added=added, **v)
        else:
            guid = ("local://%d" % rk if r < 0.975 else
                    "com.plexapp.agents.none://%08x-0000-4000-8000-%012x" % (rk, i))
            items.append(plex_movie(rk, movies_s, title, year, guid, None, added=added, **v))
            continue
        items.append(it)
        if i % 50 == 7:   # same movie in the 4K library, watched separately
            rk += 1
            items.append(plex_movie(rk, uhd_s, title, year, it["guid"],
                                    [dict(g)["id"] for g in it.get("Guid", [])] or None,
                                    added=added, **view(watched)))
        if rnd() < unknown:
            continue
        t_movies.append(trakt_movie(title, year, trakt_id, imdb, tmdb,
                                    uniq_slug("%s-%d" % (slugify(title), year))))
        if "view_count" in v:
            if rnd() < on_trakt:
                history.append(hist_movie(v["last_viewed"], trakt_id))
        elif rnd() < trakt_only:
            history.append(hist_movie(t_start + rnd() * GEN_SPAN, trakt_id))
    # Trakt-only movies (watched elsewhere, not in Plex).
    for j in range(max(1, movies // 50)):
        tid = 900000 + j
        title = "Elsewhere %s %d" % (NOUN[j % len(NOUN)], j)
        t_movies.append(trakt_movie(title, 2000 + j % 24, tid, "tt%07d" % (8000000 + j),
                                    600000 + j, uniq_slug(slugify(title))))
        history.append(hist_movie(t_start + rnd() * GEN_SPAN, tid))

    # -- shows and episodes --------------------------------------------------
    n_shows = max(1, shows) if episodes else shows
    base, extra = divmod(episodes, n_shows) if n_shows else (0, 0)
    ep_serial = 0
    for s in range(n_shows):
        rk += 1
        title = _title(rng, s + 7)
        year = 1990 + int(rnd() * 35)
        show_trakt, tvdb, imdb = 500000 + s, 70000 + s, "tt%07d" % (6000000 + s)
        tmdb = 200000 + s   # deliberately overlaps movie tmdb ids: always pass type
        r = rnd()
        kind = "new" if r < 0.70 else ("legacy" if r < 0.95 else "none")
        legacy_src = "thetvdb" if rnd() < 0.8 else "themoviedb"
        if kind == "new":
            show = plex_show(rk, tv_s, title, year, plex_hex("show", rk),
                             ["imdb://" + imdb, "tmdb://%d" % tmdb, "tvdb://%d" % tvdb])
        elif kind == "legacy":
            sid = tvdb if legacy_src == "thetvdb" else tmdb
            show = plex_show(rk, tv_s, title, year,
                             "com.plexapp.agents.%s://%d?lang=en" % (legacy_src, sid), None)
        else:
            show = plex_show(rk, tv_s, title, year, "local://%d" % rk, None)
        items.append(show)
        known_show = kind != "none" and rnd() >= unknown
        count = base + (1 if s < extra else 0)
        specials = min(count, 1 + int(rnd() * 2)) if rnd() < 0.10 else 0
        per_season = 6 + int(rnd() * 18)
        seasons = {}
        season_rks = {}
        for e in range(count):
            if e < specials:
                season, number = 0, e + 1
            else:
                season, number = divmod(e - specials, per_season)
                season, number = season + 1, number + 1
            if season not in season_rks:
                rk += 1
                season_rks[season] = rk
            rk += 1
            ep_serial += 1
            ep_tvdb, ep_tmdb, ep_trakt = 9000000 + ep_serial, 4000000 + ep_serial, \
                1000000 + ep_serial
            ep_imdb = "tt%07d" % (7000000 + ep_serial) if ep_serial % 4 == 0 else \
                ("" if ep_serial % 4 == 1 else None)
            ep_title = "Episode %d" % number if ep_serial % 97 != 5 else \
                SPECIAL_TITLES[ep_serial % len(SPECIAL_TITLES)]
            v = view(watched)
            if kind == "new":
                guids = ["tvdb://%d" % ep_tvdb, "tmdb://%d" % ep_tmdb] + \
                    (["imdb://" + ep_imdb] if ep_imdb else [])
                ep = plex_episode(rk, show, season_rks[season], season, number, ep_title,
                                  plex_hex("episode", rk), guids, **v)
            elif kind == "legacy":
                ep = plex_episode(rk, show, season_rks[season], season, number, ep_title,
                                  "%s/%d/%d?lang=en" % (show["guid"][:-8], season, number),
                                  None, **v)
            else:
                ep = plex_episode(rk, show, season_rks[season], season, number, ep_title,
                                  "local://%d" % rk, None, **v)
            items.append(ep)
            if not known_show or ep_serial % 100 == 99:    # ~1% episodes unknown
                continue
            seasons.setdefault(season, []).append(
                trakt_episode(number, ep_title, ep_trakt, ep_tvdb, ep_tmdb, ep_imdb))
            if "view_count" in v:
                if rnd() < on_trakt:
                    history.append(hist_episode(v["last_viewed"], show_trakt, season, number))
            elif rnd() < trakt_only:
                history.append(hist_episode(t_start + rnd() * GEN_SPAN, show_trakt, season,
                                            number))
        if known_show:
            t_shows.append(trakt_show(title, year, show_trakt, tvdb, imdb, tmdb,
                                      [{"number": n, "episodes": eps}
                                       for n, eps in sorted(seasons.items())],
                                      uniq_slug(slugify(title) + "-%d" % year)))
    return {"version": CORPUS_VERSION,
            "description": "generated movies=%d shows=%d episodes=%d watched=%g seed=%d"
                           % (movies, shows, episodes, watched, seed),
            "plex": {"sections": [movies_s, tv_s, uhd_s], "items": items},
            "plextv": {"username": "plexuser"},
            "trakt": {"movies": t_movies, "shows": t_shows, "history": history,
                      "ratings": [], "watchlist": [], "playback": []}}


# ==== Loading, validation, summary ===========================================


def validate_corpus(c):
    """Raise ValueError when the corpus lacks what the fakes rely on."""
    if not isinstance(c, dict) or not isinstance(c.get("plex"), dict) \
            or not isinstance(c.get("trakt"), dict):
        raise ValueError("corpus needs 'plex' and 'trakt' objects")
    keys = set()
    for s in c["plex"].get("sections", []):
        if not isinstance(s, dict) or not isinstance(s.get("key"), str) or "type" not in s:
            raise ValueError("bad plex section %r" % (s,))
        keys.add(int(s["key"]))
    for it in c["plex"].get("items", []):
        if not isinstance(it, dict) or not isinstance(it.get("ratingKey"), str) \
                or it.get("type") not in ("movie", "show", "episode") \
                or it.get("librarySectionID") not in keys:
            raise ValueError("bad plex item %r" % (it.get("ratingKey") if isinstance(it, dict)
                                                    else it,))
    for key in ("movies", "shows", "history", "ratings", "watchlist", "playback"):
        if not isinstance(c["trakt"].get(key, []), list):
            raise ValueError("trakt.%s must be a list" % key)
    c.setdefault("plextv", {})
    c["plex"].setdefault("sections", [])
    c["plex"].setdefault("items", [])
    for key in ("movies", "shows", "history", "ratings", "watchlist", "playback"):
        c["trakt"].setdefault(key, [])
    return c


def load_corpus_file(path):
    with open(path, encoding="utf-8") as fh:
        return validate_corpus(json.load(fh))


def make_factory(corpus_file=None, generate=None):
    """A callable returning a FRESH corpus each time (servers take ownership)."""
    if corpus_file and generate:
        raise ValueError("--corpus and --generate are exclusive")
    if corpus_file:
        load_corpus_file(corpus_file)          # fail early on a bad file
        return lambda: load_corpus_file(corpus_file)
    if generate:
        spec = parse_spec(generate)
        return lambda: validate_corpus(generate_corpus(**spec))
    return lambda: validate_corpus(default_corpus())


def summarize(c):
    """Counts that describe a corpus (GET /_control/summary)."""
    out = {"description": c.get("description", ""), "plex": {}, "trakt": {}}
    p = out["plex"]
    for it in c["plex"]["items"]:
        t = it["type"]
        p[t] = p.get(t, 0) + 1
        if t == "show":
            continue
        g = it.get("guid", "")
        agent = ("new" if g.startswith("plex://") and it.get("Guid") else
                 "unmatched" if (g.startswith("local://") or ".agents.none://" in g
                                 or g.startswith("plex://")) else "legacy")
        k = "%s_%s" % (t, agent)
        p[k] = p.get(k, 0) + 1
        if it.get("viewCount"):
            p[t + "_watched"] = p.get(t + "_watched", 0) + 1
        if t == "episode" and it.get("parentIndex") == 0:
            p["episode_specials"] = p.get("episode_specials", 0) + 1
    tr = c["trakt"]
    out["trakt"] = {"movies": len(tr["movies"]), "shows": len(tr["shows"]),
                    "episodes": sum(len(s["episodes"]) for sh in tr["shows"]
                                    for s in sh.get("seasons", [])),
                    "history": len(tr["history"]),
                    "history_movies": sum(1 for h in tr["history"] if h.get("type") == "movie"),
                    "history_episodes": sum(1 for h in tr["history"]
                                            if h.get("type") == "episode")}
    return out
