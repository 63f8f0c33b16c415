import { describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { resolveLogLevel, resolveStorePath } from "../../src/cli/global-options.ts";
import { Output, colorEnabled, makeStyle, renderKeyValue, renderTable, visibleWidth } from "../../src/cli/output.ts";

class Capture extends Writable {
  text = "";
  constructor(readonly isTTY = false) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe("tables", () => {
  test("columns line up and lines carry no trailing spaces", () => {
    const text = renderTable([["abc", "1", "x"], ["a", "12345", ""]], { header: ["NAME", "SIZE", "NOTE"] });
    expect(text).toBe("NAME  SIZE   NOTE\nabc   1      x\na     12345\n");
  });

  test("right alignment", () => {
    expect(renderTable([["a", "1"], ["b", "100"]], { align: ["left", "right"] })).toBe("a    1\nb  100\n");
  });

  test("colour codes do not count towards the width", () => {
    const style = makeStyle(true);
    expect(visibleWidth(style.red("abc"))).toBe(3);
    const text = renderTable([[style.bold("ab"), "x"], ["abcd", "y"]]);
    expect(text.split("\n")[0]).toBe(`${style.bold("ab")}    x`);
  });

  test("key/value blocks", () => {
    expect(renderKeyValue([["env_id", "abc"], ["state", "built"]])).toBe("env_id: abc\nstate:  built\n");
  });
});

describe("colour", () => {
  test("only on a terminal", () => {
    expect(colorEnabled(new Capture(true), {})).toBe(true);
    expect(colorEnabled(new Capture(false), {})).toBe(false);
  });
  test("never with NO_COLOR or TERM=dumb", () => {
    expect(colorEnabled(new Capture(true), { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled(new Capture(true), { TERM: "dumb" })).toBe(false);
    expect(colorEnabled(new Capture(true), { NO_COLOR: "" })).toBe(true);
  });
});

describe("Output", () => {
  function make(json: boolean, level: "warn" | "debug" = "warn") {
    const stdout = new Capture();
    const stderr = new Capture();
    return { stdout, stderr, out: new Output({ stdout, stderr, json, level, env: {} }) };
  }

  test("--json writes the value and never calls the human renderer", () => {
    const { stdout, out } = make(true);
    out.result({ a: 1 }, () => {
      throw new Error("human output in JSON mode");
    });
    expect(JSON.parse(stdout.text)).toEqual({ a: 1 });
  });

  test("human mode renders through the writer", () => {
    const { stdout, out } = make(false);
    out.result({ a: 1 }, (w) => {
      w.line("title");
      w.keyValue([["a", "1"]]);
    });
    expect(stdout.text).toBe("title\na: 1\n");
  });

  test("a second result is a bug and is refused", () => {
    const { out } = make(true);
    out.result(1, () => {});
    expect(() => out.result(2, () => {})).toThrow("two results");
  });

  test("logs go to stderr, filtered by level", () => {
    const { stdout, stderr, out } = make(false, "warn");
    out.log.warn("careful");
    out.log.info("hidden");
    out.log.debug("hidden");
    expect(stderr.text).toBe("warn: careful\n");
    expect(stdout.text).toBe("");
    const verbose = make(false, "debug");
    verbose.out.log.debug("shown");
    verbose.out.log.trace("hidden");
    expect(verbose.stderr.text).toBe("debug: shown\n");
  });
});

describe("resolveStorePath", () => {
  test("--store wins and ~ is expanded", () => {
    expect(resolveStorePath("/srv/k", { HOME: "/home/u" })).toBe("/srv/k");
    expect(resolveStorePath("~/k", { HOME: "/home/u" })).toBe("/home/u/k");
  });
  test("XDG_DATA_HOME, then ~/.local/share", () => {
    expect(resolveStorePath(undefined, { HOME: "/home/u", XDG_DATA_HOME: "/data" })).toBe("/data/karapace");
    expect(resolveStorePath(undefined, { HOME: "/home/u" })).toBe("/home/u/.local/share/karapace");
  });
  test("a relative XDG_DATA_HOME is ignored, as the spec says", () => {
    expect(resolveStorePath(undefined, { HOME: "/home/u", XDG_DATA_HOME: "data" })).toBe("/home/u/.local/share/karapace");
  });
});

describe("resolveLogLevel", () => {
  test("flags", () => {
    expect(resolveLogLevel({ verbose: false, trace: false }, {}).level).toBe("warn");
    expect(resolveLogLevel({ verbose: true, trace: false }, {}).level).toBe("debug");
    expect(resolveLogLevel({ verbose: true, trace: true }, {}).level).toBe("trace");
  });
  test("KARAPACE_LOG overrides the flags", () => {
    expect(resolveLogLevel({ verbose: true, trace: false }, { KARAPACE_LOG: "error" }).level).toBe("error");
    expect(resolveLogLevel({ verbose: false, trace: false }, { KARAPACE_LOG: "INFO" }).level).toBe("info");
  });
  test("an unknown KARAPACE_LOG falls back to the flags with a warning", () => {
    const resolved = resolveLogLevel({ verbose: true, trace: false }, { KARAPACE_LOG: "loud" });
    expect(resolved.level).toBe("debug");
    expect(resolved.warning).toContain("KARAPACE_LOG=loud");
  });
});
