import type { CliModel } from "../spec.ts";
import { bashCompletion } from "./bash.ts";
import { elvishCompletion } from "./elvish.ts";
import { fishCompletion } from "./fish.ts";
import { powershellCompletion } from "./powershell.ts";
import type { Shell } from "./shells.ts";
import { zshCompletion } from "./zsh.ts";

const RENDERERS: Record<Shell, (model: CliModel) => string> = {
  bash: bashCompletion,
  zsh: zshCompletion,
  fish: fishCompletion,
  elvish: elvishCompletion,
  powershell: powershellCompletion,
};

export function renderCompletion(shell: Shell, model: CliModel): string {
  return RENDERERS[shell](model);
}
