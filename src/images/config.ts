/**
 * Settings of the image layer, from (strongest first) the caller's options,
 * environment variables, and `$XDG_CONFIG_HOME/karapace/config.toml`:
 *
 *   image_server = "https://images.example.org"   # KARAPACE_IMAGE_SERVER
 *   image_max_bytes = 17179869184                 # KARAPACE_IMAGE_MAX_BYTES
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { parse } from "smol-toml";
import { ImageError } from "../errors.ts";

/** The reference's image server (its LXC_IMAGE_BASE without the `/images` path). */
export const DEFAULT_IMAGE_SERVER = "https://images.linuxcontainers.org";

/** Extraction stops past this many bytes of tar stream (a decompression bomb guard). */
export const DEFAULT_MAX_EXTRACT_BYTES = 16 * 1024 ** 3;

export type Env = Record<string, string | undefined>;

export function configFilePath(env: Env = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && xdg !== "" && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".config");
  return join(base, "karapace", "config.toml");
}

interface FileConfig {
  image_server?: string;
  image_max_bytes?: number;
}

function readConfigFile(env: Env): FileConfig {
  const path = configFilePath(env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return {};
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new ImageError(`${path}: not valid TOML (${(error as Error).message.split("\n")[0]})`, {
      hint: "fix the file or remove it; it holds image_server and image_max_bytes",
    });
  }
  const out: FileConfig = {};
  if (doc.image_server !== undefined) {
    if (typeof doc.image_server !== "string") throw new ImageError(`${path}: image_server must be a string`, { hint: 'write image_server = "https://…"' });
    out.image_server = doc.image_server;
  }
  if (doc.image_max_bytes !== undefined) {
    const v = doc.image_max_bytes;
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n <= 0) {
      throw new ImageError(`${path}: image_max_bytes must be a positive whole number`, { hint: "e.g. image_max_bytes = 17179869184 (16 GiB)" });
    }
    out.image_max_bytes = n;
  }
  return out;
}

function checkServer(url: string, from: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ImageError(`${from}: '${url}' is not a URL`, { hint: "give the image server's base URL, e.g. https://images.example.org" });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ImageError(`${from}: '${url}' is not an http(s) URL`, { hint: "give the image server's base URL, e.g. https://images.example.org" });
  }
  return url.replace(/\/+$/, "");
}

export interface ImageSettings {
  /** Base URL without a trailing slash; images are under `<server>/images/`, the index under `<server>/streams/v1/`. */
  server: string;
  maxExtractBytes: number;
}

export function imageSettings(env: Env = process.env): ImageSettings {
  const file = readConfigFile(env);
  const envServer = env.KARAPACE_IMAGE_SERVER;
  const server =
    envServer !== undefined && envServer !== ""
      ? checkServer(envServer, "KARAPACE_IMAGE_SERVER")
      : file.image_server !== undefined
        ? checkServer(file.image_server, configFilePath(env))
        : DEFAULT_IMAGE_SERVER;
  let maxExtractBytes = file.image_max_bytes ?? DEFAULT_MAX_EXTRACT_BYTES;
  const envMax = env.KARAPACE_IMAGE_MAX_BYTES;
  if (envMax !== undefined && envMax !== "") {
    const n = Number(envMax);
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new ImageError(`KARAPACE_IMAGE_MAX_BYTES must be a positive whole number, not '${envMax}'`, { hint: "unset it to use the default (16 GiB)" });
    }
    maxExtractBytes = n;
  }
  return { server, maxExtractBytes };
}
