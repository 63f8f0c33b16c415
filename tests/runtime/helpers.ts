/**
 * A rootless scenario: a work directory owned by the test user that is its
 * HOME (so the store is ~/.local/share/karapace inside it), projects with a
 * karapace.toml each, and the compiled karapace run as that user.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { busyboxRootfs } from "../support/fixtures.ts";
import {
  compiledKarapace,
  giveToTestUser,
  karapaceAsTestUser,
  removeRootlessDir,
  rootlessWorkDir,
  spawnAsTestUser,
  type TestUserResult,
  type TestUserRunOptions,
} from "../support/rootless.ts";

export class Scenario {
  readonly home: string;
  readonly store: string;

  constructor(label: string) {
    this.home = rootlessWorkDir(label);
    this.store = join(this.home, ".local/share/karapace");
    compiledKarapace();
  }

  /** A busybox rootfs owned by the test user, as an unpacked image directory. */
  async busybox(): Promise<string> {
    const dir = join(this.home, "busybox-rootfs");
    await busyboxRootfs(dir);
    giveToTestUser(dir);
    return dir;
  }

  /** Writes <home>/<name>/karapace.toml and returns the project directory. */
  project(name: string, manifest: string): string {
    const dir = join(this.home, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "karapace.toml"), manifest);
    giveToTestUser(dir);
    return dir;
  }

  env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return { HOME: this.home, ...extra };
  }

  /** The compiled karapace as the test user, in `cwd` (default: HOME). */
  kp(args: readonly string[], options: TestUserRunOptions = {}): Promise<TestUserResult> {
    return karapaceAsTestUser(args, { cwd: this.home, timeoutMs: 300_000, ...options, env: this.env(options.env) });
  }

  spawn(args: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
    return spawnAsTestUser([compiledKarapace(), ...args], { cwd: options.cwd ?? this.home, env: this.env(options.env) });
  }

  /** The environment's state as `inspect --json` reports it. */
  async state(ref: string): Promise<string> {
    const r = await this.kp(["inspect", ref, "--json"]);
    if (r.code !== 0) throw new Error(`inspect ${ref} failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { state: string }).state;
  }

  cleanup(): void {
    removeRootlessDir(this.home);
  }
}

export function manifest(image: string, extra = ""): string {
  return `manifest_version = 1\n\n[base]\nimage = "${image}"\n\n[runtime]\nbackend = "namespace"\n${extra}`;
}

/** Polls `check` until it is true (or throws after `ms`). */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}
