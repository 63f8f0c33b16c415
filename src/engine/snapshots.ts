/**
 * commit, snapshots, restore and export: an environment's upper dir as
 * Snapshot layers (the reference's Engine::commit / restore /
 * list_snapshots, with whiteouts, opaque dirs, hardlinks and attributes
 * kept; docs/snapshots.md).
 *
 * commit packs the upper dir (streaming, deterministic, OCI layer spelling)
 * into a tar object and writes a Snapshot layer whose `hash` field is
 * blake3("snapshot:{env_id}:{base_layer}:{tar_hash}") and whose parent is the
 * base layer; its file name is the "restore hash" users pass to restore. The
 * WAL entry removes the new object and layer if commit dies before the end.
 *
 * restore unpacks the object (re-hashed as it is read) into staging, then
 * swaps upper/ and work/ with the staged ones by renames, each recorded in
 * the WAL before it happens: a crash at any point is rolled back to the old
 * upper dir, and once the entry is committed the new one is in place. Never
 * a mix.
 */
import { existsSync, mkdirSync, renameSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { GeneralError, KarapaceError } from "../errors.ts";
import type { PackResult } from "../../wasm/pack.ts";
import { InvalidTransitionError, NotFoundError } from "../store/errors.ts";
import { fsyncDir, ioError } from "../store/fsx.ts";
import { isHash } from "../store/hash.ts";
import { layerFileHash, type LayerManifest, snapshotLayer } from "../store/layers.ts";
import { displayState } from "../store/lifecycle.ts";
import type { EnvMetadata } from "../store/metadata.ts";
import type { Store } from "../store/store.ts";
import type { RollbackStep } from "../store/wal.ts";
import type { OpContext } from "./context.ts";
import { upperDirOrThrow } from "./diff.ts";
import { findEnv, namedEnv, type NamedEnv, subject } from "./refs.ts";

/** What a pack or an unpack of the upper dir went through. */
export interface UpperCounts {
  entries: number;
  whiteouts: number;
  opaque_dirs: number;
}

export interface CommitResult extends NamedEnv, UpperCounts {
  /** The layer file's name: what `snapshots` lists as the restore hash and `restore` takes. */
  snapshot_hash: string;
  /** The layer's identity, blake3("snapshot:{env_id}:{base_layer}:{tar_hash}"). */
  layer_hash: string;
  tar_hash: string;
  /** Archive size in bytes. */
  size: number;
  /** Device nodes and sockets found in the upper dir and left out. */
  skipped: string[];
  /** "unchanged": a snapshot of exactly this state existed already (its time is refreshed). */
  status: "created" | "unchanged";
}

export interface SnapshotInfo {
  hash: string;
  restore_hash: string;
  tar_hash: string;
  parent: string | null;
  /** When it was last committed (the layer file's time), ISO 8601. */
  created_at: string;
  /** Archive size in bytes; null if its object is missing. */
  size: number | null;
}

export interface SnapshotList extends NamedEnv {
  snapshots: SnapshotInfo[];
}

export interface RestoreResult extends NamedEnv, UpperCounts {
  restored_snapshot: string;
  tar_hash: string;
}

export interface ExportResult extends NamedEnv, UpperCounts {
  /** Where the archive was written; "-" for stdout. */
  output: string;
  tar_hash: string;
  size: number;
  skipped: string[];
}

const SNAPSHOT_STATES = new Set(["Built", "Frozen"]);

function refuseUnlessBuiltOrFrozen(meta: EnvMetadata, verb: string): void {
  if (SNAPSHOT_STATES.has(meta.state)) return;
  const who = meta.name ?? meta.short_id;
  const hint =
    meta.state === "Running"
      ? `stop it first ('karapace stop ${who}'): its upper dir is changing while it runs`
      : meta.state === "Archived"
        ? "an archived environment only goes back to built: run 'karapace build' with its manifest"
        : "build it first ('karapace build')";
  throw new InvalidTransitionError(displayState(meta.state), `${verb} (needs built or frozen)`, ["built", "frozen"], subject(meta), { hint });
}

/** Our own failures (and the filesystem's) as typed errors; packer refusals keep their message. */
function asTyped(error: unknown, doing: string): unknown {
  if (error instanceof KarapaceError) return error;
  const name = (error as Error | undefined)?.name;
  if (name === "OverlayFeatureError" || name === "FileChangedError") {
    return new GeneralError((error as Error).message, { hint: "stop whatever changes the environment, then run the command again" });
  }
  if (name === "UnsafeArchiveError" || name === "TarFormatError") {
    return new GeneralError(`the snapshot cannot be restored: ${(error as Error).message}`, { hint: "run 'karapace verify-store'; commit a new snapshot if this one is damaged" });
  }
  return ioError(error, doing);
}

function baseLayerOrThrow(meta: EnvMetadata, verb: string): string {
  if (meta.base_layer === "") {
    throw new GeneralError(`cannot ${verb} ${subject(meta)}: it has no base layer (it was never built)`, { hint: "build it first ('karapace build')" });
  }
  return meta.base_layer;
}

export async function commitEnvironment(ctx: OpContext, ref: string): Promise<CommitResult> {
  const { store, logger } = ctx;
  return ctx.withWriteLock(async () => {
    const meta = findEnv(store, ref);
    refuseUnlessBuiltOrFrozen(meta, "commit");
    const base = baseLayerOrThrow(meta, "commit");
    const upper = upperDirOrThrow(store, meta, "commit");

    const tarPath = store.layout.stagingPath("snapshot");
    const op = store.wal.begin("Commit", meta.env_id, [{ RemoveFile: tarPath }]);
    const step = (s: RollbackStep): void => store.wal.addStep(op, s);
    try {
      const { packUpper } = await import("../snapshots/owner.ts");
      const packed: PackResult = await packUpper(upper, tarPath, (line) => logger.warn(line));
      if (!store.objects.has(packed.tarHash)) step({ RemoveFile: store.objects.path(packed.tarHash) });
      // The packer hashed exactly the bytes it wrote and synced: reading 500 MB back to hash them again would prove nothing new.
      store.objects.placeOwnFile(tarPath, packed.tarHash);

      const layer = snapshotLayer(meta.env_id, base, packed.tarHash);
      const fileHash = layerFileHash(layer);
      const existed = store.layers.has(fileHash);
      if (existed) {
        // The same state committed again: it is the newest snapshot now.
        const t = new Date();
        utimesSync(store.layers.path(fileHash), t, t);
      } else {
        step({ RemoveFile: store.layers.path(fileHash) });
        store.layers.put(layer);
      }
      store.wal.commit(op);
      for (const s of packed.skipped) logger.warn(`not in the snapshot: ${s.path} (a ${s.kind}; layers carry no device nodes or sockets)`);
      return {
        ...namedEnv(meta),
        snapshot_hash: fileHash,
        layer_hash: layer.hash,
        tar_hash: packed.tarHash,
        size: packed.bytes,
        entries: packed.entries,
        whiteouts: packed.whiteouts,
        opaque_dirs: packed.opaqueDirs,
        skipped: packed.skipped.map((s) => s.path),
        status: existed ? "unchanged" : "created",
      };
    } catch (error) {
      rollbackQuietly(ctx, op, "commit");
      throw asTyped(error, `committing ${meta.short_id}`);
    }
  });
}

function rollbackQuietly(ctx: OpContext, op: string, verb: string): void {
  try {
    ctx.store.wal.rollback(op);
  } catch (undo) {
    ctx.logger.warn(`could not undo the interrupted ${verb} now (${(undo as Error).message}); the next karapace command will`);
  }
}

/** The environment's snapshots: Snapshot layers whose parent is its base layer, oldest first. */
function snapshotsOf(store: Store, meta: EnvMetadata): SnapshotInfo[] {
  if (meta.base_layer === "") return [];
  const out: SnapshotInfo[] = [];
  for (const file of store.layers.list()) {
    let layer: LayerManifest;
    try {
      layer = store.layers.get(file);
    } catch {
      continue; // a damaged layer is verify-store's to report
    }
    if (layer.kind !== "Snapshot" || layer.parent !== meta.base_layer) continue;
    let created = new Date(0);
    try {
      created = statSync(store.layers.path(file)).mtime;
    } catch {
      // removed meanwhile
    }
    const size = layer.tar_hash !== "" && store.objects.has(layer.tar_hash) ? store.objects.size(layer.tar_hash) : null;
    out.push({ hash: layer.hash, restore_hash: file, tar_hash: layer.tar_hash, parent: layer.parent, created_at: created.toISOString(), size });
  }
  return out.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.restore_hash.localeCompare(b.restore_hash));
}

