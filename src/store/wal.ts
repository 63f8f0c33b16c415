/**
 * The write-ahead log, in the `wal_entries` table.
 *
 * An operation that changes several things (env dir, objects, layers,
 * metadata) first records how to undo itself: begin() writes an entry,
 * addStep() appends a rollback step *before* the side effect it undoes, and
 * commit() deletes the entry -- in the same sqlite transaction as the
 * operation's final metadata change, so "metadata written" and "operation
 * complete" can never disagree. With synchronous=FULL each of these is on
 * disk before the call returns, so a step is durable before its side effect.
 *
 * Entries keep the reference's JSON shape (wal.rs WalEntry, RollbackStep
 * externally tagged, e.g. {"RemoveDir": "/path"}), plus steps of our own.
 *
 * Recovery rolls back the entries whose owner process is gone, newest
 * first, each entry's steps in reverse. Unlike the reference, an entry whose
 * owner is still running (a long `enter`, say) is left alone, and file steps
 * only ever touch paths inside the store.
 */
import type { Database } from "bun:sqlite";
import { existsSync, renameSync, unlinkSync } from "node:fs";
import { basename, dirname, isAbsolute, resolve, sep } from "node:path";
import { blake3Hex } from "../../wasm/blake3.ts";
import { StoreError } from "../errors.ts";
import { sqliteFailure } from "./db.ts";
import { CorruptionError } from "./errors.ts";
import { isNotFound, removeTree } from "./fsx.ts";
import { isHash } from "./hash.ts";
import type { StoreLayout } from "./layout.ts";
import { parseEnvState } from "./lifecycle.ts";
import { type EnvMetadata, type MetadataStore, metadataChecksum, metadataProblem, now } from "./metadata.ts";
import { isAlive, type ProcessId, selfId } from "./proc.ts";
import type { StoreLogger } from "./logger.ts";

export const WAL_OP_KINDS = ["Build", "Rebuild", "Commit", "Restore", "Destroy", "Gc", "Enter", "Exec"] as const;
export type WalOpKind = (typeof WAL_OP_KINDS)[number];

export type RollbackStep =
  /** rm -rf a directory the operation created (reference). */
  | { RemoveDir: string }
  /** Delete a file the operation created (reference). */
  | { RemoveFile: string }
  /** Put an environment back into a state, e.g. Running -> Built after a crash in `enter` (reference). */
  | { ResetState: { env_id: string; target_state: string } }
  /** Move `from` back to `to` (replacing whatever is at `to`): undoes a move-aside. */
  | { RestoreRename: { from: string; to: string } }
  /** Delete the metadata row the operation inserted. */
  | { RemoveMetadata: { env_id: string } }
  /** Write back a row exactly as it was before the operation (checksum included). */
  | { RestoreMetadata: EnvMetadata };

export interface WalEntry {
  op_id: string;
  kind: WalOpKind;
  env_id: string;
  timestamp: string;
  rollback_steps: RollbackStep[];
}

export interface RecoveryReport {
  rolled_back: Array<{ op_id: string; kind: WalOpKind; env_id: string; steps: number }>;
  /** Entries that could not be parsed (or failed their checksum): removed without running anything. */
  corrupt_removed: string[];
  /** Entries whose owner process is still running: left alone. */
  skipped_live: string[];
  /** Entries with a step that failed: kept, to be tried again at the next recovery. */
  failed: Array<{ op_id: string; error: string }>;
}

interface WalRow {
  seq: number;
  op_id: string;
  owner_pid: number | null;
  owner_start: number | null;
  body: string;
  checksum: string;
}

