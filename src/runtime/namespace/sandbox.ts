/**
 * One sandbox launch: the argv that creates the namespaces, mounts the
 * environment and runs a command in it. In the order things happen:
 *
 *   unshare --user (mapped, see userns.ts) --mount --pid --fork --uts [--net]
 *     sh -c SETUP_SCRIPT sh <positional values...> -- <command...>
 *       1. the hostname (a uts namespace of our own), in the background while
 *          the mounts below are made: on two cores that hides its process.
 *       2. the usual, fast way: one `mount -a` over a one-pass mount table
 *          (mountPlan below): the overlay, then everything in step 4. Taken
 *          when nothing has to be prepared inside the merged tree first (the
 *          upper or lower dir already has resolv.conf and every file bind
 *          target as a regular file, which the first launch, during the build,
 *          sees to) and the kernel has not refused the overlay before. If it
 *          fails, whatever it mounted is unmounted and steps 3-4 run instead,
 *          and they say what failed.
 *       3. overlay on merged/: kernel overlayfs with userxattr, else
 *          fuse-overlayfs (a kernel refusal is remembered in mounts/, so later
 *          launches skip step 2); then /etc/resolv.conf made a plain file in
 *          the upper dir (unless the network is isolated), and every file bind
 *          target created.
 *       4. one `mount -a` over the mount table of everything after the
 *          overlay (mountTable below): /proc (fresh, for the new pid
 *          namespace), /tmp (a fresh tmpfs), the host's resolv.conf, the
 *          policy's binds in plan order (read-only ones remounted read-only;
 *          missing directories created by X-mount.mkdir), then recursive binds
 *          of the host's /sys and /dev (rootless, so no device the user could
 *          not open already; a fresh sysfs needs a network namespace of our
 *          own). One mount(8) process for all of them: each costs 1-2.5 ms.
 *       0. a background watcher on fd 3, a socket whose other end only karapace
 *          holds: it reads end-of-file when karapace is gone, also after a
 *          SIGKILL, and tells the script (USR1), which then kills the command
 *          or does not start it. When the script, as the pid namespace's init,
 *          exits, the kernel kills everything else in the namespace. (A
 *          parent-death signal through setpriv did this before, at the cost of
 *          one more program started on every launch.)
 *       5. unshare --root=merged --wd=DIR -- command   (chroot + chdir, then exec),
 *          started as a child: the script stays as the pid namespace's init,
 *          because the kernel drops every signal to an init that has no handler
 *          for it, so a plain `sleep` as pid 1 would ignore `stop`'s SIGTERM.
 *          It passes TERM and HUP on and exits with the command's status
 *          (128+N for signal N); its traps are set first thing, so a `stop`
 *          during the mounts ends the launch before the command starts. The command's stdin is given explicitly: a
 *          background job's would be /dev/null.
 *
 * The script text is a constant: every path, name and command word travels as
 * a positional parameter or in a mount table (octal-escaped as fstab(5)
 * wants), never spliced into shell code.
 */
import { existsSync, lstatSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
  umount: string;
  hostname: string;
  fuseOverlayfs: string;
}

const SEARCH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

let tools: HostTools | undefined;

export function hostTools(): HostTools {
  if (tools === undefined) {
    const find = (name: string): string => Bun.which(name, { PATH: SEARCH }) ?? name;
    tools = { unshare: find("unshare"), mount: find("mount"), umount: find("umount"), hostname: find("hostname"), fuseOverlayfs: find("fuse-overlayfs") };
  }
  return tools;
}

/**
 * Runs as root of the new namespaces with the host's root still visible.
 * Positionals: merged lower upper work hostname overlay-mode mount hostname-tool
 * fuse-overlayfs unshare inner-path workdir resolv(1|0) userxattr(1|0)
 * mount-table one-pass-table (or "") refusal-marker umount, then the file bind
 * targets (inside merged) ending with "--", then the command.
 */
