/**
 * BLAKE3 (plain hash, 32-byte output) in TypeScript, for small inputs only.
 *
 * A cold process that hashes one row or one manifest would otherwise compile
 * and instantiate the WASM module first: ~4 ms on our VMs, against 0.1-0.3 ms
 * for a few hundred bytes here, in the interpreter a cold process runs it in
 * (~10 MB/s). Everything larger goes to the WASM module (blake3.ts picks).
 * Checked against the official test vectors in tests/wasm/blake3-small.test.ts.
 */

const CHUNK_LEN = 1024;
const BLOCK_LEN = 64;
const CHUNK_START = 1;
const CHUNK_END = 2;
const PARENT = 4;
const ROOT = 8;

const IV = Uint32Array.of(0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);
// Scratch space; the functions below are synchronous and not re-entrant.
const words = new Uint32Array(16);

/**
 * Compresses `words` into `cv` (the first 8 output words replace it). State
 * and message live in locals, not arrays: a cold process runs this in
 * JavaScriptCore's interpreter, where typed-array element accesses are what
 * cost the most.
 */
function compress(cv: Uint32Array, counter: number, blockLen: number, flags: number): void {
  const w = words;
  let m0 = w[0]! | 0, m1 = w[1]! | 0, m2 = w[2]! | 0, m3 = w[3]! | 0;
  let m4 = w[4]! | 0, m5 = w[5]! | 0, m6 = w[6]! | 0, m7 = w[7]! | 0;
  let m8 = w[8]! | 0, m9 = w[9]! | 0, m10 = w[10]! | 0, m11 = w[11]! | 0;
  let m12 = w[12]! | 0, m13 = w[13]! | 0, m14 = w[14]! | 0, m15 = w[15]! | 0;
  let v0 = cv[0]! | 0, v1 = cv[1]! | 0, v2 = cv[2]! | 0, v3 = cv[3]! | 0;
  let v4 = cv[4]! | 0, v5 = cv[5]! | 0, v6 = cv[6]! | 0, v7 = cv[7]! | 0;
  let v8 = 0x6a09e667 | 0, v9 = 0xbb67ae85 | 0, v10 = 0x3c6ef372 | 0, v11 = 0xa54ff53a | 0;
  let v12 = counter | 0, v13 = Math.floor(counter / 0x100000000) | 0, v14 = blockLen | 0, v15 = flags | 0;
  for (let round = 0; round < 7; round++) {
    v0 = (v0 + v4 + m0) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
    v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
    v0 = (v0 + v4 + m1) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
    v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
    v1 = (v1 + v5 + m2) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
    v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
    v1 = (v1 + v5 + m3) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
    v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
    v2 = (v2 + v6 + m4) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
    v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
    v2 = (v2 + v6 + m5) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
    v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
    v3 = (v3 + v7 + m6) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
    v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
    v3 = (v3 + v7 + m7) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
    v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
    v0 = (v0 + v5 + m8) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
    v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
    v0 = (v0 + v5 + m9) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
    v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
    v1 = (v1 + v6 + m10) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
    v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
    v1 = (v1 + v6 + m11) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
    v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
    v2 = (v2 + v7 + m12) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
    v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
    v2 = (v2 + v7 + m13) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
    v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
    v3 = (v3 + v4 + m14) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
    v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
    v3 = (v3 + v4 + m15) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
    v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);
    if (round === 6) break;
    // The message permutation between rounds.
    const t0 = m2; const t1 = m6; const t2 = m3; const t3 = m10; const t4 = m7; const t5 = m0; const t6 = m4; const t7 = m13; const t8 = m1; const t9 = m11; const t10 = m12; const t11 = m5; const t12 = m9; const t13 = m14; const t14 = m15; const t15 = m8;
    m0 = t0; m1 = t1; m2 = t2; m3 = t3; m4 = t4; m5 = t5; m6 = t6; m7 = t7; m8 = t8; m9 = t9; m10 = t10; m11 = t11; m12 = t12; m13 = t13; m14 = t14; m15 = t15;
  }
  cv[0] = v0 ^ v8;
  cv[1] = v1 ^ v9;
  cv[2] = v2 ^ v10;
  cv[3] = v3 ^ v11;
  cv[4] = v4 ^ v12;
  cv[5] = v5 ^ v13;
  cv[6] = v6 ^ v14;
  cv[7] = v7 ^ v15;
}

/** Loads up to 64 bytes at `offset` as little-endian words, zero-padded. */
function loadBlock(input: Uint8Array, offset: number, len: number): void {
  words.fill(0);
  for (let i = 0; i < len; i++) {
    const w = i >> 2;
    words[w] = (words[w] as number) | ((input[offset + i] as number) << ((i & 3) * 8));
  }
}

/** The last block of a chunk or parent, kept so it can be compressed as the root. */
interface Pending {
  cv: Uint32Array;
  block: Uint32Array;
  counter: number;
  len: number;
  flags: number;
}

function finish(p: Pending, extraFlags: number): Uint32Array {
  const cv = p.cv.slice();
  words.set(p.block);
  compress(cv, p.counter, p.len, p.flags | extraFlags);
  return cv;
}

function parent(left: Uint32Array, right: Uint32Array): Pending {
  const block = new Uint32Array(16);
  block.set(left, 0);
  block.set(right, 8);
  return { cv: IV, block, counter: 0, len: BLOCK_LEN, flags: PARENT };
}

/** The chunk's state before its last block is compressed. */
function chunk(input: Uint8Array, start: number, end: number, counter: number): Pending {
  const cv = IV.slice();
  const blocks = Math.max(1, Math.ceil((end - start) / BLOCK_LEN));
  for (let b = 0; b < blocks - 1; b++) {
    loadBlock(input, start + b * BLOCK_LEN, BLOCK_LEN);
    compress(cv, counter, BLOCK_LEN, b === 0 ? CHUNK_START : 0);
  }
  const lastStart = start + (blocks - 1) * BLOCK_LEN;
  loadBlock(input, lastStart, end - lastStart);
  return { cv, block: words.slice(), counter, len: end - lastStart, flags: (blocks === 1 ? CHUNK_START : 0) | CHUNK_END };
}

export function blake3Small(input: Uint8Array): Uint8Array {
  const chunks = Math.max(1, Math.ceil(input.length / CHUNK_LEN));
  const stack: Uint32Array[] = [];
  let last: Pending | undefined;
  for (let c = 0; c < chunks; c++) {
    const pending = chunk(input, c * CHUNK_LEN, Math.min(input.length, (c + 1) * CHUNK_LEN), c);
    if (c === chunks - 1) {
      last = pending;
      break;
    }
    // Merge completed subtrees: one merge per trailing zero bit of the chunk count.
    let cv = finish(pending, 0);
    for (let total = c + 1; (total & 1) === 0; total >>= 1) cv = finish(parent(stack.pop() as Uint32Array, cv), 0);
    stack.push(cv);
  }
  let output = last as Pending;
  while (stack.length > 0) output = parent(stack.pop() as Uint32Array, finish(output, 0));
  const root = finish(output, ROOT);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const w = root[i] as number;
    out[i * 4] = w & 0xff;
    out[i * 4 + 1] = (w >>> 8) & 0xff;
    out[i * 4 + 2] = (w >>> 16) & 0xff;
    out[i * 4 + 3] = w >>> 24;
  }
  return out;
}
