/** A one-line download progress bar (bytes, rate, ETA), redrawn in place on a terminal at most ten times a second. */

export interface ProgressStream {
  write(text: string): unknown;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.ceil(seconds % 60)).padStart(2, "0")}s`;
}

export class DownloadProgress {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = performance.now();
  private startBytes: number | undefined;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
  ) {}

  update(received: number, total: number | undefined): void {
    this.startBytes ??= received;
    const now = performance.now();
    const finished = total !== undefined && received >= total;
    if (now - this.lastDraw < 100 && !finished) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? (received - this.startBytes) / seconds : 0;
    const width = 24;
    let line: string;
    if (total !== undefined && total > 0) {
      const filled = Math.min(width, Math.round((received / total) * width));
      const eta = rate > 0 ? (total - received) / rate : Number.NaN;
      line = `${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${mib(received)}/${mib(total)} ${mib(rate)}/s ETA ${duration(eta)}`;
    } else {
      line = `${this.label} ${mib(received)} ${mib(rate)}/s`;
    }
    this.stream.write(`\r\x1b[K${line}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write("\r\x1b[K");
    this.drawn = false;
  }
}
