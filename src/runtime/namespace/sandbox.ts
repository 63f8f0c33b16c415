/**
 * One sandbox launch: the argv that creates the namespaces, mounts the
 * environment and runs a command in it. It is a short, explicit list of steps
 * in the order they happen:
 *
 *   unshare --user (mapped, see userns.ts) --mount --pid --fork --uts [--net]
 *     sh -c SETUP_SCRIPT sh <positional values...> -- <command...>
 *       1. overlay on merged/: kernel overlayfs with userxattr, else fuse-overlayfs
 *       2. /proc (fresh, for the new pid namespace) and /tmp (a fresh tmpfs)
 *       3. /etc/resolv.conf: the host's (unless the network is isolated); it belongs
 *          to the host's root, which is nobody inside, so it cannot be changed
 *       4. the policy's binds, in plan order (read-only ones remounted read-only)
 *       5. the hostname (a uts namespace of our own)
 *       6. /sys and /dev: recursive binds of the host's (rootless, so no device the
 *          user could not open already; a fresh sysfs needs a network namespace of
 *          our own). Last, because every mount(8) call reads the mount table, and
 *          these two make it long.
 *       7. unshare --root=merged --wd=DIR -- command   (chroot + chdir, then exec)
 *
 * The script text is a constant: every path, name and command word travels as
 * a positional parameter, never spliced into shell code.
 */
import type { BindMount } from "../sandbox-plan.ts";
import { detectMapping } from "../userns.ts";

export type OverlayMode = "auto" | "kernel" | "fuse";

export interface SandboxLaunch {
  lower: string;
  upper: string;
  work: string;
  merged: string;
  hostname: string;
  binds: readonly BindMount[];
  /** Device paths outside /dev to bind (everything under /dev is there already). */
  devices: readonly string[];
  isolateNetwork: boolean;
  /** The PATH the command starts with (the script itself runs with the host's tool directories). */
  innerPath: string;
  /** Working directory inside the environment. */
  workdir: string;
  overlay: OverlayMode;
  command: readonly string[];
  /** Put before `unshare` (resource limits: systemd-run / prlimit). */
  prefix?: readonly string[];
}

/** The host tools the script calls, by absolute path so the inner PATH does not matter. */
export interface HostTools {
  unshare: string;
  mount: string;
  hostname: string;
  fuseOverlayfs: string;
}

const SEARCH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

let tools: HostTools | undefined;

export function hostTools(): HostTools {
  if (tools === undefined) {
    const find = (name: string): string => Bun.which(name, { PATH: SEARCH }) ?? name;
    tools = { unshare: find("unshare"), mount: find("mount"), hostname: find("hostname"), fuseOverlayfs: find("fuse-overlayfs") };
  }
  return tools;
}

/**
 * Runs as root of the new namespaces with the host's root still visible.
 * Positionals: merged lower upper work hostname overlay-mode mount hostname-tool
 * fuse-overlayfs unshare inner-path workdir isolate-net userxattr(1|0), then
 * groups of (kind ro src dst) ending with "--", then the command.
 */
export const SETUP_SCRIPT = `set -e
m=$1 lower=$2 upper=$3 work=$4 host=$5 mode=$6 MOUNT=$7 HOSTNAME_TOOL=$8 FUSE=$9
shift 9
UNSHARE=$1 inner_path=$2 wd=$3 isolated=$4 ux=$5
shift 5
opts="lowerdir=$lower,upperdir=$upper,workdir=$work"
[ "$ux" = 1 ] && kopts="userxattr,$opts" || kopts=$opts
if [ "$mode" = fuse ] || ! "$MOUNT" -t overlay overlay -o "$kopts" "$m" 2>/dev/null; then
  [ "$mode" = kernel ] && { echo "karapace: kernel overlayfs mount refused" >&2; exit 125; }
  "$FUSE" -o "$opts" "$m" || { echo "karapace: neither kernel overlayfs nor fuse-overlayfs could mount the environment" >&2; exit 125; }
fi
"$MOUNT" -t proc proc "$m/proc"
"$MOUNT" -t tmpfs -o mode=1777 tmpfs "$m/tmp"
if [ "$isolated" != 1 ] && [ -e /etc/resolv.conf ]; then
  r="$m/etc/resolv.conf"
  if [ -L "$r" ] || [ ! -f "$r" ]; then rm -f "$r"; : > "$r"; fi
  "$MOUNT" --bind /etc/resolv.conf "$r" || true
fi
while [ "$1" != "--" ]; do
  kind=$1 ro=$2 src=$3 dst="$m$4"
  shift 4
  if [ "$kind" = file ]; then
    [ -e "$dst" ] || { mkdir -p "\${dst%/*}"; : > "$dst"; }
  else
    [ -d "$dst" ] || mkdir -p "$dst"
  fi
  "$MOUNT" --rbind "$src" "$dst"
  [ "$ro" = 1 ] && "$MOUNT" -o remount,bind,ro "$dst"
done
shift
"$HOSTNAME_TOOL" "$host"
"$MOUNT" --rbind /sys "$m/sys"
"$MOUNT" --rbind /dev "$m/dev"
PATH=$inner_path
export PATH
exec "$UNSHARE" --root="$m" --wd="$wd" -- "$@"
`;

/** The complete argv for one launch. */
export function sandboxArgv(launch: SandboxLaunch): string[] {
  const t = hostTools();
  const mapping = detectMapping();
  const namespaces = ["--mount", "--pid", "--fork", "--kill-child", "--uts", ...(launch.isolateNetwork ? ["--net"] : [])];
  const binds: string[] = [];
  for (const b of launch.binds) binds.push(b.file ? "file" : "dir", b.readOnly ? "1" : "0", b.source, b.target);
  for (const d of launch.devices) {
    if (d === "/dev" || d.startsWith("/dev/")) continue;
    binds.push("file", "0", d, d);
  }
  return [
    ...(launch.prefix ?? []),
    t.unshare,
    ...mapping.usernsArgs,
    ...namespaces,
    "--",
    "/bin/sh",
    "-c",
    SETUP_SCRIPT,
    "sh",
    launch.merged,
    launch.lower,
    launch.upper,
    launch.work,
    launch.hostname,
    launch.overlay,
    t.mount,
    t.hostname,
    t.fuseOverlayfs,
    t.unshare,
    launch.innerPath,
    launch.workdir,
    launch.isolateNetwork ? "1" : "0",
    mapping.kind === "root" ? "0" : "1",
    ...binds,
    "--",
    ...launch.command,
  ];
}
