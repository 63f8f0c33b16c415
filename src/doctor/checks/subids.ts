/**
 * The user's subordinate uid and gid ranges: without them only one id is
 * mapped into an environment and package managers that chown to system
 * users fail. Root needs none (it owns every id already).
 */
import { readFileSync } from "node:fs";
import { describeRanges, subidRanges } from "../subid.ts";
import { check, type CheckResult, type DoctorContext } from "../types.ts";

/** Enough for every id a distribution's packages use (0-65535). */
export const RECOMMENDED_SUBID_COUNT = 65_536;

export function subidFiles(env: Record<string, string | undefined>): { uid: string; gid: string } {
  return { uid: env.KARAPACE_SUBUID_FILE || "/etc/subuid", gid: env.KARAPACE_SUBGID_FILE || "/etc/subgid" };
}

export function checkSubordinateIds(ctx: DoctorContext): CheckResult {
  const c = check("subordinate_ids", "subordinate ids", true);
  if (ctx.uid === 0) return c.pass("running as root: every id is available, no subordinate range needed");
  const files = subidFiles(ctx.env);
  const fix = `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${ctx.user}`;
  const found: string[] = [];
  let small = false;
  for (const [kind, file] of [
    ["uid", files.uid],
    ["gid", files.gid],
  ] as const) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      return c.fail(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, fix);
    }
    const ranges = subidRanges(text, ctx.user, ctx.uid);
    if (ranges.length === 0) return c.fail(`${ctx.user} (uid ${ctx.uid}) has no subordinate ${kind} range in ${file}`, fix);
    if (ranges.reduce((n, r) => n + r.count, 0) < RECOMMENDED_SUBID_COUNT) small = true;
    found.push(`${kind}s ${describeRanges(ranges)}`);
  }
  const message = `${ctx.user} has ${found.join(" and ")}`;
  if (small) return c.warn(`${message}; fewer than ${RECOMMENDED_SUBID_COUNT} ids, so packages that use high ids may fail`, fix);
  return c.pass(message);
}
