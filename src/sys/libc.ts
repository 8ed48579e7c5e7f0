/**
 * The one libc binding of the process, through Deno's FFI (Linux only, needs --allow-ffi): the
 * socket, epoll and eventfd calls of the epoll HTTP server and the file calls of preallocation.
 * Kept to plain system calls. Everything that uses it asks `libcUnavailable()` first.
 */

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  // ssize_t results read as i32: every transfer here is far below 2 GiB.
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  epoll_wait_async: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  fallocate: { parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0x800;
export const SOCK_CLOEXEC = 0x80000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const IPPROTO_TCP = 6;
export const TCP_DEFER_ACCEPT = 9;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;
export const MSG_NOSIGNAL = 0x4000;
export const SHUT_WR = 1;
export const EPOLLIN = 0x1;
export const EPOLLOUT = 0x4;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EAGAIN = 11;
export const EINTR = 4;
export const EMFILE = 24;
export const ENFILE = 23;
export const ENOBUFS = 105;
export const ENOMEM = 12;

/** struct epoll_event is packed (12 bytes) on x86_64 and padded to 16 elsewhere. */
export const EPOLL_EVENT_SIZE = Deno.build.arch === "x86_64" ? 12 : 16;
export const EPOLL_DATA_OFFSET = Deno.build.arch === "x86_64" ? 4 : 8;

let loaded: { libc: Libc; errno: Deno.UnsafePointerView } | undefined;
let unavailable: string | undefined | null = null;

/**
 * Why libc cannot be used here, or undefined when it can. Really opens it (once): a system
 * without glibc, or a sandbox that refuses dlopen, falls back like a missing permission.
 */
export function libcUnavailable(): string | undefined {
  if (unavailable !== null) return unavailable;
  if (Deno.build.os !== "linux") unavailable = "needs Linux";
  else if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    unavailable = "needs --allow-ffi";
  } else {
    try {
      libc();
      unavailable = undefined;
    } catch (e) {
      unavailable = `cannot load libc: ${(e as Error).message}`;
    }
  }
  return unavailable;
}

/** Why the epoll server cannot run here (it needs libc), or undefined when it can. */
export function epollUnavailable(): string | undefined {
  const why = libcUnavailable();
  return why === undefined ? undefined : `epoll ${why}`;
}

/** Opens libc once per process. Throws when FFI is unavailable. */
export function libc(): Libc {
  if (!loaded) {
    const lib = Deno.dlopen("libc.so.6", SYMBOLS);
    const at = lib.symbols.__errno_location();
    if (at === null) throw new Error("libc: no errno location");
    loaded = { libc: lib.symbols, errno: new Deno.UnsafePointerView(at) };
  }
  return loaded.libc;
}

/**
 * errno of the last failed call. Reads the JS thread's errno: valid right after a
 * synchronous call, never after an awaited (nonblocking) one.
 */
export function errno(): number {
  libc();
  return loaded!.errno.getInt32();
}

/** The C library's text for an errno value. */
export function describeErrno(code: number): string {
  const text = libc().strerror(code);
  return text === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(text);
}

/** Sets an int socket option. */
export function setIntOption(fd: number, level: number, name: number, value: number): boolean {
  return libc().setsockopt(fd, level, name, new Uint8Array(Int32Array.of(value).buffer), 4) === 0;
}
