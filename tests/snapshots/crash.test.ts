/**
 * SIGKILL during commit and during restore, 50 times each, at random points
 * inside the operation (the delay is drawn from 0 to 1.3x (commit) or 1.4x
 * (restore) the median duration of uninterrupted runs, with a payload of ~16 MiB and 300 small
 * files so most kills land mid-operation). After every kill the next open of
 * the store recovers through the WAL, and then:
 * - no rollback failed, the WAL is empty, nothing is left in staging;
 * - every object and layer file written hashes to its name (b3sum), and
 *   verify-store finds nothing damaged or missing (every 10th trial and at
 *   the end: it re-hashes the whole, growing store);
 * - commit: the upper dir is untouched; a commit that reported done has its
 *   snapshot listed;
 * - restore: the upper dir is entirely the old state or entirely the new one
 *   (content fingerprint of the whole tree, markers included), and work/ exists.
 * Finally the environment is usable: a restore through the CLI and a real
 * overlay mount show the committed merged tree.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore, verifyStore } from "../../src/store/index.ts";
import { kJson } from "../engine/helpers.ts";
import { collectingLogger, waitForLine } from "../store/helpers.ts";
import { requireTool } from "../support/prereq.ts";
import { pseudoRandomBytes } from "../wasm/helpers.ts";
import { changedEnvironment, cleanupTemp, digestRecords, fingerprintTree, mergedFingerprint, type Overlay, REPO, requireOverlayPrereqs } from "./overlay.ts";

const TRIALS = 50;
const CHILD = join(import.meta.dir, "children", "snapshot-op.ts");

let store: string;
let envId: string;
let overlay: Overlay;

function writePayload(upper: string, seed: number): void {
  const dir = join(upper, "payload");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "small"), { recursive: true });
  writeFileSync(join(dir, "big.bin"), pseudoRandomBytes(seed, 16 << 20));
  for (let i = 0; i < 300; i++) writeFileSync(join(dir, "small", `f${i}`), `${seed}:${i}\n`.repeat(64));
}

interface OpRun {
  done: boolean;
  ms: number;
}

/**
 * Runs the child; with `kill` a number, it is SIGKILLed that many ms after it is ready; with "swap", as
 * soon as a restore reports its swap committed (while it removes the previous upper dir).
 */
