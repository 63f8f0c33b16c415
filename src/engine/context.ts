/**
 * What every Engine operation module gets: the open store and how to take its
 * write lock the way this Engine was configured (who we are, who to tell when
 * we wait).
 */
import type { AcquireOptions, LockHandle, LockHolder } from "../store/lock.ts";
import type { StoreLogger } from "../store/logger.ts";
import type { Store } from "../store/store.ts";

export interface EngineOptions {
  /** The store root (`--store`). */
  root: string;
  /** Warnings and progress notes; the CLI passes its logger. */
  logger?: StoreLogger;
  /** Recorded in the lock's owner record for other writers to see, e.g. "karapace build". */
  command?: string;
  /** Called once when another writer holds the store lock and this operation starts waiting. */
  onLockWait?: (holder: LockHolder | undefined) => void;
  /** Give up waiting for the store lock after this long (default: wait). */
  lockTimeoutMs?: number;
}

export interface OpContext {
  readonly root: string;
  readonly store: Store;
  readonly logger: StoreLogger;
  /** Runs `fn` holding the store lock, after recovering what crashed writers left. */
  withWriteLock<T>(fn: (handle: LockHandle) => T | Promise<T>, signal?: AbortSignal): Promise<T>;
}

export function acquireOptions(options: EngineOptions, signal: AbortSignal | undefined): AcquireOptions {
  return {
    command: options.command,
    onWait: options.onLockWait,
    signal,
    timeoutMs: options.lockTimeoutMs,
  };
}

/** "pid 4242 (karapace build, since 2025-...)" */
export function describeHolder(holder: LockHolder | undefined): string {
  return holder === undefined ? "another process" : `pid ${holder.pid} (${holder.command}, since ${holder.since})`;
}

/** The line a command prints when it has to wait for another writer. */
export function lockWaitMessage(holder: LockHolder | undefined): string {
  return `waiting for the store lock, held by ${describeHolder(holder)}`;
}