export const SETUP_SCRIPT = `set -e
child= pending= gone=
trap 'pending=TERM; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null || :' TERM
trap 'pending=HUP; [ -z "$child" ] || kill -HUP "$child" 2>/dev/null || :' HUP
trap 'gone=1; [ -z "$child" ] || kill -KILL "$child" 2>/dev/null || :' USR1
{ read -r _ <&3 || :; kill -USR1 1; } 2>/dev/null &
m=$1 lower=$2 upper=$3 work=$4 host=$5 mode=$6 MOUNT=$7 HOSTNAME_TOOL=$8 FUSE=$9
shift 9
UNSHARE=$1 inner_path=$2 wd=$3 resolv=$4 ux=$5 table=$6 one_pass=$7 refused=$8 UMOUNT=$9
shift 9
"$HOSTNAME_TOOL" "$host" &
hn=$!
mounted=
if [ -n "$one_pass" ]; then
  if "$MOUNT" -a -T "$one_pass" 2>/dev/null; then
    mounted=1
  else
    "$UMOUNT" -R "$m" 2>/dev/null || :
  fi
fi
if [ -z "$mounted" ]; then
  opts="lowerdir=$lower,upperdir=$upper,workdir=$work"
  [ "$ux" = 1 ] && kopts="userxattr,$opts" || kopts=$opts
  if [ "$mode" = fuse ] || ! "$MOUNT" -t overlay overlay -o "$kopts" "$m" 2>/dev/null; then
    [ "$mode" = kernel ] && { echo "karapace: kernel overlayfs mount refused" >&2; exit 125; }
    [ "$mode" = fuse ] || : > "$refused" 2>/dev/null || :
    # Its output only on failure: fuse-overlayfs 1.10 with libfuse 3.14 warns "unknown argument ignored: lazytime" on every mount.
    fe=$("$FUSE" -o "$opts" "$m" 2>&1) || { printf '%s\n' "$fe" >&2; echo "karapace: neither kernel overlayfs nor fuse-overlayfs could mount the environment" >&2; exit 125; }
  fi
  if [ "$resolv" = 1 ]; then
    r="$m/etc/resolv.conf"
    if [ -L "$r" ] || [ ! -f "$r" ]; then rm -f "$r"; : > "$r"; fi
  fi
  while [ "$1" != "--" ]; do
    f="$m$1"
    shift
    [ -e "$f" ] || { [ -d "\${f%/*}" ] || mkdir -p "\${f%/*}"; : > "$f"; }
  done
  "$MOUNT" -a -T "$table" || { echo "karapace: mounting the environment's file systems failed (table: $table)" >&2; exit 125; }
else
  while [ "$1" != "--" ]; do shift; done
fi
shift
wait "$hn"
PATH=$inner_path
export PATH
trap : INT QUIT
# Stopped while the sandbox was being set up: the command never starts.
[ -z "$gone" ] || exit 137
[ -z "$pending" ] || exit 143
exec 4<&0
"$UNSHARE" --root="$m" --wd="$wd" -- "$@" <&4 4<&- 3<&- &
child=$!
exec 4<&-
[ -z "$gone" ] || kill -KILL "$child"
while :; do
  wait "$child" && exit 0
  status=$?
  kill -0 "$child" 2>/dev/null || exit "$status"
done
`;

