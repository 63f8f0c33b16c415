// Worker thread: hashes with its own instance of the WASM module.
import { hashFileSync } from "./hash-file.ts";
import { check, core } from "./module.ts";
import { type HashReply, type HashRequest, ringLayout, SLOT } from "./hash-protocol.ts";

declare const self: Worker;

type RingRequest = Extract<HashRequest, { kind: "ring" }>;

/**
 * Takes this worker's ring slots in order, blocking in Atomics.wait between
 * jobs: the main thread learns of a finished job from the state word alone,
 * without a message or a turn of its event loop.
 */
function serveRing(req: RingRequest): void {
  const c = core();
  const ptr = c.alloc(req.unit);
  const out = c.alloc(32);
  const layout = ringLayout(req.slots);
  const state = new Int32Array(req.control, 0, req.slots);
  const counters = new Float64Array(req.control, layout.counters, req.slots);
  const cvs = new Uint8Array(req.control, layout.cvs, req.slots * 32);
  for (let i = 0; ; i = (i + 1) % req.count) {
    const slot = req.first + i;
    let st = Atomics.load(state, slot);
    while (st !== SLOT.ready && st !== SLOT.stop) {
      Atomics.wait(state, slot, st);
      st = Atomics.load(state, slot);
    }
    if (st === SLOT.stop) return;
    try {
      // Module memory is not shared, so the unit is copied in; it is the only copy this side makes.
      c.u8.set(new Uint8Array(req.data, slot * req.unit, req.unit), ptr);
      check("b3_subtree_cv", c.x.b3_subtree_cv(ptr, req.unit, counters[slot] ?? 0, out));
      cvs.set(c.bytes(out, 32), slot * 32);
      Atomics.store(state, slot, SLOT.done);
    } catch {
      Atomics.store(state, slot, SLOT.failed);
    }
    Atomics.notify(state, slot);
  }
}

function hashFiles(req: Extract<HashRequest, { kind: "files" }>): HashReply {
  const digests = new Uint8Array(req.paths.length * 32);
  const sizes: number[] = [];
  req.paths.forEach((p, i) => {
    const { digest, size } = hashFileSync(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    digests.set(digest, i * 32);
    sizes.push(size);
  });
  return { kind: "files", id: req.id, digests, sizes };
}

self.onmessage = (event: MessageEvent<HashRequest>) => {
  const req = event.data;
  if (req.kind === "ring") {
    serveRing(req);
    return;
  }
  try {
    self.postMessage(hashFiles(req));
  } catch (err) {
    const reply: HashReply = { kind: "error", id: req.id, error: err instanceof Error ? err.message : String(err) };
    self.postMessage(reply);
  }
};
