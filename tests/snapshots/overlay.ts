/**
 * Real overlay mounts for the snapshot tests: a lower dir (a busybox rootfs
 * plus a few files), an upper/work pair, and helpers that mount them in a
 * private mount namespace, run a shell script in the merged tree, and
 * unmount (the namespace ends with the script). Tests run as root (CI), so
 * `unshare --mount` is enough; `userxattr` selects user.overlay.* markers as
 * rootless mounts use, without it the kernel uses trusted.overlay.*.
 */
import { createHash } from "node:crypto";
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, readSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readXattrs } from "../../wasm/xattr.ts";
import { kJson, project } from "../engine/helpers.ts";
import { busyboxRootfs } from "../support/fixtures.ts";
import { isRoot, missingPrerequisite, requireTool } from "../support/prereq.ts";

export const REPO = resolve(import.meta.dir, "../..");

/** Changes made in the merged tree: every kind of change a layer must carry. */
export const CHANGES = `
printf 'main v2\\n' > srv/app/main.txt
rm etc/motd
rm -r opt/old && mkdir opt/old && printf 'fresh\\n' > opt/old/fresh
mkdir -p new/sub && printf 'hello\\n' > new/sub/hello.txt
printf 'linked\\n' > new/h1 && ln new/h1 new/h2 && ln new/h1 srv/h3
ln -s ../srv/app/main.txt new/link
setfattr -n user.note -v 'kept value' new/sub/hello.txt
setfattr -n user.dir -v d new/sub
printf 'secret\\n' > new/ro && chmod 0400 new/ro
printf '#!/bin/sh\\n' > new/suid && chmod 4755 new/suid
mkfifo new/pipe
mkdir new/locked && printf 'in\\n' > new/locked/f && chmod 0555 new/locked
mkdir -p "new/$(printf 'd%.0s' $(seq 1 120))" && printf 'long\\n' > "new/$(printf 'd%.0s' $(seq 1 120))/$(printf 'n%.0s' $(seq 1 90))"
rm srv/app/lib/b.txt
`;

export interface Overlay {
  lower: string;
  upper: string;
  work: string;
  merged: string;
  /** Mount with userxattr (user.overlay.* markers) or without (trusted.overlay.*). */
  userxattr: boolean;
  /** Mount with fuse-overlayfs instead of the kernel's overlayfs. */
  fuse?: boolean;
}

const made: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `karapace-snap-${prefix}-`));
  made.push(dir);
  return dir;
}

