import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");
export const BIN = join(REPO, "bin", "karapace.ts");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Run this executable instead of `bun bin/karapace.ts`. */
  executable?: string;
}

/** Environment for a child: no colours and no log level leaking from the caller. */
function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, KARAPACE_LOG: undefined, NO_COLOR: "1", ...extra })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Spawns the real CLI, as a user would run it. */
export function runCli(args: readonly string[], options: RunOptions = {}): RunResult {
  const cmd = options.executable !== undefined ? [options.executable, ...args] : [process.execPath, BIN, ...args];
  const result = Bun.spawnSync({
    cmd,
    cwd: options.cwd ?? REPO,
    env: childEnv(options.env),
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    code: result.exitCode ?? -1,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  };
}

/** A test that needs a tool fails, naming it, when the tool is missing. */
export function requireTool(name: string): string {
  const path = Bun.which(name);
  if (path === null) throw new Error(`required tool '${name}' is not installed (not found on PATH)`);
  return path;
}

export function run(cmd: readonly string[], options: { cwd?: string; stdin?: string } = {}): RunResult {
  const result = Bun.spawnSync({
    cmd: [...cmd],
    cwd: options.cwd ?? REPO,
    env: childEnv(),
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: result.exitCode ?? -1, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}
