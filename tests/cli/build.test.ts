/**
 * `karapace build` through the real CLI on the mock backend: identity as the
 * reference computes it, the environment directory, the base layer, the lock
 * file, reuse, names, --locked, --offline, --require-pinned-image, and the
 * whole lifecycle walk build -> list/inspect -> rename -> freeze -> archive -> destroy.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../src/store/index.ts";
import { cleanupTemp, errorLines, expectedMockEnvId, k, kJson, listEnvs, manifestText, project, tempDir } from "../engine/helpers.ts";
import { BIN, requireTool } from "./helpers.ts";

afterAll(cleanupTemp);

interface Built {
  env_id: string;
  short_id: string;
  name: string | null;
  status: string;
  replaced: string | null;
  lock_file: string;
  lock_written: boolean;
}

describe("karapace build", () => {
  test("builds the environment the reference's mock would: same env_id, lock, env dir and base layer", async () => {
    const store = tempDir("store");
    const dir = project({ packages: ["git", "curl", "git"] });
    const r = k(store, ["build"], { cwd: dir });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const envId = await expectedMockEnvId("debian/bookworm", ["curl", "git"]);
    expect(r.stdout).toContain(`built environment ${envId.slice(0, 12)}\nenv_id: ${envId}\n`);

    // The lock records the mock's resolution and names the same identity.
    const lock = readFileSync(join(dir, "karapace.lock"), "utf8");
    expect(lock).toContain(`env_id = "${envId}"`);
    expect(lock).toContain(`short_id = "${envId.slice(0, 12)}"`);
    expect(lock.match(/version = "0\.0\.0-mock"/g)?.length).toBe(2);

    // The environment directory holds what the mock installed.
    const envDir = join(store, "env", envId);
    expect(readFileSync(join(envDir, "upper", ".karapace-mock"), "utf8")).toBe(`mock-env:${envId}`);
    expect(readFileSync(join(envDir, "upper", ".pkg-git"), "utf8")).toBe("git@0.0.0-mock");
    expect(readFileSync(join(envDir, "upper", ".pkg-curl"), "utf8")).toBe("curl@0.0.0-mock");
    for (const sub of ["work", "merged"]) expect(statSync(join(envDir, sub)).isDirectory()).toBe(true);

    // The base layer's tar object is a real tar of the upper dir (read back by GNU tar).
    const [env] = listEnvs(store);
    const layer = JSON.parse(readFileSync(join(store, "store", "layers", env?.base_layer ?? ""), "utf8")) as { kind: string; tar_hash: string; object_refs: string[] };
    expect(layer.kind).toBe("Base");
    expect(layer.object_refs).toEqual([layer.tar_hash]);
    const tar = Bun.spawnSync([requireTool("tar"), "-tf", join(store, "store", "objects", layer.tar_hash)]);
    expect(tar.stdout.toString().split("\n").filter((l) => l !== "").sort()).toEqual([".karapace-mock", ".pkg-curl", ".pkg-git"]);

    // The manifest object is the normalized manifest as canonical JSON.
    const manifest = JSON.parse(readFileSync(join(store, "store", "objects", env?.manifest_hash ?? ""), "utf8")) as { system_packages: string[]; runtime_backend: string };
    expect(manifest.system_packages).toEqual(["curl", "git"]);
    expect(manifest.runtime_backend).toBe("mock");
  });

  test("building the same manifest twice gives the same env_id and reuses the environment", () => {
    const store = tempDir("store");
    const dir = project({ packages: ["make"] });
    const first = kJson<Built>(store, ["build"], { cwd: dir });
    const lockPath = join(dir, "karapace.lock");
    const lockMtime = statSync(lockPath).mtimeMs;
    const second = kJson<Built>(store, ["build", join(dir, "karapace.toml")]);
    expect(second.env_id).toBe(first.env_id);
    expect(first.status).toBe("built");
    expect(second.status).toBe("unchanged");
    expect(first.lock_written).toBe(true);
    expect(second.lock_written).toBe(false);
    expect(statSync(lockPath).mtimeMs).toBe(lockMtime);
    expect(listEnvs(store).length).toBe(1);

    // A second store builds the very same identity.
    const other = kJson<Built>(tempDir("store"), ["build"], { cwd: dir });
    expect(other.env_id).toBe(first.env_id);
  });

  test("--json reports the result; --name names it; a taken name is refused before any work", () => {
    const store = tempDir("store");
    const a = kJson<Built>(store, ["build", "--name", "web"], { cwd: project({ packages: ["a"] }) });
    expect(a).toMatchObject({ name: "web", status: "built", replaced: null, lock_written: true });
    expect(Object.keys(a).sort()).toEqual(["env_id", "lock_file", "lock_written", "name", "replaced", "short_id", "status"]);
    const objectsOf = (): number => {
      const s = openStore(store);
      const n = s.objects.list().length;
      s.close();
      return n;
    };
    const objectsBefore = objectsOf();

    const clash = k(store, ["build", "--name", "web"], { cwd: project({ packages: ["b"] }) });
    expect(clash.code).toBe(3);
    expect(errorLines(clash).error).toBe(`error: name 'web' is already used by environment ${a.short_id}`);
    expect(errorLines(clash).hint).toContain("rename that environment");
    expect(listEnvs(store).length).toBe(1);
    expect(objectsOf()).toBe(objectsBefore);

    const bad = k(store, ["build", "--name", "no spaces"], { cwd: project({ packages: ["b"] }) });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("invalid environment name 'no spaces'");

    // Building an existing environment with --name renames it.
    const renamed = kJson<Built>(store, ["build", "--name", "web2"], { cwd: project({ packages: ["a"] }) });
    expect(renamed).toMatchObject({ env_id: a.env_id, name: "web2", status: "unchanged" });
  });

  test("--locked: needs a lock, fails on manifest drift and on resolution drift (exit 2), never rewrites the lock", () => {
    const store = tempDir("store");
    const dir = project({ packages: ["git"] });
    const noLock = k(store, ["build", "--locked"], { cwd: dir });
    expect(noLock.code).toBe(2);
    expect(errorLines(noLock).error).toContain("--locked needs a lock file, and there is none");
    expect(errorLines(noLock).hint).toContain("without --locked");

    const built = kJson<Built>(store, ["build"], { cwd: dir });
    const lockText = readFileSync(join(dir, "karapace.lock"), "utf8");
    expect(kJson<Built>(store, ["build", "--locked"], { cwd: dir })).toMatchObject({ env_id: built.env_id, status: "unchanged", lock_written: false });

    // The package universe moved on: same manifest, other versions.
    const moved = k(store, ["build", "--locked"], { cwd: dir, env: { KARAPACE_MOCK_PACKAGE_VERSION: "2.0.0" } });
    expect(moved.code).toBe(2);
    expect(errorLines(moved).error).toContain("locked mode: the lock's env_id");
    expect(errorLines(moved).error).toContain("git 0.0.0-mock -> 2.0.0");
    expect(errorLines(moved).hint).toContain("without --locked");

    // The manifest asks for more than the lock has.
    writeFileSync(join(dir, "karapace.toml"), manifestText({ packages: ["git", "vim"] }));
    const drift = k(store, ["build", "--locked"], { cwd: dir });
    expect(drift.code).toBe(2);
    expect(errorLines(drift).error).toContain(`manifest drift: package "vim" is in the manifest but not in the lock file`);
    expect(readFileSync(join(dir, "karapace.lock"), "utf8")).toBe(lockText);
    expect(listEnvs(store).map((e) => e.env_id)).toEqual([built.env_id]);

    // Without --locked the drift is resolved and the lock rewritten.
    const fresh = kJson<Built>(store, ["build"], { cwd: dir, env: { KARAPACE_MOCK_PACKAGE_VERSION: "2.0.0" } });
    expect(fresh.env_id).not.toBe(built.env_id);
    expect(fresh.lock_written).toBe(true);
    expect(readFileSync(join(dir, "karapace.lock"), "utf8")).toContain('version = "2.0.0"');
  });

  test("--offline takes versions from the lock (with --locked), and refuses to resolve packages without one", () => {
    const store = tempDir("store");
    const dir = project({ packages: ["git"] });
    const refused = k(store, ["build", "--offline"], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(errorLines(refused).error).toBe("error: offline mode: cannot resolve system packages without a lock");
    const online = kJson<Built>(store, ["build"], { cwd: dir, env: { KARAPACE_MOCK_PACKAGE_VERSION: "1.5" } });
    // Offline, the resolver is not asked (it would answer 0.0.0-mock): the lock's 1.5 is built.
    k(store, ["destroy", online.env_id]);
    const offline = kJson<Built>(store, ["build", "--offline", "--locked"], { cwd: dir });
    expect(offline).toMatchObject({ env_id: online.env_id, status: "built" });
    expect(readFileSync(join(store, "env", online.env_id, "upper", ".pkg-git"), "utf8")).toBe("git@1.5");
    // No packages: nothing to resolve, so offline needs no lock.
    expect(k(tempDir("store"), ["build", "--offline"], { cwd: project({ packages: [] }) }).code).toBe(0);
  });

  test("--require-pinned-image refuses an image name (exit 2) and accepts an http(s) URL", () => {
    const store = tempDir("store");
    const named = k(store, ["build", "--require-pinned-image"], { cwd: project({ packages: [] }) });
    expect(named.code).toBe(2);
    expect(errorLines(named).error).toContain('base image "debian/bookworm" is not pinned');
    const url = project({ image: "https://images.example.org/debian/bookworm/rootfs.tar.xz" });
    expect(k(store, ["build", "--require-pinned-image"], { cwd: url }).code).toBe(0);
  });

  test("manifest problems exit 2, an unavailable backend exits 1, and nothing is left in the store", () => {
    const store = tempDir("store");
    const missing = k(store, ["build"], { cwd: tempDir("empty") });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("karapace.toml");

    const dir = tempDir("bad");
    writeFileSync(join(dir, "karapace.toml"), "manifest_version = 1\n[base]\nimage = 7\n");
    expect(k(store, ["build"], { cwd: dir }).code).toBe(2);

    const ns = k(store, ["build"], { cwd: project({ backend: "oci" }) });
    expect(ns.code).toBe(1);
    expect(errorLines(ns).error).toBe("error: the oci runtime backend is not available in this version of karapace yet");
    expect(errorLines(ns).hint).toContain('backend = "namespace"');
    const s = openStore(store);
    expect({ envs: s.metadata.count(), objects: s.objects.list(), staging: readdirSync(s.layout.stagingDir), wal: s.wal.count() }).toEqual({ envs: 0, objects: [], staging: [], wal: 0 });
    s.close();
  });

  test("the lifecycle walk: build -> list -> inspect -> rename -> freeze -> archive -> destroy", () => {
    const store = tempDir("store");
    const built = kJson<Built>(store, ["build", "--name", "walk"], { cwd: project({ packages: ["htop"] }) });
    const list = k(store, ["list"]);
    expect(list.stdout).toBe(`SHORT_ID      NAME  STATE  ENV_ID\n${built.short_id}  walk  built  ${built.env_id}\n`);
    expect(kJson<{ state: string; name: string }>(store, ["inspect", "walk"])).toMatchObject({ state: "Built", name: "walk" });
    expect(kJson(store, ["rename", built.short_id, "walked"])).toMatchObject({ name: "walked", previous_name: "walk", changed: true });
    expect(kJson(store, ["freeze", "walked"])).toMatchObject({ state: "Frozen", status: "frozen" });
    const refreeze = k(store, ["freeze", "walked"]);
    expect(refreeze.code).toBe(1);
    expect(errorLines(refreeze).error).toBe("error: cannot move environment walked from frozen to frozen: from frozen it can only go to built, archived");
    expect(kJson(store, ["archive", built.env_id.slice(0, 20)])).toMatchObject({ state: "Archived" });
    const freezeArchived = k(store, ["freeze", "walked"]);
    expect(errorLines(freezeArchived).error).toBe("error: cannot move environment walked from archived to frozen: from archived it can only go to built");
    expect(errorLines(freezeArchived).hint).toContain("karapace build");
    expect(listEnvs(store)[0]?.state).toBe("Archived");
    expect(kJson(store, ["destroy", "walked"])).toMatchObject({ env_id: built.env_id, status: "destroyed" });
    expect(listEnvs(store)).toEqual([]);
    expect(existsSync(join(store, "env", built.env_id))).toBe(false);
    expect(k(store, ["inspect", "walked"]).code).toBe(1);
  });

  test("an archived environment is built again by building its manifest", () => {
    const store = tempDir("store");
    const dir = project({ packages: ["jq"] });
    const built = kJson<Built>(store, ["build"], { cwd: dir });
    kJson(store, ["archive", built.short_id]);
    expect(kJson<Built>(store, ["build"], { cwd: dir })).toMatchObject({ env_id: built.env_id, status: "unchanged" });
    expect(listEnvs(store)[0]?.state).toBe("Built");
  });

  test("Ctrl-C (SIGINT) during a build: exit 1, nothing of the build is kept, the store verifies", async () => {
    const store = tempDir("store");
    kJson(store, ["build"], { cwd: project({ packages: ["before"] }) });
    const before = listEnvs(store);
    const objects = readdirSync(join(store, "store", "objects")).sort();
    const proc = Bun.spawn([process.execPath, BIN, "--store", store, "build"], {
      cwd: project({ packages: ["big"] }),
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1", KARAPACE_MOCK_PAYLOAD_BYTES: String(256 << 20) },
    });
    // Interrupt once the build is under way in staging.
    const staging = join(store, "store", "staging");
    const deadline = Date.now() + 20_000;
    while (readdirSync(staging).length === 0 && Date.now() < deadline) await Bun.sleep(2);
    proc.kill("SIGINT");
    const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(code).toBe(1);
    expect(err).toContain("SIGINT: stopping at the next safe point");
    expect(err).toContain("error: build interrupted; nothing of it was kept");
    expect(err).toContain("hint: run 'karapace build' again to start over");
    expect(listEnvs(store)).toEqual(before);
    expect(readdirSync(staging)).toEqual([]);
    expect(readdirSync(join(store, "env"))).toEqual(before.map((e) => e.env_id));
    expect(readdirSync(join(store, "store", "objects")).sort()).toEqual(objects);
    expect(k(store, ["verify-store"]).code).toBe(0);
  }, 60_000);
});