export function cleanupTemp(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function requireOverlayPrereqs(): void {
  if (!isRoot()) throw missingPrerequisite("root (the overlay-mount tests mount overlayfs in a private mount namespace; CI runs them as root)");
  requireTool("unshare");
  requireTool("busybox");
}

/** The lower dir every test uses: busybox plus files, a directory tree and a hardlink pair to change. */
export async function makeLower(dir: string): Promise<string> {
  await busyboxRootfs(dir);
  mkdirSync(join(dir, "srv/app/lib"), { recursive: true });
  writeFileSync(join(dir, "srv/app/main.txt"), "main v1\n");
  writeFileSync(join(dir, "srv/app/lib/a.txt"), "lib a\n");
  writeFileSync(join(dir, "srv/app/lib/b.txt"), "lib b\n");
  writeFileSync(join(dir, "etc/motd"), "welcome\n");
  writeFileSync(join(dir, "etc/hostname"), "base\n");
  mkdirSync(join(dir, "opt/old/deep"), { recursive: true });
  writeFileSync(join(dir, "opt/old/deep/x"), "x\n");
  writeFileSync(join(dir, "opt/old/y"), "y\n");
  return dir;
}

/** A fresh upper/work/merged next to a lower dir made once by the caller. */
export function newOverlay(lower: string, root: string, userxattr = true): Overlay {
  const o = { lower, upper: join(root, "upper"), work: join(root, "work"), merged: join(root, "merged"), userxattr };
  for (const d of [o.upper, o.work, o.merged]) mkdirSync(d, { recursive: true });
  return o;
}

function mountCommand(o: Overlay): string {
  if (o.fuse === true) return `'${requireTool("fuse-overlayfs")}' -o 'lowerdir=${o.lower},upperdir=${o.upper},workdir=${o.work}' '${o.merged}' 2>/dev/null`;
  const opts = `${o.userxattr ? "userxattr," : ""}lowerdir=${o.lower},upperdir=${o.upper},workdir=${o.work}`;
  return `mount -t overlay overlay -o '${opts}' '${o.merged}'`;
}

/** Mounts the overlay in a private mount namespace and runs `script` (sh) in the merged dir. */
export function inOverlay(o: Overlay, script: string, extraEnv: Record<string, string> = {}): string {
  const r = Bun.spawnSync([requireTool("unshare"), "--mount", "--propagation", "private", "sh", "-euc", `${mountCommand(o)}\ncd '${o.merged}'\n${script}`], {
    env: { ...process.env, ...extraEnv },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`overlay script failed (exit ${r.exitCode}): ${r.stderr.toString()}\n--- script:\n${script}`);
  return r.stdout.toString();
}

export interface TreeRecord {
  path: string;
  type: string;
  mode: number;
  /** sha256 of a file's bytes; a symlink's target; "0:0"-style rdev for devices. */
  content: string;
  /** user.* attributes (overlay markers excluded when `withOverlayMarkers` is false). */
  xattrs: Record<string, string>;
  /** For a file with more than one link: the first path (in walk order) of its inode. */
  linkGroup: string | null;
}

function sha256File(path: string): string {
  const h = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/**
 * Every entry under `root`, sorted, with type, mode, content, attributes and
 * hardlink grouping: two trees with equal records are equal in everything a
 * layer keeps.
 */
export function fingerprintTree(root: string, opts: { withOverlayMarkers?: boolean } = {}): TreeRecord[] {
  const out: TreeRecord[] = [];
  const firstOfInode = new Map<string, string>();
  const visit = (rel: string): void => {
    const abs = rel === "" ? root : join(root, rel);
    for (const name of readdirSync(abs).sort()) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      const p = join(root, childRel);
      const st = lstatSync(p);
      const type = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : st.isCharacterDevice() ? "chardev" : st.isFIFO() ? "fifo" : "other";
      let content = "";
      if (type === "file") content = sha256File(p);
      else if (type === "symlink") content = readlinkSync(p);
      else if (type === "chardev") content = `rdev:${st.rdev}`;
      const xattrs: Record<string, string> = {};
      for (const x of readXattrs(Buffer.from(p))) {
        const n = x.name.toString();
        const isMarker = n.startsWith("user.overlay.") || n.startsWith("trusted.overlay.");
        if (isMarker ? opts.withOverlayMarkers === true : n.startsWith("user.") || n === "security.capability") xattrs[n] = x.value.toString("base64");
      }
      let linkGroup: string | null = null;
      if (type === "file" && st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        linkGroup = firstOfInode.get(key) ?? childRel;
        if (!firstOfInode.has(key)) firstOfInode.set(key, childRel);
      }
      out.push({ path: childRel, type, mode: st.mode & 0o7777, content, xattrs, linkGroup });
      if (type === "dir") visit(childRel);
    }
  };
  visit("");
  return out;
}

/** Runs the fingerprint inside the namespace where the overlay is mounted (the merged view). */
export function mergedFingerprint(o: Overlay): TreeRecord[] {
  const walker = join(import.meta.dir, "children", "fingerprint.ts");
  const out = inOverlay(o, `'${process.execPath}' '${walker}' '${o.merged}'`);
  return JSON.parse(out) as TreeRecord[];
}

/** A content fingerprint of the whole record list, for "old or new state, never a mix" checks. */
export function digestRecords(records: readonly TreeRecord[]): string {
  return createHash("sha256").update(JSON.stringify(records)).digest("hex");
}

/**
 * An environment built with the mock backend in a fresh store, its upper dir
 * then changed by CHANGES through a real overlay over a busybox lower (linked
 * as env/<id>/lower, where the reference keeps the lower dir), unmounted.
 */
export async function changedEnvironment(buildArgs: readonly string[]): Promise<{ store: string; envId: string; overlay: Overlay }> {
  const lower = await makeLower(join(tempDir("lower"), "rootfs"));
  const store = join(tempDir("store"), "s");
  const { env_id: envId } = kJson<{ env_id: string }>(store, ["build", ...buildArgs], { cwd: project({ image: "busybox/test" }, tempDir("project")) });
  const envDir = join(store, "env", envId);
  symlinkSync(lower, join(envDir, "lower"));
  const overlay: Overlay = { lower, upper: join(envDir, "upper"), work: join(envDir, "work"), merged: join(envDir, "merged"), userxattr: false };
  inOverlay(overlay, CHANGES);
  return { store, envId, overlay };
}
