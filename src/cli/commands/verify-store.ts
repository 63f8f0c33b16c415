import type { Writable } from "node:stream";
import { Command, Option } from "clipanion";
import { CliUsageError, StoreError } from "../../errors.ts";
import type { VerifyProgress } from "../../store/verify.ts";
import { EngineCommand } from "../engine-command.ts";
import { formatBytes } from "./gc.ts";

/** A one-line progress bar redrawn in place on a terminal (at most ten times a second). */
class ProgressBar {
  private last = 0;
  private drawn = false;

  constructor(private readonly stream: Writable) {}

  update(p: VerifyProgress): void {
    const now = performance.now();
    if (now - this.last < 100 && p.done < p.total) return;
    this.last = now;
    const width = 24;
    const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
    const bytes = p.phase === "objects" ? `  ${formatBytes(p.bytes)}` : "";
    this.stream.write(`\r\x1b[Kverifying ${p.phase.padEnd(8)} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${p.done}/${p.total}${bytes}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write("\r\x1b[K");
  }
}

export class VerifyStoreCommand extends EngineCommand {
  static override paths = [["verify-store"]];

  static override usage = Command.Usage({
    description: "check every object, layer and metadata row against its hash",
    details: `
      Re-hashes every object (on all cores), every layer file and every
      metadata checksum, and checks that what the environments reference is
      present. Each damaged or missing item is named with its kind and id;
      the exit status is 3 when anything is wrong, 0 when all is well. It
      takes no lock, so it can run beside other commands.

      A progress bar is drawn on stderr when it is a terminal. \`--workers\`
      sets the number of hash threads (default: one per core; small stores
      are hashed on the main thread).

      Cached base images are checked too, against the content digest
      recorded when they were unpacked: by default only files whose stat
      (size, times, inode) changed are read again; \`--images\` reads every
      file of every image (a full re-hash, which also finds a change that
      kept a file's size and times).
    `,
    examples: [
      ["Verify the store", "$0 verify-store"],
      ["A JSON report naming each bad item", "$0 verify-store --json"],
      ["Also re-hash every file of every cached image", "$0 verify-store --images"],
    ],
  });

  workers = Option.String("--workers", { description: "Hash threads (default: one per core)" });
  images = Option.Boolean("--images", false, { description: "Re-hash every file of every cached base image (default: only files whose stat changed)" });

  async execute(): Promise<number> {
    const workers = this.workers === undefined ? undefined : Number(this.workers);
    if (workers !== undefined && (!Number.isSafeInteger(workers) || workers < 0)) {
      throw new CliUsageError(`--workers takes a whole number, not '${this.workers}'`);
    }
    const stderr = this.context.stderr;
    const bar = "isTTY" in stderr && stderr.isTTY === true ? new ProgressBar(stderr) : undefined;
    const engine = await this.openEngine("verify-store");
    try {
      const r = await engine
        .verifyStore({ workers, onProgress: bar === undefined ? undefined : (p) => bar.update(p) })
        .finally(() => bar?.clear());
      const { verifyImageCache } = await import("../../images/cache.ts");
      const images = await verifyImageCache(this.storeRoot, { full: this.images, workers });
      const badImages = images.images.filter((i) => !i.ok);
      const checked = r.objects.checked + r.layers.checked + r.metadata.checked;
      const passed = r.objects.passed + r.layers.passed + r.metadata.passed;
      const ok = r.ok && images.ok;
      this.out.result({ ok, checked, passed, objects: r.objects, layers: r.layers, metadata: r.metadata, failed: r.failed, missing: r.missing, images }, (w) => {
        w.line(`objects:  ${r.objects.passed}/${r.objects.checked} ok (${formatBytes(r.objects.bytes)})`);
        w.line(`layers:   ${r.layers.passed}/${r.layers.checked} ok`);
        w.line(`metadata: ${r.metadata.passed}/${r.metadata.checked} ok`);
        if (images.images.length > 0 || this.images) {
          w.line(`images:   ${images.images.length - badImages.length}/${images.images.length} ok${images.full ? " (full re-hash)" : ""}`);
        }
        for (const f of r.failed) w.line(`FAIL ${f.kind} ${f.id}: ${f.reason}`);
        for (const m of r.missing) w.line(`MISSING ${m.kind} ${m.id} (referenced by ${m.referenced_by})`);
        for (const i of badImages) w.line(`FAIL image ${i.cache_key}: ${i.problem ?? "damaged"}`);
      });
      if (!ok) {
        const items = [r.failed.length > 0 ? `${r.failed.length} damaged` : "", r.missing.length > 0 ? `${r.missing.length} missing` : ""].filter((s) => s !== "");
        const parts = [items.length > 0 ? `${items.join(" and ")} item(s)` : "", badImages.length > 0 ? `${badImages.length} damaged cached image(s)` : ""].filter((s) => s !== "");
        throw new StoreError(`the store has ${parts.join(" and ")}`, {
          hint: r.ok
            ? `remove each damaged image's directory under ${this.storeRoot}/images/ and build again to download it afresh`
            : "destroy the environments that use them and build them again, then run 'karapace gc'",
        });
      }
    } finally {
      engine.close();
    }
    return 0;
  }
}
