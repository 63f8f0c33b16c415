/** The store layer: what the Engine imports. See docs/store.md. */
export { openStore, Store, type OpenOptions, type RecoveryOutcome } from "./store.ts";
export { StoreLayout, STORE_FORMAT_VERSION, defaultStoreRoot, checkFormatVersion, readFormatVersion } from "./layout.ts";
export { ObjectStore, type PutResult, type PutSource } from "./objects.ts";
export {
  LayerStore,
  LAYER_KINDS,
  baseLayer,
  layerFileHash,
  serializeLayer,
  snapshotLayer,
  snapshotLayerHash,
  type LayerKind,
  type LayerManifest,
} from "./layers.ts";
export {
  MetadataStore,
  canonicalMetadata,
  metadataChecksum,
  validateEnvName,
  type EnvMetadata,
  type EnvMetadataInput,
  type ResolveResult,
} from "./metadata.ts";
export { WriteAheadLog, WAL_OP_KINDS, type RecoveryReport, type RollbackStep, type WalEntry, type WalOpKind } from "./wal.ts";
export { StoreLock, LockHandle, type AcquireOptions, type LockHolder } from "./lock.ts";
export { ENV_STATES, allowedTransitions, assertTransition, canTransition, displayState, parseEnvState, type EnvState } from "./lifecycle.ts";
export { collectGarbage, type GcOptions, type GcReport } from "./gc.ts";
export { verifyStore, type BadItem, type MissingItem, type VerifyOptions, type VerifyProgress, type VerifyReport } from "./verify.ts";
export { migrateStore, type MigrateOptions, type MigrateReport } from "./migrate.ts";
export { isHash, assertHash } from "./hash.ts";
export type { StoreLogger } from "./logger.ts";
export {
  CorruptionError,
  EnvNotFoundError,
  InvalidTransitionError,
  NameError,
  NoStoreError,
  NotFoundError,
  StoreLockedError,
  type ItemKind,
} from "./errors.ts";
