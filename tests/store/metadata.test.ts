import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { blake3Hex } from "../../wasm/index.ts";
import { StoreError } from "../../src/errors.ts";
import {
  allowedTransitions,
  assertTransition,
  canTransition,
  canonicalMetadata,
  CorruptionError,
  ENV_STATES,
  EnvNotFoundError,
  type EnvState,
  InvalidTransitionError,
  NameError,
  type Store,
} from "../../src/store/index.ts";
import { child, envId, newStore, removeRoot, sampleMeta, tempRoot } from "./helpers.ts";

const root = tempRoot("metadata");
const store: Store = newStore(root);
afterAll(() => {
  store.close();
  removeRoot(root);
});

/** A second, independent connection: what a bit flip on disk or another tool would do to a row. */
function tamper(sql: string, ...params: string[]): void {
  const db = new Database(store.layout.dbFile);
  try {
    db.query(sql).run(...params);
  } finally {
    db.close();
  }
}

describe("rows and checksums", () => {
  test("put/get/has/list/remove round trip", () => {
    const meta = sampleMeta({ dependency_layers: [blake3Hex("d1"), blake3Hex("d2")], policy_layer: blake3Hex("p") });
    const written = store.metadata.put(meta);
    expect(store.metadata.get(meta.env_id)).toEqual(written);
    expect(written).toEqual({ ...meta, checksum: written.checksum });
    expect(store.metadata.has(meta.env_id)).toBe(true);
    expect(store.metadata.list().map((m) => m.env_id)).toContain(meta.env_id);
    expect(store.metadata.remove(meta.env_id)).toBe(true);
    expect(store.metadata.has(meta.env_id)).toBe(false);
    expect(() => store.metadata.get(meta.env_id)).toThrow(EnvNotFoundError);
    expect(store.metadata.find(meta.env_id)).toBeUndefined();
  });

  test("the checksum is blake3 of the reference's pretty JSON without the checksum field", () => {
    const id = "a".repeat(64);
    const meta = sampleMeta({ env_id: id, short_id: "aaaaaaaaaaaa", name: "dev", manifest_hash: "m", base_layer: "b", dependency_layers: ["d"] });
    const text = `{
  "env_id": "${id}",
  "short_id": "aaaaaaaaaaaa",
  "name": "dev",
  "state": "Built",
  "manifest_hash": "m",
  "base_layer": "b",
  "dependency_layers": [
    "d"
  ],
  "policy_layer": null,
  "created_at": "2025-01-01T00:00:00Z",
  "updated_at": "2025-01-01T00:00:00Z",
  "ref_count": 1
}`;
    expect(canonicalMetadata(meta)).toBe(text);
    expect(store.metadata.put(meta).checksum).toBe(blake3Hex(text));
    store.metadata.remove(id);
  });

  const corruptions: Array<[string, (id: string) => void]> = [
    ["one character of base_layer", (id) => tamper("UPDATE environments SET base_layer = 'f' || substr(base_layer, 2) WHERE env_id = ?", id)],
    ["the state", (id) => tamper("UPDATE environments SET state = 'Frozen' WHERE env_id = ?", id)],
    ["the ref_count", (id) => tamper("UPDATE environments SET ref_count = 7 WHERE env_id = ?", id)],
    ["the checksum itself", (id) => tamper("UPDATE environments SET checksum = (CASE WHEN substr(checksum, 1, 1) = '0' THEN '1' ELSE '0' END) || substr(checksum, 2) WHERE env_id = ?", id)],
    ["dependency_layers made invalid JSON", (id) => tamper("UPDATE environments SET dependency_layers = '[\"x\"' WHERE env_id = ?", id)],
    ["the state made unknown", (id) => tamper("UPDATE environments SET state = 'Bilt' WHERE env_id = ?", id)],
  ];
  for (const [what, corrupt] of corruptions) {
    test(`a row with ${what} changed behind our back is detected`, () => {
      const meta = sampleMeta({ base_layer: `0${blake3Hex("b").slice(1)}` });
      store.metadata.put(meta);
      corrupt(meta.env_id);
      expect(() => store.metadata.get(meta.env_id)).toThrow(CorruptionError);
      const seen: string[] = [];
      expect(store.metadata.list((id) => seen.push(id)).map((m) => m.env_id)).not.toContain(meta.env_id);
      expect(seen).toEqual([meta.env_id]);
      const checked = store.metadata.checkAll().find((c) => c.env_id === meta.env_id);
      expect(checked !== undefined && "problem" in checked).toBe(true);
      // A corrupt row is not silently "repaired" by an update either.
      expect(() => store.metadata.setState(meta.env_id, "Frozen")).toThrow(CorruptionError);
      store.metadata.remove(meta.env_id);
    });
  }

  test("invalid rows are refused before they reach the table", () => {
    expect(() => store.metadata.put(sampleMeta({ env_id: "../escape" }))).toThrow(/env_id/);
    expect(() => store.metadata.put(sampleMeta({ ref_count: -1 }))).toThrow(/ref_count/);
    expect(() => store.metadata.put(sampleMeta({ state: "Bogus" as EnvState }))).toThrow(/state/);
  });
});

