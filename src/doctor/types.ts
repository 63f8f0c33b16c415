import type { Distro } from "./distro.ts";

/** pass: fine. warn: works, but worse than it could. fail: broken. info: a fact worth knowing. */
export type CheckStatus = "pass" | "warn" | "fail" | "info";

export interface CheckResult {
  /** Stable id for scripts (`--json`), e.g. "user_namespaces". */
  name: string;
  /** Short label for people. */
  title: string;
  status: CheckStatus;
  /** A failing required check makes doctor exit 1; other failures are reported only. */
  required: boolean;
  message: string;
  /** The next step, when there is one. */
  hint: string | null;
}

export interface DoctorContext {
  storeRoot: string;
  /** PATH (tool lookup) and the KARAPACE_SUBUID_FILE / KARAPACE_SUBGID_FILE overrides are read here. */
  env: Record<string, string | undefined>;
  uid: number;
  gid: number;
  user: string;
  distro: Distro;
}

export function check(name: string, title: string, required: boolean) {
  const make = (status: CheckStatus, message: string, hint: string | null = null): CheckResult => ({ name, title, status, required, message, hint });
  return {
    pass: (message: string) => make("pass", message),
    info: (message: string, hint: string | null = null) => make("info", message, hint),
    warn: (message: string, hint: string | null = null) => make("warn", message, hint),
    fail: (message: string, hint: string | null = null) => make("fail", message, hint),
  };
}
