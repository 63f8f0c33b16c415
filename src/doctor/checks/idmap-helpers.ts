/**
 * newuidmap and newgidmap write a user namespace's id maps from the
 * subordinate ranges; they only can if they run with privilege: setuid root,
 * or file capabilities (CAP_SETUID / CAP_SETGID in security.capability).
 */
import { statSync } from "node:fs";
import { readXattrs } from "../../../wasm/xattr.ts";
import { installHint } from "../distro.ts";
import { which } from "../spawn.ts";
import { check, type CheckResult, type DoctorContext } from "../types.ts";

function privilege(path: string): "setuid" | "capabilities" | undefined {
  const st = statSync(path);
  if (st.uid === 0 && (st.mode & 0o4000) !== 0) return "setuid";
  try {
    if (readXattrs(Buffer.from(path)).some((x) => x.name.toString() === "security.capability")) return "capabilities";
  } catch {
    // no xattrs here: not privileged that way
  }
  return undefined;
}

export function checkIdMapHelpers(ctx: DoctorContext): CheckResult {
  const c = check("uid_map_helpers", "newuidmap/newgidmap", ctx.uid !== 0);
  const found: string[] = [];
  for (const tool of ["newuidmap", "newgidmap"]) {
    const path = which(tool, ctx.env);
    if (path === null) return c.fail(`${tool} is not installed`, installHint(ctx.distro, "uidmap"));
    const how = privilege(path);
    if (how === undefined) {
      return c.fail(`${path} is neither setuid root nor has file capabilities, so it cannot map subordinate ids`, `sudo chmod u+s ${path}, or reinstall it: ${installHint(ctx.distro, "uidmap")}`);
    }
    found.push(`${tool} (${how})`);
  }
  return c.pass(found.join(", "));
}
