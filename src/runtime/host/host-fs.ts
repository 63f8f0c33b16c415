/**
 * The few questions policy and host integration ask the host's filesystem.
 * Behind an interface so a test can describe a host with a GPU or a Wayland
 * session this machine does not have; everything else uses the real one.
 */
import { readdirSync, realpathSync, statSync } from "node:fs";

export type PathKind = "dir" | "file" | "socket" | "char-device" | "block-device" | "fifo" | "missing";

export interface HostFs {
  /** What `path` is after following symlinks; "missing" if it (or its target) does not exist. */
  kind(path: string): PathKind;
  /** The canonical path (symlinks resolved); throws if it does not exist. */
  realpath(path: string): string;
  /** Entry names in a directory, [] if it cannot be read. */
  list(dir: string): string[];
}

export const realHostFs: HostFs = {
  kind(path) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      return "missing";
    }
    if (st.isDirectory()) return "dir";
    if (st.isFile()) return "file";
    if (st.isSocket()) return "socket";
    if (st.isCharacterDevice()) return "char-device";
    if (st.isBlockDevice()) return "block-device";
    return "fifo";
  },
  realpath(path) {
    return realpathSync(path);
  },
  list(dir) {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
};
