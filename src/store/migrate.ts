/**
 * `karapace migrate`: reports the store's format version and imports a store
 * written by the reference implementation.
 *
 * The reference keeps metadata as store/metadata/<env_id> (pretty JSON of
 * EnvMetadata) and its WAL as store/wal/<op_id>.json (WalEntry). Objects and
 * layers are already in the shared format and stay where they are. Import:
 *
 * 1. under the store lock, read every metadata and WAL file, check it (a
 *    metadata checksum is verified exactly as the reference computes it; a
 *    file without one, from a v1 store, gets one);
 * 2. insert everything in ONE sqlite transaction, recording each file's
 *    name and blake3 in `imported_files`;
 * 3. move the files to store/imported-json/ (rejected ones to
 *    store/imported-json/rejected/): kept, not deleted, for inspection or to
 *    go back, but out of the way so they are never imported twice and the
 *    reference cannot replay an already rolled back WAL entry;
 * 4. a v1 store's version file becomes 2 (the old one is kept beside the JSON);
 * 5. recover: imported WAL entries belong to dead processes and are rolled back.
 *
 * A crash anywhere leaves a state the next run finishes: files already
 * recorded in imported_files (same name and bytes) are only moved.
 * Running it again on an imported store changes nothing.
 */
import type { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { blake3Hex } from "../../wasm/blake3.ts";
import { StoreError } from "../errors.ts";
import { openDatabase } from "./db.ts";
import { fsyncDir, ioError, isNotFound, writeFileDurable } from "./fsx.ts";
import { CorruptionError } from "./errors.ts";
import { readFormatVersion, STORE_FORMAT_VERSION, StoreLayout } from "./layout.ts";
import { isEnvState } from "./lifecycle.ts";
import type { AcquireOptions } from "./lock.ts";
import { silentLogger, type StoreLogger } from "./logger.ts";
import { canonicalMetadata, type EnvMetadata, metadataChecksum, metadataProblem, now } from "./metadata.ts";
import { type RecoveryOutcome, Store } from "./store.ts";
import { parseWalEntry, type WalEntry } from "./wal.ts";

export interface Rejected {
  file: string;
  reason: string;
}

export interface MigrateReport {
  /** no_store: nothing at the root; current: nothing to do; migrated: something was imported or upgraded. */
  status: "no_store" | "current" | "migrated";
  /** store/version as found (undefined when there is no store). */
  found_version: number | undefined;
  format_version: number;
  environments: {
    imported: string[];
    /** Reference files without a checksum (v1): imported with one computed now. */
    checksums_added: string[];
    rejected: Rejected[];
  };
  wal: { imported: string[]; rejected: Rejected[] };
  /** Files imported by an earlier run (this run found them again only because it had been interrupted). */
  already_imported: number;
  /** Where the reference's JSON files went. */
  backup_dir: string | undefined;
  recovery: RecoveryOutcome | undefined;
}

export interface MigrateOptions {
  logger?: StoreLogger;
  lock?: AcquireOptions;
}

interface LegacyFile {
  kind: "metadata" | "wal";
  name: string;
  path: string;
  bytes: Buffer;
  blake3: string;
}

function readLegacyFiles(dir: string, kind: LegacyFile["kind"], keep: (name: string) => boolean): LegacyFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (error) {
    if (isNotFound(error)) return [];
    throw ioError(error, `listing ${dir}`);
  }
  const files: LegacyFile[] = [];
  for (const name of names) {
    if (name.startsWith(".") || !keep(name)) continue;
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const bytes = readFileSync(path);
    files.push({ kind, name, path, bytes, blake3: blake3Hex(bytes) });
  }
  return files;
}

/**
 * The reference's EnvMetadata as serde would read it: `name` and
 * `policy_layer` may be missing (v1), `checksum` may be missing or null,
 * unknown fields are ignored. Returns the row or why it cannot be imported.
 */
