/**
 * Environment metadata: one row per environment in the `environments` table.
 *
 * Each row carries a checksum: blake3 of the row's canonical content, which
 * is exactly what the reference hashes for its metadata files (the pretty
 * JSON of EnvMetadata without the checksum field, metadata.rs
 * compute_checksum). So a checksum imported from a reference store is
 * verified as is, and a row exported in the reference's format carries a
 * checksum the reference accepts. Every read verifies it.
 */
import type { Database } from "bun:sqlite";
import { blake3Hex, blake3Many, toHex } from "../../wasm/blake3.ts";
import { sqliteFailure } from "./db.ts";
import { CorruptionError, EnvNotFoundError, NameError } from "./errors.ts";
import { isHash } from "./hash.ts";
import { assertTransition, type EnvState, isEnvState } from "./lifecycle.ts";
import { serdePretty } from "./serde-json.ts";

export interface EnvMetadata {
  env_id: string;
  short_id: string;
  name: string | null;
  state: EnvState;
  manifest_hash: string;
  base_layer: string;
  dependency_layers: string[];
  policy_layer: string | null;
  created_at: string;
  updated_at: string;
  ref_count: number;
  checksum: string;
}

export type EnvMetadataInput = Omit<EnvMetadata, "checksum">;

/** A row as sqlite returns it, before any checking. */
export interface EnvRow {
  env_id: string;
  short_id: string;
  name: string | null;
  state: string;
  manifest_hash: string;
  base_layer: string;
  dependency_layers: string;
  policy_layer: string | null;
  created_at: string;
  updated_at: string;
  ref_count: number;
  checksum: string;
}

/** One row's verdict: the verified metadata, or why it is not trustworthy. */
export type CheckedRow = { env_id: string; row: EnvRow; meta: EnvMetadata } | { env_id: string; row: EnvRow; problem: string };

/** The bytes the checksum covers (see the module comment). */
export function canonicalMetadata(m: EnvMetadataInput): string {
  return serdePretty({
    env_id: m.env_id,
    short_id: m.short_id,
    name: m.name,
    state: m.state,
    manifest_hash: m.manifest_hash,
    base_layer: m.base_layer,
    dependency_layers: m.dependency_layers,
    policy_layer: m.policy_layer,
    created_at: m.created_at,
    updated_at: m.updated_at,
    ref_count: m.ref_count,
  });
}

export function metadataChecksum(m: EnvMetadataInput): string {
  return blake3Hex(canonicalMetadata(m));
}

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The reference's validate_env_name: 1-64 characters of [a-zA-Z0-9_-]. */
export function validateEnvName(name: string): void {
  if (name.length === 0 || name.length > 64) throw new NameError(`invalid environment name '${name}': it must be 1-64 characters`);
  if (!NAME_PATTERN.test(name)) {
    throw new NameError(`invalid environment name '${name}': only letters, digits, '_' and '-' are allowed`);
  }
}

/** Shape checks shared by put() and migrate; returns the first problem or undefined. */
export function metadataProblem(m: EnvMetadataInput): string | undefined {
  if (!isHash(m.env_id)) return `env_id '${m.env_id}' is not a 64-character blake3 hex digest`;
  if (typeof m.short_id !== "string" || m.short_id === "") return "short_id is empty";
  if (!isEnvState(m.state)) return `unknown state '${String(m.state)}'`;
  if (!Number.isSafeInteger(m.ref_count) || m.ref_count < 0 || m.ref_count > 0xffffffff) {
    return `ref_count ${m.ref_count} is not a u32`;
  }
  if (m.name !== null && !NAME_PATTERN.test(m.name)) return `name '${m.name}' is not a valid environment name`;
  return undefined;
}

function decode(row: EnvRow): EnvMetadata | string {
  if (!isEnvState(row.state)) return `unknown state '${row.state}'`;
  let deps: unknown;
  try {
    deps = JSON.parse(row.dependency_layers);
  } catch {
    return "dependency_layers is not valid JSON";
  }
  if (!Array.isArray(deps) || !deps.every((d): d is string => typeof d === "string")) {
    return "dependency_layers is not an array of strings";
  }
  return { ...row, state: row.state, dependency_layers: deps };
}

