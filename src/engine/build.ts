/**
 * build and rebuild.
 *
 *   karapace.toml -> parse, validate, normalize -> backend.resolve -> lock ->
 *   identity -> [store lock] backend.build into staging -> manifest object,
 *   packed upper dir (tar object), base layer -> move into env/<env_id> ->
 *   metadata (in the WAL commit) -> [unlock] -> karapace.lock
 *
 * Everything between taking the store lock and committing is covered by one
 * WAL entry whose steps undo it: the staging directory, each object and layer
 * this build added (only those that were not there before), and each
 * directory it moved aside. The metadata row is written in the same sqlite
 * transaction that deletes the entry, so after a crash the environment is
 * either complete (row, directory, objects, layer) or not there at all.
 *
 * rebuild is the same operation with the previous environment (the one
 * karapace.lock names) moved aside in that entry and its row removed in the
 * same commit: the old environment survives until the new one is complete.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { GeneralError, KarapaceError, LockError, ManifestError, RuntimeError } from "../errors.ts";
import type { BuildSpec, RuntimeBackend } from "../runtime/backend.ts";
import { selectBackend } from "../runtime/backend.ts";
import { LOCK_FILE, lockFromResolved, verifyIntegrity, verifyManifestIntent } from "../schema/lock.ts";
import { readLockFile, renderLock, writeLockFile } from "../schema/lock-io.ts";
import { loadManifest, MANIFEST_FILE } from "../schema/manifest.ts";
import { canonicalJson } from "../schema/normalize.ts";
import { quote } from "../schema/text.ts";
import type { LockFile, NormalizedManifest, ResolutionResult } from "../schema/types.ts";
import { NameError } from "../store/errors.ts";
import { fsyncDir, ioError, removeTree } from "../store/fsx.ts";
import { baseLayer, layerFileHash } from "../store/layers.ts";
import { assertTransition, displayState } from "../store/lifecycle.ts";
import { type EnvMetadata, type EnvMetadataInput, now } from "../store/metadata.ts";
import type { Store } from "../store/store.ts";
import type { RollbackStep } from "../store/wal.ts";
import { blake3Hex } from "../../wasm/blake3.ts";
import { packTreeAsOwner } from "../runtime/namespace/subid-tree.ts";
import type { OpContext } from "./context.ts";
import { checkName, subject } from "./refs.ts";

export interface BuildOptions {
  /** Give the environment this name (1-64 of [A-Za-z0-9_-], unique). */
  name?: string;
  /** Use karapace.lock as it is and fail if the manifest or the resolution drifted from it; never rewrite it. */
  locked?: boolean;
  /** No network: packages are taken from karapace.lock (needs --locked when there are any). */
  offline?: boolean;
  /** Refuse a base image that is not an http(s) URL. */
  requirePinnedImage?: boolean;
  /** Stops the build at the next step boundary; everything done so far is rolled back. */
  signal?: AbortSignal;
}

export interface BuildResult {
  env_id: string;
  short_id: string;
  name: string | null;
  /** built: new or replaced; unchanged: it existed complete and was reused. */
  status: "built" | "rebuilt" | "unchanged";
  /** The environment this rebuild replaced (its env_id), if a different one. */
  replaced: string | null;
  lock_file: string;
  /** Whether karapace.lock was (re)written; never with --locked, nor when it already said the same. */
  lock_written: boolean;
  metadata: EnvMetadata;
}

interface Plan {
  manifestFile: string;
  lockPath: string;
  manifest: NormalizedManifest;
  backend: RuntimeBackend;
  resolution: ResolutionResult;
  lock: LockFile;
  locked: boolean;
}

const REBUILD_HINT = "run 'karapace build' without --locked to re-resolve and update karapace.lock";

function isUrl(image: string): boolean {
  return image.startsWith("http://") || image.startsWith("https://");
}