type ParsedRow = { row: WalRow; entry: WalEntry } | { row: WalRow; problem: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseStep(value: unknown): RollbackStep | string {
  if (!isRecord(value)) return "a rollback step is not an object";
  const keys = Object.keys(value);
  if (keys.length !== 1) return `a rollback step has ${keys.length} keys`;
  const key = keys[0] as string;
  const body = value[key];
  const str = (v: unknown): v is string => typeof v === "string";
  switch (key) {
    case "RemoveDir":
    case "RemoveFile":
      return str(body) ? ({ [key]: body } as RollbackStep) : `${key} without a path`;
    case "ResetState":
      return isRecord(body) && str(body.env_id) && str(body.target_state)
        ? { ResetState: { env_id: body.env_id, target_state: body.target_state } }
        : "ResetState without env_id and target_state";
    case "RestoreRename":
      return isRecord(body) && str(body.from) && str(body.to) ? { RestoreRename: { from: body.from, to: body.to } } : "RestoreRename without from and to";
    case "RemoveMetadata":
      return isRecord(body) && str(body.env_id) ? { RemoveMetadata: { env_id: body.env_id } } : "RemoveMetadata without env_id";
    case "RestoreMetadata": {
      if (!isRecord(body) || !str(body.checksum) || !Array.isArray(body.dependency_layers)) return "RestoreMetadata without a row";
      const row = body as unknown as EnvMetadata;
      const problem = metadataProblem(row);
      if (problem !== undefined) return `RestoreMetadata: ${problem}`;
      if (metadataChecksum(row) !== row.checksum) return "RestoreMetadata row fails its checksum";
      return { RestoreMetadata: row };
    }
    default:
      return `unknown rollback step '${key}'`;
  }
}

/** Parses an entry in the reference's JSON shape; a string is the reason it is not one. */
export function parseWalEntry(value: unknown): WalEntry | string {
  if (!isRecord(value)) return "not a JSON object";
  const { op_id, kind, env_id, timestamp, rollback_steps } = value;
  if (typeof op_id !== "string" || op_id === "") return "op_id is missing";
  if (typeof kind !== "string" || !(WAL_OP_KINDS as readonly string[]).includes(kind)) return `unknown kind '${String(kind)}'`;
  if (typeof env_id !== "string") return "env_id is missing";
  if (typeof timestamp !== "string") return "timestamp is missing";
  if (!Array.isArray(rollback_steps)) return "rollback_steps is not an array";
  const steps: RollbackStep[] = [];
  for (const raw of rollback_steps) {
    const step = parseStep(raw);
    if (typeof step === "string") return step;
    steps.push(step);
  }
  return { op_id, kind: kind as WalOpKind, env_id, timestamp, rollback_steps: steps };
}

function parseRow(row: WalRow): ParsedRow {
  if (blake3Hex(row.body) !== row.checksum) return { row, problem: "checksum mismatch" };
  let json: unknown;
  try {
    json = JSON.parse(row.body);
  } catch {
    return { row, problem: "not valid JSON" };
  }
  const entry = parseWalEntry(json);
  if (typeof entry === "string") return { row, problem: entry };
  if (entry.op_id !== row.op_id) return { row, problem: `op_id ${entry.op_id} does not match the row's ${row.op_id}` };
  return { row, entry };
}

/** `20260215120000123`: the reference's op_id timestamp (%Y%m%d%H%M%S%3f, UTC). */
function compactTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:T.Z]/g, "");
}

let opCounter = 0;

export class WriteAheadLog {
  constructor(
    private readonly db: Database,
    private readonly layout: StoreLayout,
    private readonly metadata: MetadataStore,
    private readonly logger: StoreLogger,
  ) {}

  /** Records the start of an operation (with any steps already known) and returns its op_id. */
  begin(kind: WalOpKind, envId: string, steps: readonly RollbackStep[] = []): string {
    for (const step of steps) this.checkStep(step);
    const date = new Date();
    // Reference format plus a per-process counter and random tail, so two ops on one env in one ms differ.
    const opId = `${compactTimestamp(date)}-${blake3Hex(envId).slice(0, 8)}-${(opCounter++).toString(36)}${crypto.randomUUID().slice(0, 6)}`;
    const entry: WalEntry = { op_id: opId, kind, env_id: envId, timestamp: date.toISOString(), rollback_steps: [...steps] };
    this.insert(entry, selfId());
    return opId;
  }

  /** Inserts an entry as given (migrate imports the reference's entries with no owner). */
  insert(entry: WalEntry, owner: ProcessId | undefined): void {
    const body = JSON.stringify(entry);
    try {
      this.db
        .query("INSERT INTO wal_entries (op_id, owner_pid, owner_start, body, checksum) VALUES (?, ?, ?, ?, ?)")
        .run(entry.op_id, owner?.pid ?? null, owner?.start ?? null, body, blake3Hex(body));
    } catch (error) {
      throw sqliteFailure(error, `recording the start of ${entry.kind}`);
    }
  }

