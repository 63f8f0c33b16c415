/**
 * SubtreeRing, the shared-memory queue packTree hands archive units to hash
 * workers through: every unit offered and accepted comes back with the same
 * chaining value this thread computes, a full queue refuses instead of
 * blocking, and a worker that cannot run is reported instead of waited for.
 */
import { expect, test } from "bun:test";
import { SubtreeRing } from "../../wasm/hash-pool-ring.ts";
import { HashWorkerError } from "../../wasm/hash-pool.ts";
import { check, core } from "../../wasm/module.ts";

const UNIT = 64 << 10;
const UNIT_CHUNKS = UNIT / 1024;

function unit(i: number): Uint8Array {
  const bytes = new Uint8Array(UNIT);
  for (let j = 0; j < UNIT; j += 4) new DataView(bytes.buffer).setUint32(j, (i * 2654435761 + j) >>> 0, true);
  return bytes;
}

function localCv(bytes: Uint8Array, counter: number): Uint8Array {
  const c = core();
  const ptr = c.alloc(UNIT);
  const out = c.alloc(32);
  try {
    c.u8.set(bytes, ptr);
    check("b3_subtree_cv", c.x.b3_subtree_cv(ptr, UNIT, counter, out));
    return c.bytes(out, 32).slice();
  } finally {
    c.free(ptr, UNIT);
    c.free(out, 32);
  }
}

for (const workers of [1, 2]) {
  test(`${workers} worker(s): accepted units come back with this thread's chaining values; a full queue says no`, async () => {
    const units = Array.from({ length: 200 }, (_, i) => unit(i));
    const cvs = units.map((bytes, i) => Buffer.from(localCv(bytes, i * UNIT_CHUNKS)).toString("hex"));
    const ring = new SubtreeRing(workers, UNIT);
    const got = new Map<number, string>();
    const collect = (index: number, cv: Uint8Array): void => {
      expect(got.has(index)).toBe(false);
      got.set(index, Buffer.from(cv).toString("hex"));
    };
    try {
      const expected = new Map<number, string>();
      let refused = 0;
      // Offered far faster than a worker hashes (a copy against a hash): the queues must fill and say no.
      units.forEach((bytes, i) => {
        if (ring.offer(bytes, i * UNIT_CHUNKS, i, collect)) expected.set(i, cvs[i] as string);
        else refused++;
      });
      await ring.drain(collect);
      expect(got).toEqual(expected);
      expect(expected.size).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    } finally {
      ring.close();
    }
  });
}

test("a worker that dies is reported by drain, not waited for", async () => {
  const ring = new SubtreeRing(1, UNIT);
  try {
    expect(ring.offer(unit(0), 0, 0, () => {})).toBe(true);
    // Simulate the worker's death as the pool sees it: its error event.
    const worker = (ring as unknown as { workers: Worker[] }).workers[0] as Worker;
    worker.terminate();
    worker.onerror?.(new ErrorEvent("error", { message: "killed by the test" }));
    const outcome = await Promise.race([
      ring.drain(() => {}).then(
        () => "drained",
        (error: unknown) => error,
      ),
      Bun.sleep(5000).then(() => "hung"),
    ]);
    // Even had the unit been hashed before the worker went, a pool that lost a worker must not report success.
    expect(outcome).toBeInstanceOf(HashWorkerError);
  } finally {
    ring.close();
  }
});
