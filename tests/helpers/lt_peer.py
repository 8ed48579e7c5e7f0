#!/usr/bin/python3
"""A libtorrent peer for btx's interop tests. Run with Debian's /usr/bin/python3.

  lt_peer.py seed  --torrent T --dir D [--ip 127.0.0.1] [--port 0]
  lt_peer.py leech --torrent T --dir D [--ip 127.0.0.1] [--port 0]

Peer discovery is the tracker only (DHT, LSD, UPnP, NAT-PMP, PEX-free settings), TCP only,
plaintext. Prints one line per event on stdout:
  LISTEN <port>           the port libtorrent listens on
  READY                   (seed) the data was checked and it is seeding
  PROGRESS <0..1> <peers> (leech) every 0.5 s
  DONE                    (leech) every piece downloaded and hash-checked
  TRACKER_ERROR <msg>     a tracker answered with a failure
It keeps running (seeding) until SIGTERM/SIGINT or until stdin is closed.
"""
import argparse
import signal
import sys
import threading
import time

import libtorrent as lt

stopping = threading.Event()


def settings(ip, port):
    return {
        "listen_interfaces": f"{ip}:{port}",
        "outgoing_interfaces": ip,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        # Both peers are on one loopback address.
        "allow_multiple_connections_per_ip": True,
        "out_enc_policy": int(lt.enc_policy.disabled),
        "in_enc_policy": int(lt.enc_policy.enabled),
        "alert_mask": int(lt.alert.category_t.status_notification
                          | lt.alert.category_t.error_notification
                          | lt.alert.category_t.tracker_notification),
    }


def watch_stdin():
    # The test closing our stdin (or dying) also stops us.
    sys.stdin.read()
    stopping.set()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["seed", "leech"])
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--ip", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    threading.Thread(target=watch_stdin, daemon=True).start()

    ses = lt.session(settings(a.ip, a.port))
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(a.torrent)
    atp.save_path = a.dir
    atp.flags &= ~lt.torrent_flags.auto_managed
    atp.flags &= ~lt.torrent_flags.paused
    h = ses.add_torrent(atp)
    print(f"LISTEN {ses.listen_port()}", flush=True)

    ready = done = False
    next_progress = 0.0
    while not stopping.is_set():
        for al in ses.pop_alerts():
            if isinstance(al, lt.tracker_error_alert):
                print(f"TRACKER_ERROR {al.message()}", flush=True)
        st = h.status()
        if a.mode == "seed" and not ready and st.is_seeding:
            ready = True
            print("READY", flush=True)
        if a.mode == "leech" and not done:
            if time.monotonic() >= next_progress:
                next_progress = time.monotonic() + 0.5
                print(f"PROGRESS {st.progress:.4f} {st.num_peers}", flush=True)
            if st.is_finished and st.is_seeding:
                done = True
                h.flush_cache()
                print("DONE", flush=True)
        ses.wait_for_alert(100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
