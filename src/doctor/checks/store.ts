/**
 * Store health, without changing anything: format version, every metadata
 * row's checksum, unfinished operations in the write-ahead log, the lock,
 * and free space. Recovery is not run (that is the next writer's job).
 */
import { existsSync, statfsSync } from "node:fs";
import { KarapaceError } from "../../errors.ts";
import { check, type CheckResult, type DoctorContext } from "../types.ts";

const MIB = 1024 * 1024;

export async function checkStore(ctx: DoctorContext): Promise<CheckResult> {
  const c = check("store", "store", true);
  const { StoreLayout, openStore } = await import("../../store/index.ts");
  const layout = new StoreLayout(ctx.storeRoot);
  if (!existsSync(layout.storeDir)) return c.info(`no store at ${ctx.storeRoot} yet (created by the first build)`);
  let store: ReturnType<typeof openStore>;
  try {
    store = openStore(ctx.storeRoot, { recover: false });
  } catch (error) {
    const hint = error instanceof KarapaceError ? (error.hint ?? null) : null;
    return c.fail(`cannot open the store at ${ctx.storeRoot}: ${(error as Error).message}`, hint);
  }
  try {
    const rows = store.metadata.checkAll();
    const bad = rows.filter((r) => "problem" in r);
    const pending = store.wal.pending().length;
    const holder = store.lock.holder();
    const summary = `format 2, ${rows.length} environment(s)${holder === undefined ? "" : `, in use by pid ${holder.pid} (${holder.command})`}`;
    if (bad.length > 0) {
      return c.fail(`${ctx.storeRoot}: ${bad.length} of ${rows.length} metadata row(s) fail their checksum (${bad.map((b) => b.env_id.slice(0, 12)).join(", ")})`, "run 'karapace verify-store' for details");
    }
    if (pending > 0 && holder === undefined) {
      return c.warn(`${ctx.storeRoot}: ${summary}; ${pending} unfinished operation(s) in the write-ahead log`, "the next command that writes to the store rolls them back");
    }
    return c.pass(`${ctx.storeRoot}: ${summary}`);
  } catch (error) {
    return c.fail(`reading the store at ${ctx.storeRoot}: ${(error as Error).message}`, "run 'karapace verify-store' for details");
  } finally {
    store.close();
  }
}

/** Free space where the store is (or will be). */
export function checkDiskSpace(at: string): CheckResult {
  const c = check("disk_space", "disk space", true);
  let free: number;
  try {
    const st = statfsSync(at);
    free = Number(st.bavail) * Number(st.bsize);
  } catch (error) {
    return c.warn(`cannot tell the free space at ${at}: ${(error as Error).message}`);
  }
  const shown = free >= 1024 * MIB ? `${(free / (1024 * MIB)).toFixed(1)} GiB` : `${Math.floor(free / MIB)} MiB`;
  if (free < 100 * MIB) return c.fail(`only ${shown} free at ${at}`, "free some space: 'karapace gc' removes what no environment needs");
  if (free < 1024 * MIB) return c.warn(`${shown} free at ${at}; a base image alone can take several hundred MiB`, "'karapace gc' removes what no environment needs");
  return c.pass(`${shown} free at ${at}`);
}
