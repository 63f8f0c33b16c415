/**
 * flock(2) through Bun's FFI: Node's fs has no advisory locks. Both the store
 * lock and the per-image download lock use it; the kernel drops a lock when
 * its holder dies, which is why we prefer it to lock files with pids.
 */
import { dlopen, FFIType, read } from "bun:ffi";

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const EINTR = 4;
const EWOULDBLOCK = 11;

type Libc = { flock(fd: number, op: number): number; errno(): number };
let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc !== undefined) return libc;
  const lib = dlopen("libc.so.6", {
    flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  libc = {
    flock: (fd, op) => lib.symbols.flock(fd, op),
    errno: () => {
      const ptr = lib.symbols.__errno_location();
      if (ptr === null) throw new Error("__errno_location returned NULL");
      return read.i32(ptr, 0);
    },
  };
  return libc;
}

/**
 * Tries an exclusive lock without blocking: "locked" when we got it, "busy"
 * when another open file holds it, otherwise the errno of the failure.
 */
export function tryLockExclusive(fd: number): "locked" | "busy" | number {
  const c = loadLibc();
  for (;;) {
    if (c.flock(fd, LOCK_EX | LOCK_NB) === 0) return "locked";
    const errno = c.errno();
    if (errno === EINTR) continue;
    return errno === EWOULDBLOCK ? "busy" : errno;
  }
}

export function unlock(fd: number): void {
  loadLibc().flock(fd, LOCK_UN);
}
