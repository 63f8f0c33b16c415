/**
 * The Running state of environments, kept true across crashes.
 *
 * Each karapace process running a command in an environment holds a marker
 * (src/runtime/namespace/runs.ts). The row says Running while at least one
 * marker's process lives: the first run moves Built -> Running, the last one
 * to end moves it back. Both happen in an IMMEDIATE sqlite transaction
 * together with the marker change, so two runs starting and ending at the
 * same moment cannot leave the row wrong. A run whose karapace was killed
 * leaves its marker behind; the next command that opens the store finds it
 * dead and puts the environment back to Built.
 */
import { GeneralError } from "../errors.ts";
import { newRunMarker, reapDeadRuns, removeRunMarker, runsDir, writeRunMarker, type RunMarker } from "../runtime/namespace/runs.ts";
import { displayState } from "../store/lifecycle.ts";
import type { StoreLogger } from "../store/logger.ts";
import { type EnvMetadata, now } from "../store/metadata.ts";
import type { Store } from "../store/store.ts";
import { existsSync } from "node:fs";
import { subject } from "./refs.ts";

export interface RunHandle {
  markerPath: string;
  marker: RunMarker;
  envDir: string;
}

/** Built -> Running (or joins a run in progress) and records this process's marker. */
export function beginRun(store: Store, meta: EnvMetadata, command: readonly string[]): RunHandle {
  const envDir = store.layout.envPath(meta.env_id);
  const marker = newRunMarker(command);
  // Not synced to disk on its own: the end of the run commits with a full sync (which
  // makes this one durable too), and a Running row lost to a power cut only means the
  // row said Built while a command ran, which nothing relies on.
  store.db.run("PRAGMA synchronous = NORMAL");
  let markerPath: string;
  try {
    markerPath = store.db
      .transaction(() => {
        const current = store.metadata.get(meta.env_id);
        if (current.state === "Built") store.metadata.put({ ...current, state: "Running", updated_at: now() });
        else if (current.state !== "Running") {
          throw new GeneralError(`cannot run commands in ${subject(current)}: it is ${displayState(current.state)}`, {
            hint: current.state === "Defined" ? "build it first ('karapace build')" : "build it again ('karapace build' with its manifest) to make it usable",
          });
        }
        return writeRunMarker(envDir, marker);
      })
      .immediate();
  } finally {
    store.db.run("PRAGMA synchronous = FULL");
  }
  return { markerPath, marker, envDir };
}

/** Records the sandbox process, so `stop` can signal it. */
export function recordSandbox(handle: RunHandle, pid: number): void {
  handle.marker.sandbox = { pid, start: undefined };
  writeRunMarker(handle.envDir, handle.marker);
}

/** Drops this process's marker; the last run out puts the environment back to Built. */
export function endRun(store: Store, envId: string, handle: RunHandle): void {
  store.db
    .transaction(() => {
      removeRunMarker(handle.markerPath);
      const { live } = reapDeadRuns(handle.envDir);
      const current = store.metadata.find(envId);
      if (live === 0 && current?.state === "Running") store.metadata.put({ ...current, state: "Built", updated_at: now() });
    })
    .immediate();
}

/**
 * Running environments whose runs all died (their markers remain, their
 * processes do not) go back to Built. A Running row without any marker was
 * set by something else (the mock backend, an imported store) and is left.
 */
export function reapStaleRuns(store: Store, logger: StoreLogger): void {
  let rows: Array<{ env_id: string }>;
  try {
    rows = store.db.query("SELECT env_id FROM environments WHERE state = 'Running'").all() as Array<{ env_id: string }>;
  } catch {
    return;
  }
  for (const { env_id: envId } of rows) {
    let envDir: string;
    try {
      envDir = store.layout.envPath(envId);
    } catch {
      continue;
    }
    if (!existsSync(runsDir(envDir))) continue;
    try {
      store.db
        .transaction(() => {
          const { live, removed } = reapDeadRuns(envDir);
          if (live > 0 || removed === 0) return;
          const current = store.metadata.find(envId);
          if (current?.state !== "Running") return;
          store.metadata.put({ ...current, state: "Built", updated_at: now() });
          logger.info?.(`${subject(current)} was left running by a karapace process that no longer exists; it is built again`);
        })
        .immediate();
    } catch (error) {
      logger.debug?.(`could not clean the stale run of ${envId}: ${(error as Error).message}`);
    }
  }
}
