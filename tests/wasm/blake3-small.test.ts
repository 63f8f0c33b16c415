import { describe, expect, test } from "bun:test";
import { blake3, blake3Many, Blake3Hasher, SMALL_INPUT_MAX, toHex } from "../../wasm/blake3.ts";
import { blake3Small } from "../../wasm/blake3-small.ts";
import vectors from "../fixtures/blake3/test_vectors.json" with { type: "json" };

function vectorInput(len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = i % 251;
  return out;
}

describe("the TypeScript BLAKE3 for small inputs", () => {
  const cases = vectors.cases as Array<{ input_len: number; hash: string }>;
  test("has the official vectors to check against (lengths 0 to 102400)", () => {
    expect(cases.length).toBeGreaterThanOrEqual(35);
    expect(Math.max(...cases.map((c) => c.input_len))).toBeGreaterThanOrEqual(102400);
  });

  for (const c of cases) {
    test(`matches the official vector for length ${c.input_len}`, () => {
      expect(toHex(blake3Small(vectorInput(c.input_len)))).toBe(c.hash.slice(0, 64));
    });
  }

  test("matches the WASM hasher at every length around block, chunk and subtree edges", () => {
    const lengths = new Set<number>();
    for (const edge of [0, 64, 1024, 2048, 3072, 4096, 8192, 16384, 31744, 32768]) {
      for (let d = -2; d <= 2; d++) if (edge + d >= 0) lengths.add(edge + d);
    }
    for (let n = 0; n <= 3000; n += 37) lengths.add(n);
    const data = new Uint8Array(40000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    for (const n of lengths) {
      const input = data.subarray(0, n);
      const h = Blake3Hasher.create();
      const expected = h.update(input).digestHex();
      h.dispose();
      expect(`${n}:${toHex(blake3Small(input))}`).toBe(`${n}:${expected}`);
    }
  });

  test("blake3() gives the same digest on both sides of the size where it switches implementations", () => {
    const data = new Uint8Array(70000).map((_, i) => i % 253);
    for (const n of [1, 4095, 4096, 4097, 16383, 16384, 16385, 65536, 70000]) {
      const h = Blake3Hasher.create();
      const expected = h.update(data.subarray(0, n)).digestHex();
      h.dispose();
      expect(toHex(blake3(data.subarray(0, n)))).toBe(expected);
    }
  });

  test("blake3Many gives the WASM digests for a batch small enough to hash in TypeScript", () => {
    const inputs = [0, 1, 63, 64, 65, 1023, 1024, 1025].map((n) => new Uint8Array(n).map((_, i) => (i * 31 + n) % 256));
    expect(inputs.reduce((sum, input) => sum + input.length, 0)).toBeLessThanOrEqual(SMALL_INPUT_MAX);
    const expected = inputs.map((input) => {
      const h = Blake3Hasher.create();
      const hex = h.update(input).digestHex();
      h.dispose();
      return hex;
    });
    expect(blake3Many(inputs).map(toHex)).toEqual(expected);
  });
});
