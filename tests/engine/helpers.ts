/**
 * Shared pieces of the Engine and lifecycle-command tests: temp stores and
 * projects, mock manifests, running the real CLI on a store, and checks that
 * compute what to expect without the code under test (hash-wasm's BLAKE3).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blake3 as hashWasmBlake3 } from "hash-wasm";
import { type RunResult, runCli } from "../cli/helpers.ts";

export const repoRoot = join(import.meta.dir, "..", "..");

const made: string[] = [];

/** A fresh temp directory, removed by cleanupTemp(). */
export function tempDir(prefix = "engine"): string {
  const dir = mkdtempSync(join(tmpdir(), `karapace-${prefix}-`));
  made.push(dir);
  return dir;
}

export function cleanupTemp(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface ManifestSpec {
  image?: string;
  packages?: readonly string[];
  backend?: string;
  extra?: string;
}

export function manifestText(spec: ManifestSpec = {}): string {
  const packages = (spec.packages ?? []).map((p) => JSON.stringify(p)).join(", ");
  return [
    "manifest_version = 1",
    "[base]",
    `image = ${JSON.stringify(spec.image ?? "debian/bookworm")}`,
    "[system]",
    `packages = [${packages}]`,
    "[runtime]",
    `backend = ${JSON.stringify(spec.backend ?? "mock")}`,
    spec.extra ?? "",
  ].join("\n");
}

/** A project directory holding a karapace.toml; returns the directory. */
export function project(spec: ManifestSpec = {}, dir = tempDir("project")): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "karapace.toml"), manifestText(spec));
  return dir;
}

/** `karapace --store <store> <args...>` as a user would run it. */
export function k(store: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): RunResult {
  return runCli(["--store", store, ...args], options);
}

/** Runs a command that must succeed with --json and returns its parsed output. */
export function kJson<T = Record<string, unknown>>(store: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): T {
  const r = k(store, [...args, "--json"], options);
  if (r.code !== 0) throw new Error(`karapace ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * The env_id the reference's mock backend gives a manifest, computed from the
 * identity contract with hash-wasm: base digest blake3("mock-image:<image>"),
 * every package at 0.0.0-mock, backend mock.
 */
export async function expectedMockEnvId(image: string, packages: readonly string[], version = "0.0.0-mock"): Promise<string> {
  const digest = await hashWasmBlake3(`mock-image:${image}`);
  const pkgs = [...new Set(packages)].sort().map((p) => `pkg:${p}@${version}`).join("");
  return hashWasmBlake3(`base_digest:${digest}${pkgs}backend:mock`);
}

export interface EnvRow {
  env_id: string;
  short_id: string;
  name: string | null;
  state: string;
  manifest_hash: string;
  base_layer: string;
  dependency_layers: string[];
  ref_count: number;
  created_at: string;
  updated_at: string;
}

export function listEnvs(store: string): EnvRow[] {
  return kJson<EnvRow[]>(store, ["list"]);
}

/** The error and hint lines of a failed command. */
export function errorLines(r: RunResult): { error: string; hint: string | undefined } {
  const lines = r.stderr.trimEnd().split("\n");
  const error = lines.find((l) => l.startsWith("error: ")) ?? "";
  const hint = lines.find((l) => l.startsWith("hint: "));
  return { error, hint };
}
