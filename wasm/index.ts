export { blake3, blake3Hex, blake3Many, Blake3Hasher, toHex, DIGEST_LEN } from "./blake3.ts";
export { hashFile, hashFileSync, type FileHash } from "./hash-file.ts";
export { packTree, FileChangedError, type PackOptions, type PackResult, type SkippedEntry } from "./pack.ts";
export { digestTree, type DigestOptions, type DigestResult } from "./digest.ts";
export { HashPool, HashWorkerError } from "./hash-pool.ts";
export { walkTree, NotADirectoryError, type TreeEntry, type EntryKind } from "./walk.ts";
export { WasmCallError } from "./module.ts";
