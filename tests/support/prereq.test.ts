import { expect, test } from "bun:test";
import { requireTool } from "./prereq.ts";

test("requireTool returns the absolute path of a present tool", () => {
  expect(requireTool("sh")).toMatch(/^\/.*\/sh$/);
});

test("requireTool finds sbin tools off an unprivileged PATH", () => {
  const saved = process.env.PATH;
  process.env.PATH = "/usr/bin:/bin";
  try {
    expect(requireTool("debootstrap")).toMatch(/sbin\/debootstrap$/);
  } finally {
    process.env.PATH = saved;
  }
});

test("requireTool names the tool and the package that provides it", () => {
  expect(() => requireTool("karapace-no-such-tool")).toThrow(
    "missing prerequisite: karapace-no-such-tool (install: apt-get install karapace-no-such-tool)",
  );
});

test("requireTool names the Debian package when it differs from the tool", () => {
  const saved = process.env.PATH;
  process.env.PATH = "/nonexistent";
  try {
    expect(() => requireTool("busybox")).toThrow("missing prerequisite: busybox (install: apt-get install busybox-static)");
  } finally {
    process.env.PATH = saved;
  }
});
