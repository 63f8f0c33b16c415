import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseManifest } from "../../src/schema/manifest.ts";
import { getTemplate, TEMPLATE_NAMES } from "../../src/schema/templates.ts";
import { requireTool } from "../support/prereq.ts";
import { BIN, runCli } from "./helpers.ts";

const scratch = mkdtempSync(join(tmpdir(), "karapace-new-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let dirCount = 0;
function freshDir(): string {
  const dir = join(scratch, `case-${++dirCount}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const manifestIn = (dir: string) => join(dir, "karapace.toml");

describe("karapace new without a terminal", () => {
  test("--template writes the template as it is", () => {
    const dir = freshDir();
    const result = runCli(["new", "myproject", "--template", "debian-dev"], { cwd: dir });
    expect(result).toEqual({ code: 0, stdout: "wrote ./karapace.toml for 'myproject'\ntemplate: debian-dev\n", stderr: "" });
    expect(readFileSync(manifestIn(dir), "utf8")).toBe(getTemplate("debian-dev")?.manifest ?? "");
  });

  test("--json reports what was written, as the reference does", () => {
    const dir = freshDir();
    const result = runCli(["new", "p", "--template", "minimal", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ status: "written", path: "./karapace.toml", name: "p", template: "minimal" });
  });

  test("no --template and no terminal: a clear failure, nothing written", () => {
    const dir = freshDir();
    const result = runCli(["new", "myproject"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error: no --template given and stdin is not a terminal");
    expect(result.stderr).toContain("hint: pass --template <name>");
    expect(existsSync(manifestIn(dir))).toBe(false);
  });

  test("an existing karapace.toml is not overwritten without --force", () => {
    const dir = freshDir();
    writeFileSync(manifestIn(dir), "# mine\n");
    const result = runCli(["new", "myproject", "--template", "dev"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("error: refusing to overwrite existing ./karapace.toml (pass --force)\n");
    expect(readFileSync(manifestIn(dir), "utf8")).toBe("# mine\n");
    // Without a template it refuses for the same reason first, as the reference does.
    expect(runCli(["new", "myproject"], { cwd: dir }).stderr).toContain("refusing to overwrite");
  });

  test("--force overwrites", () => {
    const dir = freshDir();
    writeFileSync(manifestIn(dir), "# mine\n");
    const result = runCli(["new", "myproject", "--template", "rust-dev", "--force"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(readFileSync(manifestIn(dir), "utf8")).toBe(getTemplate("rust-dev")?.manifest ?? "");
  });

  test("an unknown template names the choices", () => {
    const dir = freshDir();
    const result = runCli(["new", "myproject", "--template", "arch"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("unknown template 'arch' (expected: minimal, dev, gui-dev, rust-dev, ubuntu-dev, debian-dev)");
  });

  test("the help lists exactly the templates that exist", () => {
    const help = runCli(["new", "--help"]).stdout;
    const listed = /Start from a template: ([^\n]+)/.exec(help)?.[1]?.split(", ");
    expect(listed).toEqual([...TEMPLATE_NAMES]);
  });

  test("every template can be written and read back by debug validate", () => {
    for (const name of ["minimal", "dev", "gui-dev", "rust-dev", "ubuntu-dev", "debian-dev"]) {
      const dir = freshDir();
      expect(runCli(["new", "t", "--template", name], { cwd: dir }).code).toBe(0);
      expect(runCli(["debug", "validate", "karapace.toml"], { cwd: dir }).code).toBe(0);
    }
  });
});

/**
 * Drives `karapace new` on a real pseudo-terminal: a detached tmux session on
 * its own server socket, answers typed with send-keys, the screen read with
 * capture-pane. The command writes its exit status to a file when it ends.
 */
class TerminalSession {
  private static count = 0;
  readonly name: string;
  private readonly socket: string;
  private readonly tmux = requireTool("tmux");
  private readonly exitFile: string;

  constructor(readonly dir: string, args: readonly string[]) {
    this.name = `karapace-new-${process.pid}-${++TerminalSession.count}`;
    this.socket = this.name;
    this.exitFile = join(dir, ".exit-status");
    const quoted = [process.execPath, BIN, ...args].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(" ");
    const command = `env -u KARAPACE_LOG NO_COLOR=1 ${quoted}; echo $? > '${this.exitFile}'; sleep 60`;
    this.tmuxRun(["new-session", "-d", "-s", this.name, "-x", "160", "-y", "40", "-c", dir, command]);
  }

  private tmuxRun(args: readonly string[]): string {
    const result = Bun.spawnSync([this.tmux, "-L", this.socket, "-f", "/dev/null", ...args], { stdout: "pipe", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr.toString()}`);
    return result.stdout.toString();
  }

  screen(): string {
    return this.tmuxRun(["capture-pane", "-p", "-t", this.name]);
  }

  /** Waits until the screen shows `text` (a prompt), then types `answer` and Enter. */
  async answer(text: string, answer: string): Promise<void> {
    await this.waitFor(() => this.screen().includes(text), `the prompt '${text}'`);
    if (answer !== "") this.tmuxRun(["send-keys", "-t", this.name, "-l", answer]);
    this.tmuxRun(["send-keys", "-t", this.name, "Enter"]);
  }

  async exitStatus(): Promise<number> {
    await this.waitFor(() => existsSync(this.exitFile) && readFileSync(this.exitFile, "utf8").trim() !== "", "the command to exit");
    return Number(readFileSync(this.exitFile, "utf8").trim());
  }

  private async waitFor(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${this.screen()}`);
      await Bun.sleep(25);
    }
  }

  close(): void {
    Bun.spawnSync([this.tmux, "-L", this.socket, "kill-server"]);
  }
}

describe("karapace new on a terminal (tmux)", () => {
  test("asks the reference's questions and writes the answers", async () => {
    const dir = freshDir();
    const session = new TerminalSession(dir, ["new", "myenv"]);
    try {
      await session.answer("base image [debian/bookworm]:", "");
      await session.answer("packages (space-separated, empty to skip):", "git g++ git@2");
      // An invalid name is explained and the question asked again.
      await session.answer("contains '@'", "git g++ python3.11");
      await session.answer("workspace mount (<host>:<container>, empty to skip):", "./:/workspace");
      await session.answer("runtime backend (namespace, oci, mock) [namespace]:", "oci");
      await session.answer("enable network isolation? (y/n) [n]:", "y");
      expect(await session.exitStatus()).toBe(0);
      expect(session.screen()).toContain("wrote ./karapace.toml for 'myenv'");
    } finally {
      session.close();
    }
    const { normalized } = parseManifest(readFileSync(manifestIn(dir), "utf8"));
    expect(normalized).toMatchObject({
      base_image: "debian/bookworm",
      system_packages: ["g++", "git", "python3.11"],
      mounts: [{ label: "workspace", host_path: "./", container_path: "/workspace" }],
      runtime_backend: "oci",
      network_isolation: true,
    });
  });

  test("with --template and no changes, the template is written as it is", async () => {
    const dir = freshDir();
    const session = new TerminalSession(dir, ["new", "myenv", "--template", "debian-dev"]);
    try {
      await session.answer("packages (space-separated, empty to skip):", "");
      await session.answer("workspace mount", "");
      await session.answer("runtime backend", "");
      await session.answer("enable network isolation?", "");
      expect(await session.exitStatus()).toBe(0);
    } finally {
      session.close();
    }
    expect(readFileSync(manifestIn(dir), "utf8")).toBe(getTemplate("debian-dev")?.manifest ?? "");
  });

  test("with --template, extra packages are added to the template's", async () => {
    const dir = freshDir();
    const session = new TerminalSession(dir, ["new", "myenv", "--template", "debian-dev"]);
    try {
      await session.answer("packages (space-separated, empty to skip):", "htop git");
      await session.answer("workspace mount", "");
      await session.answer("runtime backend", "mock");
      await session.answer("enable network isolation?", "n");
      expect(await session.exitStatus()).toBe(0);
    } finally {
      session.close();
    }
    const { normalized } = parseManifest(readFileSync(manifestIn(dir), "utf8"));
    expect(normalized.system_packages).toEqual(["build-essential", "ca-certificates", "curl", "git", "htop", "less", "pkg-config", "vim"]);
    expect(normalized.runtime_backend).toBe("mock");
  });

  test("an existing karapace.toml: 'n' keeps it, 'y' replaces it", async () => {
    const dir = freshDir();
    writeFileSync(manifestIn(dir), "# mine\n");
    const refuse = new TerminalSession(dir, ["new", "myenv", "--template", "minimal"]);
    try {
      await refuse.answer("overwrite ./karapace.toml? (y/n) [n]:", "n");
      expect(await refuse.exitStatus()).toBe(1);
      expect(refuse.screen()).toContain("refusing to overwrite existing ./karapace.toml (pass --force)");
    } finally {
      refuse.close();
    }
    expect(readFileSync(manifestIn(dir), "utf8")).toBe("# mine\n");

    rmSync(join(dir, ".exit-status"));
    const accept = new TerminalSession(dir, ["new", "myenv", "--template", "minimal"]);
    try {
      await accept.answer("overwrite ./karapace.toml? (y/n) [n]:", "y");
      await accept.answer("packages", "");
      await accept.answer("workspace mount", "");
      await accept.answer("runtime backend", "");
      await accept.answer("enable network isolation?", "");
      expect(await accept.exitStatus()).toBe(0);
    } finally {
      accept.close();
    }
    expect(readFileSync(manifestIn(dir), "utf8")).toBe(getTemplate("minimal")?.manifest ?? "");
  });
});
