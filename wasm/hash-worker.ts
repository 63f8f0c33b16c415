// Worker thread: hashes whole files with its own instance of the WASM module.
import { hashFileSync } from "./hash-file.ts";
import type { HashReply, HashRequest } from "./hash-protocol.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<HashRequest>) => {
  const { id, paths } = event.data;
  const digests = new Uint8Array(paths.length * 32);
  const sizes: number[] = [];
  try {
    paths.forEach((p, i) => {
      const { digest, size } = hashFileSync(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
      digests.set(digest, i * 32);
      sizes.push(size);
    });
    const reply: HashReply = { id, digests, sizes };
    self.postMessage(reply);
  } catch (err) {
    const reply: HashReply = { id, error: err instanceof Error ? err.message : String(err) };
    self.postMessage(reply);
  }
};
