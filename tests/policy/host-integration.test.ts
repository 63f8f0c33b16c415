import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseBusAddress } from "../../src/runtime/host/integration.ts";
import { policyForManifest, planSandbox } from "../../src/runtime/policy/index.ts";
import { context, hostWith, manifestOf, tempDir } from "./helpers.ts";

const { dir: run, cleanup } = tempDir("xdg-run");
const listeners: { stop(): void }[] = [];

/** A real listening unix socket, as a compositor or sound server would leave one. */
function socketAt(path: string): string {
  listeners.push(Bun.listen({ unix: path, socket: { data() {} } }));
  return path;
}

afterAll(() => {
  for (const l of listeners) l.stop();
  cleanup();
});

mkdirSync(join(run, "pulse"));
const home = join(run, "home");
mkdirSync(home);
socketAt(join(run, "wayland-1"));
socketAt(join(run, "bus"));
socketAt(join(run, "pipewire-0"));
socketAt(join(run, "pulse", "native"));
const agent = socketAt(join(run, "agent.sock"));
const xauth = join(run, "xauth");
writeFileSync(xauth, "cookie");
const x11 = hostWith({ "/tmp/.X11-unix/X42": "socket" });

const desktopEnv = {
  XDG_RUNTIME_DIR: run,
  WAYLAND_DISPLAY: "wayland-1",
  DISPLAY: ":42",
  XAUTHORITY: xauth,
  DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(run, "bus")},guid=0123`,
  SSH_AUTH_SOCK: agent,
};

const bindFor = (plan: ReturnType<typeof planSandbox>, reason: string) => plan.binds.find((b) => b.reason === reason);

describe("host integration", () => {
  test("without gui apps or hardware flags, only the home directory is shared", () => {
    const plan = planSandbox(context(manifestOf(""), { hostEnv: desktopEnv, fs: x11, home }));
    expect(plan.binds).toEqual([{ source: home, target: home, readOnly: false, file: false, reason: "home directory" }]);
    expect(plan.env.HOME).toBe(home);
    for (const key of ["WAYLAND_DISPLAY", "DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XAUTHORITY", "XDG_RUNTIME_DIR", "SSH_AUTH_SOCK"]) {
      expect(plan.env[key]).toBeUndefined();
    }
  });

  test("gui.apps shares Wayland, X11, the session bus and host fonts", () => {
    const plan = planSandbox(context(manifestOf(`[gui]\napps = ["gedit"]\n`), { hostEnv: desktopEnv, fs: x11, uid: 1234, home }));
    expect(bindFor(plan, "wayland socket")).toEqual({ source: join(run, "wayland-1"), target: "/run/user/1234/wayland-1", readOnly: false, file: true, reason: "wayland socket" });
    expect(bindFor(plan, "x11 socket")?.target).toBe("/tmp/.X11-unix/X42");
    expect(bindFor(plan, "x11 authority file")).toMatchObject({ source: xauth, target: xauth, readOnly: true });
    expect(bindFor(plan, "d-bus session bus")).toMatchObject({ source: join(run, "bus"), target: "/run/user/1234/bus" });
    expect(plan.env).toMatchObject({
      WAYLAND_DISPLAY: "wayland-1",
      DISPLAY: ":42",
      XAUTHORITY: xauth,
      DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1234/bus",
      XDG_RUNTIME_DIR: "/run/user/1234",
    });
    for (const b of plan.binds.filter((b) => b.reason.startsWith("host "))) {
      expect(b.readOnly).toBe(true);
      expect(b.source.startsWith("/usr/share/")).toBe(true);
    }
    expect(plan.warnings).toEqual([]);
  });

  test("hardware.audio shares the PipeWire and PulseAudio sockets", () => {
    const plan = planSandbox(context(manifestOf(`[hardware]\naudio = true\n`), { hostEnv: desktopEnv, fs: hostWith({ "/dev/snd": "dir" }) }));
    expect(bindFor(plan, "pipewire socket")?.target).toBe("/run/user/1000/pipewire-0");
    expect(bindFor(plan, "pulseaudio socket")?.target).toBe("/run/user/1000/pulse/native");
    expect(bindFor(plan, "wayland socket")).toBeUndefined();
    expect(plan.devices).toEqual(["/dev/snd"]);
  });

  test("the SSH agent is forwarded only when the policy does not deny SSH_AUTH_SOCK", () => {
    const manifest = manifestOf("");
    expect(planSandbox(context(manifest, { hostEnv: desktopEnv })).binds).toEqual([]);
    expect(planSandbox(context(manifest, { hostEnv: desktopEnv })).warnings).toEqual(["home directory /nonexistent-home/user does not exist; not shared"]);
    const policy = policyForManifest(manifest);
    const open = { ...policy, deniedEnv: policy.deniedEnv.filter((k) => k !== "SSH_AUTH_SOCK") };
    const plan = planSandbox(context(manifest, { hostEnv: desktopEnv, policy: open }));
    expect(bindFor(plan, "ssh agent")).toMatchObject({ source: agent, target: "/run/user/1000/ssh-agent.socket" });
    expect(plan.env.SSH_AUTH_SOCK).toBe("/run/user/1000/ssh-agent.socket");
  });

  test("what the host cannot give becomes warnings", () => {
    const gui = manifestOf(`[gui]\napps = ["gedit"]\n[hardware]\naudio = true\n`);
    const nothing = planSandbox(context(gui, { hostEnv: {}, fs: hostWith({ "/dev/snd": "missing" }) }));
    expect(nothing.binds.filter((b) => !b.reason.startsWith("host "))).toEqual([]);
    const text = nothing.warnings.join("\n");
    expect(text).toContain("no display to share");
    expect(text).toContain("no D-Bus session bus");
    expect(text).toContain("no PipeWire or PulseAudio socket");
    const stale = planSandbox(context(gui, { hostEnv: { XDG_RUNTIME_DIR: run, WAYLAND_DISPLAY: "wayland-9", DISPLAY: ":77" }, fs: hostWith({ "/dev/snd": "dir" }) }));
    expect(stale.warnings.some((w) => w.includes("wayland-9"))).toBe(true);
    expect(stale.warnings.some((w) => w.includes("/tmp/.X11-unix/X77"))).toBe(true);
  });

  test("a manifest mount on the same target wins over host integration", () => {
    const fonts = join(run, "myfonts");
    mkdirSync(fonts);
    const manifest = manifestOf(`[gui]\napps = ["gedit"]\n[mounts]\nfonts = "${fonts}:/usr/share/fonts"\n`);
    const plan = planSandbox(context(manifest, { hostEnv: desktopEnv, fs: x11 }));
    expect(plan.binds.filter((b) => b.target === "/usr/share/fonts").map((b) => b.source)).toEqual([fonts]);
  });

  test("D-Bus addresses: the first unix path, percent-escapes decoded; abstract-only noted", () => {
    expect(parseBusAddress("unix:path=/run/user/1000/bus")).toEqual({ path: "/run/user/1000/bus", abstract: false });
    expect(parseBusAddress("tcp:host=x,port=1;unix:path=/tmp/a%20b,guid=1")).toEqual({ path: "/tmp/a b", abstract: false });
    expect(parseBusAddress("unix:abstract=/tmp/dbus-XYZ,guid=1")).toEqual({ abstract: true });
  });
});
