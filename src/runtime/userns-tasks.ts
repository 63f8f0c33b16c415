/**
 * The tasks `karapace __userns-task <task> <args...>` can run inside a user
 * namespace (see userns.ts for why). Each entry loads its module on demand, so
 * the hidden command costs nothing for the tasks it does not run. A task
 * module exports `run(args)`; its result is printed as JSON for the parent,
 * and a thrown typed error travels back as the same typed error.
 *
 * Other parts of karapace add their tasks here (one line each).
 */
import { KarapaceError } from "../errors.ts";
import type { TaskReply } from "./userns.ts";

export interface UsernsTaskModule {
  run(args: readonly string[]): Promise<unknown>;
}

export const USERNS_TASKS: Readonly<Record<string, () => Promise<UsernsTaskModule>>> = {
  /** pack-tree <dir> <tar-path> [--no-xattrs] [--overlay-upper]: the deterministic tar of a tree (wasm/pack.ts); replies PackResult. */
  "pack-tree": () => import("./namespace/tasks/pack-tree.ts"),
  /** remove-tree <path>...: rm -rf of trees whose files belong to subordinate uids. */
  "remove-tree": () => import("./namespace/tasks/remove-tree.ts"),
  /** snapshot-pack <upper> <tar-path>: an upper dir as an OCI-style layer (src/snapshots); replies PackResult. */
  "snapshot-pack": () => import("../snapshots/tasks/pack.ts"),
  /** snapshot-unpack <store-root> <tar-hash> <dest> [--whiteouts=..] [--xattrs=..]: a verified layer object into a new upper dir. */
  "snapshot-unpack": () => import("../snapshots/tasks/unpack.ts"),
  /** snapshot-diff <upper> [<lower>]: the drift report of an upper dir. */
  "snapshot-diff": () => import("../snapshots/tasks/diff.ts"),
};

export function taskNames(): string[] {
  return Object.keys(USERNS_TASKS).sort();
}

/** The child side of runSelfTaskInUserns: look the task up, run it, wrap the outcome as a TaskReply. */
export async function runTask(name: string, args: readonly string[]): Promise<TaskReply> {
  const load = Object.hasOwn(USERNS_TASKS, name) ? USERNS_TASKS[name] : undefined;
  if (load === undefined) {
    return { ok: false, error: { kind: "general", message: `unknown user-namespace task '${name}'`, hint: `one of: ${taskNames().join(", ")}` } };
  }
  try {
    const task = await load();
    return { ok: true, result: await task.run(args) };
  } catch (error) {
    if (error instanceof KarapaceError) {
      return { ok: false, error: { kind: error.kind, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) } };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { kind: "runtime", message: `${name}: ${message}` } };
  }
}
