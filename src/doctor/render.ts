import type { DoctorReport } from "./index.ts";
import type { CheckStatus } from "./types.ts";

export interface Painter {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const LABEL: Record<CheckStatus, string> = { pass: "ok", warn: "warn", fail: "FAIL", info: "info" };

/** One line per check (status, title, message), the hint indented below it, then the verdict. */
export function renderReport(report: DoctorReport, paint: Painter): string[] {
  const colour: Record<CheckStatus, (t: string) => string> = { pass: paint.green, warn: paint.yellow, fail: (t) => paint.bold(paint.red(t)), info: paint.cyan };
  const titleWidth = Math.max(...report.checks.map((c) => c.title.length));
  const lines = [`karapace doctor: user ${report.user} (uid ${report.uid}), ${report.distro.id}, store ${report.store}`, ""];
  for (const c of report.checks) {
    const optional = c.status === "fail" && !c.required ? " (optional)" : "";
    lines.push(`${colour[c.status](LABEL[c.status].padEnd(4))}  ${c.title.padEnd(titleWidth)}  ${c.message}${optional}`);
    if (c.hint !== null && c.status !== "pass") lines.push(`${" ".repeat(6 + titleWidth + 2)}${paint.dim("hint:")} ${c.hint}`);
  }
  const failed = report.checks.filter((c) => c.status === "fail" && c.required).length;
  const warned = report.checks.filter((c) => c.status === "warn").length;
  lines.push("");
  const warnings = warned === 0 ? "" : ` (${warned} warning${warned === 1 ? "" : "s"})`;
  lines.push(failed === 0 ? `all required checks passed${warnings}` : `${failed} required check${failed === 1 ? "" : "s"} failed${warnings}`);
  return lines;
}
