/**
 * Child process of the `schema` benchmark: imports the schema modules, then
 * times parse + validate + normalize + lock + identity of one manifest with
 * `packages` packages, `iterations` times. Prints one JSON object.
 *   bun bench/schema-worker.ts <packages> <iterations>
 */
const [packagesArg = "1000", iterationsArg = "200"] = process.argv.slice(2);
const packageCount = Number(packagesArg);
const iterations = Number(iterationsArg);

const importStart = performance.now();
const [{ parseManifest }, { lockFromResolved }] = await Promise.all([
  import("../src/schema/manifest.ts"),
  import("../src/schema/lock.ts"),
]);
const importMs = performance.now() - importStart;

/** Debian-looking names in a scrambled order, some repeated, as a hand-edited list would be. */
function manifestText(count: number): string {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(`lib${((i * 7919) % count).toString(36)}-dev${i % 3 === 0 ? "+extra" : ""}.${i % 10}`);
  names.push(...names.slice(0, 20));
  return `manifest_version = 1

[base]
image = "debian/bookworm"

[system]
packages = [
${names.map((name) => `  "${name}",`).join("\n")}
]

[gui]
apps = ["firefox", "code"]

[hardware]
gpu = true

[mounts]
workspace = "./:/workspace"
cache = "~/.cache:/root/.cache"

[runtime]
backend = "namespace"
network_isolation = true

[runtime.resource_limits]
cpu_shares = 1024
memory_limit_mb = 8192
`;
}

const text = manifestText(packageCount);

function once(): { ms: number; envId: string; packages: number } {
  const start = performance.now();
  const { normalized } = parseManifest(text);
  const lock = lockFromResolved(normalized, {
    base_image_digest: "0f".repeat(32),
    resolved_packages: normalized.system_packages.map((name) => ({ name, version: "1:2.36-9+deb12u4" })),
  });
  return { ms: performance.now() - start, envId: lock.env_id, packages: lock.resolved_packages.length };
}

const first = once();
const times: number[] = [];
for (let i = 0; i < iterations; i++) {
  const run = once();
  if (run.envId !== first.envId) throw new Error("the identity changed between runs");
  times.push(run.ms);
}
times.sort((a, b) => a - b);
const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? Number.NaN;
process.stdout.write(
  `${JSON.stringify({ import_ms: importMs, first_ms: first.ms, median_ms: at(0.5), p95_ms: at(0.95), bytes: text.length, packages: first.packages, env_id: first.envId })}\n`,
);
export {};
