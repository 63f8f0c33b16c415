// A JSON import (not a runtime file read) so `bun build --compile` embeds it.
import pkg from "../../package.json" with { type: "json" };

export const BINARY_NAME = "karapace";
export const VERSION: string = pkg.version;
export const DESCRIPTION: string = pkg.description;

/** What `karapace --version` prints. */
export function versionLine(): string {
  return `${BINARY_NAME} ${VERSION}\n`;
}
