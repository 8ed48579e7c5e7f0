"""Seeds one generated file with libtorrent on 127.0.0.1 for the wire interop test.

Prints "<info hash hex> <port>" once seeding, then runs until stdin closes.
Usage: /usr/bin/python3 libtorrent_seed.py <empty dir>
"""
import os
import sys
import time

import libtorrent as lt

SIZE = 100_000
PIECE = 32_768


def main():
    folder = sys.argv[1]
    path = os.path.join(folder, "data.bin")
    with open(path, "wb") as f:
        # Same pattern as the test expects: byte i is (i * 31 + 7) mod 256.
        f.write(bytes((i * 31 + 7) & 0xFF for i in range(SIZE)))
    fs = lt.file_storage()
    lt.add_files(fs, path)
    t = lt.create_torrent(fs, PIECE)
    lt.set_piece_hashes(t, folder)
    info = lt.torrent_info(t.generate())
    ses = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
    })
    handle = ses.add_torrent({"ti": info, "save_path": folder})
    deadline = time.time() + 30
    while handle.status().state != lt.torrent_status.seeding:
        if time.time() > deadline:
            sys.exit("libtorrent did not start seeding")
        time.sleep(0.05)
    print(f"{info.info_hash()} {ses.listen_port()}", flush=True)
    sys.stdin.read()


main()