export function parseReferenceMetadata(text: string, fileName: string): { meta: EnvMetadata; checksumAdded: boolean } | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return "not valid JSON";
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not a JSON object";
  const o = v as Record<string, unknown>;
  for (const key of ["env_id", "short_id", "state", "manifest_hash", "base_layer", "created_at", "updated_at"]) {
    if (typeof o[key] !== "string") return `'${key}' is missing or not a string`;
  }
  const optional = (key: string): string | null | undefined => {
    const value = o[key];
    if (value === undefined || value === null) return null;
    return typeof value === "string" ? value : undefined;
  };
  const name = optional("name");
  const policy = optional("policy_layer");
  const checksum = optional("checksum");
  if (name === undefined || policy === undefined || checksum === undefined) return "'name', 'policy_layer' or 'checksum' is not a string or null";
  const deps = o.dependency_layers;
  if (!Array.isArray(deps) || !deps.every((d): d is string => typeof d === "string")) return "'dependency_layers' is not an array of strings";
  if (typeof o.ref_count !== "number") return "'ref_count' is not a number";
  const state = o.state as string;
  if (!isEnvState(state)) return `unknown state '${state}'`;
  const input = {
    env_id: o.env_id as string,
    short_id: o.short_id as string,
    name,
    state,
    manifest_hash: o.manifest_hash as string,
    base_layer: o.base_layer as string,
    dependency_layers: deps,
    policy_layer: policy,
    created_at: o.created_at as string,
    updated_at: o.updated_at as string,
    ref_count: o.ref_count,
  };
  const problem = metadataProblem(input);
  if (problem !== undefined) return problem;
  if (input.env_id !== fileName) return `the file is named ${fileName} but holds env_id ${input.env_id}`;
  const computed = metadataChecksum(input);
  if (checksum !== null && checksum !== computed) return `checksum mismatch: stored ${checksum}, content hashes to ${computed}`;
  return { meta: { ...input, checksum: computed }, checksumAdded: checksum === null };
}

function sameRow(a: EnvMetadata, b: EnvMetadata): boolean {
  return canonicalMetadata(a) === canonicalMetadata(b);
}

function isImported(db: Database, file: LegacyFile): boolean {
  return db.query("SELECT 1 FROM imported_files WHERE kind = ? AND name = ? AND blake3 = ?").get(file.kind, file.name, file.blake3) !== null;
}

/** Moves a file into `dir`, never over another: a second file of one name gets its hash appended. */
function moveInto(file: LegacyFile, dir: string): void {
  mkdirSync(dir, { recursive: true });
  let dest = join(dir, file.name);
  if (existsSync(dest)) dest = `${dest}.${file.blake3.slice(0, 12)}`;
  if (!existsSync(dest)) renameSync(file.path, dest);
  else renameSync(file.path, `${dest}.${Date.now()}`);
}

export async function migrateStore(root: string, options: MigrateOptions = {}): Promise<MigrateReport> {
  const layout = new StoreLayout(root);
  const logger = options.logger ?? silentLogger;
  const report: MigrateReport = {
    status: "current",
    found_version: undefined,
    format_version: STORE_FORMAT_VERSION,
    environments: { imported: [], checksums_added: [], rejected: [] },
    wal: { imported: [], rejected: [] },
    already_imported: 0,
    backup_dir: undefined,
    recovery: undefined,
  };
  if (!existsSync(layout.storeDir)) return { ...report, status: "no_store" };

  const found = readFormatVersion(layout);
  report.found_version = found;
  if (found === undefined) {
    throw new StoreError(`the store at ${root} has no version file; it may be damaged or very old`, {
      hint: "back up the store directory and build your environments again",
    });
  }
  if (found > STORE_FORMAT_VERSION) {
    throw new StoreError(`store format version ${found} was written by a newer karapace (this one supports ${STORE_FORMAT_VERSION})`, {
      hint: "upgrade karapace",
    });
  }
  if (found < 1) throw new StoreError(`store format version ${found} is unknown`, { hint: "back up the store directory and build your environments again" });

  for (const dir of layout.directories) mkdirSync(dir, { recursive: true });
  const store = new Store(layout, openDatabase(layout.dbFile), logger);
  try {
    const handle = await store.lock.acquire({ command: "karapace migrate", ...options.lock });
    try {
      importLegacy(store, report);
      if (found < STORE_FORMAT_VERSION) {
        mkdirSync(layout.legacyBackupDir, { recursive: true });
        copyFileSync(layout.versionFile, join(layout.legacyBackupDir, `version.v${found}`));
        writeFileDurable(layout.versionFile, new TextEncoder().encode(`{\n  "format_version": ${STORE_FORMAT_VERSION}\n}`));
        report.status = "migrated";
      }
      report.recovery = store.recover(handle);
    } finally {
      handle.release();
    }
  } finally {
    store.close();
  }
  return report;
}

