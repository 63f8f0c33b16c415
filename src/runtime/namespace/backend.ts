/**
 * The rootless `namespace` backend: user + mount + pid + uts (+ net)
 * namespaces made by util-linux unshare, an overlay of the environment's
 * upper dir over the base image, and the command run chrooted in it
 * (sandbox.ts has the launch itself, docs/runtime.md the picture).
 *
 * Build is one pass. resolve() prepares the base image, mounts the scratch
 * environment, installs the packages once with the image's package manager,
 * reads their exact versions and adds the user's passwd/group entries and
 * home directory; build() only checks that this happened (or does it when
 * the Engine skipped resolve for an offline, locked build). The Engine then
 * packs the upper dir and moves the directory under its env_id.
 *
 * An environment directory holds upper/, work/, merged/ and runtime.json
 * (the base image's rootfs path and the manifest's directory, which exec
 * needs and must not recompute: preparing an image hashes it).
 */
import { closeSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { currentHostUser } from "../host-user.ts";
import { RuntimeError } from "../../errors.ts";
import type { ResolutionResult, ResolvedPackage } from "../../schema/types.ts";
import { writeFileDurable } from "../../store/fsx.ts";
import { type BuildSpec, ENV_SUBDIRS, type ExecIO, type ExecResult, type ResolveSpec, type RuntimeBackend, type RuntimeSpec, type RuntimeStatus } from "../backend.ts";
import type { SandboxPlan } from "../sandbox-plan.ts";
import { detectMapping } from "../userns.ts";
import { detectPackageManager, INSTALL_SCRIPT, installWords, parseVersions } from "./packages.ts";
import { limitsPrefix, type Purpose, sandboxPlan } from "./plan.ts";
import { mountPlan, type OverlayMode, type SandboxLaunch, sandboxArgv } from "./sandbox.ts";
import { liveRuns } from "./runs.ts";
import { sandboxHostname } from "./terminal.ts";

export const RUNTIME_FILE = "runtime.json";

/** What exec needs to know about an environment without preparing its image again. */
export interface RuntimeRecord {
  /** The base image's unpacked rootfs: the overlay's lower dir. */
  lower: string;
  /** The directory of the manifest it was built from (relative mounts are resolved against it). */
  manifest_dir: string;
  base_image_digest: string;
}

/** Where a process inside starts when the plan does not say. */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function overlayMode(): OverlayMode {
  const forced = process.env.KARAPACE_OVERLAY;
  return forced === "kernel" || forced === "fuse" ? forced : "auto";
}

/** Overlay options are comma- and colon-separated: such paths cannot be expressed, so say so. */
function checkOverlayPath(path: string, what: string): void {
  if (/[,:\n]/.test(path)) {
    throw new RuntimeError(`the ${what} path ${JSON.stringify(path)} contains ',' or ':', which overlayfs options cannot carry`, {
      hint: "use a store path (--store) without ',' or ':'",
    });
  }
}

export function readRuntimeRecord(envDir: string): RuntimeRecord {
  const file = join(envDir, RUNTIME_FILE);
  let record: RuntimeRecord;
  try {
    record = JSON.parse(readFileSync(file, "utf8")) as RuntimeRecord;
  } catch (error) {
    throw new RuntimeError(`${file} is missing or unreadable (${(error as Error).message})`, {
      hint: "rebuild the environment ('karapace rebuild' with its manifest)",
    });
  }
  if (typeof record.lower !== "string" || !existsSync(join(record.lower, "etc")) && !existsSync(join(record.lower, "bin"))) {
    throw new RuntimeError(`the base image of this environment is missing from the image cache (${String(record.lower)})`, {
      hint: "rebuild the environment ('karapace rebuild' with its manifest) to fetch it again",
    });
  }
  return record;
}

interface LaunchOptions {
  envDir: string;
  lower: string;
  plan: SandboxPlan;
  hostname: string;
  command: readonly string[];
  workdir: string;
  /** Override the plan's network isolation (a build needs the network to install). */
  isolateNetwork?: boolean;
  stdin: "inherit" | "ignore";
  stdout: "inherit" | "pipe";
  stderr: "inherit" | "pipe";
  onStart?: (pid: number) => void;
  warn: (line: string) => void;
}

function innerEnv(plan: SandboxPlan, hostname: string): Record<string, string> {
  const env: Record<string, string> = { ...plan.env };
  env.PATH ??= DEFAULT_PATH;
  env.HOSTNAME = hostname;
  env.KARAPACE_ENV = "1";
  return env;
}

async function launch(o: LaunchOptions): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const env = innerEnv(o.plan, o.hostname);
  const spec: SandboxLaunch = {
    lower: o.lower,
    upper: join(o.envDir, "upper"),
    work: join(o.envDir, "work"),
    merged: join(o.envDir, "merged"),
    hostname: o.hostname,
    binds: o.plan.binds,
    devices: o.plan.devices,
    isolateNetwork: o.isolateNetwork ?? o.plan.isolateNetwork,
    innerPath: env.PATH ?? DEFAULT_PATH,
    workdir: o.workdir,
    overlay: overlayMode(),
    command: o.command,
    prefix: await limitsPrefix(o.plan, o.warn),
  };
  for (const [p, what] of [[spec.lower, "base image"], [spec.upper, "environment"]] as const) checkOverlayPath(p, what);
  const mapping = detectMapping();
  if (mapping.warning !== undefined) o.warn(mapping.warning);
  // fd 3 is the sandbox's lifeline: its end of a socket whose other end only this process holds (see sandbox.ts).
  const proc = Bun.spawn(sandboxArgv(spec, mountPlan(spec, o.envDir)), { env, stdio: [o.stdin, o.stdout, o.stderr, "pipe"] });
  const lifeline = proc.stdio[3];
  o.onStart?.(proc.pid);
  const text = (s: ReadableStream<Uint8Array> | number | undefined): Promise<string> =>
    s instanceof ReadableStream ? new Response(s).text() : Promise.resolve("");
  let results: [string, string, number];
  try {
    results = await Promise.all([text(proc.stdout), text(proc.stderr), proc.exited]);
  } finally {
    if (typeof lifeline === "number") closeSync(lifeline);
  }
  const [stdout, stderr, code] = results;
  // A command ended by a signal exits as a shell reports it: 128 + the signal number.
  const signal = proc.signalCode;
  const exitCode = signal !== null && signal !== undefined ? 128 + (typeof signal === "number" ? signal : (osSignals[signal] ?? 0)) : code;
  return { exitCode, stdout, stderr };
}

