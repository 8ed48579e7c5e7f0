/**
 * The file-system side of Storage: its error type, path containment, the symlink-safe walk
 * down to a torrent file, and resume stamp comparison.
 */
import { isAbsolute, join, relative, sep } from "node:path";
import { BtxError } from "../../util/errors.ts";
import type { FileStamp } from "./resume.ts";

/** A disk operation failed; names the file and what was being done. */
export class StorageError extends BtxError {
  override name = "StorageError";
  constructor(readonly path: string, readonly operation: string, readonly reason: string) {
    super(`${operation} ${path}: ${reason}`);
  }
}

/**
 * Walks `path` from the output folder `dir` (real path `realDir`) down, refusing any symlink
 * that resolves outside it (a planted `name -> /etc` must not redirect our writes). With
 * `creating`, missing folders are made one level at a time so nothing unchecked is ever
 * followed. True when the whole path was checked; false when part of it does not exist (and
 * `creating` is off): the open will report the missing file, and the walk is due again.
 */
export async function ensureSafePath(
  dir: string,
  realDir: string,
  path: string,
  creating: boolean,
): Promise<boolean> {
  const parts = relative(dir, path).split(sep);
  let cur = dir;
  for (const [k, part] of parts.entries()) {
    cur = join(cur, part);
    const last = k === parts.length - 1;
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(cur);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw toStorageError(e, cur, "stat");
      if (!creating) return false;
      if (last) break;
      await Deno.mkdir(cur).catch((e) => {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw toStorageError(e, cur, "mkdir");
      });
      info = await Deno.lstat(cur);
    }
    if (info.isSymlink) {
      await refuseEscapingLink(cur, realDir);
    } else if (!last && !info.isDirectory) {
      throw new StorageError(cur, "open", "not a folder");
    }
  }
  return true;
}

/** Throws unless the symlink at `link` resolves to a place inside `realDir`. */
export async function refuseEscapingLink(link: string, realDir: string): Promise<void> {
  const target = await Deno.realPath(link).catch(() => "");
  if (target === "" || !isInside(realDir, target)) {
    throw new StorageError(link, "open", "symlink points outside the output folder");
  }
}

function isInside(dir: string, path: string): boolean {
  return relative(dir, path) === "" || isStrictlyInside(dir, path);
}

export function isStrictlyInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

export function sameStamps(a: FileStamp[], b: FileStamp[]): boolean {
  return a.length === b.length &&
    a.every((s, i) => s.size === b[i]!.size && s.mtimeMs === Math.round(b[i]!.mtimeMs));
}

/** Maps a Deno I/O error to a one-line StorageError (ENOSPC reads "disk full", EROFS...). */
export function toStorageError(e: unknown, path: string, operation: string): StorageError {
  if (e instanceof StorageError) return e;
  const code = (e as { code?: string }).code;
  let reason = e instanceof Error ? e.message : String(e);
  if (code === "ENOSPC" || /no space left/i.test(reason)) reason = "disk full";
  else if (e instanceof Deno.errors.NotFound) reason = "no such file";
  else if (e instanceof Deno.errors.PermissionDenied) reason = "permission denied";
  else if (code === "EROFS" || /read-only file system/i.test(reason)) {
    reason = "read-only file system";
  }
  return new StorageError(path, operation, reason);
}
