/**
 * Where everything lives under a store root, and the format version check.
 *
 *   <root>/store/version      {"format_version": 2}
 *   <root>/store/.lock        flock(2) target; .lock.owner names the holder
 *   <root>/store/karapace.db  sqlite: environments, write-ahead log (ours; the
 *                             reference keeps these in store/metadata and store/wal)
 *   <root>/store/objects/     content-addressed blobs, named by blake3
 *   <root>/store/layers/      layer manifests, named by blake3 of their JSON
 *   <root>/store/staging/     scratch space for multi-step writes
 *   <root>/env/<env_id>/      an environment's upper, work and merged dirs
 *   <root>/images/            base image cache
 */
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { StoreError } from "../errors.ts";
import { fsyncDir, ioError, isNotFound, writeFileDurable } from "./fsx.ts";
import { assertHash } from "./hash.ts";
import { uniqueSuffix } from "./proc.ts";

export const STORE_FORMAT_VERSION = 2;

/** `$XDG_DATA_HOME/karapace` if that is absolute, else `~/.local/share/karapace`. */
export function defaultStoreRoot(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg !== undefined && xdg !== "" && isAbsolute(xdg)) return join(xdg, "karapace");
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
  return join(home, ".local", "share", "karapace");
}

export class StoreLayout {
  readonly storeDir: string;
  readonly objectsDir: string;
  readonly layersDir: string;
  readonly stagingDir: string;
  readonly envDir: string;
  readonly imagesDir: string;
  readonly versionFile: string;
  readonly lockFile: string;
  readonly lockOwnerFile: string;
  readonly dbFile: string;
  /** The reference's JSON metadata and WAL, read only by migrate. */
  readonly legacyMetadataDir: string;
  readonly legacyWalDir: string;
  /** Where migrate moves the reference's JSON files once they are imported. */
  readonly legacyBackupDir: string;

  constructor(readonly root: string) {
    this.storeDir = join(root, "store");
    this.objectsDir = join(this.storeDir, "objects");
    this.layersDir = join(this.storeDir, "layers");
    this.stagingDir = join(this.storeDir, "staging");
    this.envDir = join(root, "env");
    this.imagesDir = join(root, "images");
    this.versionFile = join(this.storeDir, "version");
    this.lockFile = join(this.storeDir, ".lock");
    this.lockOwnerFile = join(this.storeDir, ".lock.owner");
    this.dbFile = join(this.storeDir, "karapace.db");
    this.legacyMetadataDir = join(this.storeDir, "metadata");
    this.legacyWalDir = join(this.storeDir, "wal");
    this.legacyBackupDir = join(this.storeDir, "imported-json");
  }

  objectPath(hash: string): string {
    return join(this.objectsDir, assertHash(hash, "object hash"));
  }

  layerPath(hash: string): string {
    return join(this.layersDir, assertHash(hash, "layer hash"));
  }

  envPath(envId: string): string {
    return join(this.envDir, assertHash(envId, "environment id"));
  }

  upperDir(envId: string): string {
    return join(this.envPath(envId), "upper");
  }

  /**
   * A fresh path in staging/ for a multi-step write. The name carries our pid
   * and start time, so the sweeper can tell a live writer's entry from debris.
   */
  stagingPath(label: string): string {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(label)) throw new StoreError(`invalid staging label '${label}'`);
    return join(this.stagingDir, `${label}${uniqueSuffix()}`);
  }

  /** The directories a store has; created by init, and again by open if one went missing. */
  get directories(): readonly string[] {
    return [this.storeDir, this.objectsDir, this.layersDir, this.stagingDir, this.envDir, this.imagesDir];
  }
}

/** serde_json::to_string_pretty of the reference's StoreVersion, byte for byte. */
const VERSION_TEXT = `{\n  "format_version": ${STORE_FORMAT_VERSION}\n}`;

/** Creates the directories and, in a new store, the version file. Idempotent. */
export function initLayout(layout: StoreLayout): void {
  try {
    for (const dir of layout.directories) mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw ioError(error, `creating the store at ${layout.root}`);
  }
  if (!existsSync(layout.versionFile)) {
    writeFileDurable(layout.versionFile, new TextEncoder().encode(VERSION_TEXT));
    fsyncDir(layout.root);
  }
}

const MIGRATE_HINT = "run 'karapace migrate' to check the store and bring it to the current format";

/** Reads store/version; `undefined` when the file does not exist. Any other problem is a StoreError. */
export function readFormatVersion(layout: StoreLayout): number | undefined {
  let text: string;
  try {
    text = readFileSync(layout.versionFile, "utf8");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new StoreError(`cannot read the store version file ${layout.versionFile}: ${(error as Error).message}`, {
      hint: MIGRATE_HINT,
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StoreError(`the store version file ${layout.versionFile} is not valid JSON`, { hint: MIGRATE_HINT, cause: error });
  }
  const version = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>).format_version : undefined;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 0) {
    throw new StoreError(`the store version file ${layout.versionFile} has no valid format_version`, { hint: MIGRATE_HINT });
  }
  return version;
}

/** The check every open makes: the store must be exactly format version 2. */
export function checkFormatVersion(layout: StoreLayout): void {
  const found = readFormatVersion(layout);
  if (found === undefined) {
    throw new StoreError(`the store at ${layout.root} has no version file (${layout.versionFile})`, { hint: MIGRATE_HINT });
  }
  if (found === STORE_FORMAT_VERSION) return;
  const newer = found > STORE_FORMAT_VERSION;
  throw new StoreError(
    `store format version ${found} is not supported (this karapace reads version ${STORE_FORMAT_VERSION})`,
    {
      hint: newer
        ? "the store was written by a newer karapace: upgrade karapace ('karapace migrate' reports the version)"
        : MIGRATE_HINT,
    },
  );
}

/**
 * True when the reference implementation's JSON metadata or WAL files are
 * present and not yet imported: opening such a store would show no
 * environments, so open refuses and points at migrate instead.
 */
export function hasUnimportedLegacyData(layout: StoreLayout): boolean {
  const nonEmpty = (dir: string, keep: (name: string) => boolean): boolean => {
    try {
      return readdirSync(dir).some((name) => !name.startsWith(".") && keep(name));
    } catch (error) {
      if (isNotFound(error)) return false;
      throw ioError(error, `reading ${dir}`);
    }
  };
  return nonEmpty(layout.legacyMetadataDir, () => true) || nonEmpty(layout.legacyWalDir, (n) => n.endsWith(".json"));
}
