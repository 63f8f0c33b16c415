/**
 * The user-namespace primitive: run something as root of a fresh user
 * namespace in which the caller's own uid is 0 and its /etc/subuid and
 * /etc/subgid ranges are mapped from 1 upwards (util-linux
 * `unshare --user --map-root-user --map-auto`, which writes the maps with the
 * setuid helpers newuidmap/newgidmap).
 *
 * Why it exists: a package manager running in an environment chowns files to
 * system users (`_apt`, `man`, ...). Those land on disk owned by subordinate
 * uids, which the unprivileged user can neither read (0700 directories) nor
 * delete from outside. Inside such a namespace the user is their owner again,
 * so packing, removing or restoring such a tree runs there, as a re-execution
 * of karapace itself (`karapace __userns-task <task> ...`, see userns-tasks.ts).
 *
 * Without a subordinate range (or without newuidmap) only the caller's uid is
 * mapped: everything still runs, but files cannot belong to anyone else, so
 * most package installations fail. That mode is reported as a warning.
 *
 * Real root needs no user namespace to own every file, and newuidmap refuses
 * to map root's ids onto themselves; as root the namespace is skipped
 * (`usernsArgs` is empty) and everything runs with root's own credentials.
 */
import { existsSync, readFileSync } from "node:fs";
import { userName } from "./host-user.ts";
import { resolve } from "node:path";
import { GeneralError, ImageError, KarapaceError, LockError, ManifestError, RemoteError, RuntimeError, StoreError } from "../errors.ts";

export type MappingKind = "root" | "subid" | "single";

export interface UsernsMapping {
  kind: MappingKind;
  /** `unshare` options that create the user namespace (empty for real root). */
  usernsArgs: readonly string[];
  /** Set for "single": what will not work, one line. */
  warning?: string;
  /** The subordinate ranges found (for doctor-like reports). */
  subuid?: { start: number; count: number };
  subgid?: { start: number; count: number };
}

/** The first `name:start:count` line of an /etc/subuid-style file for this user (by name or uid). */
export function findSubidRange(text: string, user: string, id: number): { start: number; count: number } | undefined {
  for (const line of text.split("\n")) {
    const [owner, start, count] = line.trim().split(":");
    if (owner === undefined || start === undefined || count === undefined) continue;
    if (owner !== user && owner !== String(id)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isSafeInteger(s) && Number.isSafeInteger(c) && c > 0) return { start: s, count: c };
  }
  return undefined;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function onPath(tool: string): boolean {
  return Bun.which(tool) !== null || existsSync(`/usr/bin/${tool}`);
}

let cachedMapping: UsernsMapping | undefined;

/** How this user's namespaces are mapped; computed once per process. */
export function detectMapping(): UsernsMapping {
  if (cachedMapping !== undefined) return cachedMapping;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  if (uid === 0) {
    cachedMapping = { kind: "root", usernsArgs: [] };
    return cachedMapping;
  }
  const user = userName(uid);
  const subuid = findSubidRange(readOrEmpty("/etc/subuid"), user, uid);
  const subgid = findSubidRange(readOrEmpty("/etc/subgid"), user, gid);
  const helpers = onPath("newuidmap") && onPath("newgidmap");
  if (subuid !== undefined && subgid !== undefined && helpers) {
    cachedMapping = { kind: "subid", usernsArgs: ["--user", "--map-root-user", "--map-auto"], subuid, subgid };
    return cachedMapping;
  }
  const missing = !helpers
    ? "newuidmap/newgidmap are not installed (package uidmap)"
    : `${user} has no subordinate id range in ${subuid === undefined ? "/etc/subuid" : "/etc/subgid"}`;
  cachedMapping = {
    kind: "single",
    usernsArgs: ["--user", "--map-root-user"],
    warning:
      `${missing}: using a single-uid user namespace, so files cannot belong to other users; ` +
      "package installs that chown files (most apt packages) will fail " +
      `(fix: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}, and install uidmap)`,
    subuid,
    subgid,
  };
  return cachedMapping;
}

/** For tests: forget the cached mapping. */
export function resetMappingCache(): void {
  cachedMapping = undefined;
}

export interface UsernsRunOptions {
  /** More `unshare` options (e.g. "--mount", "--pid", "--fork"). */
  unshareArgs?: readonly string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** "pipe" captures into the result (default); "inherit" streams to ours. */
  stdout?: "pipe" | "inherit";
  stderr?: "pipe" | "inherit";
  stdin?: "inherit" | "ignore" | Uint8Array;
  /** Told once when only a single uid can be mapped. */
  warn?: (line: string) => void;
  signal?: AbortSignal;
}

export interface UsernsResult {
  exitCode: number;
  /** Empty when the stream was inherited. */
  stdout: string;
  stderr: string;
}

/** The argv that runs `argv` inside a user namespace as its root (no namespace at all for real root). */
export function usernsCommand(argv: readonly string[], unshareArgs: readonly string[] = []): string[] {
  const mapping = detectMapping();
  if (mapping.usernsArgs.length === 0 && unshareArgs.length === 0) return [...argv];
  return ["unshare", ...mapping.usernsArgs, ...unshareArgs, "--", ...argv];
}

function childEnv(extra: Record<string, string | undefined> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...extra })) if (v !== undefined) env[k] = v;
  return env;
}

