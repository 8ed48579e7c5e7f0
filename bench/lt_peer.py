#!/usr/bin/python3
"""libtorrent seeder or leecher for bench/swarm.ts. Needs Debian's /usr/bin/python3
(python3-libtorrent), not the pyenv python3 first on PATH.

  lt_peer.py seed  --torrent T --dir D --ip 127.0.0.11 --port 27111
      checks the data (full hash check), prints READY once seeding, seeds until SIGTERM.
  lt_peer.py leech --torrent T --dir OUT --ip 127.0.0.2 --port 27102
      sets the session up, prints SESSION, and waits for a line on stdin before adding the
      torrent, so the caller's clock leaves out python and libtorrent start-up. Prints
      FIRST <s> at the first data and DONE <s> once every piece is hash-checked, then exits 0.

Settings are the library defaults except what keeps the swarm on loopback and the tracker
the only peer source: no DHT/LSD/UPnP/NAT-PMP, TCP only, plaintext, many peers per IP.
"""
import argparse
import signal
import sys
import time

import libtorrent as lt

stop = False


def on_signal(_signum, _frame):
    global stop
    stop = True


def session(ip, port):
    return lt.session({
        "listen_interfaces": f"{ip}:{port}",
        "outgoing_interfaces": ip,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "out_enc_policy": int(lt.enc_policy.disabled),
        "in_enc_policy": int(lt.enc_policy.enabled),
        "alert_mask": int(lt.alert.category_t.status_notification
                          | lt.alert.category_t.error_notification),
    })


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["seed", "leech"])
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--ip", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ses = session(a.ip, a.port)
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(a.torrent)
    params.save_path = a.dir
    # Not auto-managed: the session never queues or pauses it.
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused

    leech = a.mode == "leech"
    if leech:
        print("SESSION", flush=True)
        if not sys.stdin.readline():
            return 1
    t0 = time.monotonic()
    h = ses.add_torrent(params)
    ready = first = False
    while not stop:
        for alert in ses.pop_alerts():
            if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert,
                                  lt.listen_failed_alert)):
                print("alert:", alert.message(), file=sys.stderr, flush=True)
        st = h.status()
        if not leech:
            if not ready and st.is_seeding:
                ready = True
                print("READY", flush=True)
        else:
            if not first and st.total_done > 0:
                first = True
                print(f"FIRST {time.monotonic() - t0:.3f}", flush=True)
            if st.is_finished:
                print(f"DONE {time.monotonic() - t0:.3f}", flush=True)
                h.flush_cache()
                return 0
        # Leechers poll often: the poll interval is part of the measured time.
        ses.wait_for_alert(10 if leech else 100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
