/**
 * Where the store reports things worth knowing that are not errors (a corrupt
 * WAL entry removed, a recovery run). The CLI passes its Logger; tests pass
 * a collector. The store never writes to the console itself.
 */
export interface StoreLogger {
  warn(message: string): void;
  info?(message: string): void;
  debug?(message: string): void;
}

export const silentLogger: StoreLogger = { warn() {} };
