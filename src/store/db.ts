/**
 * The store's sqlite database (store/karapace.db): environment metadata, the
 * write-ahead log and migrate's bookkeeping. See docs/store.md for why
 * journal_mode=WAL with synchronous=FULL.
 */
import { Database } from "bun:sqlite";
import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import { StoreError } from "../errors.ts";

interface Migration {
  version: number;
  description: string;
  sql: string;
}

/**
 * Applied in order, each in its own transaction; a database records which
 * ones it has in schema_migrations. Never edit a released entry: add one.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "environments, write-ahead log, imported reference files",
    sql: `
      CREATE TABLE environments (
        env_id            TEXT PRIMARY KEY NOT NULL,
        short_id          TEXT NOT NULL,
        name              TEXT UNIQUE,
        state             TEXT NOT NULL,
        manifest_hash     TEXT NOT NULL,
        base_layer        TEXT NOT NULL,
        dependency_layers TEXT NOT NULL,
        policy_layer      TEXT,
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL,
        ref_count         INTEGER NOT NULL,
        checksum          TEXT NOT NULL
      ) STRICT;
      CREATE INDEX environments_by_short_id ON environments (short_id);

      CREATE TABLE wal_entries (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        op_id       TEXT NOT NULL UNIQUE,
        owner_pid   INTEGER,
        owner_start INTEGER,
        body        TEXT NOT NULL,
        checksum    TEXT NOT NULL
      ) STRICT;

      CREATE TABLE imported_files (
        kind        TEXT NOT NULL,
        name        TEXT NOT NULL,
        blake3      TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        PRIMARY KEY (kind, name, blake3)
      ) STRICT;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Waits this long for another connection's write transaction before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 15_000;

function currentVersion(db: Database): number {
  const table = db.query("SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (table === null) return 0;
  const row = db.query("SELECT MAX(version) AS version FROM schema_migrations").get() as { version: number | null };
  return row.version ?? 0;
}

function migrate(db: Database, path: string): void {
  if (currentVersion(db) === SCHEMA_VERSION) return;
  // IMMEDIATE: two processes opening a new store at once must not both migrate.
  db.transaction(() => {
    db.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     INTEGER PRIMARY KEY NOT NULL,
      description TEXT NOT NULL,
      applied_at  TEXT NOT NULL
    ) STRICT`);
    const from = currentVersion(db);
    if (from > SCHEMA_VERSION) {
      throw new StoreError(`the store database ${path} has schema version ${from}; this karapace knows up to ${SCHEMA_VERSION}`, {
        hint: "it was written by a newer karapace: upgrade karapace",
      });
    }
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      db.run(m.sql);
      db.query("INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)").run(
        m.version,
        m.description,
        new Date().toISOString(),
      );
    }
  }).immediate();
}

export function openDatabase(path: string): Database {
  let db: Database;
  try {
    db = new Database(path, { create: true, strict: true });
  } catch (error) {
    throw new StoreError(`cannot open the store database ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.run("PRAGMA journal_mode = WAL");
    // Per connection, not persisted: every commit is on disk before it returns.
    db.run("PRAGMA synchronous = FULL");
    migrate(db, path);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    const mapped = sqliteFailure(error, "opening the store database", path);
    if (mapped instanceof StoreError) throw mapped;
    throw new StoreError(`cannot use the store database ${path}: ${(error as Error).message}`, {
      hint: "run 'karapace verify-store'; if the database is damaged, restore it from a backup",
      cause: error,
    });
  }
}

/** Less than 64 KiB left for us on the filesystem holding `path`. */
function noSpaceLeft(path: string): boolean {
  try {
    const fs = statfsSync(dirname(path));
    return fs.bavail * fs.bsize < 64 * 1024;
  } catch {
    return false;
  }
}

/**
 * Gives sqlite's failures the store's vocabulary: a full disk is the same
 * "no space" StoreError as a failed file write; anything else passes through.
 */
export function sqliteFailure(error: unknown, doing: string, dbPath?: string): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  // sqlite reports a failed write of its -wal or -shm file as a generic I/O
  // error; on a full filesystem that is the same "no space" as anywhere else.
  const full = code === "SQLITE_FULL" || (dbPath !== undefined && typeof code === "string" && code.startsWith("SQLITE_IOERR") && noSpaceLeft(dbPath));
  if (full) {
    return new StoreError(`no space left on the device while ${doing}`, {
      hint: "free some space (or run 'karapace gc'), then try again; the database was not changed",
      cause: error,
    });
  }
  if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") {
    return new StoreError(`the store database is damaged (${(error as Error).message}) while ${doing}`, {
      hint: "restore store/karapace.db from a backup; objects and layers are unaffected",
      cause: error,
    });
  }
  return error;
}
