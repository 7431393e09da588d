"""./bootstrap run as a person uses it: one run per data folder, others coexist, clean stop."""
import os
import signal
import subprocess
import time
import unittest

from stack import BUILD, TOP, Stack


class TestBootstrapRun(unittest.TestCase):
    def test_second_run_on_same_data_folder_refuses(self):
        with Stack() as s:
            env = dict(s.env, PTS_HTTP_PORT=str(s.port + 1 if s.port < 65000 else s.port - 1))
            r = subprocess.run([os.path.join(TOP, "bootstrap"), "run"], env=env,
                               capture_output=True, text=True, timeout=60)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("already running", r.stderr)
            # The first one is unharmed.
            st, body, _ = s.api("GET", "/api/health")
            self.assertEqual(st, 200)
            self.assertIs(body["worker"]["alive"], True)

    def test_two_data_folders_coexist(self):
        with Stack() as a, Stack() as b:
            self.assertNotEqual(a.port, b.port)
            for s in (a, b):
                st, body, _ = s.api("GET", "/api/health")
                self.assertEqual(st, 200)
                self.assertIs(body["ok"], True)
            a.api("PUT", "/api/settings", {"sync_interval_hours": 2})
            self.assertEqual(b.api("GET", "/api/settings")[1]["sync_interval_hours"], 6)

    def test_sigterm_stops_all_three(self):
        s = Stack().start()
        try:
            pids = [int(l.split()[0]) for l in subprocess.run(
                ["ps", "-o", "pid=,args=", "--ppid", str(s.proc.pid)], capture_output=True,
                text=True).stdout.splitlines() if l.strip()]
            self.assertGreaterEqual(len(pids), 3, "nginx, pts-cgi and pts-worker")
            s.proc.send_signal(signal.SIGTERM)
            s.proc.wait(timeout=30)
            time.sleep(0.5)
            for pid in pids:
                self.assertFalse(os.path.exists("/proc/%d" % pid), "pid %d still running" % pid)
            self.assertFalse(os.path.exists(os.path.join(s.data, "run", "pts-cgi.sock")))
        finally:
            s.stop()
            s.cleanup()


if __name__ == "__main__":
    unittest.main()
