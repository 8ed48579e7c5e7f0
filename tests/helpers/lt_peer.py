#!/usr/bin/python3
"""A libtorrent peer and torrent tool for btx's interop tests. Run with Debian's /usr/bin/python3.

  lt_peer.py seed   --torrent T --dir D [--ip 127.0.0.1] [--port 0] [--peer HOST:PORT]...
  lt_peer.py leech  --torrent T --dir D [--ip 127.0.0.1] [--port 0] [--peer HOST:PORT]...
  lt_peer.py create --path P --out T --piece-length N [--tracker URL] [--hybrid]
  lt_peer.py info   --torrent T
  lt_peer.py defaults

seed/leech: peer discovery is the tracker and --peer only (DHT, LSD, UPnP, NAT-PMP off, no uTP),
several peers on one address allowed, encryption allowed but not required (libtorrent's
"enabled" policy both ways, so it may open with an MSE handshake and fall back to plaintext).
--plaintext turns outgoing encryption off; --peer-timeout S shortens the silence after which
libtorrent drops a peer (default 120 s); --upload-limit B caps uploads at B bytes/s.
Prints one line per event on stdout:
  LISTEN <port>           the port libtorrent listens on
  READY                   (seed) the data was checked and it is seeding
  PROGRESS <0..1> <peers> (leech) every 0.5 s
  DONE                    (leech) every piece downloaded and hash-checked
  TRACKER_ERROR <msg>     a tracker answered with a failure
  PEER_ERROR <msg>        a peer connection failed (for the test's log)
It keeps running (seeding) until SIGTERM/SIGINT or until stdin is closed.

create: writes a v1-only torrent of a file or folder (libtorrent's own layout and ordering), or
with --hybrid libtorrent's default v1+v2 torrent, whose v1 part has BEP 47 pad files.
info: prints one JSON line: info hash, name, piece length, pieces, files as libtorrent reads them.
defaults: prints one JSON line of libtorrent default settings that btx must fit (timeouts, reqq).
"""
import argparse
import json
import os
import signal
import sys
import threading
import time

import libtorrent as lt

stopping = threading.Event()


def settings(ip, port, plaintext, peer_timeout, upload_limit):
    out_policy = lt.enc_policy.disabled if plaintext else lt.enc_policy.enabled
    extra = {} if peer_timeout is None else {"peer_timeout": peer_timeout}
    if upload_limit:
        extra["upload_rate_limit"] = upload_limit
    return {
        **extra,
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
        "out_enc_policy": int(out_policy),
        "in_enc_policy": int(lt.enc_policy.enabled),
        "allowed_enc_level": int(lt.enc_level.both),
        "alert_mask": int(lt.alert.category_t.status_notification
                          | lt.alert.category_t.error_notification
                          | lt.alert.category_t.tracker_notification
                          | lt.alert.category_t.peer_notification),
    }


def watch_stdin():
    # The test closing our stdin (or dying) also stops us.
    sys.stdin.read()
    stopping.set()


def parse_peer(text):
    host, _, port = text.rpartition(":")
    return (host.strip("[]"), int(port))


def run_peer(a):
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    threading.Thread(target=watch_stdin, daemon=True).start()

    ses = lt.session(settings(a.ip, a.port, a.plaintext, a.peer_timeout, a.upload_limit))
    if a.upload_limit:
        # Loopback peers are in the "local" class, which the global rate limit leaves out.
        local = ses.get_peer_class(lt.session.local_peer_class_id)
        local["upload_limit"] = a.upload_limit
        ses.set_peer_class(lt.session.local_peer_class_id, local)
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(a.torrent)
    atp.save_path = a.dir
    atp.flags &= ~lt.torrent_flags.auto_managed
    atp.flags &= ~lt.torrent_flags.paused
    h = ses.add_torrent(atp)
    print(f"LISTEN {ses.listen_port()}", flush=True)
    peers = [parse_peer(p) for p in a.peer]
    next_dial = 0.0

    ready = done = False
    next_progress = 0.0
    while not stopping.is_set():
        for al in ses.pop_alerts():
            if isinstance(al, lt.tracker_error_alert):
                print(f"TRACKER_ERROR {al.message()}", flush=True)
            elif isinstance(al, (lt.peer_error_alert, lt.peer_disconnected_alert)):
                print(f"PEER_ERROR {al.message()}", flush=True)
        st = h.status()
        # Peers given on the command line are dialled again while none is connected.
        if peers and st.num_peers == 0 and time.monotonic() >= next_dial:
            next_dial = time.monotonic() + 2.0
            for p in peers:
                h.connect_peer(p)
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


def run_create(a):
    fs = lt.file_storage()
    lt.add_files(fs, a.path)
    # libtorrent 2's own default is a hybrid v1+v2 torrent (with BEP 47 pad files).
    flags = 0 if a.hybrid else lt.create_torrent.v1_only
    ct = lt.create_torrent(fs, a.piece_length, flags=flags)
    if a.tracker:
        ct.add_tracker(a.tracker)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(a.path)))
    with open(a.out, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    return 0


def run_info(a):
    ti = lt.torrent_info(a.torrent)
    fs = ti.files()
    files = []
    for i in range(fs.num_files()):
        # Pad files (BEP 47) are libtorrent's own alignment, not content.
        if fs.file_flags(i) & lt.file_storage.flag_pad_file:
            continue
        files.append([fs.file_path(i), fs.file_size(i)])
    print(json.dumps({
        "infoHash": str(ti.info_hashes().v1),
        "name": ti.name(),
        "pieceLength": ti.piece_length(),
        "pieceCount": ti.num_pieces(),
        "length": ti.total_size(),
        "files": files,
    }), flush=True)
    return 0


def run_defaults(_a):
    d = lt.default_settings()
    print(json.dumps({k: d[k] for k in ("peer_timeout", "inactivity_timeout",
                                         "max_allowed_in_request_queue")}), flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["seed", "leech", "create", "info", "defaults"])
    ap.add_argument("--torrent")
    ap.add_argument("--dir")
    ap.add_argument("--ip", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--peer", action="append", default=[])
    ap.add_argument("--plaintext", action="store_true")
    # Seconds of silence after which libtorrent drops a peer (default 120, BEP 3's two minutes).
    ap.add_argument("--peer-timeout", type=int)
    ap.add_argument("--upload-limit", type=int, help="bytes per second, 0 = unlimited")
    ap.add_argument("--path")
    ap.add_argument("--out")
    ap.add_argument("--piece-length", type=int, default=0)
    ap.add_argument("--tracker")
    ap.add_argument("--hybrid", action="store_true")
    a = ap.parse_args()
    if a.mode == "create":
        return run_create(a)
    if a.mode == "info":
        return run_info(a)
    if a.mode == "defaults":
        return run_defaults(a)
    return run_peer(a)


if __name__ == "__main__":
    sys.exit(main())
