/**
 * Crash injection for the store primitives: a child process doing puts,
 * layer writes and WAL-protected builds and destroys is SIGKILLed at a random
 * moment, over and over on one store. After each kill the next open must
 * recover: the WAL is empty, no temp file or staging entry is left, every env
 * dir has its metadata row and vice versa (and is complete), and
 * verify-store finds nothing wrong.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { openStore, verifyStore } from "../../src/store/index.ts";
import { child, collectingLogger, removeRoot, tempRoot, waitForLine } from "./helpers.ts";

const TRIALS = 60;

test(`${TRIALS} SIGKILLs at random points: every reopen recovers to a consistent, verified store`, async () => {
  const root = tempRoot("crash");
  const inFlightAtKill = new Map<string, number>();
  let opsStarted = 0;
  let recovered = 0;
  let swept = 0;
  const started = performance.now();
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      const proc = child("crash-worker.ts", [root, String(trial * 7919 + 1)]);
      const stdout = proc.stdout.tee();
      await waitForLine(stdout[0], (l) => l === "ready");
      await Bun.sleep(Math.random() * 60);
      proc.kill("SIGKILL");
      const [code, out, err] = await Promise.all([proc.exited, new Response(stdout[1]).text(), new Response(proc.stderr).text()]);
      // Killed, not failed on its own.
      expect({ trial, signal: proc.signalCode, err }).toEqual({ trial, signal: "SIGKILL", err: "" });
      expect(code).not.toBe(0);
      const ops = out.split("\n").filter((l) => l.startsWith("op "));
      opsStarted += ops.length;
      const last = ops.at(-1)?.slice(3) ?? "(none)";
      inFlightAtKill.set(last, (inFlightAtKill.get(last) ?? 0) + 1);

      const logger = collectingLogger();
      const store = openStore(root, { logger });
      const recovery = store.openRecovery;
      expect(recovery).toBeDefined();
      recovered += recovery?.wal.rolled_back.length ?? 0;
      swept += recovery?.swept.length ?? 0;
      expect(recovery?.wal.failed).toEqual([]);
      expect(recovery?.wal.corrupt_removed).toEqual([]);
      expect(store.wal.count()).toBe(0);

      const temps = [store.objects.dir, store.layers.dir, store.layout.storeDir].flatMap((d) => readdirSync(d).filter((n) => n.startsWith(".tmp")));
      expect({ trial, temps, staging: readdirSync(store.layout.stagingDir) }).toEqual({ trial, temps: [], staging: [] });

      const rows = store.metadata.list().map((m) => m.env_id).sort();
      const dirs = readdirSync(store.layout.envDir).sort();
      expect({ trial, dirs }).toEqual({ trial, dirs: rows });
      for (const id of rows) expect(existsSync(join(store.layout.envPath(id), "complete"))).toBe(true);

      const verify = await verifyStore(store, { workers: 0 });
      expect({ trial, failed: verify.failed, missing: verify.missing }).toEqual({ trial, failed: [], missing: [] });
      expect(logger.warnings).toEqual([]);
      store.close();
    }
  } finally {
    removeRoot(root);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `crash injection: ${TRIALS} kills in ${seconds.toFixed(1)} s, ${opsStarted} operations started, ${recovered} WAL entries rolled back, ${swept} temp files swept; in flight at the kill: ${JSON.stringify(Object.fromEntries(inFlightAtKill))}\n`,
  );
  // The kills must have landed inside real work, in several kinds of operation, with crash debris to clean.
  expect(opsStarted).toBeGreaterThan(TRIALS);
  expect(inFlightAtKill.size).toBeGreaterThanOrEqual(4);
  expect(recovered).toBeGreaterThan(0);
  expect(swept).toBeGreaterThan(0);
  expect(seconds).toBeLessThan(60);
}, 120_000);