function readLockedFile(lockPath: string, manifest: NormalizedManifest): LockFile {
  if (!existsSync(lockPath)) {
    throw new LockError(`${lockPath}: --locked needs a lock file, and there is none`, {
      hint: "run 'karapace build' once without --locked to resolve and write karapace.lock",
    });
  }
  const lock = readLockFile(lockPath);
  verifyIntegrity(lock, lockPath);
  verifyManifestIntent(lock, manifest, lockPath);
  return lock;
}

/** What differs between the lock's resolution and the fresh one, for the drift message. */
function describeResolutionDrift(locked: LockFile, fresh: LockFile): string {
  const diffs: string[] = [];
  if (locked.base_image_digest !== fresh.base_image_digest) {
    diffs.push(`base image digest ${locked.base_image_digest.slice(0, 12)} -> ${fresh.base_image_digest.slice(0, 12)}`);
  }
  const lockedVersions = new Map(locked.resolved_packages.map((p) => [p.name, p.version]));
  for (const p of fresh.resolved_packages) {
    const was = lockedVersions.get(p.name);
    if (was !== p.version) diffs.push(`${p.name} ${was ?? "(absent)"} -> ${p.version}`);
  }
  if (diffs.length === 0) return "";
  return `: ${diffs.slice(0, 3).join(", ")}${diffs.length > 3 ? `, and ${diffs.length - 3} more` : ""}`;
}

/** The normalized manifest; a problem with it says what to do next. */
function readManifestFile(path: string): NormalizedManifest {
  try {
    return loadManifest(path).normalized;
  } catch (error) {
    if (!(error instanceof ManifestError) || error.hint !== undefined) throw error;
    const hint = existsSync(path)
      ? "fix the manifest and run the command again (docs/manifest.md describes every key)"
      : "write one with 'karapace new <name>', or give the manifest's path";
    throw new ManifestError(error.message, { hint, cause: error });
  }
}

/** The home directory the sandbox plan would share: $HOME when set, as the namespace backend takes it. */
function homeDirectory(): string {
  const home = process.env.HOME;
  return home !== undefined && home !== "" ? home : homedir();
}

/** Parse, check options, resolve: everything that needs no store. */
async function plan(manifestPath: string, options: BuildOptions, ctx: OpContext, scratch: string): Promise<Plan> {
  const storeRoot = ctx.root;
  const manifestFile = resolve(manifestPath);
  const lockPath = join(dirname(manifestFile), LOCK_FILE);
  const manifest = readManifestFile(manifestFile);
  if (options.requirePinnedImage === true && !isUrl(manifest.base_image)) {
    throw new ManifestError(`${manifestFile}: base image ${quote(manifest.base_image)} is not pinned (--require-pinned-image wants an http(s) URL)`, {
      hint: "set base.image to the image's http(s) URL, or drop --require-pinned-image",
    });
  }
  // Every backend, the mock included, refuses what the policy refuses, before anything is resolved or fetched.
  const { checkManifestPolicy } = await import("../runtime/policy/index.ts");
  checkManifestPolicy(manifest, dirname(manifestFile), homeDirectory());
  const lockedFile = options.locked === true ? readLockedFile(lockPath, manifest) : undefined;
  const backend = await selectBackend(manifest.runtime_backend, { warn: (l) => ctx.logger.warn(l), log: (l) => ctx.logger.info?.(l) });
  const offline = options.offline === true;
  let resolution: ResolutionResult;
  if (offline && manifest.system_packages.length > 0) {
    if (lockedFile === undefined) {
      throw new RuntimeError("offline mode: cannot resolve system packages without a lock", {
        hint: "build once online to write karapace.lock, then build offline with --offline --locked",
      });
    }
    resolution = { base_image_digest: lockedFile.base_image_digest, resolved_packages: lockedFile.resolved_packages };
  } else {
    resolution = await backend.resolve({
      manifest,
      envDir: scratch,
      storeRoot,
      offline,
      manifestDir: dirname(manifestFile),
      locked: lockedFile?.resolved_packages,
    });
  }
  const lock = lockFromResolved(manifest, resolution);
  if (lockedFile !== undefined && lockedFile.env_id !== lock.env_id) {
    throw new LockError(
      `${lockPath}: locked mode: the lock's env_id ${lockedFile.env_id} does not match the resolved env_id ${lock.env_id}${describeResolutionDrift(lockedFile, lock)}`,
      { hint: REBUILD_HINT },
    );
  }
  return { manifestFile, lockPath, manifest, backend, resolution, lock, locked: lockedFile !== undefined };
}

