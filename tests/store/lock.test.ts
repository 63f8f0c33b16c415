import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { StoreError } from "../../src/errors.ts";
import { type LockHolder, openStore, StoreLockedError } from "../../src/store/index.ts";
import { child, newStore, removeRoot, sampleMeta, tempRoot, waitForLine } from "./helpers.ts";

const root = tempRoot("lock");
const store = newStore(root);
const meta = store.metadata.put(sampleMeta({ name: "readable" }));
afterAll(() => {
  store.close();
  removeRoot(root);
});

async function holder(command: string): Promise<Bun.Subprocess<"ignore", "pipe", "pipe">> {
  const proc = child("hold-lock.ts", [root, command]);
  await waitForLine(proc.stdout, (l) => l === `locked ${proc.pid}`);
  return proc;
}

test("a second writer sees who holds the lock (pid and command), waits, and gets it when the holder dies", async () => {
  const proc = await holder("karapace build --test");
  expect(store.lock.tryAcquire()).toBeUndefined();
  expect(store.lock.holder()).toMatchObject({ pid: proc.pid, command: "karapace build --test" });

  let error: unknown;
  try {
    await store.lock.acquire({ wait: false });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StoreLockedError);
  expect(error).toBeInstanceOf(StoreError);
  expect((error as Error).message).toContain(`pid ${proc.pid} (karapace build --test`);

  const seen: Array<LockHolder | undefined> = [];
  let acquiredAt = 0;
  const waiting = store.lock.acquire({ command: "second writer", onWait: (h) => seen.push(h) }).then((h) => {
    acquiredAt = Date.now();
    return h;
  });
  await Bun.sleep(300);
  expect(acquiredAt).toBe(0);
  expect(seen.map((h) => h?.pid)).toEqual([proc.pid]);
  const killedAt = Date.now();
  proc.kill("SIGKILL");
  const handle = await waiting;
  expect(acquiredAt).toBeGreaterThanOrEqual(killedAt);
  // The holder died holding the lock: its record tells the new holder to clean up after it.
  expect(handle.crashedHolder?.pid).toBe(proc.pid);
  expect(store.lock.holder()?.pid).toBe(process.pid);
  handle.release();
  expect(existsSync(store.layout.lockOwnerFile)).toBe(false);
});

test("a holder that releases cleanly leaves no crash record", async () => {
  const proc = await holder("clean holder");
  const waiting = store.lock.acquire({ command: "after clean" });
  await Bun.sleep(100);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  const handle = await waiting;
  expect(handle.crashedHolder).toBeUndefined();
  handle.release();
});

test("readers are not blocked while a writer holds the lock", async () => {
  const proc = await holder("long writer");
  const reader = openStore(root);
  expect(reader.metadata.get(meta.env_id).name).toBe("readable");
  expect(reader.openRecovery).toBeUndefined();
  reader.close();
  proc.kill("SIGKILL");
  await proc.exited;
});

test("waiting can time out or be aborted, naming the holder", async () => {
  const proc = await holder("slow holder");
  await expect(store.lock.acquire({ timeoutMs: 150 })).rejects.toThrow(`timed out after 150 ms waiting for the store lock held by pid ${proc.pid} (slow holder`);
  const abort = new AbortController();
  const waiting = store.lock.acquire({ signal: abort.signal });
  abort.abort();
  await expect(waiting).rejects.toThrow(StoreLockedError);
  proc.kill("SIGKILL");
  await proc.exited;
});

test("the lock nests within one process and is released by the outermost release", async () => {
  const outer = store.lock.tryAcquire("outer");
  const inner = await store.lock.acquire({ wait: false, command: "inner" });
  expect(outer).toBeDefined();
  inner.release();
  expect(store.lock.holder()?.command).toBe("outer");
  outer?.release();
  expect(store.lock.holder()).toBeUndefined();
  const proc = await holder("after nesting");
  expect(store.lock.tryAcquire()).toBeUndefined();
  proc.kill("SIGKILL");
  await proc.exited;
});
