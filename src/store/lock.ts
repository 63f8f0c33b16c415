/**
 * The store lock: flock(2) on store/.lock, taken by every operation that
 * changes the store. Readers never take it (sqlite's WAL mode and the
 * write-to-temp-then-rename files give them consistent views without it).
 *
 * flock is released by the kernel when the holder dies, so a crash never
 * leaves the store locked. The holder also writes who it is (pid, process
 * start time, command) to store/.lock.owner, so a second writer can say what
 * it is waiting for; the record is replaced by rename (never read half
 * written) and removed before the lock is released. A record whose process
 * is gone, found by the next holder, means the previous holder crashed: that
 * holder then knows to sweep stale temp files (see sweep.ts).
 */
import { closeSync, constants, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { StoreError } from "../errors.ts";
import { StoreLockedError } from "./errors.ts";
import { tryLockExclusive, unlock } from "./flock.ts";
import { ioError, isNotFound, tempPathIn } from "./fsx.ts";
import type { StoreLayout } from "./layout.ts";
import { isAlive, selfId } from "./proc.ts";

/** Who holds the lock, as its owner record says. */
export interface LockHolder {
  pid: number;
  start: number | undefined;
  command: string;
  since: string;
}

export interface AcquireOptions {
  /** Wait for the holder to finish (default) or fail at once with StoreLockedError. */
  wait?: boolean;
  /** Recorded for other processes to see, e.g. "karapace build". */
  command?: string;
  /** Called once, when we find the lock taken and start waiting. */
  onWait?: (holder: LockHolder | undefined) => void;
  signal?: AbortSignal;
  /** Give up after this long (StoreLockedError); default: wait for ever. */
  timeoutMs?: number;
}

interface Held {
  fd: number;
  depth: number;
}

/** Locks this process holds, by lock file: flock conflicts between two fds of one process, so nesting is counted here. */
const held = new Map<string, Held>();

export class LockHandle {
  private released = false;

  constructor(
    private readonly lock: StoreLock,
    /** Set when the previous holder died holding the lock (its owner record was left behind). */
    readonly crashedHolder: LockHolder | undefined,
  ) {}

  get active(): boolean {
    return !this.released;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.lock.releaseOne();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

function describe(holder: LockHolder | undefined): string {
  return holder === undefined ? "another process" : `pid ${holder.pid} (${holder.command}, since ${holder.since})`;
}

export class StoreLock {
  constructor(private readonly layout: StoreLayout) {}

  /** The current holder per the owner record, if that process is alive. */
  holder(): LockHolder | undefined {
    const record = this.readOwner();
    return record !== undefined && isAlive(record) ? record : undefined;
  }

  /** Takes the lock if it is free; undefined if another process holds it. */
  tryAcquire(command = defaultCommand()): LockHandle | undefined {
    const nested = held.get(this.layout.lockFile);
    if (nested !== undefined) {
      nested.depth++;
      return new LockHandle(this, undefined);
    }
    let fd: number;
    try {
      fd = openSync(this.layout.lockFile, constants.O_RDWR | constants.O_CREAT, 0o644);
    } catch (error) {
      throw ioError(error, `opening the store lock ${this.layout.lockFile}`);
    }
    const outcome = tryLockExclusive(fd);
    if (outcome !== "locked") {
      closeSync(fd);
      if (outcome === "busy") return undefined;
      throw new StoreError(`flock(${this.layout.lockFile}) failed with errno ${outcome}`);
    }
    held.set(this.layout.lockFile, { fd, depth: 1 });
    const previous = this.readOwner();
    const crashed = previous !== undefined && !isAlive(previous) ? previous : undefined;
    try {
      this.writeOwner(command);
    } catch (error) {
      this.releaseOne();
      throw ioError(error, "recording the store lock owner");
    }
    return new LockHandle(this, crashed);
  }

  /**
   * Takes the lock, waiting for the holder unless `wait` is false. Waiting
   * polls with a short back-off instead of a blocking flock, so the event
   * loop keeps running (signals, timeouts, AbortSignal).
   */
  async acquire(options: AcquireOptions = {}): Promise<LockHandle> {
    const command = options.command ?? defaultCommand();
    const first = this.tryAcquire(command);
    if (first !== undefined) return first;
    const holder = this.holder();
    if (options.wait === false) {
      throw new StoreLockedError(`the store is locked by ${describe(holder)}`, {
        hint: "wait for that command to finish, then try again",
      });
    }
    options.onWait?.(holder);
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let delay = 5;
    for (;;) {
      if (options.signal?.aborted) {
        throw new StoreLockedError(`stopped waiting for the store lock held by ${describe(this.holder() ?? holder)}`);
      }
      if (Date.now() >= deadline) {
        throw new StoreLockedError(`timed out after ${options.timeoutMs} ms waiting for the store lock held by ${describe(this.holder() ?? holder)}`, {
          hint: "wait for that command to finish, then try again",
        });
      }
      await Bun.sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      delay = Math.min(delay * 2, 100);
      const handle = this.tryAcquire(command);
      if (handle !== undefined) return handle;
    }
  }

  /** Called by LockHandle.release(). */
  releaseOne(): void {
    const entry = held.get(this.layout.lockFile);
    if (entry === undefined) return;
    if (--entry.depth > 0) return;
    held.delete(this.layout.lockFile);
    // Remove our record while we still hold the lock: afterwards it may already be the next holder's.
    try {
      unlinkSync(this.layout.lockOwnerFile);
    } catch (error) {
      if (!isNotFound(error)) throw ioError(error, "removing the store lock owner record");
    } finally {
      unlock(entry.fd);
      closeSync(entry.fd);
    }
  }

  private writeOwner(command: string): void {
    const me = selfId();
    const record: LockHolder = { pid: me.pid, start: me.start, command, since: new Date().toISOString() };
    const temp = tempPathIn(this.layout.storeDir, "lock-owner");
    try {
      // No fsync: the record is advice for humans; after a power cut no process holds the lock anyway.
      writeFileSync(temp, `${JSON.stringify(record)}\n`, { mode: 0o644, flag: "wx" });
      renameSync(temp, this.layout.lockOwnerFile);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
  }

  private readOwner(): LockHolder | undefined {
    let text: string;
    try {
      text = readFileSync(this.layout.lockOwnerFile, "utf8");
    } catch {
      return undefined;
    }
    try {
      const v = JSON.parse(text) as Record<string, unknown>;
      if (typeof v.pid !== "number" || typeof v.command !== "string" || typeof v.since !== "string") return undefined;
      return { pid: v.pid, start: typeof v.start === "number" ? v.start : undefined, command: v.command, since: v.since };
    } catch {
      return undefined;
    }
  }
}

/** "karapace build ..." from argv, without the runtime's own path. */
function defaultCommand(): string {
  const args = process.argv.slice(2).join(" ");
  return args === "" ? `pid ${process.pid}` : `karapace ${args}`.slice(0, 200);
}
