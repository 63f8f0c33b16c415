/**
 * One image is downloaded and unpacked by one process at a time: an flock(2)
 * on `images/.locks/<cache_key>.lock`. The kernel drops it when the holder
 * dies, so a killed download never blocks the next one. Waiting polls (the
 * event loop keeps running, so Ctrl-C and AbortSignals work).
 */
import { closeSync, constants, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { ImageError } from "../errors.ts";
import { tryLockExclusive, unlock } from "../store/flock.ts";

export interface HeldLock {
  release(): void;
}

function tryLock(fd: number, path: string): boolean {
  const outcome = tryLockExclusive(fd);
  if (outcome === "locked") return true;
  if (outcome === "busy") return false;
  throw new ImageError(`flock(${path}) failed with errno ${outcome}`, { hint: "check that the store's images directory is on a local filesystem" });
}

/** Takes the lock, waiting (with `onWait` called once) while another process holds it. */
export async function lockFile(path: string, options: { signal?: AbortSignal; onWait?: () => void } = {}): Promise<HeldLock> {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  try {
    let delay = 5;
    let waited = false;
    while (!tryLock(fd, path)) {
      if (!waited) options.onWait?.();
      waited = true;
      if (options.signal?.aborted === true) throw new ImageError("stopped waiting for another process preparing the same image", { hint: "run the command again" });
      await Bun.sleep(delay);
      delay = Math.min(delay * 2, 200);
    }
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      unlock(fd);
      closeSync(fd);
    },
  };
}
