/**
 * HTTP for the image layer: Bun's fetch with a deadline for the response
 * headers, a stall timeout on the body, retries with exponential backoff on
 * 5xx and connection failures, and one-line ImageErrors for everything else.
 */
import { ImageError } from "../errors.ts";
import type { Env } from "./config.ts";

export interface NetworkOptions {
  /** Until the response headers arrive (connect, TLS, server think time). */
  connectTimeoutMs?: number;
  /** Longest silence allowed while reading a body. */
  stallTimeoutMs?: number;
  /** Retries after the first attempt for 5xx, 429 and connection failures. */
  retries?: number;
  /** First backoff; doubles each retry (with jitter). */
  backoffMs?: number;
}

export type ResolvedNetwork = Required<NetworkOptions>;

/** HTTP 404/410: the thing is not on the server (callers may fall back to another source). */
export class NotFoundError extends ImageError {}

const DEFAULTS: ResolvedNetwork = { connectTimeoutMs: 30_000, stallTimeoutMs: 60_000, retries: 4, backoffMs: 500 };

function envNumber(env: Env, key: string): number | undefined {
  const v = env[key];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new ImageError(`${key} must be a whole number of milliseconds (or retries), not '${v}'`, { hint: `unset ${key} to use the default` });
  return n;
}

/** Options win over KARAPACE_IMAGE_{CONNECT_TIMEOUT_MS,STALL_TIMEOUT_MS,RETRIES,BACKOFF_MS}, which win over the defaults. */
export function resolveNetwork(options: NetworkOptions = {}, env: Env = process.env): ResolvedNetwork {
  return {
    connectTimeoutMs: options.connectTimeoutMs ?? envNumber(env, "KARAPACE_IMAGE_CONNECT_TIMEOUT_MS") ?? DEFAULTS.connectTimeoutMs,
    stallTimeoutMs: options.stallTimeoutMs ?? envNumber(env, "KARAPACE_IMAGE_STALL_TIMEOUT_MS") ?? DEFAULTS.stallTimeoutMs,
    retries: options.retries ?? envNumber(env, "KARAPACE_IMAGE_RETRIES") ?? DEFAULTS.retries,
    backoffMs: options.backoffMs ?? envNumber(env, "KARAPACE_IMAGE_BACKOFF_MS") ?? DEFAULTS.backoffMs,
  };
}

/** A failure worth another attempt (server error, reset connection, timeout). */
export class TransientError extends Error {
  override readonly name = "TransientError";
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

class Timeout extends Error {
  override readonly name = "Timeout";
}

const OFFLINE_HINT = "check the network connection, or set KARAPACE_IMAGE_SERVER / image_server in ~/.config/karapace/config.toml to a reachable server";

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** A thrown fetch/read error as either a TransientError (retry) or an ImageError (give up). */
export function classifyNetworkError(error: unknown, url: string, signal: AbortSignal | undefined): Error {
  if (error instanceof ImageError || error instanceof TransientError) return error;
  if (signal?.aborted === true) return new ImageError("image download interrupted", { hint: "run the command again; the download resumes where it stopped" });
  if (error instanceof Timeout) return new TransientError(`${error.message} (${url})`, "the server is slow or unreachable; try again later, or raise KARAPACE_IMAGE_STALL_TIMEOUT_MS");
  const code = (error as { code?: string } | undefined)?.code;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new ImageError(`cannot resolve host '${hostOf(url)}'`, { hint: OFFLINE_HINT });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TransientError(`connection to ${hostOf(url)} failed: ${code ?? message}`, OFFLINE_HINT);
}

/** The ImageError for an HTTP status that is not worth retrying, or a TransientError for one that is. */
export function statusError(status: number, url: string): Error {
  if (status === 404 || status === 410) {
    return new NotFoundError(`not found (HTTP ${status}): ${url}`, {
      hint: "check the image name or URL; a pinned build may have been removed from the server (run 'karapace pin' again)",
    });
  }
  if (status >= 500 || status === 429 || status === 408) {
    return new TransientError(`the server answered HTTP ${status} for ${url}`, "the image server is having trouble; try again later");
  }
  return new ImageError(`the server refused the request (HTTP ${status}): ${url}`, { hint: "check the URL and the server's access rules" });
}

export interface FetchOnce {
  response: Response;
  /** Clears the header timer; call once the body is done. */
  done(): void;
  /** Aborts the request with a stall Timeout. */
  abortStalled(): void;
  signal: AbortSignal;
}

/** One request whose headers must arrive within connectTimeoutMs. */
export async function fetchWithDeadline(url: string, init: RequestInit, net: ResolvedNetwork, outer?: AbortSignal): Promise<FetchOnce> {
  const controller = new AbortController();
  const onOuter = (): void => controller.abort(outer?.reason);
  outer?.addEventListener("abort", onOuter, { once: true });
  const timer = setTimeout(() => controller.abort(new Timeout(`no response within ${net.connectTimeoutMs} ms`)), net.connectTimeoutMs);
  const done = (): void => {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onOuter);
  };
  try {
    const response = await fetch(url, { ...init, signal: controller.signal, redirect: "follow" });
    clearTimeout(timer);
    return {
      response,
      done,
      abortStalled: () => controller.abort(new Timeout(`the download stalled for ${net.stallTimeoutMs} ms`)),
      signal: controller.signal,
    };
  } catch (error) {
    done();
    throw controller.signal.aborted && controller.signal.reason instanceof Timeout ? controller.signal.reason : error;
  }
}