/** The environment a rebuild replaces: the one the current karapace.lock names, if the store has it. */
function previousEnv(store: Store, lockPath: string): EnvMetadata | undefined {
  if (!existsSync(lockPath)) return undefined;
  let envId: string;
  try {
    envId = readLockFile(lockPath).env_id;
  } catch {
    return undefined; // a damaged lock names nothing; the rebuild starts fresh
  }
  return store.metadata.find(envId);
}

/** Row, directory, manifest object and base layer all present: nothing to build. */
function isComplete(store: Store, meta: EnvMetadata): boolean {
  return (
    meta.state !== "Defined" &&
    existsSync(store.layout.upperDir(meta.env_id)) &&
    store.objects.has(meta.manifest_hash) &&
    store.layers.has(meta.base_layer)
  );
}

/** The name the environment will carry, checked to be free before any work is done. */
function chooseName(store: Store, requested: string | undefined, keepFrom: readonly (EnvMetadata | undefined)[]): string | null {
  if (requested !== undefined) checkName(requested);
  const name = requested ?? keepFrom.find((m) => m?.name !== null && m?.name !== undefined)?.name ?? null;
  if (name === null) return null;
  const holder = store.metadata.list().find((m) => m.name === name);
  if (holder !== undefined && !keepFrom.some((m) => m?.env_id === holder.env_id)) {
    throw new NameError(`name '${name}' is already used by environment ${holder.short_id}`, {
      hint: "pick another name with --name, or rename that environment first",
    });
  }
  return name;
}

function refuseRunning(meta: EnvMetadata | undefined, doing: string): void {
  if (meta?.state !== "Running") return;
  throw new GeneralError(`cannot ${doing} ${subject(meta)}: it is running`, {
    hint: `stop it first ('karapace stop ${meta.name ?? meta.short_id}')`,
  });
}

function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) {
    throw new GeneralError(`${what} interrupted; nothing of it was kept`, { hint: `run 'karapace ${what}' again to start over` });
  }
}

/** A failure of our own code or the filesystem, as a StoreError saying what we were doing. */
function asStoreFailure(error: unknown, doing: string): unknown {
  return error instanceof KarapaceError ? error : ioError(error, doing);
}

export interface BuildRequest {
  /** Default: ./karapace.toml */
  manifestPath?: string;
  options: BuildOptions;
  /** rebuild: always build, replacing the environment karapace.lock names. */
  rebuild: boolean;
}

