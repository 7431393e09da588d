"""Live scrobbling through the real stack: its settings and GET /api/now-playing.

The settings scrobble_live (boolean, default true) and scrobble_users ("owner" | "all",
default "owner") are validated from the settings table; /api/now-playing answers from the
now_playing table the worker's scrobbler fills on each poll of Plex's /status/sessions, in
the shape of docs/API.md, with "updated_at" the time of that poll (null before the first).
"""
import time
import unittest

from stack import Stack


class NowPlayingCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack().start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.stack.cleanup()

    def test_settings_defaults_and_rules(self):
        st, body, _ = self.stack.api("GET", "/api/settings")
        self.assertEqual(st, 200)
        self.assertIs(body["scrobble_live"], True)
        self.assertEqual(body["scrobble_users"], "owner")
        st, body, _ = self.stack.api("PUT", "/api/settings", {"scrobble_users": "everyone"})
        self.assertEqual(st, 400)
        self.assertIn("scrobble_users", body["error"]["fields"])
        st, body, _ = self.stack.api("PUT", "/api/settings", {"scrobble_live": "yes"})
        self.assertEqual(st, 400)
        self.assertIn("scrobble_live", body["error"]["fields"])
        st, body, _ = self.stack.api("PUT", "/api/settings",
                                     {"scrobble_live": False, "scrobble_users": "all"})
        self.assertEqual(st, 200)
        st, body, _ = self.stack.api("GET", "/api/settings")
        self.assertIs(body["scrobble_live"], False)
        self.assertEqual(body["scrobble_users"], "all")
        self.stack.api("PUT", "/api/settings", {"scrobble_live": True, "scrobble_users": "owner"})

    def test_now_playing_empty_then_rows(self):
        conn = self.stack.db()
        try:
            conn.execute("DELETE FROM now_playing")
            conn.execute("DELETE FROM meta WHERE key = 'now_playing_at'")
            conn.commit()
        finally:
            conn.close()
        st, body, _ = self.stack.api("GET", "/api/now-playing")
        self.assertEqual(st, 200)
        self.assertEqual(body, {"sessions": [], "updated_at": None})
        now = int(time.time())
        conn = self.stack.db()
        try:
            conn.execute(
                "INSERT INTO now_playing(session_key, rating_key, type, title, show, season,"
                " episode, year, user, player, state, progress, trakt, seen_at) VALUES"
                " ('7', '323', 'episode', 'Cancer Man', 'Breaking Bad', 1, 4, NULL, 'plexuser',"
                " 'Plex Web', 'paused', 42.26, 'paused', ?),"
                " ('8', '102', 'movie', 'The Dark Knight', NULL, NULL, NULL, 2008, 'guest',"
                " 'TV', 'playing', 10, 'ignored', ?)", (now, now + 1))
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('now_playing_at', ?)",
                         (str(now),))
            conn.commit()
        finally:
            conn.close()
        st, body, _ = self.stack.api("GET", "/api/now-playing")
        self.assertEqual(st, 200)
        self.assertEqual(body["updated_at"],
                         time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)))
        self.assertEqual(body["sessions"], [
            {"type": "episode", "title": "Cancer Man", "show": "Breaking Bad", "season": 1,
             "episode": 4, "year": None, "user": "plexuser", "player": "Plex Web",
             "state": "paused", "progress": 42.3, "trakt": "paused"},
            {"type": "movie", "title": "The Dark Knight", "show": None, "season": None,
             "episode": None, "year": 2008, "user": "guest", "player": "TV",
             "state": "playing", "progress": 10, "trakt": "ignored"}])


if __name__ == "__main__":
    unittest.main()
