/**
 * The Engine: the one entry point the CLI (and later the D-Bus service and the
 * TUI) uses to act on environments. It owns an open store, takes the store
 * lock for every change, and delegates each operation to its module:
 * build.ts (build, rebuild), destroy.ts, state.ts (freeze, archive, rename),
 * and the store's gc, verify and migrate. Operation modules are imported on
 * first use, so `list` does not load the build pipeline.
 *
 * Errors are the layers' typed errors (ManifestError, LockError, StoreError,
 * RuntimeError, GeneralError); the Engine never exits the process.
 */
import type { GcReport } from "../store/gc.ts";
import type { LockHandle } from "../store/lock.ts";
import { silentLogger, type StoreLogger } from "../store/logger.ts";
import type { EnvMetadata } from "../store/metadata.ts";
import type { MigrateReport } from "../store/migrate.ts";
import { NoStoreError } from "../store/errors.ts";
import { openStore, type Store } from "../store/store.ts";
import type { VerifyProgress, VerifyReport } from "../store/verify.ts";
import type { NormalizedManifest } from "../schema/types.ts";
import type { BuildOptions, BuildResult } from "./build.ts";
import { acquireOptions, type EngineOptions, type OpContext } from "./context.ts";
import type { DestroyResult } from "./destroy.ts";
import { findEnv } from "./refs.ts";
import { mark } from "../timings.ts";
import type { RenameResult } from "./state.ts";
import type { DiffResult } from "./diff.ts";
import type { CommitResult, ExportOptions, ExportResult, RestoreResult, SnapshotList } from "./snapshots.ts";
import type { EnterOptions, ExecOptions, StopOptions, StopResult } from "./run.ts";
import { reapStaleRuns } from "./running.ts";
import { setTreeRemover } from "../store/fsx.ts";
import { removeTreeInUsernsSync } from "../runtime/userns.ts";

export interface ListResult {
  environments: EnvMetadata[];
  /** Rows left out because they fail their checksum. */
  corrupt: Array<{ env_id: string; problem: string }>;
}

export interface Inspection {
  metadata: EnvMetadata;
  env_dir: string;
  env_dir_exists: boolean;
  /** The normalized manifest it was built from (null for an environment never built). */
  manifest: NormalizedManifest | null;
}

export interface GcOptions {
  dryRun?: boolean;
  /** Aborting stops gc between two deletions; the report then says cancelled. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface VerifyOptions {
  workers?: number;
  onProgress?: (progress: VerifyProgress) => void;
}

function emptyGcReport(dryRun: boolean): GcReport {
  return {
    dry_run: dryRun,
    cancelled: false,
    orphaned_envs: [],
    orphaned_env_dirs: [],
    orphaned_layers: [],
    orphaned_objects: [],
    stale_temps: [],
    removed_envs: 0,
    removed_env_dirs: 0,
    removed_layers: 0,
    removed_objects: 0,
    removed_temps: 0,
    freed_bytes: 0,
    warnings: [],
  };
}

export class Engine {
  private opened: Store | undefined;
  private readonly logger: StoreLogger;

  constructor(private readonly options: EngineOptions) {
    this.logger = options.logger ?? silentLogger;
    // Environments hold files owned by subordinate uids; removing them (rollback, destroy, gc) needs a user namespace.
    setTreeRemover(removeTreeInUsernsSync);
  }

  get root(): string {
    return this.options.root;
  }

  /**
   * The store, opened (and recovered) on first use. `create` makes one if
   * there is none; otherwise a missing store is a NoStoreError.
   */
  store(create = false): Store {
    if (this.opened === undefined) {
      this.opened = openStore(this.root, { create, logger: this.logger });
      reapStaleRuns(this.opened, this.logger);
    }
    return this.opened;
  }

  /** The store if there is one; undefined when nothing was ever built here. */
  private existingStore(): Store | undefined {
    try {
      return this.store();
    } catch (error) {
      if (error instanceof NoStoreError) return undefined;
      throw error;
    }
  }

  private context(store: Store): OpContext {
    return {
      root: this.root,
      store,
      logger: this.logger,
      withWriteLock: <T>(fn: (handle: LockHandle) => T | Promise<T>, signal?: AbortSignal) =>
        store.withWriteLock(fn, acquireOptions(this.options, signal)),
    };
  }

  /** Builds the environment a manifest describes (default ./karapace.toml); reuses it when it already exists. */
  async build(manifestPath?: string, options: BuildOptions = {}): Promise<BuildResult> {
    const { buildEnvironment } = await import("./build.ts");
    return buildEnvironment(this.context(this.store(true)), { manifestPath, options, rebuild: false });
  }

  /** Builds again from scratch and replaces the environment karapace.lock named, only once the new one is complete. */
  async rebuild(manifestPath?: string, options: BuildOptions = {}): Promise<BuildResult> {
    const { buildEnvironment } = await import("./build.ts");
    return buildEnvironment(this.context(this.store(true)), { manifestPath, options, rebuild: true });
  }

