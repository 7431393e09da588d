"""The dashboard's files through the standalone nginx (./bootstrap run's configuration):
compressed when the browser asks, cached with a check on every use (Cache-Control: no-cache
and validators, so an upgrade is seen at once), with the security headers still on them.
"""
import gzip
import os
import unittest

from stack import TOP, Stack

STACK = None


def setUpModule():
    global STACK
    STACK = Stack().start()


def tearDownModule():
    if STACK is not None:
        STACK.stop()


class StaticFiles(unittest.TestCase):
    def test_text_is_gzipped_when_asked(self):
        with open(os.path.join(TOP, "static", "app.js"), "rb") as f:
            plain = f.read()
        for path, kind in (("/app.js", "javascript"), ("/app.css", "text/css"), ("/", "text/html")):
            st, hdrs, body = STACK.request("GET", path, headers={"Accept-Encoding": "gzip"})
            self.assertEqual(st, 200, path)
            self.assertIn(kind, hdrs.get("content-type", ""), path)
            self.assertEqual(hdrs.get("content-encoding"), "gzip", path)
            self.assertIn("Accept-Encoding", hdrs.get("vary", ""), path)
            if path == "/app.js":
                self.assertEqual(gzip.decompress(body), plain)
                self.assertLess(len(body), len(plain) // 2)
        st, hdrs, body = STACK.request("GET", "/app.js")
        self.assertIsNone(hdrs.get("content-encoding"), "plain for a client that did not ask")
        self.assertEqual(body, plain)

    def test_cached_with_revalidation_and_secure_headers(self):
        st, hdrs, _ = STACK.request("GET", "/app.css")
        self.assertEqual(st, 200)
        self.assertEqual(hdrs.get("cache-control"), "no-cache")
        self.assertTrue(hdrs.get("etag"), hdrs)
        self.assertTrue(hdrs.get("last-modified"), hdrs)
        # Caching must not cost the security headers (add_header in a location would).
        self.assertIn("script-src 'self'", hdrs.get("content-security-policy", ""))
        self.assertEqual(hdrs.get("x-content-type-options"), "nosniff")
        st, hdrs2, body = STACK.request("GET", "/app.css", headers={"If-None-Match": hdrs["etag"]})
        self.assertEqual(st, 304)
        self.assertEqual(body, b"")
        st, _, _ = STACK.request("GET", "/app.css",
                                 headers={"If-Modified-Since": hdrs["last-modified"]})
        self.assertEqual(st, 304)

    def test_api_answers_stay_uncompressed_and_unstored(self):
        st, hdrs, _ = STACK.request("GET", "/api/status", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(st, 200)
        self.assertIsNone(hdrs.get("content-encoding"))
        self.assertEqual(hdrs.get("cache-control"), "no-store")


if __name__ == "__main__":
    unittest.main()