const osSignals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

/** The user's passwd and group entries and home directory, added after packages (which may add users too). */
const USER_SCRIPT = `name=$1 uid=$2 gid=$3 home=$4
[ -d /etc ] || exit 0
grep -q "^$name:" /etc/passwd 2>/dev/null || printf '%s:x:%s:%s::%s:/bin/sh\\n' "$name" "$uid" "$gid" "$home" >> /etc/passwd
grep -q "^$name:" /etc/group 2>/dev/null || printf '%s:x:%s:\\n' "$name" "$gid" >> /etc/group
mkdir -p "$home"
`;

export class NamespaceBackend implements RuntimeBackend {
  readonly name = "namespace";
  private readonly warn: (line: string) => void;
  private readonly log: (line: string) => void;

  constructor(options: { warn?: (line: string) => void; log?: (line: string) => void } = {}) {
    this.warn = options.warn ?? ((line) => process.stderr.write(`warning: ${line}\n`));
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  async available(): Promise<boolean> {
    const { runInUserns } = await import("../userns.ts");
    try {
      return (await runInUserns(["true"], { unshareArgs: ["--mount", "--pid", "--fork"] })).exitCode === 0;
    } catch {
      return false;
    }
  }

  /**
   * Checks the policy (a refused mount fails here, before anything is
   * fetched), prepares the base image and installs the packages into
   * `spec.envDir`; returns the image digest and the installed versions.
   */
  async resolve(spec: ResolveSpec): Promise<ResolutionResult> {
    const manifestDir = spec.manifestDir ?? process.cwd();
    const plan = await sandboxPlan(spec.manifest, manifestDir, "build");
    for (const w of plan.warnings) this.warn(w);
    const { prepareImage } = await import("../../images/index.ts");
    const image = await prepareImage(spec.manifest.base_image, { storeRoot: spec.storeRoot, offline: spec.offline, log: this.log });
    for (const sub of ENV_SUBDIRS) mkdirSync(join(spec.envDir, sub), { recursive: true });
    const record: RuntimeRecord = { lower: image.rootfs, manifest_dir: manifestDir, base_image_digest: image.digest };
    const versions = await this.install(spec, record, plan, spec.locked);
    writeFileDurable(join(spec.envDir, RUNTIME_FILE), new TextEncoder().encode(`${JSON.stringify(record)}\n`));
    return { base_image_digest: image.digest, resolved_packages: versions };
  }

  /** Installs the manifest's packages and adds the user; the versions installed, in manifest order. */
  private async install(spec: ResolveSpec, record: RuntimeRecord, plan: SandboxPlan, pinned: readonly ResolvedPackage[] | undefined): Promise<ResolvedPackage[]> {
    const packages = spec.manifest.system_packages;
    const user = currentHostUser();
    const base = {
      envDir: spec.envDir,
      lower: record.lower,
      plan,
      hostname: "karapace-build",
      workdir: "/",
      isolateNetwork: spec.offline,
      stdin: "ignore" as const,
      warn: this.warn,
    };
    if (!existsSync(join(record.lower, "bin/sh")) && !existsSync(join(record.lower, "usr/bin/sh"))) {
      if (packages.length > 0) throw new RuntimeError(`the base image ${spec.manifest.base_image} has no /bin/sh, so packages cannot be installed in it`);
      return [];
    }
    const userRun = await launch({ ...base, command: ["/bin/sh", "-c", USER_SCRIPT, "sh", user.name, String(user.uid), String(user.gid), user.home], stdout: "pipe", stderr: "pipe" });
    if (userRun.exitCode !== 0) {
      throw new RuntimeError(`setting up the environment failed (exit ${userRun.exitCode}): ${lastLines(userRun.stderr)}`, {
        hint: "check that rootless namespaces work here: unshare --user --map-root-user --map-auto --mount true",
      });
    }
    if (packages.length === 0) return [];
    const pm = detectPackageManager(record.lower);
    if (pm === undefined) {
      throw new RuntimeError(`no supported package manager in the base image ${spec.manifest.base_image}`, {
        hint: "use an image with apt, dnf, zypper or pacman, or remove [system] packages",
      });
    }
    if (spec.offline) {
      throw new RuntimeError("offline mode: cannot install system packages", { hint: "build once without --offline" });
    }
    this.log(`installing ${packages.length} package${packages.length === 1 ? "" : "s"} with ${pm}: ${packages.join(", ")}`);
    const words = installWords(pm, packages, pinned);
    const run = await launch({ ...base, command: ["/bin/sh", "-c", INSTALL_SCRIPT, "sh", pm, ...words], stdout: "pipe", stderr: "inherit" });
    if (run.exitCode !== 0) {
      throw new RuntimeError(`installing ${packages.join(", ")} with ${pm} failed (exit ${run.exitCode})`, {
        hint: pinned !== undefined
          ? "the locked versions may no longer be available from the package mirror; run 'karapace build' without --locked to re-resolve"
          : "check the package names and the network; the package manager's output is above",
      });
    }
    const versions = parseVersions(run.stdout);
    return packages.map((name) => {
      const version = versions.get(name);
      if (version === undefined) throw new RuntimeError(`${pm} installed nothing called '${name}'`, { hint: "check the package name in [system] packages" });
      return { name, version };
    });
  }

  /** Everything happened in resolve(); when the Engine skipped it (offline and locked), do it now. */
  async build(spec: BuildSpec): Promise<void> {
    if (existsSync(join(spec.envDir, RUNTIME_FILE))) return;
    const resolution = await this.resolve({ ...spec, locked: spec.resolution.resolved_packages });
    if (resolution.base_image_digest !== spec.resolution.base_image_digest) {
      throw new RuntimeError(`the base image's digest ${resolution.base_image_digest.slice(0, 12)} is not the locked ${spec.resolution.base_image_digest.slice(0, 12)}`, {
        hint: "run 'karapace build' without --locked to re-resolve",
      });
    }
  }

  private async runIn(spec: RuntimeSpec, record: RuntimeRecord, purpose: Purpose, command: readonly string[], io: ExecIO, workdir: string): Promise<ExecResult> {
    const plan = await sandboxPlan(spec.manifest, record.manifest_dir, purpose);
    for (const w of plan.warnings) this.warn(w);
    const hostname = sandboxHostname(spec.envId, spec.name);
    const result = await launch({
      envDir: spec.envDir,
      lower: record.lower,
      plan,
      hostname,
      command,
      workdir: workdir === "$HOME" ? (plan.env.HOME ?? "/") : workdir,
      stdin: io.stdin ?? "inherit",
      stdout: "inherit",
      stderr: "inherit",
      onStart: io.onStart,
      warn: this.warn,
    });
    return { exitCode: result.exitCode };
  }

  async exec(spec: RuntimeSpec, command: readonly string[], io: ExecIO = {}): Promise<ExecResult> {
    if (command.length === 0) throw new RuntimeError("exec needs a command", { hint: "karapace exec ENV -- COMMAND [ARGS...]" });
    return this.runIn(spec, readRuntimeRecord(spec.envDir), "exec", command, io, "/");
  }

  /** A login shell: bash if the environment has it, else sh. */
  async enter(spec: RuntimeSpec, io: ExecIO = {}): Promise<ExecResult> {
    const record = readRuntimeRecord(spec.envDir);
    const has = (p: string): boolean => existsSync(join(spec.envDir, "upper", p)) || existsSync(join(record.lower, p));
    const shell = has("bin/bash") || has("usr/bin/bash") ? "/bin/bash" : "/bin/sh";
    return this.runIn(spec, record, "enter", [shell, "-l"], io, "$HOME");
  }

  /** Nothing stays mounted outside a running sandbox; the Engine removes the directory. */
  async destroy(_spec: RuntimeSpec): Promise<void> {}

  async status(envId: string, envDir?: string): Promise<RuntimeStatus> {
    if (envDir === undefined) return { envId, running: false, pid: null };
    const runs = liveRuns(envDir);
    const first = runs[0];
    return { envId, running: first !== undefined, pid: first?.sandbox?.pid ?? first?.karapace.pid ?? null };
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-5).join("; ");
}
