/** The Engine's API as the D-Bus service and the TUI will use it: results, refs, aborts, and the mock backend. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Engine, lockWaitMessage } from "../../src/engine/index.ts";
import { GeneralError, RuntimeError } from "../../src/errors.ts";
import { selectBackend } from "../../src/runtime/backend.ts";
import { MockBackend } from "../../src/runtime/mock.ts";
import { normalizeDocument } from "../../src/schema/normalize.ts";
import { NoStoreError, openStore } from "../../src/store/index.ts";
import { cleanupTemp, expectedMockEnvId, project, tempDir } from "./helpers.ts";

afterAll(cleanupTemp);

const manifestOf = (packages: string[]) => join(project({ packages }), "karapace.toml");

function storeContents(root: string): { envs: number; objects: string[]; layers: string[]; staging: string[]; envDirs: string[]; wal: number } {
  const s = openStore(root);
  try {
    return {
      envs: s.metadata.count(),
      objects: s.objects.list(),
      layers: s.layers.list(),
      staging: readdirSync(s.layout.stagingDir),
      envDirs: readdirSync(s.layout.envDir),
      wal: s.wal.count(),
    };
  } finally {
    s.close();
  }
}

describe("Engine", () => {
  test("build, list, inspect, destroy", async () => {
    const root = tempDir("store");
    const engine = new Engine({ root });
    try {
      const built = await engine.build(manifestOf(["git"]), { name: "api" });
      expect(built.env_id).toBe(await expectedMockEnvId("debian/bookworm", ["git"]));
      expect(built).toMatchObject({ name: "api", status: "built", replaced: null, lock_written: true });
      expect(built.metadata).toMatchObject({ state: "Built", ref_count: 1, dependency_layers: [], policy_layer: null });
      expect(engine.list().environments.map((m) => m.env_id)).toEqual([built.env_id]);
      const info = await engine.inspect("api");
      expect(info.metadata.env_id).toBe(built.env_id);
      expect(info.manifest?.system_packages).toEqual(["git"]);
      expect(info.env_dir_exists).toBe(true);
      expect(await engine.destroy(built.short_id)).toMatchObject({ status: "destroyed", ref_count: 0 });
      expect(engine.list()).toEqual({ environments: [], corrupt: [] });
    } finally {
      engine.close();
    }
  });

  test("building a running environment's manifest leaves it running; rebuilding it is refused", async () => {
    const root = tempDir("store");
    const engine = new Engine({ root });
    const m = manifestOf(["live"]);
    const built = await engine.build(m);
    engine.store().metadata.setState(built.env_id, "Running");
    expect(await engine.build(m)).toMatchObject({ status: "unchanged", metadata: { state: "Running" } });
    await expect(engine.rebuild(m)).rejects.toThrow(`cannot rebuild environment ${built.short_id}: it is running`);
    expect((await engine.inspect(built.env_id)).metadata.state).toBe("Running");
    engine.close();
  });

  test("a missing store: list is empty, gc has nothing to do, verify and inspect are store errors", async () => {
    const engine = new Engine({ root: join(tempDir("nostore"), "none") });
    expect(engine.list().environments).toEqual([]);
    expect((await engine.gc()).removed_objects).toBe(0);
    await expect(engine.verifyStore()).rejects.toBeInstanceOf(NoStoreError);
    await expect(engine.inspect("x")).rejects.toBeInstanceOf(NoStoreError);
    expect((await engine.migrate()).status).toBe("no_store");
  });

  test("an aborted build keeps nothing: no row, no directory, no new object or layer, no staging entry", async () => {
    const root = tempDir("store");
    const engine = new Engine({ root });
    await engine.build(manifestOf(["base"]));
    const before = storeContents(root);

    const early = new AbortController();
    early.abort();
    await expect(engine.build(manifestOf(["one"]), { signal: early.signal })).rejects.toThrow("build interrupted; nothing of it was kept");
    expect(storeContents(root)).toEqual(before);

    // Aborted after the layer capture began: everything written so far is rolled back.
    const late = new AbortController();
    const steps: string[] = [];
    const watching = new Engine({
      root,
      logger: {
        warn: (m) => steps.push(`warn ${m}`),
        debug: (m) => {
          steps.push(m);
          if (m.startsWith("build: packing")) late.abort();
        },
      },
    });
    await expect(watching.build(manifestOf(["two"]), { signal: late.signal })).rejects.toBeInstanceOf(GeneralError);
    expect(steps.some((s) => s.startsWith("build: packing"))).toBe(true);
    expect(steps.filter((s) => s.startsWith("warn"))).toEqual([]);
    expect(storeContents(root)).toEqual(before);
    watching.close();
    engine.close();
  });

  test("an aborted rebuild leaves the old environment as it was", async () => {
    const root = tempDir("store");
    const dir = project({ packages: ["old"] });
    const engine = new Engine({ root });
    const old = await engine.build(join(dir, "karapace.toml"), { name: "keep" });
    const before = storeContents(root);
    const ac = new AbortController();
    ac.abort();
    await expect(engine.rebuild(join(dir, "karapace.toml"), { signal: ac.signal })).rejects.toThrow("rebuild interrupted");
    expect(storeContents(root)).toEqual(before);
    expect((await engine.inspect("keep")).metadata.env_id).toBe(old.env_id);
    engine.close();
  });

  test("a name equal to another environment's short id makes the reference ambiguous, not silently one of them", async () => {
    const root = tempDir("store");
    const engine = new Engine({ root });
    const a = await engine.build(manifestOf(["a"]));
    const b = await engine.build(manifestOf(["b"]));
    await engine.rename(b.env_id, a.short_id);
    await expect(engine.inspect(a.short_id)).rejects.toThrow(`'${a.short_id}' matches 2 environments`);
    expect((await engine.inspect(a.env_id)).metadata.env_id).toBe(a.env_id);
    engine.close();
  });

  test("the lock-wait message names the holder's pid and command", () => {
    expect(lockWaitMessage({ pid: 42, start: 1, command: "karapace build", since: "2026-01-01T00:00:00.000Z" })).toBe(
      "waiting for the store lock, held by pid 42 (karapace build, since 2026-01-01T00:00:00.000Z)",
    );
    expect(lockWaitMessage(undefined)).toBe("waiting for the store lock, held by another process");
  });
});

describe("mock backend", () => {
  const manifest = (packages: string[]) => {
    const r = normalizeDocument({ manifest_version: 1n, base: { image: "rolling" }, system: { packages }, runtime: { backend: "mock" } });
    if (!r.ok) throw new Error("bad manifest");
    return r.manifest;
  };

  test("resolution is the reference's: blake3('mock-image:<image>') and 0.0.0-mock for every package, deterministic", async () => {
    const spec = { manifest: manifest(["git", "clang", "cmake"]), envDir: "/nonexistent", storeRoot: "/nonexistent", offline: false };
    const one = await new MockBackend({}).resolve(spec);
    const two = await new MockBackend({}).resolve(spec);
    expect(one).toEqual(two);
    // blake3("mock-image:rolling"), computed by the reference's mock.rs.
    const { blake3 } = await import("hash-wasm");
    expect(one.base_image_digest).toBe(await blake3("mock-image:rolling"));
    expect(one.resolved_packages).toEqual([
      { name: "clang", version: "0.0.0-mock" },
      { name: "cmake", version: "0.0.0-mock" },
      { name: "git", version: "0.0.0-mock" },
    ]);
    expect((await new MockBackend({ packageVersion: "9" }).resolve(spec)).resolved_packages[0]?.version).toBe("9");
  });

  test("build writes the mock's files; enter marks it running; destroy forgets it", async () => {
    const dir = join(tempDir("mock"), "env");
    const backend = new MockBackend({ payloadBytes: 5000 });
    const m = manifest(["git"]);
    const resolution = await backend.resolve({ manifest: m, envDir: dir, storeRoot: dir, offline: false });
    await backend.build({ manifest: m, envDir: dir, storeRoot: dir, offline: false, envId: "e".repeat(64), resolution });
    expect(readdirSync(join(dir, "upper")).sort()).toEqual([".karapace-mock", ".mock-payload", ".pkg-git"]);
    expect(existsSync(join(dir, "work")) && existsSync(join(dir, "merged"))).toBe(true);
    const spec = { envId: "e".repeat(64), envDir: dir, storeRoot: dir, manifest: m, offline: false };
    expect((await backend.status(spec.envId)).running).toBe(false);
    await backend.enter(spec);
    expect(await backend.status(spec.envId)).toEqual({ envId: spec.envId, running: true, pid: 99999 });
    await expect(backend.enter(spec)).rejects.toBeInstanceOf(RuntimeError);
    await backend.destroy(spec);
    expect((await backend.status(spec.envId)).running).toBe(false);
  });

  test("selectBackend: mock and namespace load; oci is not available yet; anything else is unknown", async () => {
    expect((await selectBackend("mock")).name).toBe("mock");
    expect((await selectBackend("namespace")).name).toBe("namespace");
    await expect(selectBackend("oci")).rejects.toThrow("not available in this version");
    await expect(selectBackend("lxc")).rejects.toThrow("unknown runtime backend 'lxc'");
  });
});
