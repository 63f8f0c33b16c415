import { dlopen, FFIType, read, type Pointer } from "bun:ffi";

/** Extended attributes of one path, sorted by name, as the tar encoder wants them. */
export interface Xattr {
  name: Buffer;
  value: Buffer;
}

const ENODATA = 61;
const ENOTSUP = 95;
const ERANGE = 34;

let libc:
  | {
      llistxattr(path: Buffer, list: Buffer | null, size: number): number | bigint;
      lgetxattr(path: Buffer, name: Buffer, value: Buffer | null, size: number): number | bigint;
      errno(): number;
    }
  | undefined;

function lib(): NonNullable<typeof libc> {
  if (libc) return libc;
  const { symbols } = dlopen("libc.so.6", {
    llistxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    lgetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  libc = {
    llistxattr: (p, l, s) => symbols.llistxattr(p, l, s),
    lgetxattr: (p, n, v, s) => symbols.lgetxattr(p, n, v, s),
    errno: () => read.i32(symbols.__errno_location() as Pointer, 0),
  };
  return libc;
}

function cstr(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc(1)]);
}

export class XattrError extends Error {
  constructor(path: Buffer, call: string, errno: number) {
    super(`${call} failed on ${path.toString()} (errno ${errno})`);
    this.name = "XattrError";
  }
}

/** Reads the attributes of `path` without following a symlink; none where the filesystem has none. */
export function readXattrs(path: Buffer): Xattr[] {
  const c = lib();
  const p = cstr(path);
  for (;;) {
    const size = Number(c.llistxattr(p, null, 0));
    if (size < 0) {
      const e = c.errno();
      if (e === ENOTSUP || e === ENODATA) return [];
      throw new XattrError(path, "llistxattr", e);
    }
    if (size === 0) return [];
    const list = Buffer.alloc(size);
    const got = Number(c.llistxattr(p, list, size));
    if (got < 0) {
      if (c.errno() === ERANGE) continue; // the list grew between the two calls
      throw new XattrError(path, "llistxattr", c.errno());
    }
    const out: Xattr[] = [];
    let start = 0;
    for (let i = 0; i < got; i++) {
      if (list[i] !== 0) continue;
      const name = list.subarray(start, i);
      start = i + 1;
      if (name.length === 0) continue;
      const value = readOne(c, p, path, cstr(Buffer.from(name)));
      if (value) out.push({ name: Buffer.from(name), value });
    }
    return out.sort((a, b) => Buffer.compare(a.name, b.name));
  }
}

function readOne(c: NonNullable<typeof libc>, p: Buffer, path: Buffer, name: Buffer): Buffer | null {
  for (;;) {
    const size = Number(c.lgetxattr(p, name, null, 0));
    if (size < 0) {
      if (c.errno() === ENODATA) return null; // removed since it was listed
      throw new XattrError(path, "lgetxattr", c.errno());
    }
    const value = Buffer.alloc(size);
    const got = Number(c.lgetxattr(p, name, size === 0 ? null : value, size));
    if (got < 0) {
      if (c.errno() === ERANGE) continue;
      if (c.errno() === ENODATA) return null;
      throw new XattrError(path, "lgetxattr", c.errno());
    }
    return value.subarray(0, got);
  }
}

/** The record layout `tar_header` expects: u32le name length, name, u32le value length, value. */
export function encodeXattrs(xattrs: readonly Xattr[]): Buffer {
  const parts: Buffer[] = [];
  for (const x of xattrs) {
    const n = Buffer.alloc(4);
    n.writeUInt32LE(x.name.length);
    const v = Buffer.alloc(4);
    v.writeUInt32LE(x.value.length);
    parts.push(n, x.name, v, x.value);
  }
  return Buffer.concat(parts);
}
