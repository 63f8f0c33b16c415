/**
 * Sixteen CLI processes at once on one store: eight builds, four renames,
 * two destroys and two gc runs. Every writer takes the store lock, so they
 * all finish, every change lands (no lost update), gc takes nothing a build
 * needs, and the store verifies afterwards.
 */
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "../../src/engine/index.ts";
import { openStore, verifyStore } from "../../src/store/index.ts";
import { BIN } from "../cli/helpers.ts";
import { cleanupTemp, listEnvs, project, tempDir } from "./helpers.ts";

test("16 concurrent CLI writers: all finish, no lost update, the store verifies", async () => {
  try {
    const store = tempDir("store");
    // Set-up through the Engine: four environments to rename, two to destroy, and some garbage.
    const engine = new Engine({ root: store });
    const renamees: string[] = [];
    const victims: string[] = [];
    for (let i = 0; i < 4; i++) renamees.push((await engine.build(join(project({ packages: [`r${i}`] }), "karapace.toml"), { name: `old-${i}` })).env_id);
    for (let i = 0; i < 2; i++) victims.push((await engine.build(join(project({ packages: [`d${i}`] }), "karapace.toml"), { name: `doomed-${i}` })).env_id);
    const garbage = await engine.build(join(project({ packages: ["garbage"] }), "karapace.toml"));
    await engine.destroy(garbage.env_id);
    engine.close();

    const jobs: { label: string; args: string[]; cwd?: string }[] = [];
    for (let i = 0; i < 8; i++) jobs.push({ label: `build ${i}`, args: ["build", "--name", `new-${i}`], cwd: project({ packages: [`n${i}`, "shared"] }) });
    for (let i = 0; i < 4; i++) jobs.push({ label: `rename ${i}`, args: ["rename", `old-${i}`, `renamed-${i}`] });
    for (let i = 0; i < 2; i++) jobs.push({ label: `destroy ${i}`, args: ["destroy", `doomed-${i}`] });
    for (let i = 0; i < 2; i++) jobs.push({ label: `gc ${i}`, args: ["gc"] });
    expect(jobs.length).toBe(16);

    const procs = jobs.map((job) =>
      Bun.spawn([process.execPath, BIN, "--store", store, ...job.args], {
        cwd: job.cwd,
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, NO_COLOR: "1", KARAPACE_LOG: undefined },
      }),
    );
    const results = await Promise.all(
      procs.map(async (p, i) => ({ label: jobs[i]?.label, code: await p.exited, stderr: await new Response(p.stderr).text() })),
    );
    for (const r of results) expect({ label: r.label, code: r.code, error: r.stderr.split("\n").filter((l) => l.startsWith("error")) }).toEqual({ label: r.label, code: 0, error: [] });
    const waited = results.filter((r) => /waiting for the store lock, held by pid \d+ \(karapace \w/.test(r.stderr)).length;
    process.stderr.write(`concurrency: ${waited} of 16 processes waited for the store lock and said who held it\n`);
    expect(waited).toBeGreaterThan(0);

    const envs = listEnvs(store);
    const names = envs.map((e) => e.name).sort();
    expect(names).toEqual([...Array.from({ length: 8 }, (_, i) => `new-${i}`), ...Array.from({ length: 4 }, (_, i) => `renamed-${i}`)].sort());
    for (let i = 0; i < 4; i++) expect(envs.find((e) => e.name === `renamed-${i}`)?.env_id).toBe(renamees[i]);
    for (const v of victims) expect(envs.some((e) => e.env_id === v)).toBe(false);

    const s = openStore(store);
    try {
      expect(s.wal.count()).toBe(0);
      expect(readdirSync(s.layout.stagingDir)).toEqual([]);
      expect(readdirSync(s.layout.envDir).sort()).toEqual(envs.map((e) => e.env_id).sort());
      const report = await verifyStore(s, { workers: 0 });
      expect({ failed: report.failed, missing: report.missing }).toEqual({ failed: [], missing: [] });
      // Every environment is complete: its manifest and layer read back verified.
      for (const e of envs) {
        expect(s.objects.get(e.manifest_hash).length).toBeGreaterThan(0);
        expect(s.objects.has(s.layers.get(e.base_layer).tar_hash)).toBe(true);
      }
    } finally {
      s.close();
    }
  } finally {
    cleanupTemp();
  }
}, 120_000);
