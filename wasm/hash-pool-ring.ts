/**
 * packTree's subtree hashing, shared with worker threads through shared
 * memory rather than messages. The archive is assembled on the main thread in
 * aligned units; each full unit is offered here. A worker with a free slot
 * takes it (one copy into the slot); when every slot is taken the caller
 * hashes the unit itself, so the main thread hashes instead of waiting and
 * both cores stay busy.
 *
 * The main thread's side is synchronous: a finished job shows in its slot's
 * state word, so no promise, message or event-loop turn is needed per unit
 * (per-unit promises and buffer transfers were much of packTree's garbage, and
 * a pack that never yields would never have heard back from a worker).
 */
import { HashWorkerError, spawnHashWorker } from "./hash-pool.ts";
import { type HashRequest, ringLayout, SLOT } from "./hash-protocol.ts";

/**
 * Units a worker may have queued. The main thread produces units in bursts
 * (fast through a large file, slow through many small ones); a queue of a few
 * lets the worker keep hashing through the slow stretches instead of the main
 * thread hashing through the fast ones.
 */
const SLOTS_PER_WORKER = 4;

/** How long a finish-time wait blocks before it lets the event loop report a dead worker. */
const WAIT_SLICE_MS = 20;

export type CollectCv = (index: number, cv: Uint8Array) => void;

export class SubtreeRing {
  private readonly workers: Worker[];
  private readonly state: Int32Array;
  private readonly counters: Float64Array;
  private readonly cvs: Uint8Array;
  private readonly data: Uint8Array;
  /** The unit index each slot holds, to hand its chaining value to the right place. */
  private readonly owner: Int32Array;
  /** Per worker, its next slot to fill: the oldest one it was given. */
  private readonly heads: number[];
  private turn = 0;
  private failure: Error | undefined;

  constructor(workers: number, readonly unit: number) {
    const slots = workers * SLOTS_PER_WORKER;
    const layout = ringLayout(slots);
    const control = new SharedArrayBuffer(layout.bytes);
    const data = new SharedArrayBuffer(slots * unit);
    this.state = new Int32Array(control, 0, slots);
    this.counters = new Float64Array(control, layout.counters, slots);
    this.cvs = new Uint8Array(control, layout.cvs, slots * 32);
    this.data = new Uint8Array(data);
    this.owner = new Int32Array(slots).fill(-1);
    this.heads = new Array<number>(workers).fill(0);
    this.workers = Array.from({ length: workers }, (_, w) => {
      const worker = spawnHashWorker();
      worker.onerror = (event) => {
        this.failure ??= new HashWorkerError(`hash worker failed: ${event.message}`);
      };
      const req: HashRequest = { kind: "ring", id: 0, control, data, slots, first: w * SLOTS_PER_WORKER, count: SLOTS_PER_WORKER, unit };
      worker.postMessage(req);
      return worker;
    });
  }

  /**
   * Gives `bytes` (one unit, `counter` its first chunk's index) to a worker
   * with a free slot, collecting that slot's previous result first. False
   * when every worker is still busy: the caller hashes the unit itself.
   */
  offer(bytes: Uint8Array, counter: number, index: number, collect: CollectCv): boolean {
    if (this.failure) throw this.failure;
    const n = this.workers.length;
    for (let k = 0; k < n; k++) {
      const w = (this.turn + k) % n;
      const head = this.heads[w] ?? 0;
      const slot = w * SLOTS_PER_WORKER + head;
      const st = Atomics.load(this.state, slot);
      // A worker takes its slots in order, so its oldest one still waiting means all of them are.
      if (st === SLOT.ready) continue;
      this.take(slot, st, collect);
      this.data.set(bytes, slot * this.unit);
      this.counters[slot] = counter;
      this.owner[slot] = index;
      Atomics.store(this.state, slot, SLOT.ready);
      Atomics.notify(this.state, slot);
      this.heads[w] = (head + 1) % SLOTS_PER_WORKER;
      this.turn = (w + 1) % n;
      return true;
    }
    return false;
  }

  /** Waits for every job given out and collects its chaining value. */
  async drain(collect: CollectCv): Promise<void> {
    for (let slot = 0; slot < this.state.length; slot++) {
      for (;;) {
        if (this.failure) throw this.failure;
        const st = Atomics.load(this.state, slot);
        if (st !== SLOT.ready) {
          this.take(slot, st, collect);
          break;
        }
        // Blocking here is fine (the worker needs milliseconds); a turn of the event loop between slices lets a dead worker's error arrive.
        if (Atomics.wait(this.state, slot, SLOT.ready, WAIT_SLICE_MS) === "timed-out") await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /** A slot's finished result goes to `collect` and the slot is free again. */
  private take(slot: number, st: number, collect: CollectCv): void {
    if (st === SLOT.failed) throw new HashWorkerError("hash worker could not hash a unit of the archive");
    if (st === SLOT.done) {
      collect(this.owner[slot] ?? -1, this.cvs.subarray(slot * 32, slot * 32 + 32));
      this.owner[slot] = -1;
      Atomics.store(this.state, slot, SLOT.free);
    }
  }

  close(): void {
    for (let slot = 0; slot < this.state.length; slot++) {
      Atomics.store(this.state, slot, SLOT.stop);
      Atomics.notify(this.state, slot);
    }
    for (const w of this.workers) w.terminate();
  }
}
