import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBLAKE3 } from "hash-wasm";
import { blake3Hex, blake3Many, Blake3Hasher, hashFile, toHex } from "../../wasm/index.ts";
import vectors from "../fixtures/blake3/test_vectors.json" with { type: "json" };

interface VectorCase {
  input_len: number;
  hash: string;
  keyed_hash: string;
  derive_key: string;
}

/** The official vectors' input: the repeating byte sequence 0..250. */
function vectorInput(len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = i % 251;
  return out;
}

/** Feeds `data` in uneven pieces so block and chunk boundaries fall mid-call. */
function streamed(h: Blake3Hasher, data: Uint8Array): Blake3Hasher {
  let off = 0;
  let step = 1;
  while (off < data.length) {
    const n = Math.min(step, data.length - off);
    h.update(data.subarray(off, off + n));
    off += n;
    step = (step * 7 + 13) % 4099 + 1;
  }
  return h;
}

const cases = vectors.cases as VectorCase[];
const key = new TextEncoder().encode(vectors.key);

describe("BLAKE3 official test vectors", () => {
  test("the fixture has the expected shape", () => {
    expect(cases.length).toBeGreaterThanOrEqual(35);
    expect(key.length).toBe(32);
  });

  for (const c of cases) {
    const input = vectorInput(c.input_len);
    const extLen = c.hash.length / 2;

    test(`hash, len ${c.input_len}: one-shot, streamed, extended output`, () => {
      expect(blake3Hex(input)).toBe(c.hash.slice(0, 64));
      const h = streamed(Blake3Hasher.create(), input);
      expect(h.digestHex(extLen)).toBe(c.hash);
      h.dispose();
    });

    test(`keyed_hash, len ${c.input_len}`, () => {
      const h = streamed(Blake3Hasher.keyed(key), input);
      expect(h.digestHex(extLen)).toBe(c.keyed_hash);
      h.dispose();
    });

    test(`derive_key, len ${c.input_len}`, () => {
      const h = streamed(Blake3Hasher.deriveKey(vectors.context_string), input);
      expect(h.digestHex(extLen)).toBe(c.derive_key);
      h.dispose();
    });
  }

  test("batch API: every vector input in one call", () => {
    const inputs = cases.map((c) => vectorInput(c.input_len));
    const out = blake3Many(inputs).map(toHex);
    expect(out).toEqual(cases.map((c) => c.hash.slice(0, 64)));
  });
});

/** Deterministic pseudo-random bytes (xorshift32), so a failure can be replayed. */
function randomBytes(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const MiB = 1 << 20;
const EDGE_SIZES = [0, 1, 63, 64, 65, 1023, 1024, 1025, 2047, 2048, 2049, 3072, 4095, 4096, 4097, 5121, 8192, 16385, 65537, MiB - 1, MiB, MiB + 1];

describe("BLAKE3 against hash-wasm and b3sum", () => {
  const sizes = [...EDGE_SIZES];
  for (let i = 0; i < 12; i++) sizes.push(Math.floor(randomBytes(4, 1000 + i).reduce((a, b) => a * 256 + b, 0) % (MiB + 1)));

  test("streaming, one-shot and batch agree with hash-wasm for chunk-edge and random sizes", async () => {
    const ref = await createBLAKE3();
    const inputs = sizes.map((n, i) => randomBytes(n, 7 + i));
    const batch = blake3Many(inputs).map(toHex);
    inputs.forEach((data, i) => {
      ref.init();
      ref.update(data);
      const expected = ref.digest("hex");
      expect({ size: data.length, hex: blake3Hex(data) }).toEqual({ size: data.length, hex: expected });
      const h = streamed(Blake3Hasher.create(), data);
      expect({ size: data.length, hex: h.digestHex() }).toEqual({ size: data.length, hex: expected });
      h.dispose();
      expect({ size: data.length, hex: batch[i] }).toEqual({ size: data.length, hex: expected });
    });
  });

  test("hashFile agrees with b3sum for the same sizes", async () => {
    if (!Bun.which("b3sum")) throw new Error("missing prerequisite: b3sum (apt-get install b3sum)");
    const dir = mkdtempSync(join(tmpdir(), "kp-b3-"));
    try {
      const paths = sizes.map((n, i) => {
        const p = join(dir, `f${i}`);
        writeFileSync(p, randomBytes(n, 99 + i));
        return p;
      });
      const proc = Bun.spawnSync(["b3sum", "--no-names", ...paths]);
      expect(proc.exitCode).toBe(0);
      const expected = proc.stdout.toString().trim().split("\n");
      const ours = await Promise.all(paths.map((p) => hashFile(p)));
      expect(ours).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a hasher keeps working after digest() and after reset()", () => {
    const data = randomBytes(5000, 3);
    const h = Blake3Hasher.create();
    h.update(data.subarray(0, 2500));
    const early = h.digestHex();
    expect(early).toBe(blake3Hex(data.subarray(0, 2500)));
    h.update(data.subarray(2500));
    expect(h.digestHex()).toBe(blake3Hex(data));
    h.reset().update(data.subarray(0, 10));
    expect(h.digestHex()).toBe(blake3Hex(data.subarray(0, 10)));
    h.dispose();
    expect(() => h.update(data)).toThrow("after dispose");
  });

  test("a key that is not 32 bytes is refused", () => {
    expect(() => Blake3Hasher.keyed(new Uint8Array(31))).toThrow(RangeError);
  });
});
