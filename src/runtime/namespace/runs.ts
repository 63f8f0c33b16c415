/**
 * Running markers: one small file per karapace process running a command in
 * an environment, `<env dir>/running/<pid>.<start>`, naming that process
 * (pid + start time, so a reused pid is not mistaken for it) and the sandbox
 * process `stop` signals. A marker whose karapace process is gone (SIGKILL,
 * power cut) is stale: whoever looks next removes it.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive, type ProcessId, selfId } from "../../store/proc.ts";

export interface RunMarker {
  karapace: ProcessId;
  /** The sandbox's outermost process (unshare); null until it is started. */
  sandbox: ProcessId | null;
  command: string[];
  since: string;
}

const DIR = "running";

export function runsDir(envDir: string): string {
  return join(envDir, DIR);
}

function markerName(id: ProcessId): string {
  return `${id.pid}.${id.start ?? 0}`;
}

/** Writes (or rewrites) this process's marker; temp + rename, so readers never see half of one. */
export function writeRunMarker(envDir: string, marker: RunMarker): string {
  const dir = runsDir(envDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, markerName(marker.karapace));
  const temp = join(dir, `.tmp-${markerName(marker.karapace)}-${crypto.randomUUID().slice(0, 8)}`);
  writeFileSync(temp, `${JSON.stringify(marker)}\n`);
  renameSync(temp, path);
  return path;
}

export function newRunMarker(command: readonly string[]): RunMarker {
  return { karapace: selfId(), sandbox: null, command: [...command], since: new Date().toISOString() };
}

function parse(text: string): RunMarker | undefined {
  try {
    const m = JSON.parse(text) as RunMarker;
    return typeof m.karapace?.pid === "number" ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Every marker with its file, live or not. */
export function allRuns(envDir: string): Array<{ path: string; marker: RunMarker | undefined }> {
  let names: string[];
  try {
    names = readdirSync(runsDir(envDir));
  } catch {
    return [];
  }
  return names
    .filter((n) => !n.startsWith("."))
    .map((n) => {
      const path = join(runsDir(envDir), n);
      let text = "";
      try {
        text = readFileSync(path, "utf8");
      } catch {
        // removed between readdir and read
      }
      return { path, marker: parse(text) };
    });
}

/** Markers of karapace processes that are still alive. */
export function liveRuns(envDir: string): RunMarker[] {
  return allRuns(envDir)
    .map((r) => r.marker)
    .filter((m): m is RunMarker => m !== undefined && isAlive(m.karapace));
}

/** Removes markers whose process is gone (and unreadable ones); counts what remains and what went. */
export function reapDeadRuns(envDir: string): { live: number; removed: number } {
  let live = 0;
  let removed = 0;
  for (const { path, marker } of allRuns(envDir)) {
    if (marker !== undefined && isAlive(marker.karapace)) live++;
    else {
      rmSync(path, { force: true });
      removed++;
    }
  }
  return { live, removed };
}

export function removeRunMarker(path: string): void {
  rmSync(path, { force: true });
}
