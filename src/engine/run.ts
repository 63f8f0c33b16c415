/**
 * exec, enter and stop.
 *
 * exec and enter run one command in an environment through its backend,
 * with the state tracking of running.ts around it: Running while it runs,
 * Built after, even when this process is killed. They take no store lock:
 * several commands may run in one environment at once, and a long session
 * must not block builds of others. The row changes are single sqlite
 * transactions; build, rebuild and destroy refuse a Running environment.
 *
 * stop signals the sandboxes of every live run: SIGTERM, then SIGKILL once
 * the timeout has passed, and waits for the runs to end.
 */
import { readFileSync } from "node:fs";
import { GeneralError } from "../errors.ts";
import { selectBackend } from "../runtime/backend.ts";
import { liveRuns, type RunMarker } from "../runtime/namespace/runs.ts";
import { containerPop, containerPush, enterBanner, exitBanner, sandboxHostname } from "../runtime/namespace/terminal.ts";
import type { EnvMetadata } from "../store/metadata.ts";
import { isAlive } from "../store/proc.ts";
import type { OpContext } from "./context.ts";
import { readManifest } from "./manifest-object.ts";
import { findEnv, namedEnv, type NamedEnv, subject } from "./refs.ts";
import { beginRun, endRun, reapStaleRuns, recordSandbox, type RunHandle } from "./running.ts";
import { displayState } from "../store/lifecycle.ts";
import { now } from "../store/metadata.ts";
import { mark } from "../timings.ts";

export interface ExecOptions {
  /** "ignore" when stdin is not meant for the command. Default: passed through. */
  stdin?: "inherit" | "ignore";
}

export interface EnterOptions {
  /** Print the OSC 777 markers and banner on this stream (when it is a terminal). */
  terminal?: { write(text: string): void; isTTY?: boolean };
}

function refuseUnusable(meta: EnvMetadata): void {
  if (meta.state === "Built" || meta.state === "Running") return;
  throw new GeneralError(`cannot run commands in ${subject(meta)}: it is ${displayState(meta.state)}`, {
    hint: meta.state === "Defined" ? "build it first ('karapace build')" : "build it again ('karapace build' with its manifest) to make it usable",
  });
}

/**
 * While a command runs, our own SIGTERM/SIGHUP go to the sandbox (we finish
 * once it ends, so the state is put back), and SIGINT is left to the
 * command: the terminal sends it to both of us.
 */
function forwardSignals(sandboxPid: () => number | undefined): { restore: () => void; started: (pid: number) => void } {
  // A signal that comes before the sandbox exists is delivered as soon as it does.
  let pending: NodeJS.Signals | undefined;
  const send = (pid: number, signal: NodeJS.Signals): void => {
    try {
      process.kill(innerPid(pid) ?? pid, signal);
    } catch {
      // already gone
    }
  };
  const forward = (signal: NodeJS.Signals): void => {
    const pid = sandboxPid();
    if (pid === undefined) pending = signal;
    else send(pid, signal);
  };
  const ignore = (): void => {};
  process.on("SIGTERM", forward);
  process.on("SIGHUP", forward);
  process.on("SIGINT", ignore);
  return {
    restore: () => {
      process.off("SIGTERM", forward);
      process.off("SIGHUP", forward);
      process.off("SIGINT", ignore);
    },
    started: (pid) => {
      if (pending !== undefined) send(pid, pending);
    },
  };
}

