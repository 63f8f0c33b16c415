/**
 * bun crash-engine.ts <root> <projects> <seed> [focus]: drives the Engine in a loop
 * (build, rebuild, destroy, rename, gc, freeze, archive, and dropping
 * an environment's last reference so gc collects it) on the store at
 * <root> with the project directories under <projects>, until it is killed.
 * The crash-injection test SIGKILLs it at a random moment. It prints
 * "ready" once the Engine is open, "op <name>" when an operation starts and
 * "step <what>" at the Engine's debug points, so the test can tell where the
 * kill landed. With a focus (an operation's name), most operations are that
 * one, the store holds environments for it before "ready", and the child
 * lingers at the focused operation's debug points, so a kill lands inside a
 * quick operation's window too. Anything unexpected goes to stderr and exits 1.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { KarapaceError } from "../../../src/errors.ts";
import { Engine } from "../../../src/engine/index.ts";

const [rootArg, projectsArg, seedArg, focus] = process.argv.slice(2);
if (rootArg === undefined || projectsArg === undefined || seedArg === undefined) throw new Error("usage: crash-engine.ts <root> <projects> <seed>");
const root: string = rootArg;
const projects: string = projectsArg;

let state = Number(seedArg) >>> 0 || 1;
function random(): number {
  // mulberry32
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
const out = (line: string): void => void process.stdout.write(`${line}\n`);

const stall = new Int32Array(new SharedArrayBuffer(4));
/**
 * Debug points are where the Engine is mid-operation (inside its WAL window for destroy). In a
 * focused run the child lingers there, so the random kill lands inside the focused operation's
 * window by design: a destroy's window is otherwise a rename and two sqlite writes long.
 */
function step(message: string): void {
  out(`step ${message}`);
  if (focus !== undefined && message.startsWith(`${focus}:`)) Atomics.wait(stall, 0, 0, 60);
}

const engine = new Engine({
  root,
  command: `crash-engine ${seedArg}`,
  logger: { warn: (m) => out(`warn ${m}`), info: (m) => out(`info ${m}`), debug: step },
});
engine.store(true);

const PACKAGES = ["git", "vim", "curl", "make", "jq"];
const NAMES = ["alpha", "beta", "gamma", "delta"];

function manifestText(packages: readonly string[]): string {
  return `manifest_version = 1\n[base]\nimage = "debian/bookworm"\n[system]\npackages = ${JSON.stringify(packages)}\n[runtime]\nbackend = "mock"\n`;
}

/** A project directory with a manifest of a random package set. */
function manifest(): string {
  const dir = join(projects, `p${Math.floor(random() * 4)}`);
  const packages = PACKAGES.filter(() => random() < 0.4);
  writeFileSync(join(dir, "karapace.toml"), manifestText(packages));
  return join(dir, "karapace.toml");
}

function someEnv(): string | undefined {
  const envs = engine.list().environments;
  return envs.length === 0 ? undefined : pick(envs).env_id;
}

const ops: Record<string, () => Promise<unknown>> = {
  build: () => engine.build(manifest(), random() < 0.3 ? { name: pick(NAMES) } : {}),
  rebuild: () => engine.rebuild(manifest()),
  destroy: async () => {
    const id = someEnv();
    return id === undefined ? undefined : engine.destroy(id);
  },
  rename: async () => {
    const id = someEnv();
    return id === undefined ? undefined : engine.rename(id, pick(NAMES));
  },
  gc: () => engine.gc(),
  freeze: async () => {
    const id = someEnv();
    return id === undefined ? undefined : engine.freeze(id);
  },
  archive: async () => {
    const id = someEnv();
    return id === undefined ? undefined : engine.archive(id);
  },
  // Nothing references it any more (as an imported reference environment can be): gc's to collect.
  unreference: async () => {
    const id = someEnv();
    if (id !== undefined) engine.store().metadata.update(id, (m) => ({ ...m, ref_count: 0, state: "Built" }));
  },
};
const names = Object.keys(ops);
const TARGETED = new Set(["destroy", "rename", "freeze", "archive", "unreference"]);
if (focus !== undefined && !names.includes(focus)) throw new Error(`unknown focus ${focus}`);
/** Refusals the random choices provoke (a taken name, a transition the lifecycle forbids): part of the game. */
const expected = /already used by|cannot move environment|no environment matching/;

// A focus on an operation that needs environments starts with a few, built before "ready" so the kill
// window opens on the focused work rather than on the builds it needs.
if (focus !== undefined && TARGETED.has(focus)) {
  for (let tries = 0; tries < 12 && engine.list().environments.length < 3; tries++) await engine.build(manifest());
}
out("ready");

for (;;) {
  // Destroy is quick, so it gets extra turns: the kills must land inside enough of them.
  const envCount = engine.list().environments.length;
  // A focus that needs an environment builds one when the store has none, so it is not a no-op.
  const focused = focus !== undefined && TARGETED.has(focus) && envCount === 0 ? "build" : focus;
  const name = focused !== undefined && random() < 0.8 ? focused : envCount > 6 || random() < 0.15 ? "destroy" : pick(names);
  out(`op ${name}`);
  try {
    await (ops[name] as () => Promise<unknown>)();
  } catch (error) {
    if (error instanceof KarapaceError && expected.test(error.message)) continue;
    process.stderr.write(`unexpected error in ${name}: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  }
}
