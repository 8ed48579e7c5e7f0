/**
 * The per-request floor of two ways to serve HTTP from Deno, for the tracker benchmark: every
 * request gets the same small bencoded announce reply, nothing is parsed.
 *
 *   deno run -A bench/http_floor.ts serve PORT   # Deno.serve (what btx tracker uses)
 *   deno run -A bench/http_floor.ts ffi PORT     # epoll/accept4/read/write/close through FFI
 *
 * `bench/tracker.sh` runs both as TRACKERS="floor-serve floor-ffi". The FFI loop answers after
 * the first read and closes, so it is a floor, not a server: no partial requests, no timeouts,
 * no keep-alive, no peer address, Linux x86_64 only.
 */
const [mode = "serve", portText = "28980"] = Deno.args;
const port = Number(portText);
const body = new TextEncoder().encode(
  "d8:completei1e10:incompletei1e8:intervali1800e12:min intervali60e5:peers0:e",
);

if (mode === "serve") {
  const headers = { "content-type": "text/plain" };
  Deno.serve({ hostname: "127.0.0.1", port, onListen: () => console.log("listening") }, () => {
    return new Response(body, { headers });
  });
} else if (mode === "ffi") {
  ffiLoop();
} else {
  throw new Error(`mode "${mode}": serve or ffi`);
}

function ffiLoop(): never {
  const libc = Deno.dlopen("libc.so.6", {
    socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
    setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
    bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
    listen: { parameters: ["i32", "i32"], result: "i32" },
    accept4: { parameters: ["i32", "pointer", "pointer", "i32"], result: "i32" },
    read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    close: { parameters: ["i32"], result: "i32" },
    epoll_create1: { parameters: ["i32"], result: "i32" },
    epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
    epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  });
  const s = libc.symbols;
  const NONBLOCK = 0x800;
  const listener = s.socket(2, 1 | NONBLOCK, 0); // AF_INET, SOCK_STREAM
  s.setsockopt(listener, 1, 2, new Uint8Array(Int32Array.of(1).buffer), 4); // SO_REUSEADDR
  const addr = new Uint8Array(16); // sockaddr_in: family, port (big-endian), 127.0.0.1
  new DataView(addr.buffer).setUint16(0, 2, true);
  new DataView(addr.buffer).setUint16(2, port, false);
  addr.set([127, 0, 0, 1], 4);
  if (s.bind(listener, addr, 16) !== 0 || s.listen(listener, 4096) !== 0) {
    throw new Error(`cannot listen on 127.0.0.1:${port}`);
  }
  const epoll = s.epoll_create1(0);
  const event = new DataView(new ArrayBuffer(12)); // struct epoll_event is packed on x86_64
  const watch = (fd: number) => {
    event.setUint32(0, 1, true); // EPOLLIN
    event.setUint32(4, fd, true);
    s.epoll_ctl(epoll, 1, fd, new Uint8Array(event.buffer)); // EPOLL_CTL_ADD
  };
  watch(listener);
  const header = new TextEncoder().encode(
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
  );
  const reply = new Uint8Array(header.length + body.length);
  reply.set(header);
  reply.set(body, header.length);
  const MAX_EVENTS = 256;
  const events = new Uint8Array(12 * MAX_EVENTS);
  const view = new DataView(events.buffer);
  const buf = new Uint8Array(8192);
  console.log("listening");
  for (;;) {
    const n = s.epoll_wait(epoll, events, MAX_EVENTS, 1000);
    for (let i = 0; i < n; i++) {
      const fd = view.getUint32(12 * i + 4, true);
      if (fd === listener) {
        for (let c = s.accept4(listener, null, null, NONBLOCK); c >= 0;) {
          watch(c);
          c = s.accept4(listener, null, null, NONBLOCK);
        }
        continue;
      }
      if (s.read(fd, buf, BigInt(buf.length)) > 0n) s.write(fd, reply, BigInt(reply.length));
      s.close(fd); // closing also takes it out of the epoll set
    }
  }
}
