/** `karapace inspect`: every way of naming an environment, the manifest read back verified, and the failures. */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { flipByte } from "../store/helpers.ts";
import { cleanupTemp, errorLines, expectedMockEnvId, k, kJson, project, tempDir } from "../engine/helpers.ts";

afterAll(cleanupTemp);

interface Inspected {
  env_id: string;
  short_id: string;
  name: string | null;
  state: string;
  manifest_hash: string;
  env_dir: string;
  env_dir_exists: boolean;
  manifest: { base_image: string; system_packages: string[] } | null;
}

describe("karapace inspect", () => {
  const store = tempDir("store");
  const a = kJson<{ env_id: string; short_id: string }>(store, ["build", "--name", "alpha"], { cwd: project({ packages: ["git", "vim"] }) });
  const b = kJson<{ env_id: string; short_id: string }>(store, ["build"], { cwd: project({ packages: ["emacs"] }) });

  test("by env_id, short_id, unique prefix and name: the same environment", () => {
    const prefix = a.env_id.slice(0, a.env_id[0] === b.env_id[0] ? 8 : 1);
    for (const ref of [a.env_id, a.short_id, prefix, "alpha"]) {
      const r = kJson<Inspected>(store, ["inspect", ref]);
      expect({ ref, env_id: r.env_id }).toEqual({ ref, env_id: a.env_id });
    }
    const full = kJson<Inspected>(store, ["inspect", "alpha"]);
    expect(full).toMatchObject({ name: "alpha", state: "Built", env_dir: join(store, "env", a.env_id), env_dir_exists: true });
    expect(full.manifest).toMatchObject({ base_image: "debian/bookworm", system_packages: ["git", "vim"] });
    const human = k(store, ["inspect", "alpha"]).stdout;
    expect(human).toContain(`env_id:     ${a.env_id}\n`);
    expect(human).toContain("state:      built\n");
    expect(human).toContain("packages:   git vim\n");
  });

  test("unknown and ambiguous references exit 1 with a hint", async () => {
    const unknown = k(store, ["inspect", "nosuch"]);
    expect(unknown.code).toBe(1);
    expect(errorLines(unknown)).toEqual({ error: "error: no environment matching 'nosuch'", hint: "hint: run 'karapace list' to see the environments" });
    // A third environment whose env_id starts like alpha's, found by computing identities the mock would give.
    let pkg = "";
    for (let i = 0; pkg === ""; i++) if ((await expectedMockEnvId("debian/bookworm", [`p${i}`]))[0] === a.env_id[0]) pkg = `p${i}`;
    const twin = kJson<{ env_id: string }>(store, ["build"], { cwd: project({ packages: [pkg] }) });
    let shared = "";
    while (twin.env_id[shared.length] === a.env_id[shared.length]) shared += a.env_id[shared.length];
    const amb = k(store, ["inspect", shared]);
    expect(amb.code).toBe(1);
    expect(errorLines(amb).error).toMatch(new RegExp(`^error: '${shared}' matches [23] environments: `));
    expect(errorLines(amb).error).toContain(`alpha (${a.short_id}, built)`);
    expect(errorLines(amb).hint).toContain("more characters");
  });

  test("a damaged manifest object is not read: exit 3, naming the object", () => {
    const s2 = tempDir("store");
    const c = kJson<{ env_id: string }>(s2, ["build"], { cwd: project({ packages: ["x"] }) });
    const hash = kJson<Inspected>(s2, ["inspect", c.env_id]).manifest_hash;
    flipByte(join(s2, "store", "objects", hash));
    const r = k(s2, ["inspect", c.env_id]);
    expect(r.code).toBe(3);
    expect(errorLines(r).error).toContain(`error: corrupt object ${hash}: its content hashes to `);
    expect(errorLines(r).hint).toContain("verify-store");
  });
});