  /** Runs a command in an environment (state Running meanwhile); resolves to its exit code. */
  async exec(ref: string, command: readonly string[], options: ExecOptions = {}): Promise<number> {
    const { execInEnvironment } = await import("./run.ts");
    const store = this.store();
    mark("store-open");
    return execInEnvironment(this.context(store), ref, command, options);
  }

  /** An interactive shell in an environment; resolves to the shell's exit code. */
  async enter(ref: string, options: EnterOptions = {}): Promise<number> {
    const { enterEnvironment } = await import("./run.ts");
    return enterEnvironment(this.context(this.store()), ref, options);
  }

  /** Ends every command running in an environment: SIGTERM, then SIGKILL after the timeout. */
  async stop(ref: string, options: StopOptions = {}): Promise<StopResult> {
    const { stopEnvironment } = await import("./run.ts");
    return stopEnvironment(this.context(this.store()), ref, options);
  }

  async destroy(ref: string): Promise<DestroyResult> {
    const { destroyEnvironment } = await import("./destroy.ts");
    return destroyEnvironment(this.context(this.store()), ref);
  }

  async freeze(ref: string): Promise<EnvMetadata> {
    const { freezeEnvironment } = await import("./state.ts");
    return freezeEnvironment(this.context(this.store()), ref);
  }

  async archive(ref: string): Promise<EnvMetadata> {
    const { archiveEnvironment } = await import("./state.ts");
    return archiveEnvironment(this.context(this.store()), ref);
  }

  /** What the environment's upper dir adds, changes and removes relative to its base image. */
  async diff(ref: string): Promise<DiffResult> {
    const { diffEnvironment } = await import("./diff.ts");
    return diffEnvironment(this.context(this.store()), ref);
  }

  /** Packs the upper dir into a Snapshot layer (built or frozen environments only). */
  async commit(ref: string): Promise<CommitResult> {
    const { commitEnvironment } = await import("./snapshots.ts");
    return commitEnvironment(this.context(this.store()), ref);
  }

  async snapshots(ref: string): Promise<SnapshotList> {
    const { listSnapshots } = await import("./snapshots.ts");
    return listSnapshots(this.context(this.store()), ref);
  }

  /** Replaces the upper dir with a snapshot's content, atomically. */
  async restore(ref: string, snapshot: string): Promise<RestoreResult> {
    const { restoreEnvironment } = await import("./snapshots.ts");
    return restoreEnvironment(this.context(this.store()), ref, snapshot);
  }

  /** Writes the upper dir as an OCI-style layer tar. */
  async export(ref: string, options: ExportOptions): Promise<ExportResult> {
    const { exportEnvironment } = await import("./snapshots.ts");
    return exportEnvironment(this.context(this.store()), ref, options);
  }

  async rename(ref: string, name: string): Promise<RenameResult> {
    const { renameEnvironment } = await import("./state.ts");
    return renameEnvironment(this.context(this.store()), ref, name);
  }

  /** Every environment, sorted by env_id; rows failing their checksum are reported, not listed. */
  list(): ListResult {
    const corrupt: ListResult["corrupt"] = [];
    const store = this.existingStore();
    if (store === undefined) return { environments: [], corrupt };
    const environments = store.metadata.list((env_id, problem) => corrupt.push({ env_id, problem }));
    for (const c of corrupt) this.logger.warn(`environment ${c.env_id} is not listed: its metadata is corrupt (${c.problem}); run 'karapace verify-store'`);
    return { environments, corrupt };
  }

  /** One environment's metadata, directory and manifest (read and verified from its object). */
  async inspect(ref: string): Promise<Inspection> {
    const store = this.store();
    const metadata = findEnv(store, ref);
    const envDir = store.layout.envPath(metadata.env_id);
    const { existsSync } = await import("node:fs");
    let manifest: NormalizedManifest | null = null;
    if (metadata.manifest_hash !== "") {
      const { readManifest } = await import("./manifest-object.ts");
      manifest = readManifest(store, metadata);
    }
    return { metadata, env_dir: envDir, env_dir_exists: existsSync(envDir), manifest };
  }

  /** Garbage collection under the store lock (the store's gc.ts has the rules). */
  async gc(options: GcOptions = {}): Promise<GcReport> {
    const store = this.existingStore();
    if (store === undefined) return emptyGcReport(options.dryRun === true);
    const { collectGarbage } = await import("../store/gc.ts");
    return this.context(store).withWriteLock(
      (handle) => collectGarbage(store, handle, { dryRun: options.dryRun, signal: options.signal, onProgress: options.onProgress }),
      options.signal,
    );
  }

  /** Re-hashes every object, layer and metadata row (no lock: readers never need it). */
  async verifyStore(options: VerifyOptions = {}): Promise<VerifyReport> {
    const store = this.store();
    const { verifyStore } = await import("../store/verify.ts");
    return verifyStore(store, options);
  }

  /** Reports the store version and imports a store written by the reference implementation. */
  async migrate(): Promise<MigrateReport> {
    this.close();
    const { migrateStore } = await import("../store/migrate.ts");
    return migrateStore(this.root, { logger: this.logger, lock: acquireOptions(this.options, undefined) });
  }

  close(): void {
    this.opened?.close();
    this.opened = undefined;
  }
}
