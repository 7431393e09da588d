"""Posters served from the box: the standalone nginx (./bootstrap run) serves the data
folder's posters/ at /posters/NAME, only for names of the worker's shape (no listing, no temp
files, no links), with cache headers; the folder is the service user's, readable by nginx's
workers through their group; the CSP allows images from 'self' and data: only; the API hands
out same-origin poster paths only (a TMDb URL an older version stored comes back null);
pts-cgi serves the same files at /api/posters/NAME for servers that cannot read the folder.

The worker's side (download, check, keep) is tests/unit/test_posters.c and test_up_clients.c;
the whole path through the fakes is test_flows.py (Trakt History, In Progress) and the
browser's view tests/browser/test_posters.mjs.
"""
import grp
import os
import pwd
import struct
import unittest
import zlib

from stack import Stack

IS_ROOT = os.geteuid() == 0
SERVICE_USER = os.environ.get("PTS_USER") or "plex-trakt-sync"
WEB_GROUP = "www-data"


def png(w=4, h=6):
    def chunk(tag, data):
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\x00" + b"\x20\x40\x80" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class TestPosters(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack().start()
        cls.dir = os.path.join(cls.stack.data, "posters")

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()

    def put(self, name, data, mode=0o644):
        """A file in the posters folder, as the worker leaves it (the service user's)."""
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        if IS_ROOT:
            pw = pwd.getpwnam(SERVICE_USER)
            os.chown(path, pw.pw_uid, pw.pw_gid)
        self.addCleanup(lambda: os.path.lexists(path) and os.unlink(path))
        return path

    def test_folder_owner_and_mode(self):
        st = os.lstat(self.dir)
        self.assertTrue(os.path.isdir(self.dir) and not os.path.islink(self.dir))
        if IS_ROOT:
            self.assertEqual(st.st_uid, pwd.getpwnam(SERVICE_USER).pw_uid)
            self.assertEqual(st.st_gid, grp.getgrnam(WEB_GROUP).gr_gid)
            self.assertEqual(st.st_mode & 0o7777, 0o750)
        else:
            self.assertEqual(st.st_mode & 0o7777, 0o700)

    def test_served_with_type_and_cache_headers(self):
        img = png()
        self.put("kqjL17yufvn9OVLyXYpvtyrFfak.png", img)
        st, hdrs, body = self.stack.request("GET", "/posters/kqjL17yufvn9OVLyXYpvtyrFfak.png")
        self.assertEqual(st, 200)
        self.assertEqual(body, img)
        self.assertEqual(hdrs.get("content-type"), "image/png")
        self.assertIn("max-age=2592000", hdrs.get("cache-control", ""))
        # The security headers stay on (a location's own add_header would drop them).
        self.assertEqual(hdrs.get("x-content-type-options"), "nosniff")
        self.put("a-b_c.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 60)
        st, hdrs, _ = self.stack.request("GET", "/posters/a-b_c.jpg")
        self.assertEqual((st, hdrs.get("content-type")), (200, "image/jpeg"))
        self.put("w.webp", b"RIFF\x08\0\0\0WEBPVP8 ")
        st, hdrs, _ = self.stack.request("GET", "/posters/w.webp")
        self.assertEqual((st, hdrs.get("content-type")), (200, "image/webp"))

    def test_only_names_of_the_workers_shape(self):
        img = png()
        self.put(".tmp-123-0-half.png", img)
        self.put("page.html", b"<script>alert(1)</script>")
        self.put("x.gif", img)
        self.put("ok.png", img)
        link = os.path.join(self.dir, "lnk.png")
        os.symlink("ok.png", link)
        self.addCleanup(lambda: os.unlink(link))
        for path in ("/posters/", "/posters", "/posters/.tmp-123-0-half.png",
                     "/posters/page.html", "/posters/x.gif", "/posters/lnk.png",
                     "/posters/missing.png", "/posters/..%2Fpts.db", "/posters/../pts.db",
                     "/posters/ok.png/", "/posters/ok.PNG", "/posters/%2e%2e/pts.db"):
            st, _, body = self.stack.request("GET", path)
            self.assertIn(st, (400, 403, 404), path)
            self.assertNotEqual(body, img, path)
        self.assertEqual(self.stack.request("GET", "/posters/ok.png")[0], 200)

    def test_pts_cgi_serves_them_too(self):
        # For web servers that cannot read the folder (systemd's DynamicUser, CGI-only hosts).
        img = png(3, 5)
        self.put("cgiServed_1.png", img)
        self.put(".tmp-9-9-cgiServed_1.png", img)
        link = os.path.join(self.dir, "cgilnk.png")
        os.symlink("cgiServed_1.png", link)
        self.addCleanup(lambda: os.unlink(link))
        st, hdrs, body = self.stack.request("GET", "/api/posters/cgiServed_1.png")
        self.assertEqual((st, body), (200, img))
        self.assertEqual(hdrs.get("content-type"), "image/png")
        for path in ("/api/posters/", "/api/posters/.tmp-9-9-cgiServed_1.png",
                     "/api/posters/cgilnk.png", "/api/posters/missing.png",
                     "/api/posters/..%2Fpts.db", "/api/posters/x.gif"):
            st, hdrs, body = self.stack.request("GET", path)
            self.assertEqual(st, 404, path)
            self.assertTrue(hdrs.get("content-type", "").startswith("application/json"), path)
        st, _, _ = self.stack.request("DELETE", "/api/posters/cgiServed_1.png")
        self.assertEqual(st, 405)

    def test_a_file_nginx_cannot_read_comes_from_pts_cgi(self):
        # As under systemd's DynamicUser: nginx gets 403 and hands the request to pts-cgi.
        img = png(5, 7)
        self.put("privateOnly.png", img, mode=0o600)
        st, hdrs, body = self.stack.request("GET", "/posters/privateOnly.png")
        self.assertEqual((st, body), (200, img))
        self.assertEqual(hdrs.get("content-type"), "image/png")
        if IS_ROOT:   # nginx's workers (www-data) cannot read it: pts-cgi's answer
            self.assertEqual(hdrs.get("cache-control"), "no-store")

    def test_csp_allows_no_remote_images(self):
        for path in ("/", "/api/health", "/posters/none.png"):
            _, hdrs, _ = self.stack.request("GET", path)
            csp = hdrs.get("content-security-policy", "")
            self.assertIn("img-src 'self' data:;", csp, path)
            self.assertNotIn("https:", csp, path)
            self.assertNotIn("http:", csp, path)

    def test_api_hands_out_same_origin_paths_only(self):
        conn = self.stack.db()
        try:
            conn.execute("DELETE FROM trakt_history")
            conn.execute("DELETE FROM plex_in_progress")
            rows = [(1, "/posters/abc.png"), (2, "https://image.tmdb.org/t/p/w342/abc.jpg"),
                    (3, None)]
            for pos, poster in rows:
                conn.execute("INSERT INTO trakt_history(pos, history_id, watched_at, type, title,"
                             " ids, poster) VALUES(?, ?, 1700000000, 'movie', 'M', '{}', ?)",
                             (pos, pos, poster))
                conn.execute("INSERT INTO plex_in_progress(pos, type, title, poster)"
                             " VALUES(?, 'movie', 'M', ?)", (pos, poster))
            conn.commit()
        finally:
            conn.close()
        st, body, _ = self.stack.api("GET", "/api/trakt/history")
        self.assertEqual(st, 200, body)
        self.assertEqual([i["poster"] for i in body["items"]], ["/posters/abc.png", None, None])
        st, body, _ = self.stack.api("GET", "/api/plex/in-progress")
        self.assertEqual(st, 200, body)
        self.assertEqual([i["poster"] for i in body["items"]], ["/posters/abc.png", None, None])


if __name__ == "__main__":
    unittest.main()
