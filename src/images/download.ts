/**
 * Downloads an archive to a partial file, streamed (never whole in memory),
 * resuming with a Range request where an earlier attempt or process stopped,
 * and checks its sha256 when one is known. The partial file stays in
 * `images/.downloads/` until the download is complete and verified.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { ImageError } from "../errors.ts";
import { classifyNetworkError, fetchWithDeadline, type FetchOnce, readBody, type ResolvedNetwork, statusError, TransientError, withRetries } from "./http.ts";

export interface DownloadRequest {
  url: string;
  /** The partial file; kept on failure so the next attempt resumes. */
  partPath: string;
  sha256?: string;
  size?: number;
  net: ResolvedNetwork;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (received: number, total: number | undefined) => void;
}

export interface DownloadResult {
  sha256: string;
  size: number;
  /** Bytes that were already on disk from an earlier attempt. */
  resumedFrom: number;
}

/** What the server said about the file, so a resume can ask "only if it is still the same" (If-Range). */
interface Validator {
  url: string;
  etag?: string;
  lastModified?: string;
}

function readValidator(path: string, url: string): Validator | undefined {
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as Validator;
    return v.url === url ? v : undefined;
  } catch {
    return undefined;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** sha256 of the first `length` bytes of a file, for a resume started by another process. */
function hashPrefix(path: string, length: number): Bun.CryptoHasher {
  const hasher = new Bun.CryptoHasher("sha256");
  if (length === 0) return hasher;
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, length - done), done);
      if (n === 0) break;
      hasher.update(buf.subarray(0, n));
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return hasher;
}

function parseContentRange(value: string | null): { start: number; total: number | undefined } | undefined {
  const m = value === null ? null : /^bytes\s+(\d+)-\d+\/(\d+|\*)$/.exec(value.trim());
  if (m === null) return undefined;
  return { start: Number(m[1]), total: m[2] === "*" ? undefined : Number(m[2]) };
}

export async function downloadArchive(req: DownloadRequest): Promise<DownloadResult> {
  const validatorPath = `${req.partPath}.json`;
  let validator = readValidator(validatorPath, req.url);
  if (validator === undefined) {
    // A partial file of another URL (or without a record) cannot be resumed.
    rmSync(req.partPath, { force: true });
  }
  const resumedFrom = sizeOf(req.partPath);
  let hasher: Bun.CryptoHasher | undefined;
  let hashed = -1;
  let progressMade = false;

  const attempt = async (): Promise<number> => {
    let have = sizeOf(req.partPath);
    if (hashed !== have) {
      hasher = hashPrefix(req.partPath, have);
      hashed = have;
    }
    const headers: Record<string, string> = { "accept-encoding": "identity" };
    if (have > 0) {
      headers.range = `bytes=${have}-`;
      const v = validator?.etag ?? validator?.lastModified;
      if (v !== undefined) headers["if-range"] = v;
    }
    let once: FetchOnce;
    try {
      once = await fetchWithDeadline(req.url, { headers }, req.net, req.signal);
    } catch (error) {
      throw classifyNetworkError(error, req.url, req.signal);
    }
    const res = once.response;
    if (res.status === 416 && have > 0) {
      once.done();
      const range = /\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
      if (range !== null && Number(range[1]) === have) return have; // already complete
      rmSync(req.partPath, { force: true });
      hashed = -1;
      throw new TransientError(`the server refused to resume ${req.url}`, "starting the download again");
    }
    if (!res.ok) {
      once.done();
      throw statusError(res.status, req.url);
    }
    const fd = openSync(req.partPath, "a+");
    try {
      let total: number | undefined;
      if (res.status === 206) {
        const range = parseContentRange(res.headers.get("content-range"));
        if (range === undefined || range.start !== have) {
          ftruncateSync(fd, 0);
          hashed = -1;
          throw new TransientError(`the server resumed ${req.url} at the wrong offset`, "starting the download again");
        }
        total = range.total;
      } else {
        // A full answer: the server ignored the range, or the file changed since the partial download began.
        if (have > 0) req.log?.(`the server sent all of ${req.url} again; restarting the download`);
        ftruncateSync(fd, 0);
        have = 0;
        hasher = new Bun.CryptoHasher("sha256");
        hashed = 0;
        const len = res.headers.get("content-length");
        total = len === null ? undefined : Number(len);
        validator = { url: req.url, etag: res.headers.get("etag") ?? undefined, lastModified: res.headers.get("last-modified") ?? undefined };
        writeFileSync(validatorPath, JSON.stringify(validator));
      }
      if (req.size !== undefined && total !== undefined && total !== req.size) {
        throw new ImageError(`${req.url} is ${total} bytes, but the image index says ${req.size}`, { hint: "the server's index and files disagree; try again later" });
      }
      let received = have;
      req.onProgress?.(received, total ?? req.size);
      const h = hasher as Bun.CryptoHasher;
      try {
        await readBody(once, req.net, (chunk) => {
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          h.update(chunk);
          received += chunk.length;
          hashed = received;
          progressMade = true;
          req.onProgress?.(received, total ?? req.size);
        });
      } catch (error) {
        throw classifyNetworkError(error, req.url, req.signal);
      }
      if (total !== undefined && received < total) {
        throw new TransientError(`the connection closed after ${received} of ${total} bytes`, "the download resumes where it stopped");
      }
      fsyncSync(fd);
      return received;
    } finally {
      closeSync(fd);
      once.done();
    }
  };

  // A connection that keeps making progress is not failing: each attempt that
  // received bytes earns the retry budget back (up to a hard ceiling).
  let size = 0;
  let rounds = 0;
  for (;;) {
    progressMade = false;
    try {
      size = await withRetries(`downloading ${req.url}`, req.net, req.signal, attempt, req.log);
      break;
    } catch (error) {
      if (!progressMade || ++rounds > 20 || req.signal?.aborted === true) {
        // Keep what was received for the next attempt; an empty partial is no use.
        if (sizeOf(req.partPath) === 0) {
          rmSync(req.partPath, { force: true });
          rmSync(validatorPath, { force: true });
        }
        throw error;
      }
    }
  }

  const sha256 = hashed === size && hasher !== undefined ? hasher.digest("hex") : hashPrefix(req.partPath, size).digest("hex");
  if (req.size !== undefined && size !== req.size) {
    rmSync(req.partPath, { force: true });
    rmSync(validatorPath, { force: true });
    throw new ImageError(`downloaded ${size} bytes from ${req.url}, but the image index says ${req.size}`, { hint: "try again; if it persists the server's index is wrong" });
  }
  if (req.sha256 !== undefined && sha256 !== req.sha256.toLowerCase()) {
    rmSync(req.partPath, { force: true });
    rmSync(validatorPath, { force: true });
    throw new ImageError(`checksum mismatch for ${req.url}: got sha256 ${sha256}, the image index says ${req.sha256}`, {
      hint: "the download was discarded and nothing was cached; try again, and if it persists the server or a proxy is serving a different file",
    });
  }
  return { sha256, size, resumedFrom };
}