  /** Appends a rollback step; call it before the side effect the step undoes. */
  addStep(opId: string, step: RollbackStep): void {
    this.checkStep(step);
    try {
      this.db
        .transaction(() => {
          const entry = this.ownEntry(opId);
          entry.rollback_steps.push(step);
          const body = JSON.stringify(entry);
          this.db.query("UPDATE wal_entries SET body = ?, checksum = ? WHERE op_id = ?").run(body, blake3Hex(body), opId);
        })
        .immediate();
    } catch (error) {
      throw sqliteFailure(error, "recording a rollback step");
    }
  }

  /**
   * Completes an operation: runs `finalize` (its last metadata writes) and
   * deletes the entry in one transaction. If the entry is gone, recovery has
   * undone this operation, and claiming success would be wrong.
   */
  commit<T>(opId: string, finalize?: () => T): T | undefined {
    try {
      return this.db
        .transaction(() => {
          const result = finalize?.();
          const removed = this.db.query("DELETE FROM wal_entries WHERE op_id = ?").run(opId).changes;
          if (removed === 0) throw new StoreError(`write-ahead log entry ${opId} disappeared before its operation completed`);
          return result;
        })
        .immediate();
    } catch (error) {
      throw sqliteFailure(error, "completing an operation");
    }
  }

  /** Undoes an operation now (its error path): runs its steps in reverse and deletes the entry. */
  rollback(opId: string): void {
    const entry = this.ownEntry(opId);
    this.runSteps(entry);
    this.db.query("DELETE FROM wal_entries WHERE op_id = ?").run(opId);
  }

  private ownEntry(opId: string): WalEntry {
    const row = this.db.query("SELECT seq, op_id, owner_pid, owner_start, body, checksum FROM wal_entries WHERE op_id = ?").get(opId) as WalRow | null;
    if (row === null) throw new StoreError(`no write-ahead log entry ${opId}`);
    const parsed = parseRow(row);
    if ("problem" in parsed) throw new StoreError(`write-ahead log entry ${opId} is corrupt: ${parsed.problem}`);
    return parsed.entry;
  }

  /** Whether any operation is recorded (a cheap read, no lock needed). */
  isEmpty(): boolean {
    return this.db.query("SELECT 1 FROM wal_entries LIMIT 1").get() === null;
  }

  private rows(): ParsedRow[] {
    const rows = this.db.query("SELECT seq, op_id, owner_pid, owner_start, body, checksum FROM wal_entries ORDER BY seq DESC").all() as WalRow[];
    return rows.map(parseRow);
  }

  /** Entries not yet committed, newest first (corrupt ones left out). */
  pending(): WalEntry[] {
    return this.rows().flatMap((p) => ("entry" in p ? [p.entry] : []));
  }

  count(): number {
    return (this.db.query("SELECT COUNT(*) AS n FROM wal_entries").get() as { n: number }).n;
  }

  /**
   * Rolls back every entry whose owner is gone. The caller holds the store
   * lock, so no other writer is mid-way through an operation it could undo.
   */
  recover(): RecoveryReport {
    const report: RecoveryReport = { rolled_back: [], corrupt_removed: [], skipped_live: [], failed: [] };
    for (const parsed of this.rows()) {
      const { row } = parsed;
      if ("problem" in parsed) {
        this.logger.warn(`removing corrupt write-ahead log entry ${row.op_id} (${parsed.problem}); its rollback steps cannot be trusted and are not run`);
        this.db.query("DELETE FROM wal_entries WHERE seq = ?").run(row.seq);
        report.corrupt_removed.push(row.op_id);
        continue;
      }
      const owner: ProcessId | undefined = row.owner_pid === null ? undefined : { pid: row.owner_pid, start: row.owner_start ?? undefined };
      if (owner !== undefined && isAlive(owner)) {
        report.skipped_live.push(row.op_id);
        continue;
      }
      const { entry } = parsed;
      this.logger.info?.(`write-ahead log: rolling back ${entry.kind} of ${entry.env_id} (op ${entry.op_id})`);
      try {
        this.runSteps(entry);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.logger.warn(`write-ahead log: rolling back ${entry.op_id} failed, will retry at the next open: ${message}`);
        report.failed.push({ op_id: entry.op_id, error: message });
        continue;
      }
      this.db.query("DELETE FROM wal_entries WHERE seq = ?").run(row.seq);
      report.rolled_back.push({ op_id: entry.op_id, kind: entry.kind, env_id: entry.env_id, steps: entry.rollback_steps.length });
    }
    return report;
  }