/** fstab(5) fields are separated by blanks; these four characters are written as octal escapes. */
function fstabField(value: string): string {
  return value.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

function entry(source: string, target: string, type: string, options: readonly string[]): string {
  return `${fstabField(source)} ${fstabField(target)} ${type} ${options.join(",")} 0 0\n`;
}

/** Whether the host's resolv.conf is bound in (it is not in an isolated network). */
function bindsResolvConf(launch: SandboxLaunch): boolean {
  return !launch.isolateNetwork && existsSync("/etc/resolv.conf");
}

/** Bind targets that are files: the script creates them before `mount -a`. */
function fileTargets(launch: SandboxLaunch): string[] {
  const targets = launch.binds.filter((b) => b.file).map((b) => b.target);
  for (const d of launch.devices) if (d !== "/dev" && !d.startsWith("/dev/")) targets.push(d);
  return targets;
}

/** Every mount after the overlay, in order, as one fstab(5) table for `mount -a -T`. */
export function mountTable(launch: SandboxLaunch): string {
  const m = launch.merged;
  let table = entry("proc", `${m}/proc`, "proc", ["nosuid", "nodev", "noexec"]);
  table += entry("tmpfs", `${m}/tmp`, "tmpfs", ["mode=1777", "nosuid", "nodev"]);
  if (bindsResolvConf(launch)) table += entry("/etc/resolv.conf", `${m}/etc/resolv.conf`, "none", ["bind"]);
  for (const b of launch.binds) {
    const options = b.file ? ["bind"] : ["rbind", "X-mount.mkdir"];
    if (b.readOnly) options.push("ro");
    table += entry(b.source, `${m}${b.target}`, "none", options);
  }
  // Device nodes outside /dev; everything under /dev arrives with the /dev bind.
  for (const d of launch.devices) if (d !== "/dev" && !d.startsWith("/dev/")) table += entry(d, `${m}${d}`, "none", ["bind"]);
  table += entry("/sys", `${m}/sys`, "none", ["rbind"]);
  table += entry("/dev", `${m}/dev`, "none", ["rbind"]);
  return table;
}

/**
 * Writes the table where the sandbox can read it: `<env dir>/mounts/<hash>.fstab`.
 * Named by its content, so the next launch with the same plan reuses it
 * and concurrent launches that write it write the same bytes.
 */
export function writeMountTable(envDir: string, table: string): string {
  const dir = join(envDir, "mounts");
  const path = join(dir, `${new Bun.CryptoHasher("sha256").update(table).digest("hex").slice(0, 32)}.fstab`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const temp = join(dir, `.tmp-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
  writeFileSync(temp, table);
  renameSync(temp, path);
  return path;
}

/** The tables one launch mounts from, written beside the environment (see the module comment). */
export interface MountPlan {
  /** Everything after the overlay (step 4). */
  afterOverlay: string;
  /** The overlay and everything after it in one table (step 2); undefined when it cannot be used. */
  onePass: string | undefined;
  /** Created by the script when the kernel refuses the overlay: later launches skip the one-pass table. */
  refusedMarker: string;
}

const KERNEL_REFUSED = "kernel-overlay-refused";

function lstatKind(path: string): "file" | "other" | "none" {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return "none";
  return st.isFile() ? "file" : "other";
}

/**
 * Whether `target` is a regular file in the merged tree as the overlay will
 * show it: in the upper dir, or absent there and a regular file below. An
 * opaque directory above it is not looked for: the one-pass mount then fails
 * on the missing target and the step-by-step path takes over.
 */
function regularInMerged(launch: SandboxLaunch, target: string): boolean {
  const upper = lstatKind(join(launch.upper, target));
  return upper === "file" || (upper === "none" && lstatKind(join(launch.lower, target)) === "file");
}

/** The overlay as a table line; undefined for paths fstab options cannot carry unescaped. */
function overlayEntry(launch: SandboxLaunch, userxattr: boolean): string | undefined {
  if ([launch.lower, launch.upper, launch.work].some((p) => /[\s\\#,:]/.test(p))) return undefined;
  const options = [...(userxattr ? ["userxattr"] : []), `lowerdir=${launch.lower}`, `upperdir=${launch.upper}`, `workdir=${launch.work}`];
  return entry("overlay", launch.merged, "overlay", options);
}

export function mountPlan(launch: SandboxLaunch, envDir: string): MountPlan {
  const table = mountTable(launch);
  const refusedMarker = join(envDir, "mounts", KERNEL_REFUSED);
  const prepared =
    launch.overlay !== "fuse" &&
    !existsSync(refusedMarker) &&
    (!bindsResolvConf(launch) || regularInMerged(launch, "/etc/resolv.conf")) &&
    fileTargets(launch).every((t) => regularInMerged(launch, t));
  const overlay = prepared ? overlayEntry(launch, detectMapping().kind !== "root") : undefined;
  return {
    afterOverlay: writeMountTable(envDir, table),
    onePass: overlay === undefined ? undefined : writeMountTable(envDir, overlay + table),
    refusedMarker,
  };
}

/** The complete argv for one launch. */
export function sandboxArgv(launch: SandboxLaunch, mounts: MountPlan): string[] {
  const t = hostTools();
  const mapping = detectMapping();
  const namespaces = ["--mount", "--pid", "--fork", "--kill-child", "--uts", ...(launch.isolateNetwork ? ["--net"] : [])];
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
    bindsResolvConf(launch) ? "1" : "0",
    mapping.kind === "root" ? "0" : "1",
    mounts.afterOverlay,
    mounts.onePass ?? "",
    mounts.refusedMarker,
    t.umount,
    ...fileTargets(launch),
    "--",
    ...launch.command,
  ];
}
