/**
 * The few system calls restore needs that Node's fs does not offer: mknod
 * (whiteouts are 0:0 character devices; fifos), lsetxattr (attributes and
 * overlay's opaque marker) and syncfs (one flush for a whole unpacked tree
 * instead of an fsync per file). Loaded on first use.
 */
import { dlopen, FFIType, read, type Pointer } from "bun:ffi";

const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

interface Libc {
  mknod(path: Buffer, mode: number, dev: bigint): number;
  lsetxattr(path: Buffer, name: Buffer, value: Buffer, size: number, flags: number): number;
  syncfs(fd: number): number;
  errno(): number;
}

let libc: Libc | undefined;

function lib(): Libc {
  if (libc !== undefined) return libc;
  const { symbols } = dlopen("libc.so.6", {
    mknod: { args: [FFIType.ptr, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
    lsetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    syncfs: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  libc = {
    mknod: (p, m, d) => symbols.mknod(p, m, d),
    lsetxattr: (p, n, v, s, f) => symbols.lsetxattr(p, n, v, s, f),
    syncfs: (fd) => symbols.syncfs(fd),
    errno: () => read.i32(symbols.__errno_location() as Pointer, 0),
  };
  return libc;
}

const ERRNO_NAMES: Record<number, string> = { 1: "EPERM", 2: "ENOENT", 13: "EACCES", 17: "EEXIST", 22: "EINVAL", 28: "ENOSPC", 61: "ENODATA", 95: "ENOTSUP", 122: "EDQUOT" };

/** A failed call, shaped like Node's errors (`code`), so fsx.ts' ioError() can word it. */
export class SyscallError extends Error {
  readonly code: string;
  constructor(call: string, path: string, readonly errno: number) {
    const code = ERRNO_NAMES[errno] ?? `errno ${errno}`;
    super(`${call} ${path}: ${code}`);
    this.name = "SyscallError";
    this.code = code;
  }
}

function cstr(b: Buffer | string): Buffer {
  return Buffer.concat([typeof b === "string" ? Buffer.from(b) : b, Buffer.alloc(1)]);
}

/** Creates an overlayfs whiteout (character device 0:0, mode 0). Unprivileged since Linux 5.8. */
export function mknodWhiteout(path: Buffer | string): void {
  const c = lib();
  if (c.mknod(cstr(path), S_IFCHR, 0n) !== 0) throw new SyscallError("mknod", path.toString(), c.errno());
}

export function mkfifo(path: Buffer | string, mode: number): void {
  const c = lib();
  if (c.mknod(cstr(path), S_IFIFO | (mode & 0o7777), 0n) !== 0) throw new SyscallError("mkfifo", path.toString(), c.errno());
}

/** Sets one extended attribute without following a symlink. */
export function lsetxattr(path: Buffer | string, name: Buffer | string, value: Buffer): void {
  const c = lib();
  // A zero-length value still needs a valid pointer.
  const v = value.length === 0 ? Buffer.alloc(1) : value;
  if (c.lsetxattr(cstr(path), cstr(name), v, value.length, 0) !== 0) throw new SyscallError("lsetxattr", `${path.toString()} (${name.toString()})`, c.errno());
}

/** Flushes the filesystem holding `fd` to disk. */
export function syncfs(fd: number, what: string): void {
  const c = lib();
  if (c.syncfs(fd) !== 0) throw new SyscallError("syncfs", what, c.errno());
}