export async function buildEnvironment(ctx: OpContext, request: BuildRequest): Promise<BuildResult> {
  const { store, logger } = ctx;
  const { options } = request;
  const signal = options.signal;
  const verb = request.rebuild ? "rebuild" : "build";
  // The scratch environment. It lives in staging/ under our pid, so if we die
  // before the WAL entry exists the next writer's sweep removes it.
  const scratch = store.layout.stagingPath("build");
  let p: Plan;
  try {
    p = await plan(request.manifestPath ?? MANIFEST_FILE, options, ctx, scratch);
  } catch (error) {
    removeTree(scratch);
    throw error;
  }
  const { env_id: envId, short_id: shortId } = p.lock;

  const result = await ctx.withWriteLock(async () => {
    let existing: EnvMetadata | undefined;
    let replaced: EnvMetadata | undefined;
    let name: string | null;
    try {
      existing = store.metadata.find(envId);
      const previous = request.rebuild ? previousEnv(store, p.lockPath) : undefined;
      replaced = previous !== undefined && previous.env_id !== envId ? previous : undefined;
      if (!request.rebuild && existing !== undefined && isComplete(store, existing)) {
        removeTree(scratch);
        return reuse(ctx, existing, options.name);
      }
      refuseRunning(existing, verb);
      refuseRunning(replaced, verb);
      name = chooseName(store, options.name, [existing, replaced]);
      if (existing !== undefined) assertTransition(existing.state, "Built", subject(existing));
      checkAborted(signal, verb);
    } catch (error) {
      removeTree(scratch);
      throw error;
    }

    const op = store.wal.begin(request.rebuild ? "Rebuild" : "Build", envId, [{ RemoveDir: scratch }]);
    const asides: string[] = [];
    let meta: EnvMetadata;
    try {
      /** Records how to undo a change, then makes it. */
      const step = (s: RollbackStep): void => store.wal.addStep(op, s);

      mkdirSync(scratch, { recursive: true });
      const spec: BuildSpec = {
        manifest: p.manifest,
        envDir: scratch,
        storeRoot: ctx.root,
        offline: options.offline === true,
        manifestDir: dirname(p.manifestFile),
        locked: p.locked ? p.resolution.resolved_packages : undefined,
        envId,
        resolution: p.resolution,
      };
      logger.debug?.(`${verb}: ${p.backend.name} backend building ${shortId}`);
      try {
        await p.backend.build(spec);
      } catch (error) {
        throw asStoreFailure(error, "building the environment");
      }
      checkAborted(signal, verb);

      // The normalized manifest, as the reference stores it (canonical JSON).
      const manifestBytes = new TextEncoder().encode(canonicalJson(p.manifest));
      const manifestHash = blake3Hex(manifestBytes);
      if (!store.objects.has(manifestHash)) step({ RemoveFile: store.objects.path(manifestHash) });
      store.objects.putBytes(manifestBytes);

      // The upper directory becomes the base layer, packed deterministically, in OCI layer form: a package
      // install that deletes or replaces base-image files leaves whiteouts and opaque dirs, which are changes too.
      const tarPath = store.layout.stagingPath("pack");
      step({ RemoveFile: tarPath });
      logger.debug?.(`${verb}: packing the upper directory of ${shortId}`);
      let tarHash: string;
      try {
        // Packed as the files' owner: a package install leaves files of subordinate uids we cannot read from outside.
        tarHash = (await packTreeAsOwner(join(scratch, "upper"), tarPath, { warn: (l) => logger.warn(l), overlayUpper: true })).tarHash;
      } catch (error) {
        throw asStoreFailure(error, "packing the environment's upper directory");
      }
      checkAborted(signal, verb);
      if (!store.objects.has(tarHash)) step({ RemoveFile: store.objects.path(tarHash) });
      store.objects.placeOwnFile(tarPath, tarHash); // our packer hashed the bytes it wrote
      const layer = baseLayer(tarHash);
      const layerHash = layerFileHash(layer);
      if (!store.layers.has(layerHash)) step({ RemoveFile: store.layers.path(layerHash) });
      store.layers.put(layer);
      checkAborted(signal, verb);

      // Swap directories: what is in the way moves aside (and comes back on rollback).
      const moveAside = (dir: string): void => {
        if (!existsSync(dir)) return;
        const aside = store.layout.stagingPath("aside");
        step({ RestoreRename: { from: aside, to: dir } });
        renameSync(dir, aside);
        asides.push(aside);
      };
      if (replaced !== undefined) moveAside(store.layout.envPath(replaced.env_id));
      const envDir = store.layout.envPath(envId);
      moveAside(envDir);
      step({ RemoveDir: envDir });
      renameSync(scratch, envDir);
      fsyncDir(store.layout.envDir);

      const stamp = now();
      const row: EnvMetadataInput = {
        env_id: envId,
        short_id: shortId,
        name,
        state: "Built",
        manifest_hash: manifestHash,
        base_layer: layerHash,
        dependency_layers: [],
        policy_layer: null,
        created_at: existing?.created_at ?? stamp,
        updated_at: stamp,
        ref_count: Math.max(1, existing?.ref_count ?? 1),
      };
      meta = store.wal.commit(op, () => {
        if (replaced !== undefined) store.metadata.remove(replaced.env_id);
        return store.metadata.put(row);
      }) as EnvMetadata;
    } catch (error) {
      try {
        store.wal.rollback(op);
      } catch (undo) {
        logger.warn(`could not undo the interrupted ${verb} now (${(undo as Error).message}); the next karapace command will`);
      }
      throw asStoreFailure(error, `${verb}ing ${shortId}`);
    }
    for (const aside of asides) {
      try {
        removeTree(aside);
      } catch (error) {
        logger.warn(`could not remove ${aside} (${(error as Error).message}); the next gc will`);
      }
    }
    const status: BuildResult["status"] = request.rebuild ? "rebuilt" : "built";
    return { meta, status, replaced: replaced?.env_id ?? null };
  }, signal);

  const lockWritten = p.locked ? false : writeLockIfChanged(p.lockPath, p.lock);
  if (p.manifest.gui_apps.length > 0 && p.manifest.runtime_backend !== "mock") await exportApps(ctx, result.meta, p.manifest.gui_apps);
  return {
    env_id: envId,
    short_id: shortId,
    name: result.meta.name,
    status: result.status,
    replaced: result.replaced,
    lock_file: p.lockPath,
    lock_written: lockWritten,
    metadata: result.meta,
  };
}

