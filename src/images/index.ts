/**
 * The image layer: base image names -> sources, download, decompression,
 * safe extraction, cache and digests. See docs/images.md.
 */
export type { PreparedImage, PrepareImageOptions } from "./api.ts";
export { prepareImage } from "./prepare.ts";
export { verifyImageCache, ImageCache, type ImageCacheEntry, type ImageCacheReport, type DigestRecord } from "./cache.ts";
export { resolveImageName, isHttpUrl, KNOWN_IMAGES, type ImageRef } from "./names.ts";
export { imageSettings, configFilePath, DEFAULT_IMAGE_SERVER } from "./config.ts";
export { pinnedImageUrl } from "./pin.ts";
export type { NetworkOptions } from "./http.ts";
