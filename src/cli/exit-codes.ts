import { type ErrorKind, KarapaceError } from "../errors.ts";

/** The reference's exit-code contract. Scripts depend on these numbers. */
export const ExitCode = {
  Success: 0,
  Failure: 1,
  /** Manifest or lock file problem. */
  ManifestError: 2,
  /** Bad command line. Shares 2 with manifest errors: clap, which the reference uses, exits 2 here. */
  UsageError: 2,
  StoreError: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

// A Record over ErrorKind makes the compiler reject a new kind without an exit code.
const EXIT_CODE_BY_KIND: Record<ErrorKind, ExitCodeValue> = {
  manifest: ExitCode.ManifestError,
  lock: ExitCode.ManifestError,
  usage: ExitCode.UsageError,
  store: ExitCode.StoreError,
  image: ExitCode.Failure,
  runtime: ExitCode.Failure,
  remote: ExitCode.Failure,
  general: ExitCode.Failure,
};

/** The single place where a thrown value becomes a process exit code. */
export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof KarapaceError) return EXIT_CODE_BY_KIND[error.kind];
  return ExitCode.Failure;
}