  /** Steps in reverse order. Every step is idempotent, so a crash during recovery is recovered again. */
  private runSteps(entry: WalEntry): void {
    for (const step of [...entry.rollback_steps].reverse()) this.runStep(step);
  }

  private runStep(step: RollbackStep): void {
    if ("RemoveDir" in step) {
      const path = this.confinedOrSkip(step.RemoveDir, "RemoveDir");
      if (path !== undefined) removeTree(path);
    } else if ("RemoveFile" in step) {
      const path = this.confinedOrSkip(step.RemoveFile, "RemoveFile");
      if (path === undefined) return;
      const legacyMeta = this.legacyMetadataEnv(path);
      // The reference undoes its metadata by deleting store/metadata/<env_id>; here the row is the metadata.
      if (legacyMeta !== undefined) this.metadata.remove(legacyMeta);
      try {
        unlinkSync(path);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    } else if ("ResetState" in step) {
      this.resetState(step.ResetState.env_id, step.ResetState.target_state);
    } else if ("RestoreRename" in step) {
      const from = this.confinedOrSkip(step.RestoreRename.from, "RestoreRename");
      const to = this.confinedOrSkip(step.RestoreRename.to, "RestoreRename");
      if (from !== undefined && to !== undefined && existsSync(from)) {
        removeTree(to);
        renameSync(from, to);
      }
    } else if ("RemoveMetadata" in step) {
      this.metadata.remove(step.RemoveMetadata.env_id);
    } else {
      this.metadata.writeVerbatim(step.RestoreMetadata);
    }
  }

  /** A step whose path lies outside the store is skipped with a warning: retrying would never help. */
  private confinedOrSkip(path: string, what: string): string | undefined {
    try {
      return this.confine(path, what);
    } catch (error) {
      this.logger.warn(`write-ahead log: ${(error as Error).message}; step skipped`);
      return undefined;
    }
  }

  private resetState(envId: string, target: string): void {
    const state = parseEnvState(target);
    if (state === undefined) {
      this.logger.warn(`write-ahead log: unknown target state '${target}' for ${envId}; skipped`);
      return;
    }
    let current: EnvMetadata | undefined;
    try {
      current = this.metadata.find(envId);
    } catch (error) {
      // Rewriting a corrupt row would give it a fresh checksum and hide the damage.
      if (error instanceof CorruptionError) {
        this.logger.warn(`write-ahead log: metadata of ${envId} is corrupt; its state was not reset (${error.reason})`);
        return;
      }
      throw error;
    }
    if (current === undefined) return;
    this.metadata.put({ ...current, state, updated_at: now() });
  }

  /** store/metadata/<env_id> (the reference's metadata file) -> env_id. */
  private legacyMetadataEnv(path: string): string | undefined {
    return dirname(path) === this.layout.legacyMetadataDir ? basename(path) : undefined;
  }

  /** Where file steps may act: strictly inside these directories of the store. */
  private allowedDirs(): string[] {
    const l = this.layout;
    return [l.envDir, l.stagingDir, l.objectsDir, l.layersDir, l.imagesDir, l.legacyMetadataDir].map((d) => resolve(d));
  }

  /**
   * A WAL entry is data read back from disk; a damaged or hostile path must
   * not make recovery delete something outside the store.
   */
  private confine(path: string, what: string): string {
    const normalized = resolve(path);
    if (!isAbsolute(path) || !this.allowedDirs().some((dir) => normalized.startsWith(dir + sep))) {
      throw new StoreError(`refusing ${what} on ${path}: it is outside the store's env, staging, objects, layers and images directories`);
    }
    return normalized;
  }

  private checkStep(step: RollbackStep): void {
    const parsed = parseStep(step);
    if (typeof parsed === "string") throw new TypeError(`invalid rollback step: ${parsed}`);
    if ("RemoveDir" in step) this.confine(step.RemoveDir, "RemoveDir");
    if ("RemoveFile" in step) this.confine(step.RemoveFile, "RemoveFile");
    if ("RestoreRename" in step) {
      this.confine(step.RestoreRename.from, "RestoreRename");
      this.confine(step.RestoreRename.to, "RestoreRename");
    }
    if ("RemoveMetadata" in step && !isHash(step.RemoveMetadata.env_id)) throw new TypeError("RemoveMetadata needs an env_id");
  }
}
