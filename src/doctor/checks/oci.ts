import { installHint } from "../distro.ts";
import { which } from "../spawn.ts";
import { check, type CheckResult, type DoctorContext } from "../types.ts";

/** crun or runc, needed only by environments with `runtime.backend = "oci"`. */
export function checkOciRuntime(ctx: DoctorContext): CheckResult {
  const c = check("oci_runtime", "OCI runtime", false);
  const found = ["crun", "runc"].map((t) => which(t, ctx.env)).filter((p): p is string => p !== null);
  if (found.length === 0) return c.warn('neither crun nor runc is installed (needed only for runtime.backend = "oci")', installHint(ctx.distro, "crun"));
  return c.pass(found.join(", "));
}
