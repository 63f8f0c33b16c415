/**
 * Opening a store: the layout and version check, the database, the parts,
 * and crash recovery. The Engine holds one Store per command.
 */
import type { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { StoreError } from "../errors.ts";
import { openDatabase } from "./db.ts";
import { NoStoreError, StoreLockedError } from "./errors.ts";
import { ioError } from "./fsx.ts";
import { LayerStore } from "./layers.ts";
import { checkFormatVersion, hasUnimportedLegacyData, initLayout, StoreLayout } from "./layout.ts";
import { type AcquireOptions, type LockHandle, StoreLock } from "./lock.ts";
import { silentLogger, type StoreLogger } from "./logger.ts";
import { MetadataStore } from "./metadata.ts";
import { ObjectStore } from "./objects.ts";
import { hasStaleTemps, type StaleItem, sweepStaleTemps } from "./sweep.ts";
import { type RecoveryReport, WriteAheadLog } from "./wal.ts";

export interface OpenOptions {
  /** Create the store if there is none (commands that write, like build). */
  create?: boolean;
  logger?: StoreLogger;
  /** Roll back operations of crashed processes if the lock is free (default true). */
  recover?: boolean;
  /** For migrate only: open although the reference's JSON metadata is not imported yet. */
  allowUnimported?: boolean;
}

export interface RecoveryOutcome {
  wal: RecoveryReport;
  /** Stale temp files and staging entries removed. */
  swept: StaleItem[];
}

export class Store {
  readonly objects: ObjectStore;
  readonly layers: LayerStore;
  readonly metadata: MetadataStore;
  readonly wal: WriteAheadLog;
  readonly lock: StoreLock;
  /** What the recovery at open did, if it ran (it does not when another writer holds the lock). */
  openRecovery: RecoveryOutcome | undefined;

  constructor(
    readonly layout: StoreLayout,
    readonly db: Database,
    readonly logger: StoreLogger,
  ) {
    this.objects = new ObjectStore(layout);
    this.layers = new LayerStore(layout);
    this.metadata = new MetadataStore(db);
    this.wal = new WriteAheadLog(db, layout, this.metadata, logger);
    this.lock = new StoreLock(layout);
  }

  /**
   * Whether a crash may have left something to undo: a lock owner record (a
   * writer is at work or died at it), a WAL entry, or a temp file in store/.
   * Without any of them, opening need not take the lock at all, which keeps
   * read-mostly commands (exec, list) off the lock and free of its fsyncs.
   */
  mayNeedRecovery(): boolean {
    return existsSync(this.layout.lockOwnerFile) || !this.wal.isEmpty() || hasStaleTemps(this.layout.storeDir);
  }

  /**
   * Undoes what crashed writers left: WAL entries of dead processes, and
   * their temp files when there is a sign of a crash (a dead lock holder's
   * record, or such a WAL entry). Needs the lock, so no live writer is undone.
   */
  recover(handle: LockHandle): RecoveryOutcome {
    if (!handle.active) throw new StoreError("recover() needs the store lock held");
    const wal = this.wal.recover();
    // A writer killed while taking the lock dies before its owner record is in
    // place; the only trace is its temp file in store/, which is cheap to look for.
    const crashed =
      handle.crashedHolder !== undefined || wal.rolled_back.length > 0 || wal.corrupt_removed.length > 0 || hasStaleTemps(this.layout.storeDir);
    const swept = crashed ? sweepStaleTemps(this.layout) : [];
    if (handle.crashedHolder !== undefined) {
      this.logger.info?.(`recovered after pid ${handle.crashedHolder.pid} (${handle.crashedHolder.command}) died holding the store lock`);
    }
    if (swept.length > 0) this.logger.info?.(`removed ${swept.length} temp file(s) left by a crashed writer`);
    return { wal, swept };
  }

  /**
   * Runs `fn` holding the store lock, after recovering whatever crashed
   * writers left (their WAL entries; a live process's entry is left alone).
   */
  async withWriteLock<T>(fn: (handle: LockHandle) => T | Promise<T>, options: AcquireOptions = {}): Promise<T> {
    const handle = await this.lock.acquire(options);
    try {
      this.recover(handle);
      return await fn(handle);
    } finally {
      handle.release();
    }
  }

  close(): void {
    this.db.close();
  }
}

/** Nothing but lock files and temp files: a store being created (or whose creation was interrupted). */
function holdsNoData(dir: string): boolean {
  try {
    return readdirSync(dir).every((name) => name.startsWith("."));
  } catch {
    return true;
  }
}

/**
 * Creates a new store. Two processes may do this at once (the first two
 * commands run on a fresh machine), so it happens under the store lock, and
 * a store counts as new only if it has no version file and no data yet.
 * Creation is quick, so waiting for the lock here is a short synchronous poll.
 */
function createStore(layout: StoreLayout): void {
  try {
    mkdirSync(layout.storeDir, { recursive: true });
  } catch (error) {
    throw ioError(error, `creating the store at ${layout.root}`);
  }
  const lock = new StoreLock(layout);
  const deadline = Date.now() + CREATE_WAIT_MS;
  let handle = lock.tryAcquire("store creation");
  while (handle === undefined) {
    if (Date.now() > deadline) throw new StoreLockedError(`timed out waiting for the store lock to create the store at ${layout.root}`);
    Bun.sleepSync(5);
    handle = lock.tryAcquire("store creation");
  }
  try {
    const fresh =
      !existsSync(layout.versionFile) &&
      !existsSync(layout.dbFile) &&
      [layout.objectsDir, layout.layersDir, layout.legacyMetadataDir, layout.legacyWalDir].every(holdsNoData);
    if (fresh) initLayout(layout);
  } finally {
    handle.release();
  }
}

const CREATE_WAIT_MS = 30_000;

/**
 * Opens the store at `root`. Checks store/version (format 2) every time;
 * a store holding the reference's JSON metadata must be imported with
 * `karapace migrate` first, or it would look empty.
 */
export function openStore(root: string, options: OpenOptions = {}): Store {
  const layout = new StoreLayout(root);
  const logger = options.logger ?? silentLogger;
  if (!existsSync(layout.storeDir) && options.create !== true) {
    throw new NoStoreError(`there is no karapace store at ${root}`, { hint: "build an environment first, or point --store at an existing store" });
  }
  if (options.create === true && !existsSync(layout.versionFile)) createStore(layout);
  checkFormatVersion(layout);
  if (options.allowUnimported !== true && hasUnimportedLegacyData(layout)) {
    throw new StoreError(`the store at ${root} holds environment metadata written by the reference implementation that is not imported yet`, {
      hint: "run 'karapace migrate' to import it",
    });
  }
  // A directory deleted by hand comes back; a read-only store is still readable.
  for (const dir of layout.directories) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch {
      // reported by the first operation that needs it
    }
  }
  const store = new Store(layout, openDatabase(layout.dbFile), logger);
  if (options.recover !== false && store.mayNeedRecovery()) {
    try {
      const handle = tryLockForRecovery(store);
      if (handle !== undefined) {
        try {
          store.openRecovery = store.recover(handle);
        } finally {
          handle.release();
        }
      }
    } catch (error) {
      store.close();
      throw error;
    }
  }
  return store;
}

/** The lock for recovery at open; a store we may not write (read-only mount, another user's) is still opened for reading. */
function tryLockForRecovery(store: Store): LockHandle | undefined {
  try {
    return store.lock.tryAcquire("recovery at open");
  } catch (error) {
    if (error instanceof StoreError && /permission denied/.test(error.message)) {
      store.logger.debug?.(`not recovering: ${error.message}`);
      return undefined;
    }
    throw error;
  }
}
