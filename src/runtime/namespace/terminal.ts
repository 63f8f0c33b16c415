/**
 * What a terminal sees around an interactive session: the OSC 777 "container"
 * push/pop markers (terminals such as Ptyxis and GNOME Console use them to
 * tint the tab and track the container) and a one-line banner, as the
 * reference prints them. Only on a terminal, and only on stderr.
 */

const OSC = "\x1b]777;";
const ST = "\x1b\\";

/** The sandbox's hostname: the environment's name, else karapace-<short_id>. */
export function sandboxHostname(envId: string, name: string | null | undefined): string {
  return name ?? `karapace-${envId.slice(0, 12)}`;
}

export function containerPush(envId: string, hostname: string): string {
  return `${OSC}container;push;${hostname};karapace;${envId}${ST}`;
}

export function containerPop(): string {
  return `${OSC}container;pop;;${ST}`;
}

export function enterBanner(envId: string, image: string, hostname: string): string {
  return `\x1b[1;36m[karapace]\x1b[0m entering \x1b[1m${image}\x1b[0m (${envId.slice(0, 12)}) as \x1b[1m${hostname}\x1b[0m\n`;
}

export function exitBanner(envId: string): string {
  return `\x1b[1;36m[karapace]\x1b[0m exited environment ${envId.slice(0, 12)}\n`;
}
