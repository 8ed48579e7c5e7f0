/**
 * A GET with the guards every btx HTTP client needs: a timeout, an outside abort signal and a
 * body size limit. Callers turn `HttpGetFailure` into their own typed error.
 * @module
 */
import { concat } from "../../util/bytes.ts";

export type HttpGetFailureKind = "timeout" | "aborted" | "network" | "too-large";

/** Why a GET produced no body; `message` is one line meant for people. */
export class HttpGetFailure extends Error {
  override name = "HttpGetFailure";
  constructor(readonly kind: HttpGetFailureKind, message: string) {
    super(message);
  }
}

export interface HttpGetOptions {
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  maxBytes: number;
}

export interface HttpGetResult {
  status: number;
  statusText: string;
  ok: boolean;
  headers: Headers;
  body: Uint8Array;
}

/** GETs `url` and reads the whole body (any status). @throws {HttpGetFailure} */
export async function httpGet(url: string, options: HttpGetOptions): Promise<HttpGetResult> {
  const { timeoutMs, maxBytes, signal } = options;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) controller.abort();
  try {
    const response = await fetch(url, {
      signal: controller.signal,
      redirect: "follow",
      headers: { "accept-encoding": "identity" },
    });
    const body = await readLimited(response, maxBytes);
    const { status, statusText, ok, headers } = response;
    return { status, statusText, ok, headers, body };
  } catch (e) {
    if (e instanceof HttpGetFailure) throw e;
    if (timedOut) throw new HttpGetFailure("timeout", `no answer within ${timeoutMs} ms`);
    if (signal?.aborted) throw new HttpGetFailure("aborted", "request cancelled");
    const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new HttpGetFailure("network", `request failed: ${message}`);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** Reads the body, stopping (and cancelling the stream) once it passes `maxBytes`. */
async function readLimited(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await response.body.cancel();
    throw new HttpGetFailure("too-large", `response of ${declared} bytes exceeds ${maxBytes}`);
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > maxBytes) {
      await reader.cancel();
      throw new HttpGetFailure("too-large", `response exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return concat(chunks);
}
