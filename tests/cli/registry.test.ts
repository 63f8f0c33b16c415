import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { HIDDEN_COMMANDS, REGISTERED_COMMANDS } from "../../src/cli/registry.ts";
import { describeCli } from "../../src/cli/spec.ts";
import { REPO } from "./helpers.ts";

describe("registry", () => {
  const model = describeCli(REGISTERED_COMMANDS);

  test("every file in src/cli/commands is registered", () => {
    const files = readdirSync(join(REPO, "src/cli/commands")).filter((file) => file.endsWith(".ts"));
    expect(files.length).toBe(REGISTERED_COMMANDS.length + HIDDEN_COMMANDS.length);
  });

  test("command paths are unique", () => {
    const names = model.commands.map((command) => command.name);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const command of model.commands) {
    test(`${command.name} is documented: description, details, examples, every option and argument`, () => {
      expect(command.description).not.toBe("");
      expect(command.details.length).toBeGreaterThan(0);
      expect(command.examples.length).toBeGreaterThan(0);
      for (const option of command.options) expect({ option: option.names, description: option.description }).not.toEqual({ option: option.names, description: "" });
      for (const positional of command.positionals) expect(positional.description).not.toBe("");
      // Options without a description would be inlined into the usage line and
      // mistaken for positionals by the spec parser.
      expect(command.synopsis).not.toMatch(/[[<]-/);
    });
  }
});

describe("startup cost", () => {
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  const HEAVY = ["src/engine/", "src/store/", "src/images/", "src/runtime/", "src/remote/", "src/schema/", "src/hot/", "wasm/"];

  /** Every module loaded before main() runs: the static import graph of src/cli/main.ts. */
  async function startupModules(): Promise<{ files: string[]; packages: string[] }> {
    const files = new Set<string>();
    const packages = new Set<string>();
    const queue = [join(REPO, "src/cli/main.ts")];
    while (queue.length > 0) {
      const file = queue.pop() ?? "";
      if (files.has(file)) continue;
      files.add(file);
      if (!file.endsWith(".ts")) continue;
      const source = (await Bun.file(file).text()).replace(/^#!.*\n/, "");
      for (const entry of transpiler.scanImports(source)) {
        if (entry.kind !== "import-statement") continue;
        if (entry.path.startsWith(".")) queue.push(resolve(dirname(file), entry.path));
        else packages.add(entry.path);
      }
    }
    return { files: [...files].map((file) => relative(REPO, file)).sort(), packages: [...packages].sort() };
  }

  test("no heavy layer is imported statically on the way to main", async () => {
    const { files } = await startupModules();
    const heavy = files.filter((file) => HEAVY.some((prefix) => file.startsWith(prefix)));
    expect(heavy).toEqual([]);
  });

  test("the only package loaded at startup is clipanion (plus node builtins)", async () => {
    const { packages } = await startupModules();
    expect(packages.filter((name) => !name.startsWith("node:"))).toEqual(["clipanion"]);
  });
});