describe("names", () => {
  test("rename validates, enforces uniqueness and can clear", () => {
    const a = store.metadata.put(sampleMeta());
    const b = store.metadata.put(sampleMeta());
    expect(store.metadata.rename(a.env_id, "my-env_1").name).toBe("my-env_1");
    expect(store.metadata.rename(a.env_id, "my-env_1").name).toBe("my-env_1");
    for (const bad of ["", "has space", "has/slash", "has.dot", "x".repeat(65)]) {
      expect(() => store.metadata.rename(b.env_id, bad)).toThrow(NameError);
    }
    expect(() => store.metadata.rename(b.env_id, "my-env_1")).toThrow(`name 'my-env_1' is already used by environment ${a.short_id}`);
    expect(() => store.metadata.rename(b.env_id, "my-env_1")).toThrow(StoreError);
    expect(store.metadata.get(b.env_id).name).toBeNull();
    expect(store.metadata.rename(a.env_id, null).name).toBeNull();
    expect(store.metadata.rename(b.env_id, "my-env_1").name).toBe("my-env_1");
    expect(store.metadata.rename(b.env_id, "x".repeat(64)).name).toBe("x".repeat(64));
  });

  test("resolve by env_id, short_id, name and unique prefix", () => {
    const m = store.metadata.put(sampleMeta({ env_id: `abcdef${blake3Hex("r1").slice(6)}`, name: "resolver" }));
    const other = store.metadata.put(sampleMeta({ env_id: `abcd00${blake3Hex("r2").slice(6)}` }));
    const found = (ref: string): string | undefined => {
      const r = store.metadata.resolve(ref);
      return r.kind === "found" ? r.meta.env_id : r.kind;
    };
    expect(found(m.env_id)).toBe(m.env_id);
    expect(found(m.short_id)).toBe(m.env_id);
    expect(found("resolver")).toBe(m.env_id);
    expect(found("abcdef")).toBe(m.env_id);
    expect(found("abcd0")).toBe(other.env_id);
    expect(found("abcd")).toBe("ambiguous");
    expect(found("zzz")).toBe("none");
    expect(found("*")).toBe("none");
    expect(found("")).toBe("none");
  });
});

describe("counters and state", () => {
  test("ref counting saturates at zero", () => {
    const m = store.metadata.put(sampleMeta());
    expect(store.metadata.incrementRef(m.env_id).ref_count).toBe(2);
    expect(store.metadata.decrementRef(m.env_id).ref_count).toBe(1);
    expect(store.metadata.decrementRef(m.env_id).ref_count).toBe(0);
    expect(store.metadata.decrementRef(m.env_id).ref_count).toBe(0);
  });

  test("setState follows the lifecycle and names what is allowed", () => {
    const m = store.metadata.put(sampleMeta({ state: "Defined", name: "lifecycle" }));
    expect(() => store.metadata.setState(m.env_id, "Running")).toThrow(InvalidTransitionError);
    expect(() => store.metadata.setState(m.env_id, "Running")).toThrow(
      "cannot move environment lifecycle from defined to running: from defined it can only go to built",
    );
    expect(store.metadata.setState(m.env_id, "Built").state).toBe("Built");
    expect(store.metadata.setState(m.env_id, "Frozen").state).toBe("Frozen");
    expect(() => store.metadata.setState(m.env_id, "Running")).toThrow("from frozen it can only go to built, archived");
    expect(store.metadata.get(m.env_id).state).toBe("Frozen");
  });

  test("two processes bumping one counter 50 times each lose no update", async () => {
    const m = store.metadata.put(sampleMeta({ ref_count: 1 }));
    const procs = [child("bump-ref.ts", [root, m.env_id, "50"]), child("bump-ref.ts", [root, m.env_id, "50"])];
    const codes = await Promise.all(procs.map((p) => p.exited));
    const errors = await Promise.all(procs.map((p) => new Response(p.stderr).text()));
    expect({ codes, errors }).toEqual({ codes: [0, 0], errors: ["", ""] });
    expect(store.metadata.get(m.env_id).ref_count).toBe(101);
  });
});

describe("lifecycle (the reference's lifecycle.rs table)", () => {
  const valid: Array<[EnvState, EnvState]> = [
    ["Defined", "Built"],
    ["Built", "Built"],
    ["Built", "Running"],
    ["Built", "Frozen"],
    ["Running", "Built"],
    ["Running", "Frozen"],
    ["Frozen", "Built"],
    ["Built", "Archived"],
    ["Frozen", "Archived"],
    ["Archived", "Built"],
  ];
  test("exactly the reference's transitions are allowed", () => {
    const allowed: string[] = [];
    for (const from of ENV_STATES) for (const to of ENV_STATES) if (canTransition(from, to)) allowed.push(`${from}->${to}`);
    expect(allowed.sort()).toEqual(valid.map(([a, b]) => `${a}->${b}`).sort());
    for (const from of ENV_STATES) expect(allowedTransitions(from).every((to) => canTransition(from, to))).toBe(true);
  });
  test("the reference's invalid examples throw", () => {
    for (const [from, to] of [
      ["Defined", "Running"],
      ["Defined", "Frozen"],
      ["Archived", "Running"],
      ["Running", "Defined"],
      ["Frozen", "Running"],
    ] as Array<[EnvState, EnvState]>) {
      expect(() => assertTransition(from, to, "env x")).toThrow(InvalidTransitionError);
    }
  });
});

test("an unused env id is not found, and not a store error", () => {
  expect(() => store.metadata.get(envId())).toThrow(EnvNotFoundError);
  let kind: string | undefined;
  try {
    store.metadata.get(envId());
  } catch (e) {
    kind = (e as EnvNotFoundError).kind;
  }
  expect(kind).toBe("general");
});
