export const SHELLS = ["bash", "zsh", "fish", "elvish", "powershell"] as const;
export type Shell = (typeof SHELLS)[number];

export function isShell(value: string): value is Shell {
  return (SHELLS as readonly string[]).includes(value);
}
