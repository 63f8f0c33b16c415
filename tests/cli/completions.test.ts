import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SHELLS, type Shell } from "../../src/cli/completion/shells.ts";
import { REGISTERED_COMMANDS } from "../../src/cli/registry.ts";
import { type CliModel, describeCli } from "../../src/cli/spec.ts";
import { requireTool, run, runCli } from "./helpers.ts";

const model: CliModel = describeCli(REGISTERED_COMMANDS);
const dir = mkdtempSync(join(tmpdir(), "karapace-completions-"));
const scripts = new Map<Shell, { path: string; text: string }>();

beforeAll(() => {
  for (const shell of SHELLS) {
    const result = runCli(["completions", shell]);
    if (result.code !== 0) throw new Error(`karapace completions ${shell} failed: ${result.stderr}`);
    const path = join(dir, `karapace.${shell}`);
    writeFileSync(path, result.stdout);
    scripts.set(shell, { path, text: result.stdout });
  }
});

function script(shell: Shell): { path: string; text: string } {
  const found = scripts.get(shell);
  if (found === undefined) throw new Error(`no ${shell} script was generated`);
  return found;
}

const splitWords = (text: string) => text.split(/\s+/).filter(Boolean).sort();
const optionNamesOf = (name: string) =>
  (model.commands.find((command) => command.name === name)?.options ?? []).flatMap((option) => option.names);

describe("every shell", () => {
  for (const shell of SHELLS) {
    test(`${shell}: mentions every command and every option`, () => {
      const { text } = script(shell);
      expect(text.length).toBeGreaterThan(200);
      for (const command of model.commands) {
        expect(text).toContain(command.name);
        for (const option of command.options) {
          for (const name of option.names) {
            // fish writes `-l store` / `-s v` rather than `--store` / `-v`.
            const spelled = shell === "fish" ? (name.startsWith("--") ? `-l ${name.slice(2)}` : `-s ${name.slice(1)}`) : name;
            expect(text).toContain(spelled);
          }
        }
      }
      for (const name of SHELLS) expect(text).toContain(name);
    });
  }
});