/** An environment that is already complete: make it Built again if needed, and apply --name. */
function reuse(ctx: OpContext, existing: EnvMetadata, name: string | undefined): { meta: EnvMetadata; status: "unchanged"; replaced: null } {
  const { store, logger } = ctx;
  let meta = existing;
  if (name !== undefined && name !== meta.name) {
    chooseName(store, name, [meta]);
    meta = store.metadata.rename(meta.env_id, name);
  }
  // A running environment is left running: it is already what the manifest asks for.
  if (meta.state !== "Built" && meta.state !== "Running") {
    logger.info?.(`${subject(meta)} was ${displayState(meta.state)}; it is built again`);
    meta = store.metadata.setState(meta.env_id, "Built");
  }
  return { meta, status: "unchanged", replaced: null };
}

/** Writes karapace.lock unless it already holds exactly this; true if written. */
function writeLockIfChanged(path: string, lock: LockFile): boolean {
  const text = renderLock(lock);
  try {
    if (readFileSync(path, "utf8") === text) return false;
  } catch {
    // absent or unreadable: write it
  }
  try {
    writeLockFile(path, lock);
  } catch (error) {
    throw new GeneralError(`the environment was built, but ${path} could not be written: ${(error as Error).message}`, {
      hint: "make the project directory writable and run the build again (it reuses the environment)",
      cause: error,
    });
  }
  return true;
}

/** Launchers for the manifest's gui.apps in the host's application menu; a failure costs a warning, not the build. */
async function exportApps(ctx: OpContext, meta: EnvMetadata, apps: readonly string[]): Promise<void> {
  try {
    const [{ exportDesktopApps }, { selfCommand }] = await Promise.all([import("../runtime/host/desktop-export.ts"), import("../runtime/userns.ts")]);
    exportDesktopApps({ envId: meta.env_id, shortId: meta.short_id, name: meta.name, apps, karapaceArgv: [...selfCommand(), "--store", ctx.root] });
  } catch (error) {
    ctx.logger.warn(`the environment was built, but its desktop launchers could not be written: ${(error as Error).message}`);
  }
}