/** Runs `argv` as root of a fresh user namespace; returns its exit code and what it printed (when piped). */
export async function runInUserns(argv: readonly string[], opts: UsernsRunOptions = {}): Promise<UsernsResult> {
  const mapping = detectMapping();
  if (mapping.warning !== undefined) opts.warn?.(mapping.warning);
  const cmd = usernsCommand(argv, opts.unshareArgs);
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn(cmd, {
      cwd: opts.cwd,
      env: childEnv(opts.env),
      stdin: opts.stdin ?? "ignore",
      stdout: opts.stdout ?? "pipe",
      stderr: opts.stderr ?? "pipe",
      signal: opts.signal,
    });
  } catch (error) {
    throw new RuntimeError(`cannot start ${cmd[0]}: ${(error as Error).message}`, {
      hint: "install util-linux (unshare) and uidmap (newuidmap, newgidmap)",
      cause: error,
    });
  }
  const text = (s: ReturnType<typeof Bun.spawn>["stdout"]): Promise<string> =>
    s instanceof ReadableStream ? new Response(s).text() : Promise.resolve("");
  const [stdout, stderr, exitCode] = await Promise.all([text(proc.stdout), text(proc.stderr), proc.exited]);
  return { exitCode, stdout, stderr };
}

/**
 * How to start this same karapace program again: the compiled binary alone,
 * or Bun with the entry script when running from source (also under
 * `bun test`, whose main module is a test file, not karapace).
 */
export function selfCommand(): string[] {
  if (import.meta.path.startsWith("/$bunfs/")) return [process.execPath];
  return [process.execPath, resolve(import.meta.dir, "../../bin/karapace.ts")];
}

/** The hidden command that runs a task (src/cli/commands/userns-task.ts). */
export const USERNS_TASK_COMMAND = "__userns-task";

/** What a task prints as its last stdout line: its result or its error. */
export type TaskReply = { ok: true; result: unknown } | { ok: false; error: { kind: string; message: string; hint?: string } };

const ERROR_CLASSES: Record<string, new (message: string, details?: { hint?: string }) => KarapaceError> = {
  manifest: ManifestError,
  lock: LockError,
  store: StoreError,
  image: ImageError,
  runtime: RuntimeError,
  remote: RemoteError,
  general: GeneralError,
};

/** Turns a task's error reply back into the typed error it was in the child. */
export function errorFromReply(error: { kind: string; message: string; hint?: string }): KarapaceError {
  const Klass = ERROR_CLASSES[error.kind] ?? GeneralError;
  return new Klass(error.message, error.hint === undefined ? {} : { hint: error.hint });
}

export interface SelfTaskOptions {
  warn?: (line: string) => void;
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
  /** Stream the task's stderr to ours (progress); default: captured and reported on failure. */
  inheritStderr?: boolean;
}

function parseReply<T>(task: string, exitCode: number, stdout: string, stderr: string): T {
  const last = stdout.trimEnd().split("\n").pop() ?? "";
  let reply: TaskReply | undefined;
  try {
    reply = JSON.parse(last) as TaskReply;
  } catch {
    reply = undefined;
  }
  if (reply !== undefined && typeof reply === "object" && reply !== null && "ok" in reply) {
    if (reply.ok) return reply.result as T;
    throw errorFromReply(reply.error);
  }
  const detail = `${stderr}${stdout}`.trim().split("\n").slice(-5).join("; ");
  throw new RuntimeError(`the user-namespace task '${task}' failed (exit ${exitCode})${detail === "" ? "" : `: ${detail}`}`, {
    hint: "check that unshare works for you: unshare --user --map-root-user --map-auto true",
  });
}

/** runSelfTaskInUserns for synchronous callers (the store's tree remover); same protocol. */
export function runSelfTaskInUsernsSync<T = unknown>(task: string, args: readonly string[]): T {
  const argv = usernsCommand([...selfCommand(), USERNS_TASK_COMMAND, task, ...args]);
  const result = Bun.spawnSync(argv, { env: childEnv({ KARAPACE_LOG: undefined, NO_COLOR: "1" }), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return parseReply<T>(task, result.exitCode ?? -1, result.stdout.toString(), result.stderr.toString());
}

/**
 * Runs `karapace __userns-task <task> <args...>` inside a user namespace and
 * returns the task's result (its JSON reply). A failed task throws the same
 * typed error it threw in the child.
 */
export async function runSelfTaskInUserns<T = unknown>(task: string, args: readonly string[], opts: SelfTaskOptions = {}): Promise<T> {
  const argv = [...selfCommand(), USERNS_TASK_COMMAND, task, ...args];
  const result = await runInUserns(argv, {
    warn: opts.warn,
    signal: opts.signal,
    env: { KARAPACE_LOG: undefined, NO_COLOR: "1", ...opts.env },
    stderr: opts.inheritStderr === true ? "inherit" : "pipe",
  });
  return parseReply<T>(task, result.exitCode, result.stdout, result.stderr);
}

/** The store's fallback remover (see setTreeRemover in src/store/fsx.ts): rm -rf as the files' owner. */
export function removeTreeInUsernsSync(path: string): void {
  runSelfTaskInUsernsSync("remove-tree", [path]);
}
