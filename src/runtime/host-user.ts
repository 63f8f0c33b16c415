/**
 * Who the invoking user is, by uid. /etc/passwd comes first: Bun's
 * os.userInfo() does not consult it in a compiled binary (it reports
 * "unknown" when $USER is unset, as under `env -i` or some CI runners),
 * and /etc/subuid is keyed by the passwd name.
 */
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";

export interface HostUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface PasswdEntry {
  name: string;
  home: string;
}

function passwdEntry(uid: number, passwd: string): PasswdEntry | undefined {
  try {
    for (const line of readFileSync(passwd, "utf8").split("\n")) {
      const fields = line.split(":");
      if (fields.length >= 6 && fields[2] === String(uid) && fields[0] !== undefined && fields[0] !== "") {
        return { name: fields[0], home: fields[5] ?? "" };
      }
    }
  } catch {
    // no passwd file: fall back to the environment
  }
  return undefined;
}

/** The user's name: /etc/passwd, then $USER/$LOGNAME, then userInfo(), then the uid itself. */
export function userName(uid: number, env: Record<string, string | undefined> = process.env, passwd = "/etc/passwd"): string {
  const entry = passwdEntry(uid, passwd);
  if (entry !== undefined) return entry.name;
  const fromEnv = env.USER ?? env.LOGNAME;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  try {
    const info = userInfo().username;
    if (info !== "unknown" && info !== "") return info;
  } catch {
    // no passwd entry at all
  }
  return String(uid);
}

/** The calling user; the home directory is $HOME when set (what the user's tools use), else the passwd entry's. */
export function currentHostUser(env: Record<string, string | undefined> = process.env): HostUser {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const name = userName(uid, env);
  const fromEnv = env.HOME;
  const home = fromEnv !== undefined && fromEnv !== "" ? fromEnv : (passwdEntry(uid, "/etc/passwd")?.home || `/home/${name}`);
  return { name, uid, gid, home };
}
