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
import type { RenameResult } from "./state.ts";

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
  }

  get root(): string {
    return this.options.root;
  }

  /**
   * The store, opened (and recovered) on first use. `create` makes one if
   * there is none; otherwise a missing store is a NoStoreError.
   */
  store(create = false): Store {
    if (this.opened === undefined) this.opened = openStore(this.root, { create, logger: this.logger });
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
