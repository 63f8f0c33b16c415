// Worker thread: hashes with its own instance of the WASM module.
import { hashFileSync } from "./hash-file.ts";
import { check, core } from "./module.ts";
import type { HashReply, HashRequest } from "./hash-protocol.ts";

declare const self: Worker;

let region: { ptr: number; cap: number; out: number } | undefined;

function subtreeCv(data: ArrayBuffer, counter: number): Uint8Array {
  const c = core();
  if (!region || region.cap < data.byteLength) {
    if (region) c.free(region.ptr, region.cap);
    region = { ptr: c.alloc(data.byteLength), cap: data.byteLength, out: region?.out ?? c.alloc(32) };
  }
  c.u8.set(new Uint8Array(data), region.ptr);
  check("b3_subtree_cv", c.x.b3_subtree_cv(region.ptr, data.byteLength, counter, region.out));
  return c.bytes(region.out, 32).slice();
}

function handle(req: HashRequest): HashReply {
  if (req.kind === "subtree") return { kind: "subtree", id: req.id, cv: subtreeCv(req.data, req.counter), data: req.data };
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
  try {
    const reply = handle(event.data);
    self.postMessage(reply, reply.kind === "subtree" ? [reply.data] : []);
  } catch (err) {
    const reply: HashReply = { kind: "error", id: event.data.id, error: err instanceof Error ? err.message : String(err) };
    self.postMessage(reply);
  }
};
