/**
 * Host integration: what an environment borrows from the desktop session it
 * runs in. Unlike the reference, which shares the display, the session bus
 * and the sound server with every environment, each is tied to the manifest
 * flag that needs it (least privilege: the session bus alone is enough to
 * ask the host's systemd to run anything outside the sandbox):
 *
 *   gui.apps non-empty  Wayland socket, X11 socket + DISPLAY/XAUTHORITY,
 *                       the D-Bus session bus, host fonts/icons/themes (read-only)
 *   hardware.audio      PipeWire and PulseAudio sockets (plus /dev/snd, policy/devices.ts)
 *   hardware.gpu        only devices (policy/devices.ts)
 *   SSH agent           forwarded only if the policy does not deny SSH_AUTH_SOCK
 *                       (the default policy does)
 *   always              the user's home directory, at the same path (as the
 *                       reference does: a development environment works on
 *                       the user's files)
 *
 * Sockets from $XDG_RUNTIME_DIR land in /run/user/<uid> inside, and the
 * variables point there. Anything missing on the host becomes a warning.
 */
import { basename, isAbsolute } from "node:path";
import type { NormalizedManifest } from "../../schema/types.ts";
import type { SecurityPolicy } from "../policy/security-policy.ts";
import type { BindMount } from "../sandbox-plan.ts";
import type { HostFs } from "./host-fs.ts";

export const SHARED_READ_ONLY_DIRS: readonly string[] = ["/usr/share/fonts", "/usr/share/icons", "/usr/share/themes"];
export const X11_SOCKET_DIR = "/tmp/.X11-unix";

export interface IntegrationContext {
  manifest: NormalizedManifest;
  hostEnv: Record<string, string | undefined>;
  /** The user's home directory on the host. */
  home: string;
  uid: number;
  policy: SecurityPolicy;
  fs: HostFs;
  isolateNetwork: boolean;
  /** Container paths already bound by manifest mounts; what the user declared wins. */
  claimedTargets: ReadonlySet<string>;
}

export interface HostIntegration {
  binds: BindMount[];
  env: Record<string, string>;
  warnings: string[];
}

export function runtimeDirInside(uid: number): string {
  return `/run/user/${uid}`;
}

class Collector {
  readonly binds: BindMount[] = [];
  readonly env: Record<string, string> = {};
  readonly warnings: string[] = [];
  constructor(private readonly ctx: IntegrationContext) {}

  bind(source: string, target: string, reason: string, options: { readOnly?: boolean; file: boolean }): void {
    if (this.ctx.claimedTargets.has(target) || this.binds.some((b) => b.target === target)) return;
    this.binds.push({ source, target, readOnly: options.readOnly ?? false, file: options.file, reason });
  }
}

function hostRuntimeDir(env: Record<string, string | undefined>): string | undefined {
  const dir = env.XDG_RUNTIME_DIR;
  return dir !== undefined && isAbsolute(dir) ? dir : undefined;
}

export function computeHostIntegration(ctx: IntegrationContext): HostIntegration {
  const out = new Collector(ctx);
  const runInside = runtimeDirInside(ctx.uid);
  shareHome(ctx, out);
  if (ctx.manifest.gui_apps.length > 0) shareDisplay(ctx, out, runInside);
  if (ctx.manifest.hardware_audio) shareSoundServer(ctx, out, runInside);
  shareSshAgent(ctx, out, runInside);
  if (out.binds.some((b) => b.target.startsWith(`${runInside}/`))) out.env.XDG_RUNTIME_DIR = runInside;
  return { binds: out.binds, env: out.env, warnings: out.warnings };
}

function shareHome(ctx: IntegrationContext, out: Collector): void {
  if (!isAbsolute(ctx.home) || ctx.home === "/") return;
  let source: string;
  try {
    source = ctx.fs.realpath(ctx.home);
  } catch {
    out.warnings.push(`home directory ${ctx.home} does not exist; not shared`);
    return;
  }
  // A home that resolves to / or into the host's own trees would share far more than a home.
  if (source === "/" || ["/proc", "/sys", "/dev"].some((r) => source === r || source.startsWith(`${r}/`))) return;
  if (ctx.fs.kind(source) === "dir") out.bind(source, ctx.home, "home directory", { file: false });
}

