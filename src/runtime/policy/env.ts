/**
 * Which environment variables a sandboxed process starts with. Everything
 * not named by the policy stays outside; denied names are removed last, so
 * no allow list, host integration or caller can bring them back.
 */
import { CliUsageError } from "../../errors.ts";
import type { SecurityPolicy } from "./security-policy.ts";

// POSIX's portable names. Anything else could not be exported by a shell inside, and some
// characters ('=' above all) would change what the variable means when the block is written out.
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function envKeyProblem(key: string): string | undefined {
  return ENV_KEY.test(key) ? undefined : `'${printable(key)}' is not a valid variable name (letters, digits and '_', not starting with a digit)`;
}

export function envValueProblem(value: string): string | undefined {
  return value.includes("\0") ? "contains a NUL byte, which no process environment can carry" : undefined;
}

/** Control characters shown as escapes, so a hostile name cannot rewrite the terminal. */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export interface FilteredEnv {
  env: Record<string, string>;
  warnings: string[];
}

/** The host variables the policy lets through, each one checked. */
export function passThroughHostEnv(hostEnv: Record<string, string | undefined>, policy: SecurityPolicy): FilteredEnv {
  const env: Record<string, string> = {};
  const warnings: string[] = [];
  for (const key of policy.allowedEnv) {
    if (policy.deniedEnv.includes(key)) continue;
    const value = hostEnv[key];
    if (value === undefined || envKeyProblem(key) !== undefined) continue;
    const problem = envValueProblem(value);
    if (problem !== undefined) {
      warnings.push(`environment variable ${key} not passed: its value ${problem}`);
      continue;
    }
    env[key] = value;
  }
  return { env, warnings };
}

/** Variables a caller asks for explicitly (e.g. from the command line): a bad one is refused, not dropped. */
export function checkExplicitEnv(extra: Record<string, string>, policy: SecurityPolicy): Record<string, string> {
  for (const [key, value] of Object.entries(extra)) {
    const problem = envKeyProblem(key) ?? envValueProblem(value);
    if (problem !== undefined) {
      throw new CliUsageError(`environment variable ${printable(key)}: ${problem}`, { hint: "use a name made of letters, digits and '_'" });
    }
    if (policy.deniedEnv.includes(key)) {
      throw new CliUsageError(`environment variable ${key} is denied by the security policy`, {
        hint: `the policy never passes ${policy.deniedEnv.join(", ")} into an environment`,
      });
    }
  }
  return { ...extra };
}

/** Removes denied names and anything malformed that slipped in; the last step before the plan is returned. */
export function finalizeEnv(env: Record<string, string>, policy: SecurityPolicy): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(env).sort()) {
    const value = env[key] as string;
    if (policy.deniedEnv.includes(key)) continue;
    if (envKeyProblem(key) !== undefined || envValueProblem(value) !== undefined) continue;
    out[key] = value;
  }
  return out;
}
