/** The Engine and the types its callers see. See docs/engine.md. */
export { Engine, type GcOptions, type Inspection, type ListResult, type VerifyOptions } from "./engine.ts";
export { type EngineOptions, describeHolder, lockWaitMessage } from "./context.ts";
export type { BuildOptions, BuildResult } from "./build.ts";
export type { DestroyResult } from "./destroy.ts";
export type { RenameResult } from "./state.ts";
