import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { blake3Hex } from "../../wasm/index.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { parseWalEntry } from "../../src/store/wal.ts";
import { child, collectingLogger, envId, newStore, removeRoot, sampleMeta, tempRoot, waitForLine } from "./helpers.ts";

const roots: string[] = [];
function freshStore(): { root: string; store: Store } {
  const root = tempRoot("wal");
  roots.push(root);
  return { root, store: newStore(root) };
}
afterAll(() => {
  for (const r of roots) removeRoot(r);
});

function withDb(store: Store, fn: (db: Database) => void): void {
  const db = new Database(store.layout.dbFile);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

describe("begin, steps, commit", () => {
  test("commit runs the final metadata write and removes the entry in one transaction", () => {
    const { store } = freshStore();
    const meta = sampleMeta();
    const op = store.wal.begin("Build", meta.env_id, [{ RemoveDir: store.layout.envPath(meta.env_id) }]);
    expect(store.wal.pending().map((e) => e.op_id)).toEqual([op]);
    expect(store.wal.pending()[0]?.rollback_steps).toEqual([{ RemoveDir: store.layout.envPath(meta.env_id) }]);
    store.wal.commit(op, () => store.metadata.put(meta));
    expect(store.wal.count()).toBe(0);
    expect(store.metadata.has(meta.env_id)).toBe(true);
  });

  test("a finalize that throws leaves neither its metadata nor a committed entry", () => {
    const { store } = freshStore();
    const meta = sampleMeta();
    const op = store.wal.begin("Build", meta.env_id);
    expect(() =>
      store.wal.commit(op, () => {
        store.metadata.put(meta);
        throw new Error("finalize failed");
      }),
    ).toThrow("finalize failed");
    expect(store.metadata.has(meta.env_id)).toBe(false);
    expect(store.wal.pending().map((e) => e.op_id)).toEqual([op]);
  });

  test("committing an entry that recovery already undid is an error, not a silent success", () => {
    const { store } = freshStore();
    const op = store.wal.begin("Commit", envId());
    withDb(store, (db) => db.run("DELETE FROM wal_entries"));
    expect(() => store.wal.commit(op)).toThrow(/disappeared/);
  });

  test("rollback() undoes an operation at once, in reverse order", () => {
    const { store } = freshStore();
    const meta = store.metadata.put(sampleMeta());
    const dir = store.layout.envPath(meta.env_id);
    const aside = join(store.layout.stagingDir, "aside-p1.1-x");
    mkdirSync(join(dir, "upper"), { recursive: true });
    writeFileSync(join(dir, "upper", "old"), "old");
    const op = store.wal.begin("Rebuild", meta.env_id, [{ RestoreMetadata: meta }]);
    store.wal.addStep(op, { RestoreRename: { from: aside, to: dir } });
    renameSync(dir, aside);
    mkdirSync(dir);
    writeFileSync(join(dir, "new"), "new");
    store.metadata.put({ ...meta, state: "Frozen", name: "half-done" });
    store.wal.rollback(op);
    expect(readFileSync(join(dir, "upper", "old"), "utf8")).toBe("old");
    expect(existsSync(join(dir, "new"))).toBe(false);
    expect(existsSync(aside)).toBe(false);
    expect(store.metadata.get(meta.env_id)).toEqual(meta);
    expect(store.wal.count()).toBe(0);
  });

  test("steps outside the store are refused when they are recorded", () => {
    const { store } = freshStore();
    expect(() => store.wal.begin("Build", envId(), [{ RemoveDir: "/tmp" }])).toThrow(/outside the store/);
    const op = store.wal.begin("Build", envId());
    expect(() => store.wal.addStep(op, { RemoveFile: join(store.layout.envDir, "..", "..", "etc") })).toThrow(/outside the store/);
    expect(() => store.wal.addStep(op, { RemoveDir: store.layout.envDir })).toThrow(/outside the store/);
    expect(() => store.wal.addStep(op, { RemoveDir: "env/relative" })).toThrow(/outside the store/);
  });

  test("the reference's JSON entry parses as is", () => {
    const json = `{
      "op_id": "20260215120000123-a1b2c3d4",
      "kind": "Build",
      "env_id": "abc",
      "timestamp": "2026-02-15T12:00:00.123+00:00",
      "rollback_steps": [ { "RemoveDir": "/path" }, { "RemoveFile": "/path/f" }, { "ResetState": { "env_id": "abc", "target_state": "Built" } } ]
    }`;
    expect(parseWalEntry(JSON.parse(json))).toEqual({
      op_id: "20260215120000123-a1b2c3d4",
      kind: "Build",
      env_id: "abc",
      timestamp: "2026-02-15T12:00:00.123+00:00",
      rollback_steps: [{ RemoveDir: "/path" }, { RemoveFile: "/path/f" }, { ResetState: { env_id: "abc", target_state: "Built" } }],
    });
    expect(parseWalEntry({ ...JSON.parse(json), kind: "Explode" })).toMatch(/unknown kind/);
    expect(parseWalEntry({ ...JSON.parse(json), rollback_steps: [{ RemoveDir: "/a", RemoveFile: "/b" }] })).toMatch(/2 keys/);
  });
});

describe("recovery", () => {
  test("a writer killed mid-operation: nothing is undone while it lives, everything after it dies", async () => {
    const { root, store } = freshStore();
    const env = envId();
    const other = store.metadata.put(sampleMeta({ name: "other" }));
    const otherDir = store.layout.envPath(other.env_id);
    mkdirSync(otherDir, { recursive: true });
    writeFileSync(join(otherDir, "original"), "keep me");

    const proc = child("wal-inflight.ts", [root, env, other.env_id]);
    const line = await waitForLine(proc.stdout, (l) => l.startsWith("ready"));
    const [, buildOp, enterOp] = line.split(" ") as [string, string, string];

    // The writer is alive: another process opening the store must not undo its operation.
    const logger = collectingLogger();
    const whileAlive = openStore(root, { logger });
    expect(whileAlive.openRecovery).toBeUndefined(); // it holds the lock
    const unlocked = whileAlive.lock.tryAcquire("test");
    expect(unlocked).toBeUndefined();
    expect(existsSync(store.layout.envPath(env))).toBe(true);
    expect(whileAlive.metadata.get(other.env_id).state).toBe("Running");
    whileAlive.close();

    proc.kill("SIGKILL");
    await proc.exited;

    const after = openStore(root, { logger });
    const report = after.openRecovery;
    expect(report?.wal.rolled_back.map((r) => [r.op_id, r.kind])).toEqual([
      [enterOp, "Enter"],
      [buildOp, "Build"],
    ]);
    expect(report?.wal.corrupt_removed).toEqual([]);
    expect(existsSync(after.layout.envPath(env))).toBe(false);
    expect(after.metadata.has(env)).toBe(false);
    expect(readFileSync(join(otherDir, "original"), "utf8")).toBe("keep me");
    expect(existsSync(join(otherDir, "replacement"))).toBe(false);
    expect(after.metadata.get(other.env_id).state).toBe("Built");
    expect(after.wal.count()).toBe(0);
    // The killed writer's staging file went with its rollback; the lock record it left was noticed.
    expect(existsSync(join(after.layout.stagingDir, "pack-p1.1-x.tar"))).toBe(false);
    expect(existsSync(after.layout.lockOwnerFile)).toBe(false);
    expect(logger.infos.some((m) => m.includes(`pid ${proc.pid} (wal-inflight test) died holding the store lock`))).toBe(true);
    after.close();
  });

  test("steps run in reverse order, entries newest first", () => {
    const { root, store } = freshStore();
    const meta = store.metadata.put(sampleMeta({ name: "original" }));
    const older = store.metadata.put({ ...meta, name: "older-snapshot" });
    const newer = store.metadata.put({ ...meta, name: "newer-snapshot" });
    const asDead = (op: string): void => withDb(store, (db) => db.query("UPDATE wal_entries SET owner_pid = 999999999 WHERE op_id = ?").run(op));
    // Entry 1 (older): restores "older-snapshot". Entry 2 (newer): reset to Frozen, then restore
    // "newer-snapshot" as Built. Reverse order within entry 2 means the restore runs first and the
    // reset last (Frozen); newest first across entries means entry 1 runs last (its row, Built).
    const op1 = store.wal.begin("Rebuild", meta.env_id, [{ RestoreMetadata: older }]);
    const op2 = store.wal.begin("Enter", meta.env_id, [{ ResetState: { env_id: meta.env_id, target_state: "frozen" } }, { RestoreMetadata: newer }]);
    asDead(op1);
    asDead(op2);
    store.close();
    const reopened = openStore(root);
    expect(reopened.openRecovery?.wal.rolled_back.map((r) => r.op_id)).toEqual([op2, op1]);
    expect(reopened.metadata.get(meta.env_id)).toEqual(older);

    // And within one entry: reverse order leaves Frozen (forward order would leave Built).
    const op3 = reopened.wal.begin("Enter", meta.env_id, [{ ResetState: { env_id: meta.env_id, target_state: "Frozen" } }, { RestoreMetadata: newer }]);
    const lock = reopened.lock.tryAcquire("test");
    if (lock === undefined) throw new Error("lock busy");
    withDb(reopened, (db) => db.query("UPDATE wal_entries SET owner_pid = 999999999 WHERE op_id = ?").run(op3));
    reopened.recover(lock);
    lock.release();
    expect(reopened.metadata.get(meta.env_id).state).toBe("Frozen");
    expect(reopened.metadata.get(meta.env_id).name).toBe("newer-snapshot");
    reopened.close();
  });

  test("a corrupt entry is removed with a warning and its steps are not run", () => {
    const { root, store } = freshStore();
    const keep = join(store.layout.envDir, envId());
    const keep2 = join(store.layout.envDir, envId());
    mkdirSync(keep, { recursive: true });
    mkdirSync(keep2, { recursive: true });
    const unparsable = store.wal.begin("Build", envId(), [{ RemoveDir: keep }]);
    const tampered = store.wal.begin("Build", envId(), [{ RemoveDir: keep2 }]);
    const fine = store.wal.begin("Destroy", envId(), []);
    withDb(store, (db) => {
      db.run("UPDATE wal_entries SET owner_pid = 999999999");
      // Not JSON, with a checksum that matches, so it is the parse that fails.
      db.query("UPDATE wal_entries SET body = 'THIS IS NOT JSON{{{', checksum = ? WHERE op_id = ?").run(blake3Hex("THIS IS NOT JSON{{{"), unparsable);
      // Valid JSON that no longer matches its checksum (a flipped byte in the path).
      db.query("UPDATE wal_entries SET body = replace(body, 'env/', 'enw/') WHERE op_id = ?").run(tampered);
    });
    store.close();
    const logger = collectingLogger();
    const reopened = openStore(root, { logger });
    const wal = reopened.openRecovery?.wal;
    expect(wal?.corrupt_removed.sort()).toEqual([unparsable, tampered].sort());
    expect(wal?.rolled_back.map((r) => r.op_id)).toEqual([fine]);
    expect(logger.warnings.filter((w) => w.includes("corrupt write-ahead log entry")).length).toBe(2);
    expect(logger.warnings.some((w) => w.includes(unparsable) && w.includes("not valid JSON"))).toBe(true);
    expect(logger.warnings.some((w) => w.includes(tampered) && w.includes("checksum mismatch"))).toBe(true);
    expect(existsSync(keep)).toBe(true);
    expect(existsSync(keep2)).toBe(true);
    expect(reopened.wal.count()).toBe(0);
    reopened.close();
  });

  test("a step that points outside the store is skipped with a warning, never executed", () => {
    const { root, store } = freshStore();
    const outside = tempRoot("outside");
    roots.push(outside);
    writeFileSync(join(outside, "precious"), "x");
    const op = store.wal.begin("Build", envId(), [{ RemoveDir: join(store.layout.envDir, envId()) }]);
    withDb(store, (db) => {
      const body = JSON.stringify({ ...parseOrThrow(db, op), rollback_steps: [{ RemoveDir: outside }, { RemoveDir: `${store.layout.envDir}/../../..${outside}` }] });
      db.query("UPDATE wal_entries SET owner_pid = 999999999, body = ?, checksum = ? WHERE op_id = ?").run(body, blake3Hex(body), op);
    });
    store.close();
    const logger = collectingLogger();
    const reopened = openStore(root, { logger });
    expect(reopened.openRecovery?.wal.rolled_back.map((r) => r.op_id)).toEqual([op]);
    expect(existsSync(join(outside, "precious"))).toBe(true);
    expect(logger.warnings.filter((w) => w.includes("outside the store")).length).toBe(2);
    reopened.close();
  });
});

function parseOrThrow(db: Database, op: string): object {
  const row = db.query("SELECT body FROM wal_entries WHERE op_id = ?").get(op) as { body: string } | null;
  if (row === null) throw new Error(`no entry ${op}`);
  return JSON.parse(row.body) as object;
}
