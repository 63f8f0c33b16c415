/**
 * Shared pieces of the store tests: temp stores, byte flipping, a collecting
 * logger, sample metadata, and child processes. Checks that must not trust the
 * code under test use b3sum (an independent BLAKE3) or hash-wasm.
 */
import { chmodSync, closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blake3Hex } from "../../wasm/index.ts";
import { type EnvMetadataInput, openStore, type Store, type StoreLogger } from "../../src/store/index.ts";
import { requireTool } from "../support/prereq.ts";

export const repoRoot = join(import.meta.dir, "..", "..");

export function tempRoot(prefix = "store"): string {
  return mkdtempSync(join(tmpdir(), `karapace-${prefix}-`));
}

export function removeRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/** XORs one byte of a file in place (the store writes read-only files, so the mode is lifted for the write). */
export function flipByte(path: string, offset?: number): void {
  const mode = statSync(path).mode & 0o7777;
  chmodSync(path, mode | 0o200);
  const fd = openSync(path, "r+");
  try {
    const size = statSync(path).size;
    const at = offset ?? Math.floor(size / 2);
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, at);
    byte[0] = (byte[0] as number) ^ 0x01;
    writeSync(fd, byte, 0, 1, at);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, mode);
}

export interface CollectingLogger extends StoreLogger {
  warnings: string[];
  infos: string[];
}

export function collectingLogger(): CollectingLogger {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, warn: (m) => warnings.push(m), info: (m) => infos.push(m) };
}

export function newStore(root = tempRoot(), logger?: StoreLogger): Store {
  return openStore(root, { create: true, logger });
}

let envCounter = 0;

/** A fresh 64-hex env id. */
export function envId(seed = `env-${process.pid}-${envCounter++}-${Math.random()}`): string {
  return blake3Hex(seed);
}

export function sampleMeta(overrides: Partial<EnvMetadataInput> = {}): EnvMetadataInput {
  const id = overrides.env_id ?? envId();
  return {
    env_id: id,
    short_id: id.slice(0, 12),
    name: null,
    state: "Built",
    manifest_hash: blake3Hex(`manifest of ${id}`),
    base_layer: blake3Hex(`base of ${id}`),
    dependency_layers: [],
    policy_layer: null,
    created_at: "2025-01-01T00:00:00Z",
    updated_at: "2025-01-01T00:00:00Z",
    ref_count: 1,
    ...overrides,
  };
}

/** Hash with b3sum, not our code. */
export function b3sum(path: string): string {
  const proc = Bun.spawnSync([requireTool("b3sum"), "--no-names", path]);
  if (proc.exitCode !== 0) throw new Error(`b3sum ${path} failed: ${proc.stderr.toString()}`);
  return proc.stdout.toString().trim();
}

export function child(script: string, args: readonly string[]): Bun.Subprocess<"ignore", "pipe", "pipe"> {
  return Bun.spawn([process.execPath, join(import.meta.dir, "children", script), ...args], {
    cwd: repoRoot,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** Reads lines from a child's stdout until one satisfies `want`. */
export async function waitForLine(stream: ReadableStream<Uint8Array>, want: (line: string) => boolean, timeoutMs = 10_000): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const newline = buffer.indexOf("\n");
      if (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (want(line)) return line;
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for a line; got so far: ${buffer}`);
      const chunk = await Promise.race([reader.read(), Bun.sleep(remaining).then(() => "timeout" as const)]);
      if (chunk === "timeout") throw new Error(`timed out waiting for a line; got so far: ${buffer}`);
      if (chunk.done) throw new Error(`stream ended before the expected line; got: ${buffer}`);
      buffer += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
}
