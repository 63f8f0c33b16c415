import { existsSync } from "node:fs";
import { join } from "node:path";
import { check, type CheckResult, type DoctorContext } from "../types.ts";

/** The image cache against its recorded digests (quick mode: only files whose stat changed are re-read). */
export async function checkImageCache(ctx: DoctorContext): Promise<CheckResult> {
  const c = check("image_cache", "image cache", true);
  if (!existsSync(join(ctx.storeRoot, "images"))) return c.info("no image cache yet");
  const { verifyImageCache } = await import("../../images/index.ts");
  let report: Awaited<ReturnType<typeof verifyImageCache>>;
  try {
    report = await verifyImageCache(ctx.storeRoot, { full: false });
  } catch (error) {
    return c.fail(`cannot check the image cache: ${(error as Error).message}`);
  }
  const bad = report.images.filter((i) => !i.ok);
  if (bad.length > 0) {
    const list = bad.map((i) => `${i.cache_key}: ${i.problem ?? "damaged"}`).join("; ");
    return c.fail(`${bad.length} of ${report.images.length} cached image(s) are damaged (${list})`, `remove the damaged entries under ${join(ctx.storeRoot, "images")}; the next build downloads them again`);
  }
  const leftovers = report.stale_staging.length + report.partial_downloads.length;
  const message = `${report.images.length} cached image(s) match their digests`;
  if (leftovers > 0) return c.info(`${message}; ${leftovers} leftover download or unpack director${leftovers === 1 ? "y" : "ies"}`, "'karapace gc' removes them");
  return c.pass(message);
}
