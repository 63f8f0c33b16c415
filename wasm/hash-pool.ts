import type { HashReply, HashRequest } from "./hash-protocol.ts";

export class HashWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HashWorkerError";
  }
}

/**
 * In a `bun build --compile` binary the worker is an extra entrypoint stored
 * at `wasm/hash-worker.js` inside the embedded filesystem (see the `compile`
 * script); from source it sits beside this file.
 */
function workerSpecifier(): string {
  if (import.meta.url.includes("/$bunfs/")) return "./wasm/hash-worker.js";
  return new URL("./hash-worker.ts", import.meta.url).href;
}

/** A hash worker thread (wasm/hash-worker.ts); small heap, since it holds little besides its module. */
export function spawnHashWorker(): Worker {
  return new Worker(workerSpecifier(), { smol: true });
}

interface Pending {
  resolve(reply: HashReply): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

/** Requests that are answered by message; ring requests go through wasm/hash-pool-ring.ts. */
type Request = Omit<Extract<HashRequest, { kind: "files" }>, "id">;

/**
 * A fixed set of hash workers. Each request goes to the worker with the fewest
 * requests in flight; replies come back as promises.
 */
export class HashPool {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending & { slot: Slot }>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(size: number) {
    this.slots = Array.from({ length: size }, () => {
      const slot: Slot = { worker: spawnHashWorker(), inFlight: 0 };
      slot.worker.onmessage = (event: MessageEvent<HashReply>) => this.settle(event.data);
      slot.worker.onerror = (event) => this.fail(new HashWorkerError(`hash worker failed: ${event.message}`));
      return slot;
    });
  }

  get size(): number {
    return this.slots.length;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  request(req: Request, transfer: ArrayBuffer[] = []): Promise<HashReply> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const id = this.nextId++;
    slot.inFlight++;
    return new Promise<HashReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ ...req, id } as HashRequest, transfer);
    });
  }

  async files(paths: Uint8Array[]): Promise<{ digests: Uint8Array; sizes: number[] }> {
    const reply = await this.request({ kind: "files", paths });
    if (reply.kind !== "files") throw new HashWorkerError("hash worker answered a files request with something else");
    return reply;
  }

  private settle(reply: HashReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    p.slot.inFlight--;
    if (reply.kind === "error") p.reject(new HashWorkerError(reply.error));
    else p.resolve(reply);
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  close(): void {
    for (const s of this.slots) s.worker.terminate();
  }
}