async function runCommand(ctx: OpContext, ref: string, command: readonly string[] | "shell", options: ExecOptions & EnterOptions): Promise<number> {
  const { store } = ctx;
  const meta = findEnv(store, ref);
  mark("env-found");
  refuseUnusable(meta);
  const manifest = readManifest(store, meta);
  const backend = await selectBackend(manifest.runtime_backend, { warn: (l) => ctx.logger.warn(l), log: (l) => ctx.logger.info?.(l) });
  const spec = { envId: meta.env_id, envDir: store.layout.envPath(meta.env_id), storeRoot: ctx.root, manifest, offline: false, name: meta.name };
  // Handlers first: `stop` may signal us as soon as the marker below exists.
  let sandbox: number | undefined;
  const signals = forwardSignals(() => sandbox);
  let handle: RunHandle;
  try {
    handle = beginRun(store, meta, command === "shell" ? ["<shell>"] : command);
  } catch (error) {
    signals.restore();
    throw error;
  }
  mark("run-begun");
  const io = {
    stdin: options.stdin ?? "inherit",
    onStart: (pid: number) => {
      mark("sandbox-started");
      sandbox = pid;
      recordSandbox(handle, pid);
      signals.started(pid);
    },
  } as const;
  const term = options.terminal?.isTTY === true ? options.terminal : undefined;
  const hostname = sandboxHostname(meta.env_id, meta.name);
  try {
    if (command !== "shell") return (await backend.exec(spec, command, io)).exitCode;
    term?.write(containerPush(meta.env_id, hostname));
    term?.write(enterBanner(meta.env_id, manifest.base_image, hostname));
    try {
      return (await backend.enter(spec, io)).exitCode;
    } finally {
      term?.write(containerPop());
      term?.write(exitBanner(meta.env_id));
    }
  } finally {
    mark("sandbox-ended");
    signals.restore();
    endRun(store, meta.env_id, handle);
    mark("run-ended");
  }
}

/** Runs `command` in the environment; resolves to its exit code. */
export function execInEnvironment(ctx: OpContext, ref: string, command: readonly string[], options: ExecOptions = {}): Promise<number> {
  if (command.length === 0) {
    throw new GeneralError("no command given", { hint: "karapace exec ENV -- COMMAND [ARGS...]" });
  }
  return runCommand(ctx, ref, command, options);
}

/** An interactive login shell in the environment; resolves to the shell's exit code. */
export function enterEnvironment(ctx: OpContext, ref: string, options: EnterOptions = {}): Promise<number> {
  return runCommand(ctx, ref, "shell", options);
}

export interface StopOptions {
  /** How long to wait after SIGTERM before SIGKILL (default 10 s). */
  timeoutMs?: number;
}

export interface StopResult extends NamedEnv {
  /** Runs that were signalled. */
  stopped: number;
  /** Some run outlived the timeout and was killed. */
  killed: boolean;
  state: string;
}

/** The process a sandbox runs its command as: the only child of its outer unshare. */
export function innerPid(sandboxPid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${sandboxPid}/task/${sandboxPid}/children`, "utf8").trim().split(/\s+/)[0];
    const pid = Number(first);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function signalRun(run: RunMarker, signal: NodeJS.Signals): void {
  const targets: number[] = [];
  if (run.sandbox !== null) {
    const inner = innerPid(run.sandbox.pid);
    if (inner !== undefined) targets.push(inner);
    if (signal === "SIGKILL" || inner === undefined) targets.push(run.sandbox.pid);
  } else if (signal === "SIGTERM") {
    // Its sandbox is not started yet: karapace itself passes the signal on once it is.
    targets.push(run.karapace.pid);
  }
  for (const pid of targets) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function waitFor(done: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= until) return false;
    await Bun.sleep(25);
  }
  return true;
}

export async function stopEnvironment(ctx: OpContext, ref: string, options: StopOptions = {}): Promise<StopResult> {
  const { store } = ctx;
  const meta = findEnv(store, ref);
  const envDir = store.layout.envPath(meta.env_id);
  const runs = liveRuns(envDir);
  if (runs.length === 0 && meta.state !== "Running") {
    throw new GeneralError(`${subject(meta)} is not running`, { hint: `'karapace inspect ${meta.name ?? meta.short_id}' shows its state` });
  }
  for (const run of runs) signalRun(run, "SIGTERM");
  const allEnded = (): boolean => runs.every((r) => !isAlive(r.karapace));
  let killed = false;
  if (!(await waitFor(allEnded, options.timeoutMs ?? 10_000))) {
    killed = true;
    for (const run of runs) if (isAlive(run.karapace)) signalRun(run, "SIGKILL");
    if (!(await waitFor(allEnded, 5_000))) {
      // The karapace processes hang on; their sandboxes are gone, so the state is ours to fix.
      for (const run of runs) {
        try {
          process.kill(run.karapace.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      await waitFor(allEnded, 2_000);
    }
  }
  reapStaleRuns(store, ctx.logger);
  let after = store.metadata.get(meta.env_id);
  if (after.state === "Running" && liveRuns(envDir).length === 0) {
    after = store.metadata.put({ ...after, state: "Built", updated_at: now() });
  }
  return { ...namedEnv(meta), stopped: runs.length, killed, state: displayState(after.state) };
}
