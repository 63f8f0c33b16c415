/**
 * The mock backend: no namespaces, no downloads, fully deterministic. It is
 * the reference's mock.rs: the base image digest is blake3("mock-image:" +
 * image) and every package resolves to version "0.0.0-mock"; a build writes
 * `upper/.karapace-mock` ("mock-env:<env_id>") and one `upper/.pkg-<name>`
 * file per package, so the Engine's real layer capture (pack the upper dir,
 * store the tar) runs on real files.
 *
 * Two knobs, read from the environment when the backend is created, let tests
 * reach situations a fixed mock cannot:
 * - KARAPACE_MOCK_PACKAGE_VERSION: the version every package resolves to
 *   (the package universe "moved on", so a lock drifts);
 * - KARAPACE_MOCK_PAYLOAD_BYTES: also write that many bytes of installed
 *   content (`upper/.mock-payload`), to fill a disk mid-build.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { blake3Hex } from "../../wasm/blake3.ts";
import { RuntimeError } from "../errors.ts";
import type { ResolutionResult } from "../schema/types.ts";
import { type BuildSpec, ENV_SUBDIRS, type ExecIO, type ExecResult, type ResolveSpec, type RuntimeBackend, type RuntimeSpec, type RuntimeStatus } from "./backend.ts";

export const MOCK_PACKAGE_VERSION = "0.0.0-mock";

export interface MockOptions {
  packageVersion?: string;
  payloadBytes?: number;
}

function optionsFromEnv(env: Record<string, string | undefined>): MockOptions {
  const version = env.KARAPACE_MOCK_PACKAGE_VERSION;
  const payload = Number(env.KARAPACE_MOCK_PAYLOAD_BYTES ?? "0");
  return {
    packageVersion: version !== undefined && version !== "" ? version : undefined,
    payloadBytes: Number.isSafeInteger(payload) && payload > 0 ? payload : undefined,
  };
}

/** Deterministic filler bytes (xorshift32 seeded from the env id): the same env always packs to the same tar. */
function writePayload(path: string, bytes: number, seed: string): void {
  const block = new Uint32Array(16384);
  let x = Number.parseInt(blake3Hex(seed).slice(0, 8), 16) >>> 0 || 1;
  const fd = openSync(path, "wx", 0o644);
  try {
    for (let written = 0; written < bytes; ) {
      for (let i = 0; i < block.length; i++) {
        x ^= x << 13;
        x >>>= 0;
        x ^= x >>> 17;
        x ^= x << 5;
        x >>>= 0;
        block[i] = x;
      }
      const chunk = new Uint8Array(block.buffer, 0, Math.min(block.byteLength, bytes - written));
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      written += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
}

export class MockBackend implements RuntimeBackend {
  readonly name = "mock";
  private readonly running = new Map<string, boolean>();
  private readonly options: MockOptions;

  constructor(options: MockOptions = optionsFromEnv(process.env)) {
    this.options = options;
  }

  async available(): Promise<boolean> {
    return true;
  }

  async resolve(spec: ResolveSpec): Promise<ResolutionResult> {
    const version = this.options.packageVersion ?? MOCK_PACKAGE_VERSION;
    return {
      base_image_digest: blake3Hex(`mock-image:${spec.manifest.base_image}`),
      resolved_packages: spec.manifest.system_packages.map((name) => ({ name, version })),
    };
  }

  async build(spec: BuildSpec): Promise<void> {
    this.running.set(spec.envId, false);
    for (const sub of ENV_SUBDIRS) mkdirSync(join(spec.envDir, sub), { recursive: true });
    const upper = join(spec.envDir, "upper");
    writeFileSync(join(upper, ".karapace-mock"), `mock-env:${spec.envId}`);
    for (const pkg of spec.resolution.resolved_packages) {
      writeFileSync(join(upper, `.pkg-${pkg.name}`), `${pkg.name}@${pkg.version}`);
    }
    const payload = this.options.payloadBytes;
    if (payload !== undefined) writePayload(join(upper, ".mock-payload"), payload, spec.envId);
  }

  /** Marks the environment running (until destroy) instead of starting a shell. */
  async enter(spec: RuntimeSpec, _io?: ExecIO): Promise<ExecResult> {
    if (this.running.get(spec.envId) === true) throw new RuntimeError(`environment ${spec.envId} is already running`);
    this.running.set(spec.envId, true);
    return { exitCode: 0 };
  }

  /** Prints `mock-exec: <command>` on our stdout, as a real command's output would stream there. */
  async exec(_spec: RuntimeSpec, command: readonly string[], _io?: ExecIO): Promise<ExecResult> {
    process.stdout.write(`mock-exec: ${command.join(" ")}\n`);
    return { exitCode: 0 };
  }

  async destroy(spec: RuntimeSpec): Promise<void> {
    this.running.delete(spec.envId);
  }

  async status(envId: string): Promise<RuntimeStatus> {
    const running = this.running.get(envId) === true;
    return { envId, running, pid: running ? 99999 : null };
  }
}
