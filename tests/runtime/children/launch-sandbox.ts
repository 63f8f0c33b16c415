/**
 * Run as the rootless test user: one sandbox launch straight from
 * sandbox.ts, without the engine, so a test can choose the overlay's paths
 * and the mount tables. Argument: a JSON object with the launch's paths, the
 * env dir, and optionally a one-pass table's text to use instead of the
 * planned one. The sandbox's output passes through; the exit code is its.
 */
import { mountPlan, type SandboxLaunch, sandboxArgv, writeMountTable } from "../../../src/runtime/namespace/sandbox.ts";

interface Request {
  lower: string;
  upper: string;
  work: string;
  merged: string;
  envDir: string;
  command: string[];
  onePassText?: string;
}

const request = JSON.parse(process.argv[2] ?? "{}") as Request;
const launch: SandboxLaunch = {
  lower: request.lower,
  upper: request.upper,
  work: request.work,
  merged: request.merged,
  hostname: "launch-test",
  binds: [],
  devices: [],
  isolateNetwork: true,
  innerPath: "/bin:/usr/bin",
  workdir: "/",
  overlay: "auto",
  command: request.command,
};
const plan = mountPlan(launch, request.envDir);
if (request.onePassText !== undefined) plan.onePass = writeMountTable(request.envDir, request.onePassText);
process.stderr.write(`one-pass: ${plan.onePass === undefined ? "no" : "yes"}\n`);
// fd 3: the sandbox's lifeline, held open until it ends, as the backend does.
const proc = Bun.spawn(sandboxArgv(launch, plan), { stdio: ["ignore", "inherit", "inherit", "pipe"] });
void proc.stdio[3];
process.exit(await proc.exited);