function importLegacy(store: Store, report: MigrateReport): void {
  const { layout, db } = store;
  const metaFiles = readLegacyFiles(layout.legacyMetadataDir, "metadata", () => true);
  const walFiles = readLegacyFiles(layout.legacyWalDir, "wal", (n) => n.endsWith(".json"));
  if (metaFiles.length === 0 && walFiles.length === 0) return;

  const accepted: LegacyFile[] = [];
  const rejected: LegacyFile[] = [];
  const reject = (file: LegacyFile, reason: string): void => {
    rejected.push(file);
    (file.kind === "metadata" ? report.environments.rejected : report.wal.rejected).push({ file: file.path, reason });
  };

  db.transaction(() => {
    for (const file of metaFiles) {
      if (isImported(db, file)) {
        report.already_imported++;
        accepted.push(file);
        continue;
      }
      const parsed = parseReferenceMetadata(file.bytes.toString("utf8"), file.name);
      if (typeof parsed === "string") {
        reject(file, parsed);
        continue;
      }
      const { meta } = parsed;
      let existing: EnvMetadata | undefined;
      try {
        existing = store.metadata.find(meta.env_id);
      } catch (error) {
        if (!(error instanceof CorruptionError)) throw error;
        reject(file, `environment ${meta.env_id} already exists in this store and its row is corrupt`);
        continue;
      }
      if (existing !== undefined && !sameRow(existing, meta)) {
        reject(file, `environment ${meta.env_id} already exists in this store with different metadata`);
        continue;
      }
      if (meta.name !== null) {
        const holder = db.query("SELECT env_id FROM environments WHERE name = ? AND env_id <> ?").get(meta.name, meta.env_id) as { env_id: string } | null;
        if (holder !== null) {
          reject(file, `name '${meta.name}' is already used by environment ${holder.env_id}`);
          continue;
        }
      }
      store.metadata.writeVerbatim(meta);
      report.environments.imported.push(meta.env_id);
      if (parsed.checksumAdded) report.environments.checksums_added.push(meta.env_id);
      accepted.push(file);
    }
    const entries: Array<{ file: LegacyFile; entry: WalEntry }> = [];
    for (const file of walFiles) {
      if (isImported(db, file)) {
        report.already_imported++;
        accepted.push(file);
        continue;
      }
      let entry: WalEntry | string;
      try {
        entry = parseWalEntry(JSON.parse(file.bytes.toString("utf8")));
      } catch {
        entry = "not valid JSON";
      }
      if (typeof entry === "string") reject(file, entry);
      else entries.push({ file, entry });
    }
    // Oldest first, as the reference orders them: seq then follows time, and recovery undoes newest first.
    entries.sort((a, b) => (a.entry.timestamp < b.entry.timestamp ? -1 : a.entry.timestamp > b.entry.timestamp ? 1 : 0));
    for (const { file, entry } of entries) {
      if (db.query("SELECT 1 FROM wal_entries WHERE op_id = ?").get(entry.op_id) === null) store.wal.insert(entry, undefined);
      report.wal.imported.push(entry.op_id);
      accepted.push(file);
    }
    const stamp = now();
    for (const file of accepted) {
      db.query("INSERT OR IGNORE INTO imported_files (kind, name, blake3, imported_at) VALUES (?, ?, ?, ?)").run(file.kind, file.name, file.blake3, stamp);
    }
  }).immediate();

  // Only after the import is committed: a crash before this leaves files the next run recognises.
  const backup = layout.legacyBackupDir;
  try {
    for (const file of accepted) moveInto(file, join(backup, file.kind));
    for (const file of rejected) moveInto(file, join(backup, "rejected", file.kind));
    for (const dir of [backup, join(backup, "metadata"), join(backup, "wal"), layout.legacyMetadataDir, layout.legacyWalDir]) {
      if (existsSync(dir)) fsyncDir(dir);
    }
  } catch (error) {
    throw ioError(error, `moving the imported JSON files to ${backup}`);
  }
  report.backup_dir = backup;
  if (accepted.length + rejected.length > 0) report.status = "migrated";
  for (const r of [...report.environments.rejected, ...report.wal.rejected]) store.logger.warn(`migrate: not imported ${r.file}: ${r.reason}`);
  store.logger.info?.(`migrate: imported ${report.environments.imported.length} environment(s) and ${report.wal.imported.length} WAL entries`);
}
