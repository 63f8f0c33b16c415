/**
 * Who owns a temp file, a WAL entry or the store lock. A pid alone can be
 * reused after its process dies, so we pair it with the process's start time
 * (field 22 of /proc/<pid>/stat, in clock ticks since boot): the pair names
 * one process for the life of the machine.
 */
import { readFileSync } from "node:fs";

export interface ProcessId {
  pid: number;
  /** Start time in clock ticks since boot; undefined when /proc was unreadable. */
  start: number | undefined;
}

function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name (field 2) may contain spaces and ')' so split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = Number(fields[19]);
    return Number.isSafeInteger(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

let self: ProcessId | undefined;

export function selfId(): ProcessId {
  // Cached per pid: a forked child (not something Bun does) would see a new pid.
  if (self === undefined || self.pid !== process.pid) self = { pid: process.pid, start: startTimeOf(process.pid) };
  return self;
}

/** True while the process that `id` names is running (EPERM means it exists but is not ours). */
export function isAlive(id: ProcessId): boolean {
  if (!Number.isSafeInteger(id.pid) || id.pid <= 0) return false;
  try {
    process.kill(id.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (id.start === undefined) return true;
  const start = startTimeOf(id.pid);
  return start === undefined || start === id.start;
}

/** `p<pid>.<start>`: embedded in the names of temp files and staging entries. */
export function ownerTag(id: ProcessId = selfId()): string {
  return `p${id.pid}.${id.start ?? 0}`;
}

const TAG_PATTERN = /-p(\d+)\.(\d+)-/;

/** The owner embedded in a name made with ownerTag(), if any. */
export function ownerOfName(name: string): ProcessId | undefined {
  const match = TAG_PATTERN.exec(name);
  if (match === null) return undefined;
  const start = Number(match[2]);
  return { pid: Number(match[1]), start: start === 0 ? undefined : start };
}

/** A unique suffix for temp names: owner tag plus randomness. */
export function uniqueSuffix(): string {
  return `-${ownerTag()}-${crypto.randomUUID().slice(0, 8)}`;
}
