/**
 * `karapace doctor`: can this machine and this user run karapace, and is the
 * store healthy? Every check runs at once (the slow ones spawn processes)
 * and reports pass, warn, fail or info with the next step. Doctor exits 1
 * when a required check fails, as the reference does; warnings never fail it.
 */
import { userName } from "../runtime/host-user.ts";
import { checkImageCache } from "./checks/images.ts";
import { checkIdMapHelpers } from "./checks/idmap-helpers.ts";
import { checkResourceLimits } from "./checks/limits.ts";
import { checkOciRuntime } from "./checks/oci.ts";
import { checkFuseOverlayfs, checkKernelOverlay, combineOverlay, probeParent } from "./checks/overlay.ts";
import { checkDiskSpace, checkStore } from "./checks/store.ts";
import { checkSubordinateIds } from "./checks/subids.ts";
import { checkUserNamespaces } from "./checks/userns.ts";
import { detectDistro, type Distro } from "./distro.ts";
import type { CheckResult, DoctorContext } from "./types.ts";

export type { CheckResult, CheckStatus, DoctorContext } from "./types.ts";
export { distroFromOsRelease, installHint, type Distro } from "./distro.ts";

export interface DoctorReport {
  healthy: boolean;
  user: string;
  uid: number;
  distro: Distro;
  store: string;
  checks: CheckResult[];
}

export interface DoctorOptions {
  storeRoot: string;
  env: Record<string, string | undefined>;
}

/** A check that threw is reported as failed, never as a crash of doctor itself. */
function crashed(name: string, required: boolean, error: unknown): CheckResult {
  return { name, title: name.replace(/_/g, " "), status: "fail", required, message: `the check itself failed: ${(error as Error).message ?? String(error)}`, hint: "run again with --trace and report it" };
}

async function guard(name: string, required: boolean, fn: () => CheckResult | Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await fn();
  } catch (error) {
    return crashed(name, required, error);
  }
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const uid = process.getuid?.() ?? 0;
  const ctx: DoctorContext = {
    storeRoot: options.storeRoot,
    env: options.env,
    uid,
    gid: process.getgid?.() ?? 0,
    user: userName(uid, options.env),
    distro: detectDistro(),
  };
  // The checks that spawn processes start first, so they run while the synchronous ones work.
  const userns = guard("user_namespaces", true, () => checkUserNamespaces(ctx));
  const overlay = checkKernelOverlay(ctx).catch((error: unknown) => ({ works: false, result: crashed("kernel_overlay", true, error) }));
  const limits = guard("resource_limits", false, () => checkResourceLimits(ctx));
  const subids = await guard("subordinate_ids", true, () => checkSubordinateIds(ctx));
  const helpers = await guard("uid_map_helpers", ctx.uid !== 0, () => checkIdMapHelpers(ctx));
  const fuse = checkFuseOverlayfs(ctx);
  const oci = await guard("oci_runtime", false, () => checkOciRuntime(ctx));
  const store = guard("store", true, () => checkStore(ctx));
  const images = guard("image_cache", true, () => checkImageCache(ctx));
  const disk = await guard("disk_space", true, () => checkDiskSpace(probeParent(ctx.storeRoot)));
  const checks = [
    await userns,
    subids,
    helpers,
    ...combineOverlay(await overlay, fuse),
    oci,
    await store,
    await images,
    disk,
    await limits,
  ];
  return {
    healthy: checks.every((c) => !(c.required && c.status === "fail")),
    user: ctx.user,
    uid: ctx.uid,
    distro: ctx.distro,
    store: ctx.storeRoot,
    checks,
  };
}
