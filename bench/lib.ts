/** Shared pieces of the benchmark runner and its workers. */
import { dirname } from "node:path";

/** One result line. `ratio` is always value / peer_value; whether higher or lower is better depends on the unit. */
export interface BenchRecord {
  name: string;
  value: number;
  unit: string;
  peer?: string;
  peer_value?: number;
  ratio?: number;
}

export interface BenchContext {
  /** Timed runs per side (after one untimed warm-up run); undefined = the benchmark's default. */
  runs: number | undefined;
  /** A scratch directory, removed after the benchmark. */
  workDir: string;
  /** Progress for humans, on stderr (stdout carries only results). */
  log(message: string): void;
}

export interface Benchmark {
  name: string;
  /** What it measures, for --help. */
  summary: string;
  /** The target per record name, shown in the table. */
  targets: Record<string, Target>;
  run(ctx: BenchContext): Promise<BenchRecord[]>;
}

export type Target = { field: "ratio" | "value"; op: "<=" | ">="; limit: number };

export function meets(record: BenchRecord, target: Target): boolean | undefined {
  const actual = record[target.field];
  if (actual === undefined) return undefined;
  return target.op === "<=" ? actual <= target.limit : actual >= target.limit;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function compare(name: string, unit: string, value: number, peer: string, peerValue: number): BenchRecord {
  return { name, value: round(value), unit, peer, peer_value: round(peerValue), ratio: round(value / peerValue) };
}

export interface ChildRun {
  wallMs: number;
  /** ru_maxrss from wait4(): the largest resident set of the child or any descendant it waited for. */
  peakRssBytes: number;
  stdout: string;
}

/** Runs argv to completion; wall time is spawn to exit. Throws with stderr when it fails. */
export async function runChild(argv: readonly string[], cwd?: string): Promise<ChildRun> {
  const start = performance.now();
  const proc = Bun.spawn([...argv], { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const wallMs = performance.now() - start;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited with ${code}: ${stderr.trim().split("\n").slice(-5).join("\n")}`);
  const usage = proc.resourceUsage();
  if (usage === undefined) throw new Error(`no resource usage for ${argv.join(" ")}`);
  return { wallMs, peakRssBytes: usage.maxRSS, stdout };
}

export interface Sides {
  ours: readonly string[];
  peer: readonly string[];
  cwd?: string;
  runs: number;
}

export interface SideResult {
  medianMs: number;
  peakRssBytes: number;
  last: ChildRun;
}

/**
 * One untimed run of each side (warms the page cache and Bun's caches), then `runs`
 * timed runs, alternating sides so slow drift of the machine affects both alike.
 */
export async function timeBoth(sides: Sides): Promise<{ ours: SideResult; peer: SideResult }> {
  await runChild(sides.ours, sides.cwd);
  await runChild(sides.peer, sides.cwd);
  const runs = { ours: [] as ChildRun[], peer: [] as ChildRun[] };
  for (let i = 0; i < sides.runs; i++) {
    runs.ours.push(await runChild(sides.ours, sides.cwd));
    runs.peer.push(await runChild(sides.peer, sides.cwd));
  }
  const summarize = (list: ChildRun[]): SideResult => ({
    medianMs: median(list.map((r) => r.wallMs)),
    peakRssBytes: Math.max(...list.map((r) => r.peakRssBytes)),
    last: list[list.length - 1] as ChildRun,
  });
  return { ours: summarize(runs.ours), peer: summarize(runs.peer) };
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/**
 * Deterministic pseudo-random bytes (xorshift32), so every run and every implementation
 * hashes the same input without paying for a CSPRNG.
 */
export function pseudoRandom(length: number, seed = 0x9e3779b9): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, length);
}

/**
 * The benchmark input: `total` bytes as `total / chunk.length` chunks of one
 * pseudo-random block whose first 4 bytes carry the chunk index, so no two chunks are equal.
 */
export function* chunksOf(block: Uint8Array, total: number): Generator<Uint8Array> {
  const stamp = new DataView(block.buffer, block.byteOffset, 4);
  for (let i = 0; i * block.length < total; i++) {
    stamp.setUint32(0, i, true);
    yield total - i * block.length >= block.length ? block : block.subarray(0, total - i * block.length);
  }
}

/** The repository root (bench/ is one level down). */
export const repoRoot = dirname(import.meta.dir);
