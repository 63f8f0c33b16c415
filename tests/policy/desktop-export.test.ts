import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ManifestError } from "../../src/errors.ts";
import { execValue, parseExecValue, quoteExecArgument } from "../../src/runtime/host/desktop-entry.ts";
import { applicationsDir, exportDesktopApps, listDesktopApps, removeDesktopApps } from "../../src/runtime/host/desktop-export.ts";
import { tempDir } from "./helpers.ts";

const ENV_ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const OTHER_ID = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const { dir: root, cleanup } = tempDir("desktop");
afterAll(cleanup);

function entryValue(text: string, key: string): string {
  const line = text.split("\n").find((l) => l.startsWith(`${key}=`));
  if (line === undefined) throw new Error(`no ${key}= line in:\n${text}`);
  return line.slice(key.length + 1);
}

describe("Exec escaping (Desktop Entry Specification)", () => {
  const nasty = ["/opt/my apps/karapace", "--store", `/tmp/st$ore "q" \`x\` 100% back\\slash`, "exec", ENV_ID, "--", "it's;a|b&c>(d)*?#~"];

  test("quoting follows the spec's rules", () => {
    expect(quoteExecArgument("plain-arg_1.0")).toBe("plain-arg_1.0");
    expect(quoteExecArgument("a b")).toBe('"a b"');
    expect(quoteExecArgument('say "hi" $HOME `x` \\')).toBe('"say \\"hi\\" \\$HOME \\`x\\` \\\\"');
    expect(quoteExecArgument("100%")).toBe("100%%");
    expect(quoteExecArgument("")).toBe('""');
    // the string layer doubles every backslash the quoting layer wrote
    expect(execValue(["a\\b c"])).toBe('"a\\\\\\\\b c"');
  });

  test("argv survives escape and unescape unchanged", () => {
    expect(parseExecValue(execValue(nasty))).toEqual(nasty);
    for (const arg of ["", " ", "%%", "\\\\", '"', "$", "a\"b'c", "é ü 漢字"]) {
      expect(parseExecValue(execValue(["/bin/x", arg]))).toEqual(["/bin/x", arg]);
    }
  });

  test("control characters are refused", () => {
    expect(() => execValue(["/bin/x", "a\nb"])).toThrow(/control character/);
  });
});

describe("desktop export", () => {
  const dataHome = join(root, "data");
  const env = { XDG_DATA_HOME: dataHome, HOME: join(root, "home") };
  const apps = join(dataHome, "applications");
  const karapaceArgv = ["/opt/my apps/karapace", "--store", join(root, "st$ore 100%")];

  test("the directory follows XDG_DATA_HOME, else ~/.local/share", () => {
    expect(applicationsDir(env)).toBe(apps);
    expect(applicationsDir({ HOME: "/home/u", XDG_DATA_HOME: "relative/ignored" })).toBe("/home/u/.local/share/applications");
  });

  test("one launcher per app, whose Exec runs `karapace exec <env> -- <app>`", () => {
    const result = exportDesktopApps({ envId: ENV_ID, shortId: ENV_ID.slice(0, 12), name: "web", apps: ["firefox", "org.gnome.gedit"], karapaceArgv, env });
    expect(result.written).toEqual([join(apps, "karapace-0123456789ab-firefox.desktop"), join(apps, "karapace-0123456789ab-org.gnome.gedit.desktop")]);
    const text = readFileSync(result.written[0] as string, "utf8");
    expect(text.startsWith("[Desktop Entry]\n")).toBe(true);
    expect(entryValue(text, "Type")).toBe("Application");
    expect(entryValue(text, "Name")).toBe("firefox (web)");
    expect(entryValue(text, "X-Karapace-EnvId")).toBe(ENV_ID);
    expect(entryValue(text, "TryExec")).toBe("/opt/my apps/karapace");
    expect(parseExecValue(entryValue(text, "Exec"))).toEqual([...karapaceArgv, "exec", ENV_ID, "--", "firefox"]);
    expect(listDesktopApps(ENV_ID, { env })).toEqual(["firefox", "org.gnome.gedit"]);
    // atomic writes leave no temp files behind
    expect(readdirSync(apps).filter((n) => !n.endsWith(".desktop"))).toEqual([]);
  });

  test("the launcher really starts the command it names", () => {
    const script = join(root, "fake karapace");
    writeFileSync(script, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
    chmodSync(script, 0o755);
    const r = exportDesktopApps({ envId: ENV_ID, shortId: ENV_ID.slice(0, 12), name: null, apps: ["firefox"], karapaceArgv: [script, "--store", "/a b/$c"], env });
    const argv = parseExecValue(entryValue(readFileSync(r.written[0] as string, "utf8"), "Exec"));
    const out = Bun.spawnSync(argv, { stdout: "pipe" }).stdout.toString();
    expect(out).toBe(["--store", "/a b/$c", "exec", ENV_ID, "--", "firefox", ""].join("\n"));
    expect(r.removed).toEqual([join(apps, "karapace-0123456789ab-org.gnome.gedit.desktop")]);
  });

  test("bad app names are refused before any file is written", () => {
    for (const bad of ["../evil", "a/b", "bad\nname", "", "-rf", ".."]) {
      let error: unknown;
      try {
        exportDesktopApps({ envId: OTHER_ID, shortId: OTHER_ID.slice(0, 12), name: null, apps: ["fine", bad], karapaceArgv, env });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ManifestError);
    }
    expect(listDesktopApps(OTHER_ID, { env })).toEqual([]);
  });

  test("removal deletes only this environment's own launchers", () => {
    exportDesktopApps({ envId: OTHER_ID, shortId: OTHER_ID.slice(0, 12), name: null, apps: ["firefox"], karapaceArgv, env });
    // a file with our name pattern but not written by us, and a symlink to one of ours
    const foreign = join(apps, "karapace-0123456789ab-handmade.desktop");
    writeFileSync(foreign, "[Desktop Entry]\nType=Application\nName=mine\nExec=true\n");
    const link = join(apps, "karapace-0123456789ab-link.desktop");
    symlinkSync(join(apps, "karapace-0123456789ab-firefox.desktop"), link);

    const removed = removeDesktopApps(ENV_ID, { env });
    expect(removed).toEqual([join(apps, "karapace-0123456789ab-firefox.desktop")]);
    expect(existsSync(foreign)).toBe(true);
    expect(readdirSync(apps)).toContain("karapace-0123456789ab-link.desktop");
    expect(listDesktopApps(OTHER_ID, { env })).toEqual(["firefox"]);
    expect(removeDesktopApps(ENV_ID, { env })).toEqual([]);
  });
});
