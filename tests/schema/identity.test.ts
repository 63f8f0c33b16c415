import { describe, expect, test } from "bun:test";
import { computeIdentity, identityInput } from "../../src/schema/identity.ts";
import { parseLock, renderLock } from "../../src/schema/lock-io.ts";
import { LOCK_VERSION, verifyIntegrity } from "../../src/schema/lock.ts";
import type { LockFile } from "../../src/schema/types.ts";
import { requireTool } from "../support/prereq.ts";
import vectorsFile from "./fixtures/identity-vectors.json";

type Vector = (typeof vectorsFile.vectors)[number];

/** blake3 by an implementation that shares nothing with ours. */
function b3sum(input: string): string {
  const result = Bun.spawnSync([requireTool("b3sum"), "--no-names"], { stdin: new TextEncoder().encode(input) });
  if (result.exitCode !== 0) throw new Error(`b3sum failed: ${result.stderr.toString()}`);
  return result.stdout.toString().trim();
}

function lockOf(vector: Vector): LockFile {
  return {
    lock_version: LOCK_VERSION,
    env_id: vector.env_id,
    short_id: vector.env_id.slice(0, 12),
    base_image: "rolling",
    ...vector.lock,
  };
}

describe("identity vectors (tests/schema/fixtures/identity-vectors.json)", () => {
  const vectors = vectorsFile.vectors;

  test("at least 10 vectors, covering every optional element of the contract", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(10);
    const has = (predicate: (v: Vector) => boolean) => vectors.some(predicate);
    expect(has((v) => v.lock.resolved_apps.length > 0)).toBe(true);
    expect(has((v) => v.lock.hardware_gpu)).toBe(true);
    expect(has((v) => v.lock.hardware_audio)).toBe(true);
    expect(has((v) => v.lock.mounts.length > 1)).toBe(true);
    expect(has((v) => v.lock.network_isolation)).toBe(true);
    expect(has((v) => v.lock.cpu_shares !== null)).toBe(true);
    expect(has((v) => v.lock.memory_limit_mb !== null)).toBe(true);
    expect(has((v) => v.lock.resolved_packages.length > 2)).toBe(true);
  });

  test("the fixture's expected env_ids are the reference's own golden values (lock.rs tests)", () => {
    const golden: Record<string, string> = {
      "empty-mock": "aabaeaeda3b27db42054f64719a16afd49e72b4fc6e8493e2fce9d862d240806",
      "two-packages": "dfea3163e5925ee788a97fae24d9ec08f774c29c64c9180befe771d877e62f18",
      "mount-gpu-audio": "d6ca89829da264240d0508bd58bffc28c2014f643426bbecff3db5a525793546",
      "network-isolated": "dcdae57b3749d0aa2d3948de9fde99ceedad34deaef9b618c2d9f939dac25596",
      "cpu-shares": "d966f9ee1c5e8959ae29d0483c45fc66813ec47201aa9f26c6371336b3dfd252",
      "memory-limit": "74823889e305b7b28394508b5813568faf9c814b4ef8f1f97e8d3dcd9a7a6bae",
      "apps-in-lock-order": "1aaf066c7b1e18178e838b0cf33c0bc67cd7401e586df826daa9033178ccfdf3",
      everything: "44f9547036b4f24f8fe32844f2672804020c6260e29b7f72e17fd29d441ebc27",
      "gpu-only": "f761765ba48777bcc64c2cd5169cb44be27bcd2d6587c64c28bc98fa0964b266",
      "audio-only": "428d91b41a03c1625e01bab1278ef231fb186833bff80a6bdc8227a2276f4318",
    };
    for (const [name, envId] of Object.entries(golden)) {
      expect({ name, env_id: vectors.find((v) => v.name === name)?.env_id }).toEqual({ name, env_id: envId });
    }
  });

  for (const vector of vectors) {
    describe(vector.name, () => {
      test("b3sum of the hand-written contract input is the expected env_id", () => {
        expect(b3sum(vector.identity_input)).toBe(vector.env_id);
      });

      test("our identity input is the contract's, byte for byte", () => {
        expect(identityInput(lockOf(vector))).toBe(vector.identity_input);
      });

      test("env_id and short_id", () => {
        expect(computeIdentity(lockOf(vector))).toEqual({ env_id: vector.env_id, short_id: vector.env_id.slice(0, 12) });
      });

      test("a lock file holding it verifies after a write/read round trip", () => {
        const lock = lockOf(vector);
        const reread = parseLock(renderLock(lock), "vector.lock");
        expect(reread).toEqual(lock);
        expect(verifyIntegrity(reread).env_id).toBe(vector.env_id);
      });
    });
  }
});

describe("identity sensitivity", () => {
  const base = lockOf(vectorsFile.vectors.find((v) => v.name === "everything") as Vector);

  test("every field of the contract changes the identity", () => {
    const variants: Array<Partial<LockFile>> = [
      { base_image_digest: "sha256:abc124" },
      { resolved_packages: [{ name: "curl", version: "7.88.2" }] },
      { resolved_packages: [] },
      { resolved_apps: [] },
      { hardware_gpu: false },
      { hardware_audio: false },
      { mounts: [{ label: "data", host_path: "/mnt/data", container_path: "/data2" }] },
      { runtime_backend: "oci" },
      { network_isolation: false },
      { cpu_shares: 2049 },
      { cpu_shares: null },
      { memory_limit_mb: 8191 },
      { memory_limit_mb: null },
    ];
    const ids = new Set([computeIdentity(base).env_id]);
    for (const variant of variants) ids.add(computeIdentity({ ...base, ...variant }).env_id);
    expect(ids.size).toBe(variants.length + 1);
  });

  test("base_image (the tag) is not part of the identity; the digest is", () => {
    const retagged: LockFile = { ...base, base_image: "something-else" };
    expect(computeIdentity(retagged)).toEqual(computeIdentity(base));
  });
});