describe("bash", () => {
  function complete(...words: string[]): string[] {
    const bash = requireTool("bash");
    const program = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _karapace; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = run([bash, "-c", program, "_", script("bash").path, ...words]);
    if (result.code !== 0) throw new Error(`bash completion failed: ${result.stderr}`);
    return result.stdout.split("\n").filter(Boolean).sort();
  }

  test("bash -n accepts the script", () => {
    const result = run([requireTool("bash"), "-n", script("bash").path]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test("completes command names", () => {
    expect(complete("karapace", "")).toEqual(model.commands.map((c) => c.name).sort());
    expect(complete("karapace", "comp")).toEqual(["completions"]);
  });

  test("completes each command's options", () => {
    for (const command of model.commands) {
      expect(complete("karapace", command.name, "-")).toEqual(optionNamesOf(command.name).sort());
    }
  });

  test("completes shell names for `completions`, also after global options", () => {
    expect(complete("karapace", "completions", "")).toEqual([...SHELLS].sort());
    expect(complete("karapace", "--store", "/tmp", "--json", "completions", "f")).toEqual(["fish"]);
    expect(complete("karapace", "--store", "=", "/tmp", "completions", "z")).toEqual(["zsh"]);
    expect(complete("karapace", "completions", "bash", "")).toEqual([]);
  });

  test("completes directories for --store and man-pages", () => {
    expect(complete("karapace", "--store", "/us")).toEqual(["/usr"]);
    expect(complete("karapace", "man-pages", "/us")).toEqual(["/usr"]);
  });
});

describe("zsh", () => {
  test("zsh -n accepts the script", () => {
    const result = run([requireTool("zsh"), "-n", script("zsh").path]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test("is an autoloadable completion function", () => {
    const { text } = script("zsh");
    expect(text.split("\n")[0]).toBe("#compdef karapace");
    expect(text).toContain("compdef _karapace karapace");
    expect(text).toContain("':shell:(bash zsh fish elvish powershell)'");
  });

  // Drives a real interactive zsh through zpty, presses TAB, and records what
  // compadd was given (technique of zsh-capture-completion).
  function complete(line: string): string[] {
    const zsh = requireTool("zsh");
    const init = join(dir, "zsh-init.zsh");
    writeFileSync(
      init,
      [
        "PROMPT=",
        "autoload -Uz compinit && compinit -u -D",
        `source ${script("zsh").path}`,
        "bindkey '^M' undefined; bindkey '^J' undefined; bindkey '^I' complete-word",
        "null-line () { echo -E - $'\\0' }",
        "compprefuncs=( null-line ); comppostfuncs=( null-line exit )",
        "zstyle ':completion:*' list-grouped false; zstyle ':completion:*' insert-tab false",
        "compadd () {",
        "  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"$@\"; return $?; fi",
        "  typeset -a __hits; builtin compadd -A __hits \"$@\"",
        "  local h; for h in $__hits; do echo -E - \"$h\"; done",
        "}",
      ].join("\n"),
    );
    const capture = join(dir, "zsh-capture.zsh");
    writeFileSync(
      capture,
      [
        "zmodload zsh/zpty",
        "zpty z zsh -f -i",
        `zpty -w z "source ${init}"`,
        "zpty -w z \"$1\"$'\\t'",
        "integer tog=0",
        "local line",
        "while zpty -r z; do :; done | while IFS= read -r line; do",
        "  if [[ $line == *$'\\0\\r' ]]; then (( tog++ )) && return 0 || continue; fi",
        "  (( tog )) && echo -E - $line",
        "done",
      ].join("\n"),
    );
    const result = Bun.spawnSync({ cmd: [zsh, "-f", capture, line], stdout: "pipe", stderr: "pipe", timeout: 20_000 });
    return [...new Set(result.stdout.toString().replace(/\r/g, "").split("\n").filter(Boolean))].sort();
  }

  test("completes command names, options and shell names in a real zsh", () => {
    expect(complete("karapace ")).toEqual(model.commands.map((c) => c.name).sort());
    expect(complete("karapace --store /tmp completions ")).toEqual([...SHELLS].sort());
    expect(complete("karapace man-pages --")).toEqual(
      optionNamesOf("man-pages").filter((name) => name.startsWith("--")).sort(),
    );
    expect(complete("karapace help ")).toEqual(model.commands.map((c) => c.name).sort());
  });

  test("sources cleanly in an interactive zsh with compinit", () => {
    const zsh = requireTool("zsh");
    const program = `autoload -Uz compinit && compinit -u -D && source "$1" && print -r -- $_comps[karapace]`;
    const result = run([zsh, "-f", "-i", "-c", program, "zsh", script("zsh").path]);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("_karapace");
  });
});

describe("fish", () => {
  function complete(line: string): string[] {
    const fish = requireTool("fish");
    const result = run([fish, "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, script("fish").path, line]);
    if (result.code !== 0) throw new Error(`fish completion failed: ${result.stderr}`);
    return result.stdout
      .split("\n")
      .filter(Boolean)
      .map((entry) => entry.split("\t")[0] ?? "")
      .sort();
  }

  test("fish --no-execute accepts the script", () => {
    const result = run([requireTool("fish"), "--no-execute", script("fish").path]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test("completes command names", () => {
    expect(complete("karapace ")).toEqual(model.commands.map((c) => c.name).sort());
  });

  test("completes each command's long options", () => {
    for (const command of model.commands) {
      const longs = optionNamesOf(command.name).filter((name) => name.startsWith("--"));
      expect(complete(`karapace ${command.name} --`)).toEqual(longs.sort());
    }
  });

  test("completes shell names for `completions`, also after global options", () => {
    expect(complete("karapace completions ")).toEqual([...SHELLS].sort());
    expect(complete("karapace --store /tmp completions ")).toEqual([...SHELLS].sort());
    expect(complete("karapace completions bash ")).toEqual([]);
  });

  test("completes command names for `help`", () => {
    expect(complete("karapace help ")).toEqual(model.commands.map((c) => c.name).sort());
  });
});

describe("elvish", () => {
  const elvish = Bun.which("elvish");

  test("defines an arg-completer for karapace", () => {
    const { text } = script("elvish");
    expect(text).toContain("set edit:completion:arg-completer[karapace] = $_karapace-complete~");
  });

  // elvish is optional on our machines: when it is installed, its compiler checks the script.
  if (elvish !== null) {
    test("elvish -compileonly accepts the script (edit: exists only in interactive shells)", () => {
      const result = run([elvish, "-compileonly", "-json", script("elvish").path]);
      const errors = result.stdout.trim() === "" ? [] : (JSON.parse(result.stdout) as { message: string }[]);
      const real = errors.filter((error) => !error.message.includes("$edit:"));
      expect(real).toEqual([]);
    });

    test("the completer runs and completes commands, options and shell names", () => {
      // Stand-ins for the interactive-only edit: module, then call the completer directly.
      const stub =
        "var ed: = (ns [&complex-candidate~={|text &display=''| echo $text } &complete-filename~={|seed| put [&stem=/usr] } ])";
      const body = script("elvish")
        .text.split("\n")
        .filter((line) => !line.startsWith("set edit:"))
        .join("\n")
        .replaceAll("edit:", "ed:");
      const complete = (...words: string[]) => {
        const path = join(dir, `harness-${words.length}-${words.join("_").replace(/\W/g, "")}.elv`);
        writeFileSync(path, `${stub}\n${body}\n_karapace-complete ${words.map((w) => `'${w}'`).join(" ")}\n`);
        const result = run([elvish, path]);
        if (result.code !== 0) throw new Error(`elvish completion failed: ${result.stderr}`);
        return splitWords(result.stdout.replace(/▶/g, ""));
      };
      expect(complete("karapace", "")).toEqual(model.commands.map((c) => c.name).sort());
      expect(complete("karapace", "--json", "completions", "")).toEqual([...SHELLS].sort());
      expect(complete("karapace", "man-pages", "-")).toEqual(optionNamesOf("man-pages").sort());
      expect(complete("karapace", "--store", "")).toEqual(["[&stem=/usr]"]);
    });
  }
});

describe("powershell", () => {
  const pwsh = Bun.which("pwsh");

  test("registers a native argument completer with a case per command", () => {
    const { text } = script("powershell");
    expect(text).toContain("Register-ArgumentCompleter -Native -CommandName 'karapace'");
    for (const command of model.commands) expect(text).toContain(`        '${command.name}' {`);
    // Every brace opened is closed (pwsh itself is not installed on our machines).
    expect(text.split("{").length).toBe(text.split("}").length);
    expect(text.split("(").length).toBe(text.split(")").length);
  });

  if (pwsh !== null) {
    test("the PowerShell parser accepts the script", () => {
      const check = `$errors = $null; [System.Management.Automation.Language.Parser]::ParseFile($args[0], [ref]$null, [ref]$errors) | Out-Null; if ($errors) { $errors | ForEach-Object { $_.Message }; exit 1 }`;
      const result = run([pwsh, "-NoProfile", "-NonInteractive", "-Command", check, script("powershell").path]);
      expect(result.stdout + result.stderr).toBe("");
      expect(result.code).toBe(0);
    });
  }
});