async function runOp(args: string[], kill?: number | "swap"): Promise<OpRun> {
  const proc = Bun.spawn([process.execPath, CHILD, store, ...args], { cwd: REPO, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [forReady, forLog] = proc.stdout.tee();
  await waitForLine(forReady, (l) => l === "ready", 30_000);
  const started = performance.now();
  if (kill === "swap") {
    await waitForLine(forReady, (l) => l.startsWith("step restore:") && l.includes("swapped"), 30_000);
    proc.kill("SIGKILL");
  } else if (kill !== undefined) {
    await Bun.sleep(kill);
    proc.kill("SIGKILL");
  }
  const [code, log, err] = await Promise.all([proc.exited, new Response(forLog).text(), new Response(proc.stderr).text()]);
  const ms = performance.now() - started;
  if (kill === undefined && code !== 0) throw new Error(`snapshot-op ${args.join(" ")} failed: ${err}`);
  const done = log.split("\n").includes("done");
  if (!done) expect({ args, signal: proc.signalCode, err }).toEqual({ args, signal: "SIGKILL", err: "" });
  return { done, ms };
}

function median(xs: number[]): number {
  return [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] as number;
}

function listNames(dir: string): Set<string> {
  return new Set(readdirSync(dir));
}

function b3sum(path: string): string {
  const r = Bun.spawnSync([requireTool("b3sum"), "--no-names", path]);
  return r.stdout.toString().trim();
}

/** Recovery after a kill, the WAL and staging clean, and every new object or layer whole. */
async function recoveredClean(trial: string, before: { objects: Set<string>; layers: Set<string> }, fullVerify: boolean): Promise<{ rolledBack: number }> {
  const logger = collectingLogger();
  const s = openStore(store, { logger });
  try {
    // Opening recovers only when it must; a writer's lock makes it certain.
    await s.withWriteLock(() => undefined);
    const rec = s.openRecovery;
    expect({ trial, failed: rec?.wal.failed ?? [], corrupt: rec?.wal.corrupt_removed ?? [] }).toEqual({ trial, failed: [], corrupt: [] });
    expect({ trial, wal: s.wal.count(), staging: readdirSync(s.layout.stagingDir) }).toEqual({ trial, wal: 0, staging: [] });
    for (const dir of [s.objects.dir, s.layers.dir]) {
      const old = dir === s.objects.dir ? before.objects : before.layers;
      for (const name of readdirSync(dir)) {
        if (old.has(name)) continue;
        expect({ trial, name, temp: name.startsWith(".tmp") }).toEqual({ trial, name, temp: false });
        expect({ trial, name, hash: b3sum(join(dir, name)) }).toEqual({ trial, name, hash: name });
      }
    }
    for (const file of s.layers.list()) {
      const layer = s.layers.get(file);
      for (const ref of layer.object_refs) expect({ trial, file, ref, present: s.objects.has(ref) }).toEqual({ trial, file, ref, present: true });
    }
    if (fullVerify) {
      const v = await verifyStore(s, { workers: 0 });
      expect({ trial, failed: v.failed, missing: v.missing }).toEqual({ trial, failed: [], missing: [] });
    }
    return { rolledBack: rec?.wal.rolled_back.length ?? 0 };
  } finally {
    s.close();
  }
}

function snapshotHashes(): string[] {
  return kJson<{ snapshots: Array<{ restore_hash: string }> }>(store, ["snapshots", envId]).snapshots.map((s) => s.restore_hash);
}

function upperPrint(): string {
  return digestRecords(fingerprintTree(overlay.upper, { withOverlayMarkers: true }));
}

beforeAll(async () => {
  requireOverlayPrereqs();
  requireTool("b3sum");
  ({ store, envId, overlay } = await changedEnvironment([]));
});

afterAll(cleanupTemp);

test(`${TRIALS} SIGKILLs during commit: the store recovers clean, the upper dir is untouched, done means listed`, async () => {
  writePayload(overlay.upper, 1);
  const calibrate = { ms: median([(await runOp(["commit", envId])).ms, (await runOp(["commit", envId])).ms, (await runOp(["commit", envId])).ms]) };
  let midOp = 0;
  let rolledBack = 0;
  for (let t = 0; t < TRIALS; t++) {
    const trial = `commit ${t}`;
    writeFileSync(join(overlay.upper, "trial.txt"), `${t}\n`);
    const before = { objects: listNames(join(store, "store", "objects")), layers: listNames(join(store, "store", "layers")) };
    const print = upperPrint();
    const run = await runOp(["commit", envId], Math.random() * calibrate.ms * 1.3);
    if (!run.done) midOp++;
    rolledBack += (await recoveredClean(trial, before, t % 10 === 9)).rolledBack;
    expect({ trial, upper: upperPrint() }).toEqual({ trial, upper: print });
    const snaps = snapshotHashes();
    if (run.done) {
      const again = kJson<{ snapshot_hash: string; status: string }>(store, ["commit", envId]);
      expect({ trial, status: again.status, listed: snaps.includes(again.snapshot_hash) }).toEqual({ trial, status: "unchanged", listed: true });
    }
  }
  process.stderr.write(`commit crash injection: ${TRIALS} kills (uninterrupted commit ${calibrate.ms.toFixed(0)} ms), ${midOp} mid-operation, ${rolledBack} WAL entries rolled back\n`);
  expect(midOp).toBeGreaterThanOrEqual(TRIALS / 3);
  expect(rolledBack).toBeGreaterThanOrEqual(TRIALS / 5);
}, 600_000);

test(`${TRIALS} SIGKILLs during restore: the upper dir is the old state or the new one, never a mix`, async () => {
  writePayload(overlay.upper, 2);
  writeFileSync(join(overlay.upper, "trial.txt"), "A\n");
  const a = kJson<{ snapshot_hash: string }>(store, ["commit", envId]).snapshot_hash;
  const mergedA = digestRecords(mergedFingerprint(overlay));
  writePayload(overlay.upper, 3);
  rmSync(join(overlay.upper, "new"), { recursive: true });
  writeFileSync(join(overlay.upper, "trial.txt"), "B\n");
  const b = kJson<{ snapshot_hash: string }>(store, ["commit", envId]).snapshot_hash;
  // The states as restore makes them (canonical: the same archive always unpacks the same way).
  await runOp(["restore", envId, a]);
  const printA = upperPrint();
  const calibrate = await runOp(["restore", envId, b]);
  const printB = upperPrint();
  const restoreMs = median([calibrate.ms, (await runOp(["restore", envId, a])).ms, (await runOp(["restore", envId, b])).ms]);
  expect(printA).not.toBe(printB);
  const printOf: Record<string, string> = { [a]: printA, [b]: printB };

  let current = b;
  let midOp = 0;
  let rolledBack = 0;
  const outcomes = { old: 0, new: 0 };
  for (let t = 0; t < TRIALS; t++) {
    const trial = `restore ${t}`;
    const target = current === a ? b : a;
    const before = { objects: listNames(join(store, "store", "objects")), layers: listNames(join(store, "store", "layers")) };
    // Every tenth kill waits for the swap, so a crash after the commit point (new state, old dir still to remove) is always among them.
    const atSwap = t % 10 === 7;
    const run = await runOp(["restore", envId, target], atSwap ? "swap" : Math.random() * restoreMs * 1.4);
    if (!run.done) midOp++;
    rolledBack += (await recoveredClean(trial, before, t % 10 === 9)).rolledBack;
    const now = upperPrint();
    expect({ trial, whole: now === printOf[current] || now === printOf[target] }).toEqual({ trial, whole: true });
    if (run.done || atSwap) expect({ trial, restored: now === printOf[target] }).toEqual({ trial, restored: true });
    expect({ trial, work: existsSync(overlay.work) }).toEqual({ trial, work: true });
    if (now === printOf[target]) {
      outcomes.new++;
      current = target;
    } else {
      outcomes.old++;
    }
  }
  process.stderr.write(
    `restore crash injection: ${TRIALS} kills (uninterrupted restore ${restoreMs.toFixed(0)} ms), ${midOp} mid-operation, ` +
      `${rolledBack} WAL entries rolled back, ended in the old state ${outcomes.old} times and in the new one ${outcomes.new} times\n`,
  );
  expect(midOp).toBeGreaterThanOrEqual(TRIALS / 3);
  expect(outcomes.old).toBeGreaterThan(0);
  expect(outcomes.new).toBeGreaterThan(0);

  // Still usable: restore A through the CLI, mount, and see the committed tree.
  kJson(store, ["restore", envId, a]);
  expect(digestRecords(mergedFingerprint(overlay))).toBe(mergedA);
  const s = openStore(store);
  try {
    const v = await verifyStore(s, { workers: 0 });
    expect({ failed: v.failed, missing: v.missing }).toEqual({ failed: [], missing: [] });
  } finally {
    s.close();
  }
}, 600_000);
