import type { BaseContext, CommandClass } from "clipanion";
import type { RegisteredCommand } from "./command-meta.ts";
import { ArchiveCommand } from "./commands/archive.ts";
import { BuildCommand } from "./commands/build.ts";
import { CommitCommand } from "./commands/commit.ts";
import { CompletionsCommand } from "./commands/completions.ts";
import { DebugValidateCommand } from "./commands/debug-validate.ts";
import { DestroyCommand } from "./commands/destroy.ts";
import { EnterCommand } from "./commands/enter.ts";
import { ExecCommand } from "./commands/exec.ts";
import { DiffCommand } from "./commands/diff.ts";
import { DoctorCommand } from "./commands/doctor.ts";
import { ExportCommand } from "./commands/export.ts";
import { FreezeCommand } from "./commands/freeze.ts";
import { GcCommand } from "./commands/gc.ts";
import { HashCommand } from "./commands/hash.ts";
import { HelpCommand } from "./commands/help.ts";
import { InspectCommand } from "./commands/inspect.ts";
import { ListCommand } from "./commands/list.ts";
import { ManPagesCommand } from "./commands/man-pages.ts";
import { MigrateCommand } from "./commands/migrate.ts";
import { NewCommand } from "./commands/new.ts";
import { PinCommand } from "./commands/pin.ts";
import { RebuildCommand } from "./commands/rebuild.ts";
import { RenameCommand } from "./commands/rename.ts";
import { StopCommand } from "./commands/stop.ts";
import { RestoreCommand } from "./commands/restore.ts";
import { SnapshotsCommand } from "./commands/snapshots.ts";
import { UsernsTaskCommand } from "./commands/userns-task.ts";
import { VerifyStoreCommand } from "./commands/verify-store.ts";
import { VersionCommand } from "./commands/version.ts";

/**
 * Every user-facing command, in the order the help lists them. Adding a
 * command here is all it takes for it to appear in the help, the man pages
 * and the completion scripts. Command modules must stay cheap to import:
 * load engine, store, image, runtime and wasm code with `await import()`
 * inside `execute()`.
 */
export const REGISTERED_COMMANDS: readonly RegisteredCommand[] = [
  NewCommand,
  BuildCommand,
  RebuildCommand,
  PinCommand,
  DestroyCommand,
  EnterCommand,
  ExecCommand,
  StopCommand,
  FreezeCommand,
  ArchiveCommand,
  ListCommand,
  InspectCommand,
  RenameCommand,
  DiffCommand,
  CommitCommand,
  SnapshotsCommand,
  RestoreCommand,
  ExportCommand,
  GcCommand,
  VerifyStoreCommand,
  MigrateCommand,
  DoctorCommand,
  CompletionsCommand,
  ManPagesCommand,
  HelpCommand,
];

/** Parsed like commands but documented as root flags. */
export const HIDDEN_COMMANDS: readonly CommandClass<BaseContext>[] = [VersionCommand, HashCommand, DebugValidateCommand, UsernsTaskCommand];