export function listSnapshots(ctx: OpContext, ref: string): SnapshotList {
  const meta = findEnv(ctx.store, ref);
  return { ...namedEnv(meta), snapshots: snapshotsOf(ctx.store, meta) };
}

/** A restore hash, a unique prefix of one of this environment's, or its layer `hash` field. */
function resolveSnapshot(store: Store, meta: EnvMetadata, given: string): { file: string; layer: LayerManifest } {
  const needle = given.toLowerCase();
  const mine = snapshotsOf(store, meta);
  const byField = mine.filter((s) => s.hash === needle);
  const byPrefix = mine.filter((s) => s.restore_hash.startsWith(needle));
  const who = meta.name ?? meta.short_id;
  let file: string | undefined;
  if (byField.length === 1) file = byField[0]?.restore_hash;
  else if (needle.length >= 4 && byPrefix.length === 1) file = byPrefix[0]?.restore_hash;
  else if (byPrefix.length > 1) {
    throw new GeneralError(`'${given}' matches ${byPrefix.length} snapshots of ${subject(meta)}`, { hint: `give more characters; 'karapace snapshots ${who}' lists them` });
  } else if (isHash(needle)) file = needle;
  if (file === undefined) {
    throw new NotFoundError("layer", given);
  }
  const layer = store.layers.get(file);
  if (layer.kind !== "Snapshot") {
    throw new GeneralError(`layer ${file} is a ${layer.kind} layer, not a snapshot`, { hint: `'karapace snapshots ${who}' lists the snapshots you can restore` });
  }
  if (layer.parent !== meta.base_layer) {
    throw new GeneralError(`snapshot ${file} was taken on another base layer than ${subject(meta)}'s`, {
      hint: `its whiteouts only make sense on their own base; 'karapace snapshots ${who}' lists this environment's snapshots`,
    });
  }
  if (layer.tar_hash === "") throw new NotFoundError("object", `(snapshot ${file} has no tar content: a legacy layer)`);
  return { file, layer };
}