export type ResolveResult =
  | { kind: "found"; meta: EnvMetadata }
  | { kind: "none" }
  | { kind: "ambiguous"; matches: EnvMetadata[] };

const COLUMNS =
  "env_id, short_id, name, state, manifest_hash, base_layer, dependency_layers, policy_layer, created_at, updated_at, ref_count, checksum";

export class MetadataStore {
  constructor(private readonly db: Database) {}

  /** Inserts or replaces the row for `meta.env_id`, with a fresh checksum. */
  put(meta: EnvMetadataInput): EnvMetadata {
    if (meta.name !== null) validateEnvName(meta.name);
    const problem = metadataProblem(meta);
    if (problem !== undefined) throw new TypeError(`invalid environment metadata: ${problem}`);
    const full: EnvMetadata = { ...stripChecksum(meta), checksum: metadataChecksum(meta) };
    this.write(full);
    return full;
  }

  /**
   * Writes a row exactly as given, checksum included (migrate uses this to
   * keep the reference's checksum). The caller has verified it.
   */
  writeVerbatim(meta: EnvMetadata): void {
    this.write(meta);
  }

  private write(m: EnvMetadata): void {
    try {
      this.db
        .query(
          `INSERT INTO environments (${COLUMNS}) VALUES
             ($env_id, $short_id, $name, $state, $manifest_hash, $base_layer, $dependency_layers, $policy_layer, $created_at, $updated_at, $ref_count, $checksum)
           ON CONFLICT (env_id) DO UPDATE SET
             short_id = excluded.short_id, name = excluded.name, state = excluded.state,
             manifest_hash = excluded.manifest_hash, base_layer = excluded.base_layer,
             dependency_layers = excluded.dependency_layers, policy_layer = excluded.policy_layer,
             created_at = excluded.created_at, updated_at = excluded.updated_at,
             ref_count = excluded.ref_count, checksum = excluded.checksum`,
        )
        .run({ ...m, dependency_layers: JSON.stringify(m.dependency_layers) });
    } catch (error) {
      if (m.name !== null && /UNIQUE constraint failed: environments\.name/.test((error as Error).message)) {
        const holder = this.db.query("SELECT short_id FROM environments WHERE name = ?").get(m.name) as { short_id: string } | null;
        throw new NameError(`name '${m.name}' is already used by environment ${holder?.short_id ?? "(unknown)"}`, {
          hint: "pick another name, or rename that environment first",
        });
      }
      throw sqliteFailure(error, `writing the metadata of ${m.env_id}`);
    }
  }

  private row(envId: string): EnvRow | undefined {
    return (this.db.query(`SELECT ${COLUMNS} FROM environments WHERE env_id = ?`).get(envId) as EnvRow | null) ?? undefined;
  }

  /** The verified row, undefined if there is none; CorruptionError if it fails its checksum. */
  find(envId: string): EnvMetadata | undefined {
    const row = this.row(envId);
    if (row === undefined) return undefined;
    const checked = checkRows([row])[0] as CheckedRow;
    if ("problem" in checked) throw new CorruptionError("metadata", envId, checked.problem);
    return checked.meta;
  }

  get(envId: string): EnvMetadata {
    const meta = this.find(envId);
    if (meta === undefined) throw new EnvNotFoundError(envId);
    return meta;
  }

  has(envId: string): boolean {
    return this.db.query("SELECT 1 FROM environments WHERE env_id = ?").get(envId) !== null;
  }

  remove(envId: string): boolean {
    try {
      return this.db.query("DELETE FROM environments WHERE env_id = ?").run(envId).changes > 0;
    } catch (error) {
      throw sqliteFailure(error, `removing the metadata of ${envId}`);
    }
  }

  /** Every row with its verdict, sorted by env_id (verify-store and gc look at the bad ones too). */
  checkAll(): CheckedRow[] {
    return checkRows(this.db.query(`SELECT ${COLUMNS} FROM environments ORDER BY env_id`).all() as EnvRow[]);
  }

  /** The verified environments, sorted by env_id; a corrupt row is left out and reported to `onCorrupt`. */
  list(onCorrupt?: (envId: string, problem: string) => void): EnvMetadata[] {
    const out: EnvMetadata[] = [];
    for (const checked of this.checkAll()) {
      if ("meta" in checked) out.push(checked.meta);
      else onCorrupt?.(checked.env_id, checked.problem);
    }
    return out;
  }

