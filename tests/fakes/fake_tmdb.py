"""Fake TMDb (v3): /3/find, /3/movie, /3/tv and poster images under /t/p/.

Built from the Trakt catalog of the corpus (every movie/show with a tmdb
id).  About 1 in 19 titles has no poster (poster_path null), as on TMDb.
Image URLs: <tmdb fake URL>/t/p/w342<poster_path> answer a small PNG generated here
(a two-colour poster-shaped gradient, its colours from the path, so posters differ), even
though the path says .jpg: the worker goes by the bytes.  An unknown size is 404.
"""

import struct
import zlib

from common import FakeApp, HttpError, Response, check_keys, json_response, want_str

DEFAULT_API_KEY = "tmdb-key"
NO_POSTER_MODULO = 19


# Generated posters: 2:3 like TMDb's, small enough to stay a few hundred bytes.
POSTER_W, POSTER_H = 92, 138
IMAGE_SIZES = ("w92", "w154", "w185", "w342", "w500", "w780", "original")


def poster_png(name, width=POSTER_W, height=POSTER_H):
    """A PNG for one poster path, its colours from the name: a vertical gradient, a sun (a
    disc in the upper half) and a dark title band near the bottom, so posters differ."""
    h = zlib.crc32(name.encode())
    top = ((h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff)
    bottom = tuple(c // 4 for c in top)
    sun = tuple(255 - c // 3 for c in top)
    cx, cy, r = width * 0.5, height * (0.25 + (h >> 24) % 4 * 0.05), width * 0.2
    band = range(int(height * 0.74), int(height * 0.86))
    rows = []
    for y in range(height):
        f = y / (height - 1)
        bg = bytes(int(a + (b - a) * f) for a, b in zip(top, bottom))
        if y in band:
            rows.append(b"\x00" + bytes(c // 6 for c in bg) * width)
            continue
        row = bytearray(bg * width)
        for x in range(width):
            if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
                row[3 * x:3 * x + 3] = bytes(sun)
        rows.append(b"\x00" + bytes(row))
    return png_bytes(width, height, b"".join(rows))


def png_bytes(width, height, raw):
    def chunk(tag, data):
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def poster_for(kind, tmdb_id):
    if tmdb_id % NO_POSTER_MODULO == 0:
        return None
    return "/%s%08x.jpg" % ("m" if kind == "movie" else "t", tmdb_id * 2654435761 % (1 << 32))


def tmdb_error(status, code, message):
    return HttpError(status, {"status_code": code, "status_message": message, "success": False})


class FakeTMDb(FakeApp):
    name = "tmdb"
    malformed_body = b'{"movie_results":[{"id":155,"poster_path":"/qJ2tW6WMUDux'
    oversized_prefix = b'{"movie_results":[],"tv_results":[],"padding":"'
    oversized_suffix = b'"}'

    def __init__(self, factory, corpus, verbose=False):
        super().__init__(verbose)
        self.factory = factory
        r = self.router
        r.add("GET", r"/3/find/([^/]+)", self.keyed(self.h_find))
        r.add("GET", r"/3/movie/(\d+)", self.keyed(self.h_movie))
        r.add("GET", r"/3/tv/(\d+)", self.keyed(self.h_tv))
        r.add("GET", r"/3/configuration", self.keyed(self.h_configuration))
        r.add("GET", r"/t/p/([a-z0-9]+)/([A-Za-z0-9_.-]+)", self.h_image)
        self.load(corpus)

    def load(self, corpus):
        tr = corpus["trakt"]
        with self.lock:
            self.api_key = corpus.get("tmdb", {}).get("api_key", DEFAULT_API_KEY)
            self.movies, self.tv = {}, {}
            self.by_imdb, self.by_tvdb = {}, {}
            for m in tr["movies"]:
                tid = m["ids"].get("tmdb")
                if not isinstance(tid, int):
                    continue
                rec = {"id": tid, "title": m.get("title"), "original_title": m.get("title"),
                       "release_date": "%s-01-01" % m.get("year") if m.get("year") else "",
                       "imdb_id": m["ids"].get("imdb"), "poster_path": poster_for("movie", tid),
                       "backdrop_path": None, "overview": "", "adult": False,
                       "media_type": "movie"}
                self.movies[tid] = rec
                if m["ids"].get("imdb"):
                    self.by_imdb.setdefault(m["ids"]["imdb"], ("movie", rec))
            for s in tr["shows"]:
                tid = s["ids"].get("tmdb")
                if not isinstance(tid, int):
                    continue
                rec = {"id": tid, "name": s.get("title"), "original_name": s.get("title"),
                       "first_air_date": "%s-01-01" % s.get("year") if s.get("year") else "",
                       "poster_path": poster_for("tv", tid), "backdrop_path": None,
                       "overview": "", "media_type": "tv"}
                self.tv[tid] = rec
                if s["ids"].get("imdb"):
                    self.by_imdb.setdefault(s["ids"]["imdb"], ("tv", rec))
                if s["ids"].get("tvdb"):
                    self.by_tvdb.setdefault(str(s["ids"]["tvdb"]), ("tv", rec))

    def reset(self):
        self.load(self.factory())

    def get_state(self, req):
        with self.lock:
            st = {"api_key": self.api_key, "movies": len(self.movies), "tv": len(self.tv)}
            if req.query.get("full") == "1":
                st["movies"] = list(self.movies.values())
                st["tv"] = list(self.tv.values())
            return json_response(st)

    def set_state(self, patch):
        check_keys(patch, {"api_key"})
        self.api_key = want_str(patch, "api_key")

    def keyed(self, handler):
        def wrapped(req, *args):
            key = req.query.get("api_key")
            if key is None:
                auth = req.header("Authorization") or ""
                if auth.lower().startswith("bearer "):
                    key = auth[7:].strip()
            if key != self.api_key:
                raise tmdb_error(401, 7, "Invalid API key: You must be granted a valid key.")
            return handler(req, *args)
        return wrapped

    def h_find(self, req, ext_id):
        source = req.query.get("external_source")
        if source not in ("imdb_id", "tvdb_id"):
            raise tmdb_error(400, 5, "Invalid parameters: external_source must be "
                                     "imdb_id or tvdb_id")
        with self.lock:
            hit = (self.by_imdb if source == "imdb_id" else self.by_tvdb).get(ext_id)
            out = {"movie_results": [], "person_results": [], "tv_results": [],
                   "tv_episode_results": [], "tv_season_results": []}
            if hit:
                out["movie_results" if hit[0] == "movie" else "tv_results"].append(hit[1])
            return json_response(out)

    def h_movie(self, req, tid):
        with self.lock:
            rec = self.movies.get(int(tid))
            if rec is None:
                raise tmdb_error(404, 34, "The resource you requested could not be found.")
            return json_response(rec)

    def h_tv(self, req, tid):
        with self.lock:
            rec = self.tv.get(int(tid))
            if rec is None:
                raise tmdb_error(404, 34, "The resource you requested could not be found.")
            return json_response(rec)

    def h_configuration(self, req):
        return json_response({"images": {
            "base_url": (self.base_url or "") + "/t/p/",
            "secure_base_url": (self.base_url or "") + "/t/p/",
            "poster_sizes": list(IMAGE_SIZES)}})

    def h_image(self, req, size, name):
        if size not in IMAGE_SIZES:
            raise HttpError(404, {"status_code": 34, "status_message": "Not found"})
        return Response(200, poster_png(name), "image/png", {"Cache-Control": "max-age=86400"})