/** Whiteouts and opaque markers in the attribute namespace the runtime's mount reads (userxattr unless real root). */
async function overlayXattrNamespace(): Promise<"user" | "trusted"> {
  const forced = process.env.KARAPACE_OVERLAY_XATTRS;
  if (forced === "user" || forced === "trusted") return forced;
  const { detectMapping } = await import("../runtime/userns.ts");
  return detectMapping().kind === "root" ? "trusted" : "user";
}

export async function restoreEnvironment(ctx: OpContext, ref: string, snapshot: string): Promise<RestoreResult> {
  const { store, logger } = ctx;
  return ctx.withWriteLock(async () => {
    const meta = findEnv(store, ref);
    refuseUnlessBuiltOrFrozen(meta, "restore");
    baseLayerOrThrow(meta, "restore");
    const { file, layer } = resolveSnapshot(store, meta, snapshot);
    if (!store.objects.has(layer.tar_hash)) throw new NotFoundError("object", layer.tar_hash);

    const envDir = store.layout.envPath(meta.env_id);
    const upper = join(envDir, "upper");
    const work = join(envDir, "work");
    const staging = store.layout.stagingPath("restore");
    const asides: string[] = [];
    const op = store.wal.begin("Restore", meta.env_id, [{ RemoveDir: staging }]);
    const step = (s: RollbackStep): void => store.wal.addStep(op, s);
    const owner = await import("../snapshots/owner.ts");
    let unpacked: Awaited<ReturnType<typeof owner.unpackObject>>;
    try {
      mkdirSync(staging);
      const overlayXattrs = await overlayXattrNamespace();
      unpacked = await owner.unpackObject(ctx.root, layer.tar_hash, join(staging, "upper"), {
        overlayXattrs,
        onWhiteoutFallback: () => logger.warn("this kernel refuses whiteout devices; using .wh. files, which only fuse-overlayfs reads"),
      }, (line) => logger.warn(line));
      // overlayfs keeps state about the upper dir in work/: a fresh one goes with the new upper.
      mkdirSync(join(staging, "work"));

      // The swap. Each rename is recorded first, so rollback puts the old directory back.
      for (const [live, label] of [[upper, "aside-upper"], [work, "aside-work"]] as const) {
        if (!existsSync(live)) continue;
        const aside = store.layout.stagingPath(label);
        step({ RestoreRename: { from: aside, to: live } });
        renameSync(live, aside);
        asides.push(aside);
      }
      renameSync(join(staging, "upper"), upper);
      renameSync(join(staging, "work"), work);
      fsyncDir(envDir);
      store.wal.commit(op);
      logger.debug?.(`restore: ${meta.short_id} swapped; removing the previous upper dir`);
    } catch (error) {
      rollbackQuietly(ctx, op, "restore");
      throw asTyped(error, `restoring ${meta.short_id}`);
    }
    try {
      await owner.removeAsOwner([...asides, staging]);
    } catch (error) {
      logger.warn(`could not remove the previous upper dir (${(error as Error).message}); the next gc will`);
    }
    return {
      ...namedEnv(meta),
      restored_snapshot: file,
      tar_hash: layer.tar_hash,
      entries: unpacked.entries,
      whiteouts: unpacked.whiteouts,
      opaque_dirs: unpacked.opaqueDirs,
    };
  });
}

