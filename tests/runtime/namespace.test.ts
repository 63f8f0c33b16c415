/**
 * The namespace backend on a busybox environment, run as an unprivileged
 * user with the compiled binary: real user, mount, pid, uts and network
 * namespaces, real overlay mounts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { SHARED_READ_ONLY_DIRS } from "../../src/runtime/host/integration.ts";
import { giveToTestUser } from "../support/rootless.ts";
import { join } from "node:path";
import { manifest, Scenario, until } from "./helpers.ts";

/** Whether some process's command line contains `text` (read from /proc, no procps needed). */
function processMentioning(text: string): boolean {
  return readdirSync("/proc").some((pid) => {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text);
    } catch {
      return false;
    }
  });
}

/** Whether some process runs exactly this argv (read from /proc, no procps needed). */
function processRunning(argv: readonly string[]): boolean {
  const wanted = `${argv.join("\0")}\0`;
  return readdirSync("/proc").some((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8") === wanted;
    } catch {
      return false;
    }
  });
}

let s: Scenario;
let rootfs: string;
let project: string;

beforeAll(async () => {
  s = new Scenario("ns");
  rootfs = await s.busybox();
  project = s.project("bb", manifest(rootfs));
  const r = await s.kp(["build", "--name", "bb"], { cwd: project });
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
});

afterAll(() => s?.cleanup());

