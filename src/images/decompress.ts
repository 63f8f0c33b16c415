/**
 * Streaming decompression of a rootfs archive, the format told by its magic
 * bytes (not its name). Engines, chosen by measurement (docs/images.md):
 * xz by the system `xz` (liblzma, multi-threaded for multi-block archives),
 * gzip and zstd by Bun's built-in DecompressionStream. The `tool` engine runs
 * `gzip`/`zstd` instead, for comparison in the benchmark.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { ImageError } from "../errors.ts";

export type Compression = "xz" | "gzip" | "zstd" | "none";
export type Engine = "default" | "tool";

const MAGIC: ReadonlyArray<[Compression, number[]]> = [
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["gzip", [0x1f, 0x8b]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
];

export function detectCompression(head: Uint8Array): Compression {
  for (const [kind, magic] of MAGIC) if (magic.every((b, i) => head[i] === b)) return kind;
  return "none";
}

export function detectFileCompression(path: string): Compression {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    return detectCompression(head);
  } finally {
    closeSync(fd);
  }
}

export interface Decompressed {
  stream: ReadableStream<Uint8Array>;
  /** Resolves when the decompressor finished cleanly; rejects with an ImageError if it reported corrupt or truncated input. */
  finished: Promise<void>;
  /** Stops the decompressor early (on an extraction error). */
  cancel(): void;
}

const TOOL_PACKAGE: Record<string, string> = { xz: "xz-utils", gzip: "gzip", zstd: "zstd" };

function viaTool(tool: string, args: readonly string[], path: string, what: string): Decompressed {
  const exe = Bun.which(tool);
  if (exe === null) {
    throw new ImageError(`'${tool}' is needed to unpack ${what} archives and is not installed`, { hint: `install it (Debian/Ubuntu: apt-get install ${TOOL_PACKAGE[tool] ?? tool})` });
  }
  const proc = Bun.spawn([exe, ...args, "--", path], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const stderr = new Response(proc.stderr).text();
  const finished = proc.exited.then(async (code) => {
    if (code === 0) return;
    const message = (await stderr).trim().split("\n").at(-1) ?? "";
    throw new ImageError(`the ${what} archive is damaged: ${message.replace(/^[^:]*: /, "") || `${tool} exited with status ${code}`}`, {
      hint: "the archive is corrupt or truncated; download it again (nothing was cached)",
    });
  });
  finished.catch(() => {});
  return { stream: proc.stdout, finished, cancel: () => proc.kill() };
}

function viaWeb(format: "gzip" | "zstd", path: string): Decompressed {
  let resolveDone: () => void = () => {};
  let rejectDone: (error: Error) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  finished.catch(() => {});
  const reader = Bun.file(path).stream().pipeThrough(new DecompressionStream(format)).getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          resolveDone();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        const e = new ImageError(`the ${format} archive is damaged: ${(error as Error).message}`, {
          hint: "the archive is corrupt or truncated; download it again (nothing was cached)",
        });
        rejectDone(e);
        controller.error(e);
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  });
  return { stream, finished, cancel: () => void reader.cancel().catch(() => {}) };
}

/** The archive's tar stream. */
export function openDecompressed(path: string, compression: Compression, engine: Engine = "default"): Decompressed {
  switch (compression) {
    case "xz":
      return viaTool("xz", ["-dc", "-T0"], path, "xz");
    case "gzip":
      return engine === "tool" ? viaTool("gzip", ["-dc"], path, "gzip") : viaWeb("gzip", path);
    case "zstd":
      return engine === "tool" ? viaTool("zstd", ["-dcq"], path, "zstd") : viaWeb("zstd", path);
    case "none":
      return { stream: Bun.file(path).stream(), finished: Promise.resolve(), cancel: () => {} };
  }
}