  count(): number {
    return (this.db.query("SELECT COUNT(*) AS n FROM environments").get() as { n: number }).n;
  }

  /**
   * Read-modify-write of one row inside an IMMEDIATE transaction, so two
   * processes cannot lose each other's update even without the store lock.
   */
  update(envId: string, change: (current: EnvMetadata) => EnvMetadataInput): EnvMetadata {
    try {
      return this.db.transaction(() => this.put(change(this.get(envId)))).immediate();
    } catch (error) {
      throw sqliteFailure(error, `updating the metadata of ${envId}`);
    }
  }

  /** Moves to `to` if the lifecycle allows it; InvalidTransitionError otherwise. */
  setState(envId: string, to: EnvState): EnvMetadata {
    return this.update(envId, (m) => {
      assertTransition(m.state, to, `environment ${m.name ?? m.short_id}`);
      return { ...m, state: to, updated_at: now() };
    });
  }

  /** Sets or clears the name; NameError if it is malformed or taken. */
  rename(envId: string, name: string | null): EnvMetadata {
    if (name !== null) validateEnvName(name);
    return this.update(envId, (m) => ({ ...m, name, updated_at: now() }));
  }

  incrementRef(envId: string): EnvMetadata {
    return this.update(envId, (m) => ({ ...m, ref_count: m.ref_count + 1, updated_at: now() }));
  }

  /** Saturates at 0, like the reference. */
  decrementRef(envId: string): EnvMetadata {
    return this.update(envId, (m) => ({ ...m, ref_count: Math.max(0, m.ref_count - 1), updated_at: now() }));
  }

  /**
   * Finds an environment the way users name one (the reference's
   * resolve_env_id): an exact env_id, short_id or name first, then a unique
   * prefix of an env_id or short_id.
   */
  resolve(ref: string): ResolveResult {
    if (ref === "") return { kind: "none" };
    const exact = this.db
      .query(`SELECT ${COLUMNS} FROM environments WHERE env_id = $ref OR short_id = $ref OR name = $ref ORDER BY env_id`)
      .all({ ref }) as EnvRow[];
    const pick = (rows: EnvRow[]): ResolveResult => {
      const metas = rows.map((row) => this.get(row.env_id));
      if (metas.length === 0) return { kind: "none" };
      if (metas.length === 1) return { kind: "found", meta: metas[0] as EnvMetadata };
      return { kind: "ambiguous", matches: metas };
    };
    if (exact.length > 0) return pick(exact);
    if (!/^[0-9a-f]{1,64}$/.test(ref)) return { kind: "none" };
    // Hex only, so GLOB sees no wildcard characters.
    return pick(
      this.db
        .query(`SELECT ${COLUMNS} FROM environments WHERE env_id GLOB $p OR short_id GLOB $p ORDER BY env_id`)
        .all({ p: `${ref}*` }) as EnvRow[],
    );
  }
}

function stripChecksum(meta: EnvMetadataInput | EnvMetadata): EnvMetadataInput {
  const { checksum: _ignored, ...rest } = meta as EnvMetadata;
  return rest;
}

export function now(): string {
  return new Date().toISOString();
}

/** Verifies rows in one batch (one call into the hashing module for all checksums). */
export function checkRows(rows: readonly EnvRow[]): CheckedRow[] {
  const decoded = rows.map(decode);
  const texts: Uint8Array[] = [];
  const encoder = new TextEncoder();
  for (const d of decoded) if (typeof d !== "string") texts.push(encoder.encode(canonicalMetadata(d)));
  const digests = blake3Many(texts);
  let next = 0;
  return rows.map((row, i) => {
    const d = decoded[i] as EnvMetadata | string;
    if (typeof d === "string") return { env_id: row.env_id, row, problem: d };
    const actual = toHex(digests[next++] as Uint8Array);
    if (actual !== row.checksum) return { env_id: row.env_id, row, problem: `checksum mismatch: stored ${row.checksum}, content hashes to ${actual}` };
    return { env_id: row.env_id, row, meta: d };
  });
}