export interface ExportOptions {
  /** File to write (replaced atomically); "-" for stdout. */
  output: string;
  /** For "-": where the archive goes. */
  stdout?: (chunk: Uint8Array) => Promise<void> | void;
}

/** The environment's changes as an OCI-style layer tar (docs/export-format.md). */
export async function exportEnvironment(ctx: OpContext, ref: string, options: ExportOptions): Promise<ExportResult> {
  const { store, logger } = ctx;
  return ctx.withWriteLock(async () => {
    const meta = findEnv(store, ref);
    if (meta.state === "Running") refuseUnlessBuiltOrFrozen(meta, "export");
    const upper = upperDirOrThrow(store, meta, "export");
    const toStdout = options.output === "-";
    const target = toStdout ? store.layout.stagingPath("export") : options.output;
    const { packUpper } = await import("../snapshots/owner.ts");
    let packed: PackResult;
    try {
      packed = await packUpper(upper, target, (line) => logger.warn(line));
    } catch (error) {
      throw asTyped(error, `exporting ${meta.short_id}`);
    }
    if (toStdout) {
      try {
        const sink = options.stdout;
        if (sink === undefined) throw new GeneralError("export to '-' needs a stdout sink");
        for await (const chunk of Bun.file(target).stream()) await sink(chunk);
      } finally {
        const { rmSync } = await import("node:fs");
        rmSync(target, { force: true });
      }
    }
    for (const s of packed.skipped) logger.warn(`not exported: ${s.path} (a ${s.kind})`);
    return {
      ...namedEnv(meta),
      output: options.output,
      tar_hash: packed.tarHash,
      size: packed.bytes,
      entries: packed.entries,
      whiteouts: packed.whiteouts,
      opaque_dirs: packed.opaqueDirs,
      skipped: packed.skipped.map((s) => s.path),
    };
  });
}