/**
 * Reads a body chunk by chunk, aborting when no chunk arrives within the
 * stall timeout. `sink` gets each chunk.
 */
export async function readBody(once: FetchOnce, net: ResolvedNetwork, sink: (chunk: Uint8Array) => void): Promise<void> {
  const body = once.response.body;
  if (body === null) return;
  const reader = body.getReader();
  let timer = setTimeout(once.abortStalled, net.stallTimeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      clearTimeout(timer);
      timer = setTimeout(once.abortStalled, net.stallTimeoutMs);
      sink(value);
    }
  } catch (error) {
    const reason: unknown = once.signal.aborted ? once.signal.reason : undefined;
    throw reason instanceof Error ? reason : error;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
}

export function backoffDelay(attempt: number, net: ResolvedNetwork): number {
  return Math.round(net.backoffMs * 2 ** attempt * (0.75 + Math.random() * 0.5));
}

/** Runs `attempt` until it succeeds, retrying TransientErrors with backoff; the last one becomes an ImageError. */
export async function withRetries<T>(what: string, net: ResolvedNetwork, signal: AbortSignal | undefined, attempt: (n: number) => Promise<T>, log?: (line: string) => void): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!(error instanceof TransientError)) throw error;
      if (n >= net.retries || signal?.aborted === true) {
        throw new ImageError(`${what}: ${error.message}${n > 0 ? ` (after ${n + 1} attempts)` : ""}`, { hint: error.hint });
      }
      const delay = backoffDelay(n, net);
      log?.(`${what}: ${error.message}; retrying in ${(delay / 1000).toFixed(1)} s`);
      await Bun.sleep(delay);
    }
  }
}

/** A small text document (index, directory listing), with retries. */
export async function fetchText(url: string, net: ResolvedNetwork, signal?: AbortSignal, log?: (line: string) => void): Promise<string> {
  return withRetries(`fetching ${url}`, net, signal, async () => {
    let once: FetchOnce;
    try {
      once = await fetchWithDeadline(url, {}, net, signal);
    } catch (error) {
      throw classifyNetworkError(error, url, signal);
    }
    try {
      if (!once.response.ok) throw statusError(once.response.status, url);
      const parts: Uint8Array[] = [];
      let total = 0;
      await readBody(once, net, (chunk) => {
        total += chunk.length;
        if (total > 64 * 1024 * 1024) throw new ImageError(`${url} is larger than 64 MiB; that is not an index`, { hint: "check the image server URL" });
        parts.push(chunk);
      });
      return Buffer.concat(parts).toString("utf8");
    } catch (error) {
      throw classifyNetworkError(error, url, signal);
    } finally {
      once.done();
    }
  }, log);
}