describe("namespace backend: busybox environment", () => {
  test("the build wrote a lock and the environment is built", async () => {
    const lock = readFileSync(join(project, "karapace.lock"), "utf8");
    expect(lock).toContain('runtime_backend = "namespace"');
    expect(await s.state("bb")).toBe("Built");
    const envId = /env_id = "([0-9a-f]{64})"/.exec(lock)?.[1] ?? "";
    expect(existsSync(join(s.store, "env", envId, "upper"))).toBe(true);
  });

  test("exec prints the command's output", async () => {
    const r = await s.kp(["exec", "bb", "--", "echo", "hello from inside"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello from inside\n");
    expect(r.code).toBe(0);
  });

  test("the command's exit code becomes karapace's", async () => {
    expect((await s.kp(["exec", "bb", "--", "sh", "-c", "exit 7"])).code).toBe(7);
    expect((await s.kp(["exec", "bb", "--", "false"])).code).toBe(1);
  });

  test("stdin is passed through", async () => {
    const r = await s.kp(["exec", "bb", "--", "tr", "a-z", "A-Z"], { stdin: "piped text\n" });
    expect(r.stdout).toBe("PIPED TEXT\n");
  });

  test("runs as root of its own pid namespace (under karapace's init), with /proc, /dev and a fresh /tmp", async () => {
    const r = await s.kp(["exec", "bb", "--", "sh", "-c", "id -u; [ $$ -gt 1 ] && echo not-init; ps -o pid= -o comm= | sort -n | head -1; test -c /dev/null && echo devnull; grep -c ' /tmp tmpfs ' /proc/mounts"]);
    expect(r.stdout.split("\n").map((l) => l.trim().replace(/\s+/g, " "))).toEqual(["0", "not-init", "1 sh", "devnull", "1", ""]);
  });

  test("a file written in one exec is there in the next", async () => {
    expect((await s.kp(["exec", "bb", "--", "sh", "-c", "echo kept > /root/note"])).code).toBe(0);
    const r = await s.kp(["exec", "bb", "--", "cat", "/root/note"]);
    expect(r.stdout).toBe("kept\n");
  });

  test("the hostname is the environment's name", async () => {
    expect((await s.kp(["exec", "bb", "--", "hostname"])).stdout).toBe("bb\n");
  });

  test("a denied host variable is not visible inside, an allowed one is", async () => {
    const r = await s.kp(["exec", "bb", "--", "sh", "-c", 'echo "[$SSH_AUTH_SOCK][$LANG]"'], {
      env: { SSH_AUTH_SOCK: "/tmp/agent.sock", LANG: "C.UTF-8" },
    });
    expect(r.stdout).toBe("[][C.UTF-8]\n");
  });

  test("network isolation leaves only the loopback interface", async () => {
    const isolated = s.project("iso", manifest(rootfs, "network_isolation = true\n"));
    const b = await s.kp(["build", "--name", "iso"], { cwd: isolated });
    expect(b.stderr).not.toContain("error");
    expect(b.code).toBe(0);
    const interfaces = async (ref: string): Promise<string[]> => {
      const r = await s.kp(["exec", ref, "--", "cat", "/proc/net/dev"]);
      return r.stdout.split("\n").filter((l) => l.includes(":")).map((l) => l.split(":")[0]?.trim() ?? "");
    };
    expect(await interfaces("iso")).toEqual(["lo"]);
    // Without isolation the host's interfaces are there too.
    expect((await interfaces("bb")).length).toBeGreaterThan(1);
  });

  test("an allowed mount is bound read-write, also with blanks in its paths", async () => {
    const dir = s.project("shared dir", `${manifest(rootfs)}\n[mounts]\nwork = "./:/work space"\n`);
    writeFileSync(join(dir, "from host.txt"), "hello\n");
    giveToTestUser(join(dir, "from host.txt"));
    const b = await s.kp(["build", "--name", "shared"], { cwd: dir });
    expect(b.stderr).not.toContain("error");
    expect(b.code).toBe(0);
    const r = await s.kp(["exec", "shared", "--", "sh", "-c", "cat '/work space/from host.txt' && echo back > '/work space/from inside.txt'"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello\n");
    expect(readFileSync(join(dir, "from inside.txt"), "utf8")).toBe("back\n");
  });

  test("gui.apps shares the host's fonts, icons and themes read-only", async () => {
    const shared = SHARED_READ_ONLY_DIRS.filter((d) => existsSync(d));
    if (shared.length === 0) throw new Error(`prerequisite missing: one of ${SHARED_READ_ONLY_DIRS.join(", ")} on the host (apt-get install fonts-dejavu-core)`);
    const dir = s.project("gui", manifest(rootfs, '\n[gui]\napps = ["xterm"]\n'));
    const b = await s.kp(["build", "--name", "gui"], { cwd: dir });
    expect(b.code).toBe(0);
    for (const d of shared) {
      const r = await s.kp(["exec", "gui", "--", "sh", "-c", `test -d '${d}' && echo there; touch '${d}/karapace-probe' 2>/dev/null || echo read-only`]);
      expect(r.stdout).toBe("there\nread-only\n");
    }
    expect(existsSync(join(s.home, ".local/share/applications"))).toBe(true);
  });

  test("memory_limit_mb is enforced on what runs inside", async () => {
    const dir = s.project("small", manifest(rootfs, "\n[runtime.resource_limits]\nmemory_limit_mb = 64\n"));
    expect((await s.kp(["build", "--name", "small"], { cwd: dir })).code).toBe(0);
    const allocate = (bytes: number): string[] => ["exec", "small", "--", "sh", "-c", `x=$(head -c ${bytes} /dev/zero | tr '\\0' a); echo \${#x}`];
    const below = await s.kp(allocate(1_000_000));
    expect(below.stdout).toBe("1000000\n");
    expect(below.code).toBe(0);
    const beyond = await s.kp(allocate(200_000_000));
    expect(beyond.stdout).not.toBe("200000000\n");
    expect(beyond.code).not.toBe(0);
    // Whichever mechanism the host offers, karapace says what it enforces when it is not a cgroup.
    if (!beyond.stderr.includes("systemd")) expect(below.stderr + beyond.stderr).toContain("memory_limit_mb = 64");
  });

  test("a mount outside the allowlist is refused at build time", async () => {
    const bad = s.project("bad", `${manifest(rootfs)}\n[mounts]\nsecrets = "/etc:/mnt/etc"\n`);
    const r = await s.kp(["build"], { cwd: bad });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: mount 'secrets': /etc is outside the allowed directories");
    expect(existsSync(join(bad, "karapace.lock"))).toBe(false);
  });

  test("stop ends a long-running exec and the state returns to built", async () => {
    const proc = s.spawn(["exec", "bb", "--", "sleep", "3001"]);
    await until("the environment to be running", async () => (await s.state("bb")) === "Running");
    const stop = await s.kp(["stop", "bb", "--timeout", "1", "--json"]);
    expect(stop.stderr).toBe("");
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ name: "bb", stopped: 1, killed: false, state: "built" });
    // SIGTERM reached the command although nothing inside handles it: 128 + 15.
    expect(await proc.exited).toBe(128 + 15);
    expect(await s.state("bb")).toBe("Built");
    expect((await s.kp(["stop", "bb"])).stderr).toContain("is not running");
  });

  test("a command that ignores SIGTERM is killed when the timeout passes", async () => {
    const proc = s.spawn(["exec", "bb", "--", "sh", "-c", "trap '' TERM; sleep 3003"]);
    await until("the environment to be running", async () => (await s.state("bb")) === "Running");
    await Bun.sleep(200);
    const stop = await s.kp(["stop", "bb", "--timeout", "1", "--json"]);
    expect(JSON.parse(stop.stdout)).toMatchObject({ stopped: 1, killed: true, state: "built" });
    expect(await proc.exited).toBe(128 + 9);
    expect(processRunning(["sleep", "3003"])).toBe(false);
  });

  test("a command that handles SIGTERM ends on stop without waiting for the timeout", async () => {
    const proc = s.spawn(["exec", "bb", "--", "sh", "-c", "trap 'echo got-term; exit 3' TERM; while :; do sleep 0.1; done"]);
    await until("the environment to be running", async () => (await s.state("bb")) === "Running");
    await Bun.sleep(200);
    const started = Date.now();
    const stop = await s.kp(["stop", "bb", "--timeout", "30", "--json"]);
    expect(JSON.parse(stop.stdout)).toMatchObject({ stopped: 1, killed: false });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await proc.exited).toBe(3);
    expect(await new Response(proc.stdout).text()).toBe("got-term\n");
  });

  test("two execs at once: running until the last one ends", async () => {
    const long = s.spawn(["exec", "bb", "--", "sleep", "1.5"]);
    await until("the environment to be running", async () => (await s.state("bb")) === "Running");
    const short = await s.kp(["exec", "bb", "--", "echo", "concurrent"]);
    expect(short.stdout).toBe("concurrent\n");
    expect(await s.state("bb")).toBe("Running");
    expect(await long.exited).toBe(0);
    expect(await s.state("bb")).toBe("Built");
  });

  test("the command does not inherit the sandbox's lifeline (fd 3)", async () => {
    const r = await s.kp(["exec", "bb", "--", "sh", "-c", 'readlink "/proc/$$/fd/3" || echo "no fd 3"']);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: "no fd 3\n" });
  });

  test("SIGKILL of karapace during exec leaves Running, which the next command cleans up", async () => {
    const proc = s.spawn(["exec", "bb", "--", "sleep", "3002"]);
    await until("the environment to be running", async () => (await s.state("bb")) === "Running");
    proc.kill("SIGKILL");
    await proc.exited;
    // The sandbox dies with karapace (its lifeline socket reads end-of-file), so nothing of it is left
    // running: not the command, nor the sandbox's unshare and init, whose arguments name the environment.
    const envId = /env_id = "([0-9a-f]{64})"/.exec(readFileSync(join(project, "karapace.lock"), "utf8"))?.[1] ?? "";
    expect(envId).not.toBe("");
    await until("the sandbox to die", () => !processRunning(["sleep", "3002"]) && !processMentioning(envId), 5_000);
    const r = await s.kp(["list", "--json"]);
    const bb = (JSON.parse(r.stdout) as Array<{ name: string; state: string }>).find((e) => e.name === "bb");
    expect(bb?.state).toBe("Built");
  });
});
