/**
 * Desktop launchers for an environment's `gui.apps`: one `.desktop` file per
 * app in $XDG_DATA_HOME/applications (default ~/.local/share/applications),
 * named `karapace-<short_id>-<app>.desktop` as in the reference, whose Exec
 * line runs `karapace exec <env_id> -- <app>` with the karapace that wrote
 * it. Files are written atomically; removal touches only files that carry
 * our name pattern AND our `X-Karapace-EnvId` line, so nothing a user or
 * another program put there is ever deleted.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { ManifestError, RuntimeError } from "../../errors.ts";
import { writeFileAtomic } from "../../schema/atomic-write.ts";
import { checkAppName } from "../../schema/rules.ts";
import { controlCharProblem, escapeStringValue, execValue } from "./desktop-entry.ts";

export interface DesktopExportRequest {
  envId: string;
  shortId: string;
  /** The environment's name, shown in the launcher's title; null for unnamed environments. */
  name: string | null;
  apps: readonly string[];
  /** How to start this karapace: the compiled binary, or bun plus the entry script; may end with `--store <dir>`. */
  karapaceArgv: readonly string[];
  /** Where XDG_DATA_HOME and HOME are read (default: process.env). */
  env?: Record<string, string | undefined>;
}

export interface DesktopExportResult {
  dir: string;
  /** Absolute paths written, in app order. */
  written: string[];
  /** Launchers of this environment for apps no longer listed. */
  removed: string[];
}

export interface DesktopLocation {
  env?: Record<string, string | undefined>;
}

/** $XDG_DATA_HOME/applications; a relative XDG_DATA_HOME is ignored, as the XDG spec says. */
export function applicationsDir(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, "applications");
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
  return join(home, ".local", "share", "applications");
}

function filePrefix(shortId: string): string {
  return `karapace-${shortId}-`;
}

export function desktopFileName(shortId: string, app: string): string {
  return `${filePrefix(shortId)}${app}.desktop`;
}

/** App names become file names and argv elements: no separators, no control characters, no option-like names. */
export function checkDesktopAppName(app: string): void {
  const problem =
    app === "." || app === ".."
      ? "is not a program name"
      : app.includes("/")
        ? "contains '/', but an app is named by its program name, not a path"
        : (controlCharProblem(app) ?? checkAppName(app));
  if (problem !== undefined) {
    throw new ManifestError(`gui.apps entry ${JSON.stringify(app)} ${problem}`, { hint: "list the program's name as it is found on PATH inside the environment, e.g. \"firefox\"" });
  }
}

function checkIds(envId: string, shortId: string): void {
  if (!/^[0-9a-f]{64}$/.test(envId) || shortId !== envId.slice(0, 12)) {
    throw new RuntimeError(`invalid environment id for desktop export: ${JSON.stringify(envId)} / ${JSON.stringify(shortId)}`);
  }
}

export function renderDesktopEntry(req: DesktopExportRequest, app: string): string {
  const label = req.name ?? req.shortId;
  const [program] = req.karapaceArgv;
  const lines = [
    "[Desktop Entry]",
    "Type=Application",
    "Version=1.5",
    `Name=${escapeStringValue(`${app} (${label})`)}`,
    `Comment=${escapeStringValue(`${app} in the Karapace environment ${label}`)}`,
    `Exec=${execValue([...req.karapaceArgv, "exec", req.envId, "--", app])}`,
    ...(program !== undefined && isAbsolute(program) ? [`TryExec=${escapeStringValue(program)}`] : []),
    `Icon=${escapeStringValue(app)}`,
    "Terminal=false",
    "Categories=X-Karapace;",
    `X-Karapace-EnvId=${req.envId}`,
    `X-Karapace-App=${escapeStringValue(app)}`,
  ];
  return `${lines.join("\n")}\n`;
}

/** Is `path` a regular file we wrote for `envId`? */
function isOurs(path: string, envId: string): boolean {
  try {
    if (!lstatSync(path).isFile()) return false;
    return readFileSync(path, "utf8").split("\n").includes(`X-Karapace-EnvId=${envId}`);
  } catch {
    return false;
  }
}

function ourFiles(dir: string, envId: string): string[] {
  const prefix = filePrefix(envId.slice(0, 12));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(prefix) && n.endsWith(".desktop"))
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => isOurs(p, envId));
}

function ioFailure(error: unknown, doing: string): RuntimeError {
  return new RuntimeError(`${doing}: ${(error as Error).message}`, { hint: "check that the applications directory is writable", cause: error });
}

/**
 * Writes (or rewrites) one launcher per app and removes this environment's
 * launchers for apps no longer listed. Every app name is checked before any
 * file is touched.
 */
export function exportDesktopApps(req: DesktopExportRequest): DesktopExportResult {
  checkIds(req.envId, req.shortId);
  if (req.karapaceArgv.length === 0) throw new RuntimeError("desktop export needs the command that starts karapace");
  for (const app of req.apps) checkDesktopAppName(app);
  const apps = [...new Set(req.apps)];
  const dir = applicationsDir(req.env);
  const contents = apps.map((app) => [app, renderDesktopEntry(req, app)] as const);
  const written: string[] = [];
  if (apps.length > 0) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw ioFailure(error, `creating ${dir}`);
    }
  }
  for (const [app, text] of contents) {
    const path = join(dir, desktopFileName(req.shortId, app));
    try {
      writeFileAtomic(path, text);
    } catch (error) {
      throw ioFailure(error, `writing ${path}`);
    }
    written.push(path);
  }
  const keep = new Set(written);
  const removed = ourFiles(dir, req.envId).filter((p) => !keep.has(p));
  for (const path of removed) rmSync(path, { force: true });
  return { dir, written, removed };
}

/** Removes every launcher of `envId` (on destroy); returns the paths removed. */
export function removeDesktopApps(envId: string, options: DesktopLocation = {}): string[] {
  const dir = applicationsDir(options.env);
  const removed = ourFiles(dir, envId);
  for (const path of removed) {
    try {
      rmSync(path, { force: true });
    } catch (error) {
      throw ioFailure(error, `removing ${path}`);
    }
  }
  return removed;
}

/** The apps `envId` has launchers for. */
export function listDesktopApps(envId: string, options: DesktopLocation = {}): string[] {
  const prefix = filePrefix(envId.slice(0, 12));
  return ourFiles(applicationsDir(options.env), envId).map((p) => p.slice(p.lastIndexOf("/") + 1 + prefix.length, -".desktop".length));
}
