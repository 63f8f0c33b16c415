/**
 * Benchmark runner: `bun run bench [names...] [--json] [--runs N]`.
 * Every benchmark reports records {name, value, unit, peer?, peer_value?, ratio?}.
 * --json prints exactly one JSON object per record and line on stdout; otherwise a table.
 * Progress goes to stderr. Exit status 1 if any benchmark failed, 2 for bad arguments.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCHMARKS as CORE_BENCHMARKS } from "./benchmarks.ts";
import { engineBenchmark } from "./engine.ts";
import { imagesBenchmark } from "./images.ts";
import { runtimeBenchmark } from "./runtime.ts";
import { snapshotsBenchmark } from "./snapshots.ts";
import { storeBenchmark } from "./store.ts";
import { type Benchmark, type BenchRecord, meets, type Target } from "./lib.ts";

const BENCHMARKS: readonly Benchmark[] = [...CORE_BENCHMARKS, storeBenchmark, engineBenchmark, imagesBenchmark, snapshotsBenchmark, runtimeBenchmark];

interface Options {
  names: string[];
  json: boolean;
  runs: number | undefined;
}

function usage(): string {
  const list = BENCHMARKS.map((b) => `  ${b.name.padEnd(8)} ${b.summary}`).join("\n");
  return `usage: bun run bench [names...] [--json] [--runs N]\n\nbenchmarks (default: all):\n${list}\n`;
}

function parseArgs(args: string[]): Options {
  const options: Options = { names: [], json: false, runs: undefined };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--json") options.json = true;
    else if (arg === "--runs") {
      const runs = Number(args[++i]);
      if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a positive integer");
      options.runs = runs;
    } else if (arg === "-h" || arg === "--help") {
      process.stdout.write(usage());
      process.exit(0);
    } else if (arg.startsWith("-")) throw new Error(`unknown option ${arg}`);
    else if (BENCHMARKS.some((b) => b.name === arg)) options.names.push(arg);
    else throw new Error(`unknown benchmark '${arg}' (known: ${BENCHMARKS.map((b) => b.name).join(", ")})`);
  }
  return options;
}

const COLUMNS = ["benchmark", "value", "peer", "peer value", "ratio", "target"] as const;
const WIDTHS = [18, 16, 26, 16, 8, 16];

function row(cells: readonly string[]): string {
  return cells.map((cell, i) => cell.padEnd(WIDTHS[i] ?? 0)).join(" ").trimEnd();
}

function tableRow(record: BenchRecord, target: Target | undefined): string {
  const verdict = target === undefined ? "" : `${target.field} ${target.op} ${target.limit} ${meets(record, target) ? "ok" : "MISSED"}`;
  return row([
    record.name,
    `${record.value} ${record.unit}`,
    record.peer ?? "",
    record.peer_value === undefined ? "" : `${record.peer_value} ${record.unit}`,
    record.ratio === undefined ? "" : `${record.ratio}x`,
    verdict,
  ]);
}

async function runOne(benchmark: Benchmark, options: Options): Promise<BenchRecord[]> {
  const workDir = mkdtempSync(join(tmpdir(), `karapace-bench-${benchmark.name}-`));
  try {
    return await benchmark.run({ runs: options.runs, workDir, log: (m) => process.stderr.write(`[bench] ${m}\n`) });
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n\n${usage()}`);
    return 2;
  }
  const selected = options.names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => options.names.includes(b.name));
  let failed = false;
  if (!options.json) console.log(`${row(COLUMNS)}\n${row(WIDTHS.map((w) => "-".repeat(w)))}`);
  for (const benchmark of selected) {
    try {
      for (const record of await runOne(benchmark, options)) {
        console.log(options.json ? JSON.stringify(record) : tableRow(record, benchmark.targets[record.name]));
      }
    } catch (error) {
      failed = true;
      process.stderr.write(`bench: ${benchmark.name} failed: ${(error as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
