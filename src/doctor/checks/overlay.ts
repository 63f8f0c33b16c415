/**
 * Kernel overlayfs inside a user namespace, tried for real: mount it with
 * `userxattr` over temporary directories on the filesystem the store lives
 * on (that is where environments' upper dirs go), write a file, delete a
 * lower file (which needs a whiteout), and look at the upper dir afterwards.
 * fuse-overlayfs is the fallback where the kernel refuses.
 */
import { accessSync, chmodSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { installHint } from "../distro.ts";
import { lastLine, probe, which } from "../spawn.ts";
import { check, type CheckResult, type DoctorContext } from "../types.ts";

/** The store root if it exists, else its closest existing ancestor; either only if writable. */
export function probeParent(storeRoot: string): string {
  for (let dir = storeRoot; ; dir = dirname(dir)) {
    if (existsSync(dir)) {
      try {
        accessSync(dir, constants.W_OK);
        return dir;
      } catch {
        return tmpdir();
      }
    }
    if (dir === dirname(dir)) return tmpdir();
  }
}

const SCRIPT = [
  "set -e",
  'mount -t overlay overlay -o "userxattr,lowerdir=$1,upperdir=$2,workdir=$3" "$4"',
  'echo ok > "$4/written"',
  'rm "$4/from-lower"',
  'cat "$4/written" >/dev/null',
].join("\n");

/** Removes a probe tree, including the 000-mode dir overlayfs leaves in its work dir. */
function removeProbe(dir: string): void {
  const inner = join(dir, "work", "work");
  try {
    if (existsSync(inner)) chmodSync(inner, 0o700);
  } catch {
    // rmSync below reports nothing either way; a leftover is harmless in a temp dir
  }
  rmSync(dir, { recursive: true, force: true });
}

export interface OverlayOutcome {
  result: CheckResult;
  works: boolean;
}

export async function checkKernelOverlay(ctx: DoctorContext): Promise<OverlayOutcome> {
  const c = check("kernel_overlay", "overlayfs in userns", true);
  const unshare = which("unshare", ctx.env);
  if (unshare === null) return { works: false, result: c.fail("unshare is not installed, so nothing can be mounted", installHint(ctx.distro, "util-linux")) };
  const parent = probeParent(ctx.storeRoot);
  let dir: string;
  try {
    dir = mkdtempSync(join(parent, ".karapace-doctor-overlay-"));
  } catch (error) {
    return { works: false, result: c.fail(`cannot create a probe directory in ${parent}: ${(error as Error).message}`) };
  }
  try {
    for (const d of ["lower", "upper", "work", "merged"]) mkdirSync(join(dir, d));
    writeFileSync(join(dir, "lower", "from-lower"), "x");
    // Root needs no user namespace (the runtime does not use one as root); everyone else does.
    const ns = ctx.uid === 0 ? ["--mount"] : ["--user", "--map-root-user", "--mount"];
    const run = await probe([unshare, ...ns, "/bin/sh", "-c", SCRIPT, "sh", ...["lower", "upper", "work", "merged"].map((d) => join(dir, d))], ctx.env);
    const upper = join(dir, "upper");
    const whiteout = (() => {
      try {
        return lstatSync(join(upper, "from-lower")).isCharacterDevice();
      } catch {
        return false;
      }
    })();
    if (run.ok && existsSync(join(upper, "written")) && whiteout) {
      return { works: true, result: c.pass(`kernel overlayfs (userxattr) mounts, writes and deletes on the filesystem of ${parent}`) };
    }
    const why = run.ok ? "the write or the whiteout did not reach the upper directory" : lastLine(run.stderr) || `exit ${run.code}`;
    return { works: false, result: c.fail(`kernel overlayfs does not work in a user namespace on ${parent}: ${why}`, "Linux 5.11 or newer mounts overlayfs in user namespaces; otherwise fuse-overlayfs is used") };
  } finally {
    removeProbe(dir);
  }
}

export interface FuseOutcome {
  result: CheckResult;
  usable: boolean;
}

export function checkFuseOverlayfs(ctx: DoctorContext): FuseOutcome {
  const c = check("fuse_overlayfs", "fuse-overlayfs", false);
  const tool = which("fuse-overlayfs", ctx.env);
  if (tool === null) return { usable: false, result: c.warn("fuse-overlayfs is not installed (the fallback where kernel overlayfs is refused)", installHint(ctx.distro, "fuse-overlayfs")) };
  try {
    accessSync("/dev/fuse", constants.R_OK | constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      usable: false,
      result: c.warn(`${tool} is installed but /dev/fuse is not usable (${code})`, code === "ENOENT" ? "load the module: sudo modprobe fuse" : "sudo chmod 0666 /dev/fuse (its usual mode)"),
    };
  }
  return { usable: true, result: c.pass(`${tool}, /dev/fuse accessible`) };
}

/** Either overlay suffices: a refused kernel overlay with a usable fuse-overlayfs is only a warning. */
export function combineOverlay(kernel: OverlayOutcome, fuse: FuseOutcome): CheckResult[] {
  if (kernel.works || !fuse.usable) return [kernel.result, fuse.result];
  return [{ ...kernel.result, status: "warn", message: `${kernel.result.message}; fuse-overlayfs will be used instead (slower)` }, fuse.result];
}
