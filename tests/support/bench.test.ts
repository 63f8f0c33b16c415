import { expect, test } from "bun:test";
import { join } from "node:path";
import { BENCHMARKS } from "../../bench/benchmarks.ts";
import { chunksOf, median, pseudoRandom } from "../../bench/lib.ts";

const root = join(import.meta.dir, "..", "..");

function runBench(args: string[]): { code: number; stdout: string; stderr: string } {
  const proc = Bun.spawnSync([process.execPath, "bench/run.ts", ...args], { cwd: root, stderr: "pipe" });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

test("`bench/run.ts startup --json` prints one complete record per line", () => {
  const { code, stdout, stderr } = runBench(["startup", "--json"]);
  expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
  const lines = stdout.trimEnd().split("\n");
  expect(lines.length).toBeGreaterThanOrEqual(1);
  for (const line of lines) {
    const record = JSON.parse(line) as Record<string, unknown>;
    // Checked field by field: bun's toMatchObject with expect.any() overwrites the received object.
    expect(Object.keys(record).sort()).toEqual(["name", "peer", "peer_value", "ratio", "unit", "value"]);
    expect(record.name).toMatch(/^startup/);
    expect(record.unit).toBe("ms");
    expect(record.peer).toBe("bun -e 0");
    const { value, peer_value, ratio } = record;
    if (typeof value !== "number" || typeof peer_value !== "number" || typeof ratio !== "number") {
      throw new Error(`value, peer_value and ratio must be numbers: ${line}`);
    }
    expect(value).toBeGreaterThan(0);
    expect(peer_value).toBeGreaterThan(0);
    expect(ratio).toBeCloseTo(value / peer_value, 2);
  }
  expect(lines.map((l) => (JSON.parse(l) as { name: string }).name)[0]).toBe("startup");
});

test("an unknown benchmark is a usage error (exit 2) that lists the known ones", () => {
  const { code, stdout, stderr } = runBench(["no-such-bench", "--json"]);
  expect(code).toBe(2);
  expect(stdout).toBe("");
  const listed = /unknown benchmark 'no-such-bench' \(known: ([^)]*)\)/.exec(stderr)?.[1]?.split(", ") ?? [];
  for (const b of BENCHMARKS) expect(listed).toContain(b.name);
});

test("median of odd and even counts", () => {
  expect(median([5, 1, 3])).toBe(3);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(() => median([])).toThrow();
});

test("benchmark input: deterministic, every chunk distinct, exact total", () => {
  expect(pseudoRandom(64)).toEqual(pseudoRandom(64));
  const block = pseudoRandom(1024);
  const seen = new Set<string>();
  let total = 0;
  for (const chunk of chunksOf(block, 3000)) {
    seen.add(Buffer.from(chunk).toString("hex"));
    total += chunk.length;
  }
  expect(total).toBe(3000);
  expect(seen.size).toBe(3);
});
