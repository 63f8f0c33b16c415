/** Runs a probe command with a deadline; never throws. */
export interface ProbeResult {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

export function childEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export async function probe(argv: string[], env: Record<string, string | undefined>, timeoutMs = 5000): Promise<ProbeResult> {
  try {
    const proc = Bun.spawn(argv, { env: childEnv(env), stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs, killSignal: "SIGKILL" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { ok: code === 0, code, stdout, stderr };
  } catch (error) {
    return { ok: false, code: null, stdout: "", stderr: (error as Error).message };
  }
}

/** The last non-empty line of a tool's stderr, for a one-line message. */
export function lastLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines[lines.length - 1] ?? "";
}

export function which(tool: string, env: Record<string, string | undefined>): string | null {
  return Bun.which(tool, { PATH: env.PATH ?? "" });
}
