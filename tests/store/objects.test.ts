import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createBLAKE3 } from "hash-wasm";
import { chunksOf, pseudoRandom } from "../../bench/lib.ts";
import { StoreError } from "../../src/errors.ts";
import { CorruptionError, NotFoundError, type Store, verifyStore } from "../../src/store/index.ts";
import { b3sum, flipByte, newStore, removeRoot, tempRoot } from "./helpers.ts";

const root = tempRoot("objects");
const store: Store = newStore(root);
afterAll(() => {
  store.close();
  removeRoot(root);
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const tempsIn = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith(".tmp"));

/** Reads a stream to the end (or its error), keeping what was delivered before. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<{ chunks: Uint8Array[]; error: unknown }> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

describe("put and get", () => {
  test("bytes round trip; the file name is the content's BLAKE3 as b3sum computes it", async () => {
    const data = text("hello karapace");
    const put = await store.objects.put(data);
    expect(put).toEqual({ hash: b3sum(store.objects.path(put.hash)), bytes: data.length, stored: true });
    expect(Buffer.from(store.objects.get(put.hash)).toString()).toBe("hello karapace");
    expect(store.objects.has(put.hash)).toBe(true);
    expect(store.objects.size(put.hash)).toBe(data.length);
    expect(statSync(store.objects.path(put.hash)).mode & 0o777).toBe(0o444);
  });

  test("put is idempotent and leaves no temp file", async () => {
    const first = await store.objects.put(text("same bytes"));
    const again = await store.objects.put(text("same bytes"));
    const streamed = await store.objects.put([text("same "), text("bytes")]);
    expect(again).toEqual({ ...first, stored: false });
    expect(streamed).toEqual({ ...first, stored: false });
    expect(tempsIn(store.objects.dir)).toEqual([]);
  });

  test("the empty object", async () => {
    const put = await store.objects.put(new Uint8Array(0));
    expect(put.hash).toBe("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    expect(store.objects.get(put.hash).length).toBe(0);
  });

  test("a 96 MiB object streamed in and out, hashed independently on both sides", async () => {
    const total = 96 << 20;
    const block = pseudoRandom(1 << 20, 0x12345);
    async function* source(): AsyncGenerator<Uint8Array> {
      // Copies, because chunksOf reuses one block and the store may hold on to nothing.
      for (const chunk of chunksOf(block, total)) yield chunk.slice();
    }
    const reference = await createBLAKE3();
    reference.init();
    for (const chunk of chunksOf(block, total)) reference.update(chunk);
    const expected = reference.digest("hex");

    const put = await store.objects.put(source());
    expect(put).toEqual({ hash: expected, bytes: total, stored: true });
    expect(b3sum(store.objects.path(put.hash))).toBe(expected);

    const back = await createBLAKE3();
    back.init();
    let bytes = 0;
    let chunks = 0;
    for await (const chunk of store.objects.stream(put.hash)) {
      back.update(chunk);
      bytes += chunk.length;
      chunks++;
    }
    expect({ bytes, digest: back.digest("hex") }).toEqual({ bytes: total, digest: expected });
    expect(chunks).toBeGreaterThan(1);
    expect(tempsIn(store.objects.dir)).toEqual([]);
  });

  test("put({file}) copies and leaves the source; putFile moves it", async () => {
    const src = join(root, "source.bin");
    writeFileSync(src, "file contents");
    const copied = await store.objects.put({ file: src });
    expect(existsSync(src)).toBe(true);
    expect(copied.hash).toBe(b3sum(src));

    const staged = join(store.layout.stagingDir, "pack-output.tar");
    writeFileSync(staged, "a packed layer");
    const expected = b3sum(staged);
    const moved = store.objects.putFile(staged, expected);
    expect(moved).toEqual({ hash: expected, bytes: 14, stored: true });
    expect(existsSync(staged)).toBe(false);

    writeFileSync(staged, "a packed layer");
    expect(store.objects.putFile(staged)).toEqual({ ...moved, stored: false });
    expect(existsSync(staged)).toBe(false);
  });

  test("putFile with the wrong expected hash refuses and deletes the file", () => {
    const staged = join(store.layout.stagingDir, "wrong.tar");
    writeFileSync(staged, "not what was promised");
    const claimed = "0".repeat(64);
    expect(() => store.objects.putFile(staged, claimed)).toThrow(CorruptionError);
    expect(existsSync(staged)).toBe(false);
    expect(store.objects.has(claimed)).toBe(false);
  });

  test("placeOwnFile moves a file under the hash its writer computed; again with the same content, it only drops the file", () => {
    const staged = join(store.layout.stagingDir, "own-pack.tar");
    writeFileSync(staged, "bytes we wrote and hashed ourselves");
    const hash = b3sum(staged);
    const placed = store.objects.placeOwnFile(staged, hash);
    expect(placed).toEqual({ hash, bytes: 35, stored: true });
    expect(existsSync(staged)).toBe(false);
    expect(b3sum(store.objects.path(hash))).toBe(hash);
    expect(Buffer.from(store.objects.get(hash)).toString()).toBe("bytes we wrote and hashed ourselves");

    writeFileSync(staged, "bytes we wrote and hashed ourselves");
    expect(store.objects.placeOwnFile(staged, hash)).toEqual({ ...placed, stored: false });
    expect(existsSync(staged)).toBe(false);
    expect(tempsIn(store.objects.dir)).toEqual([]);
  });

  test("placeOwnFile refuses a malformed hash and leaves the file", () => {
    const staged = join(store.layout.stagingDir, "own-bad-name.tar");
    writeFileSync(staged, "x");
    expect(() => store.objects.placeOwnFile(staged, "not-a-hash")).toThrow();
    expect(existsSync(staged)).toBe(true);
  });

  test("a wrong hash given to placeOwnFile is not trusted: reads fail and verify-store names the object", async () => {
    const root2 = tempRoot("objects-own");
    const s2 = newStore(root2);
    try {
      const staged = join(s2.layout.stagingDir, "lying.tar");
      writeFileSync(staged, "these bytes do not hash to the claim");
      const claimed = b3sum(staged).replace(/^./, (ch) => (ch === "0" ? "1" : "0"));
      expect(s2.objects.placeOwnFile(staged, claimed).stored).toBe(true);
      expect(() => s2.objects.get(claimed)).toThrow(CorruptionError);
      const { error } = await drain(s2.objects.stream(claimed));
      expect(error).toBeInstanceOf(CorruptionError);
      for (const workers of [0, 2]) {
        const report = await verifyStore(s2, { workers });
        expect(report.ok).toBe(false);
        expect(report.failed).toEqual([{ kind: "object", id: claimed, reason: `content hashes to ${b3sum(s2.objects.path(claimed))}` }]);
      }
    } finally {
      s2.close();
      removeRoot(root2);
    }
  });

  // Another filesystem than the store's: the rename fails with EXDEV and the bytes are copied, which checks the claim.
  const otherFs = existsSync("/dev/shm") && statSync("/dev/shm").dev !== statSync(root).dev ? "/dev/shm" : undefined;
  test("placeOwnFile from another filesystem copies, and a wrong claim is refused there", () => {
    if (otherFs === undefined) throw new Error("prerequisite missing: /dev/shm on a filesystem other than the test store's (a tmpfs, as Linux mounts it)");
    const dir = mkdtempSync(join(otherFs, "karapace-own-"));
    try {
      const good = join(dir, "good.tar");
      writeFileSync(good, "copied across filesystems");
      const hash = b3sum(good);
      expect(store.objects.placeOwnFile(good, hash)).toEqual({ hash, bytes: 25, stored: true });
      expect(existsSync(good)).toBe(false);
      expect(b3sum(store.objects.path(hash))).toBe(hash);

      const bad = join(dir, "bad.tar");
      writeFileSync(bad, "copied across filesystems, but claimed wrongly");
      const actual = b3sum(bad);
      const claimed = "f".repeat(64);
      expect(() => store.objects.placeOwnFile(bad, claimed)).toThrow(CorruptionError);
      expect(store.objects.has(claimed)).toBe(false);
      expect(store.objects.has(actual)).toBe(false);
      expect(existsSync(bad)).toBe(false);
      expect(tempsIn(store.objects.dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a truncated object is replaced by the next put of its content", async () => {
    const data = text("x".repeat(10_000));
    const { hash } = await store.objects.put(data);
    truncateSync(store.objects.path(hash), 100);
    expect(() => store.objects.get(hash)).toThrow(CorruptionError);
    expect((await store.objects.put([data])).stored).toBe(true);
    expect(store.objects.get(hash).length).toBe(10_000);
  });

  test("list, remove, not found", async () => {
    const { hash } = await store.objects.put(text("to be removed"));
    writeFileSync(join(store.objects.dir, ".tmp-put-p1.1-junk"), "temp");
    const listed = store.objects.list();
    expect(listed).toContain(hash);
    expect(listed.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
    expect(listed).toEqual([...listed].sort());
    expect(store.objects.remove(hash)).toBe(true);
    expect(store.objects.remove(hash)).toBe(false);
    expect(() => store.objects.get(hash)).toThrow(NotFoundError);
    expect(() => store.objects.stream(hash)).toThrow(NotFoundError);
  });
});

describe("hash strings are validated before they become paths", () => {
  for (const bad of ["../../../../etc/passwd", "A".repeat(64), "ab", `${"a".repeat(63)}/`, `${"a".repeat(64)}\n`]) {
    test(JSON.stringify(bad), () => {
      expect(() => store.objects.get(bad)).toThrow(StoreError);
      expect(() => store.objects.get(bad)).toThrow(/invalid object hash/);
      expect(() => store.objects.has(bad)).toThrow(StoreError);
      expect(() => store.objects.remove(bad)).toThrow(StoreError);
      expect(() => store.layers.get(bad)).toThrow(/invalid layer hash/);
    });
  }
});

describe("corrupt objects are never returned", () => {
  test("small object, one flipped byte: get throws and the stream delivers nothing", async () => {
    const { hash } = await store.objects.put(text("precious small object"));
    flipByte(store.objects.path(hash));
    let returned: Uint8Array | undefined;
    let error: unknown;
    try {
      returned = store.objects.get(hash);
    } catch (e) {
      error = e;
    }
    expect(returned).toBeUndefined();
    expect(error).toBeInstanceOf(CorruptionError);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as CorruptionError).item).toBe("object");
    expect((error as CorruptionError).id).toBe(hash);
    const streamed = await drain(store.objects.stream(hash));
    expect(streamed.chunks).toEqual([]);
    expect(streamed.error).toBeInstanceOf(CorruptionError);
  });

  for (const where of ["first", "last"] as const) {
    test(`3.5 MiB object, byte flipped in the ${where} chunk: the stream errors before its last chunk, copyOut writes nothing`, async () => {
      const size = 3.5 * (1 << 20);
      const data = pseudoRandom(size, where === "first" ? 7 : 8);
      const { hash } = await store.objects.put(data);
      flipByte(store.objects.path(hash), where === "first" ? 10 : size - 10);
      const streamed = await drain(store.objects.stream(hash));
      expect(streamed.error).toBeInstanceOf(CorruptionError);
      const delivered = streamed.chunks.reduce((n, c) => n + c.length, 0);
      expect(delivered).toBeLessThan(size);
      // The final 0.5 MiB chunk, where the last-chunk flip sits, never left the store.
      expect(delivered).toBeLessThanOrEqual(3 << 20);

      const dest = join(root, `out-${where}`);
      await expect(store.objects.copyOut(hash, dest)).rejects.toThrow(CorruptionError);
      expect(existsSync(dest)).toBe(false);
      expect(readdirSync(root).filter((n) => n.startsWith(".tmp"))).toEqual([]);
    });
  }

  test("copyOut of a good object writes exactly its bytes", async () => {
    const data = pseudoRandom(2.5 * (1 << 20), 99);
    const { hash } = await store.objects.put(data);
    const dest = join(root, "out-good");
    await store.objects.copyOut(hash, dest);
    expect(Buffer.compare(readFileSync(dest), Buffer.from(data))).toBe(0);
  });
});
