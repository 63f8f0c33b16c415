/**
 * Phase timings for diagnosing slow start-ups: with KARAPACE_TIMINGS=1 set,
 * every mark() records the milliseconds since the process started, and the
 * list goes to stderr as one line when the process exits. Off, a mark costs a
 * boolean test, so marks can stay on the hot paths they measure.
 */
const enabled = process.env.KARAPACE_TIMINGS === "1";
const marks: string[] = [];

export function mark(label: string): void {
  if (enabled) marks.push(`${label} ${performance.now().toFixed(1)}`);
}

if (enabled) {
  process.on("exit", () => {
    mark("exit");
    // Loaded here, not at the top: this module is imported on every start, --version included.
    (require("node:fs") as typeof import("node:fs")).writeSync(2, `karapace timings (ms since start): ${marks.join(", ")}\n`);
  });
}
