/** `karapace enter` on a real pseudo-terminal (tmux), as the unprivileged user. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { requireTool } from "../support/prereq.ts";
import { compiledKarapace, runAsTestUser } from "../support/rootless.ts";
import { manifest, Scenario, until } from "./helpers.ts";

let s: Scenario;
let socket: string;

beforeAll(async () => {
  requireTool("tmux");
  s = new Scenario("enter");
  const project = s.project("shell", manifest(await s.busybox()));
  const r = await s.kp(["build", "--name", "shell"], { cwd: project });
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
  socket = join(s.home, "tmux.sock");
});

afterAll(async () => {
  if (socket !== undefined) await runAsTestUser(["tmux", "-S", socket, "kill-server"]);
  s?.cleanup();
});

const tmux = (...args: string[]) => runAsTestUser(["tmux", "-S", socket, ...args], { env: s.env({ TERM: "xterm-256color" }) });

async function screen(): Promise<string> {
  return (await tmux("capture-pane", "-p", "-t", "k")).stdout;
}

test("enter gives a login shell on the terminal; exit returns the state to built", async () => {
  const started = await tmux("new-session", "-d", "-s", "k", "-x", "120", "-y", "30", "--", compiledKarapace(), "enter", "shell");
  expect(started.stderr).toBe("");
  expect(started.code).toBe(0);
  await until("the banner and a prompt", async () => /entering .*as shell/.test(await screen()) && /[#$] ?$/m.test(await screen()));
  expect(await s.state("shell")).toBe("Running");

  await tmux("send-keys", "-t", "k", "echo answer-$((6*7)) on $(hostname)", "Enter");
  await until("the typed command's output", async () => (await screen()).includes("answer-42 on shell"));

  // Keep the session open after the shell ends, to read what karapace printed last.
  await tmux("set-option", "-t", "k", "remain-on-exit", "on");
  await tmux("send-keys", "-t", "k", "exit", "Enter");
  await until("the session to end", async () => (await screen()).includes("exited environment"));
  expect(await s.state("shell")).toBe("Built");
});