function shareDisplay(ctx: IntegrationContext, out: Collector, runInside: string): void {
  const { hostEnv, fs } = ctx;
  const hostRun = hostRuntimeDir(hostEnv);
  const wayland = hostEnv.WAYLAND_DISPLAY;
  const display = hostEnv.DISPLAY;
  if ((wayland === undefined || wayland === "") && (display === undefined || display === "")) {
    out.warnings.push("gui.apps: no display to share (neither WAYLAND_DISPLAY nor DISPLAY is set); apps cannot open windows");
  }

  if (wayland !== undefined && wayland !== "") {
    const socket = isAbsolute(wayland) ? wayland : hostRun === undefined ? undefined : `${hostRun}/${wayland}`;
    if (socket !== undefined && fs.kind(socket) === "socket") {
      const name = basename(socket);
      out.bind(socket, `${runInside}/${name}`, "wayland socket", { file: true });
      out.env.WAYLAND_DISPLAY = name;
    } else {
      out.warnings.push(`gui.apps: WAYLAND_DISPLAY=${wayland} but there is no Wayland socket at ${socket ?? "$XDG_RUNTIME_DIR (unset)"}`);
    }
  }

  if (display !== undefined && display !== "") {
    out.env.DISPLAY = display;
    const local = /^(?:unix)?:(\d+)(?:\.\d+)?$/.exec(display);
    if (local !== null) {
      const socket = `${X11_SOCKET_DIR}/X${local[1]}`;
      if (fs.kind(socket) === "socket") out.bind(socket, socket, "x11 socket", { file: true });
      else out.warnings.push(`gui.apps: DISPLAY=${display} but there is no X11 socket at ${socket}`);
    } else if (ctx.isolateNetwork) {
      out.warnings.push(`gui.apps: DISPLAY=${display} is reached over the network, which network_isolation cuts off`);
    }
    const xauthority = hostEnv.XAUTHORITY;
    if (xauthority !== undefined && isAbsolute(xauthority) && fs.kind(xauthority) === "file") {
      out.bind(xauthority, xauthority, "x11 authority file", { file: true, readOnly: true });
      out.env.XAUTHORITY = xauthority;
    }
  }

  shareSessionBus(ctx, out, runInside, hostRun);
  for (const dir of SHARED_READ_ONLY_DIRS) {
    if (fs.kind(dir) === "dir") out.bind(dir, dir, `host ${basename(dir)} (read-only)`, { file: false, readOnly: true });
  }
}

/** The first `unix:path=` of a D-Bus address list, or whether it only offers abstract sockets. */
export function parseBusAddress(address: string): { path?: string; abstract: boolean } {
  let abstract = false;
  for (const entry of address.split(";")) {
    if (!entry.startsWith("unix:")) continue;
    for (const pair of entry.slice(5).split(",")) {
      const eq = pair.indexOf("=");
      const key = pair.slice(0, eq);
      const value = decodeBusValue(pair.slice(eq + 1));
      if (key === "path" && isAbsolute(value)) return { path: value, abstract: false };
      if (key === "abstract") abstract = true;
    }
  }
  return { abstract };
}

/** D-Bus addresses percent-escape bytes outside a small safe set. */
function decodeBusValue(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function shareSessionBus(ctx: IntegrationContext, out: Collector, runInside: string, hostRun: string | undefined): void {
  const address = ctx.hostEnv.DBUS_SESSION_BUS_ADDRESS;
  const parsed = address === undefined ? { abstract: false } : parseBusAddress(address);
  const socket = parsed.path ?? (hostRun === undefined ? undefined : `${hostRun}/bus`);
  if (socket !== undefined && ctx.fs.kind(socket) === "socket") {
    out.bind(socket, `${runInside}/bus`, "d-bus session bus", { file: true });
    out.env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${runInside}/bus`;
  } else if (parsed.abstract && address !== undefined) {
    // Abstract sockets live in the network namespace: reachable only when it is shared.
    if (ctx.isolateNetwork) out.warnings.push("gui.apps: the D-Bus session bus is an abstract socket, which network_isolation cuts off");
    else out.env.DBUS_SESSION_BUS_ADDRESS = address;
  } else {
    out.warnings.push("gui.apps: no D-Bus session bus found; apps that need it (portals, notifications) will not work");
  }
}

function shareSoundServer(ctx: IntegrationContext, out: Collector, runInside: string): void {
  const hostRun = hostRuntimeDir(ctx.hostEnv);
  let shared = false;
  if (hostRun !== undefined) {
    for (const [name, reason] of [
      ["pipewire-0", "pipewire socket"],
      ["pulse/native", "pulseaudio socket"],
    ] as const) {
      const socket = `${hostRun}/${name}`;
      if (ctx.fs.kind(socket) === "socket") {
        out.bind(socket, `${runInside}/${name}`, reason, { file: true });
        shared = true;
      }
    }
  }
  if (!shared) out.warnings.push("hardware.audio: no PipeWire or PulseAudio socket in $XDG_RUNTIME_DIR; only the sound devices are shared");
}

function shareSshAgent(ctx: IntegrationContext, out: Collector, runInside: string): void {
  if (ctx.policy.deniedEnv.includes("SSH_AUTH_SOCK")) return;
  const socket = ctx.hostEnv.SSH_AUTH_SOCK;
  if (socket === undefined || !isAbsolute(socket) || ctx.fs.kind(socket) !== "socket") return;
  const target = `${runInside}/ssh-agent.socket`;
  out.bind(socket, target, "ssh agent", { file: true });
  out.env.SSH_AUTH_SOCK = target;
}
