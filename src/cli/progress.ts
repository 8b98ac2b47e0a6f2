/** A progress bar on stderr for long work; plain lines when stderr is not a terminal. */
export class ProgressBar {
  private lastLine = '';
  private lastPlain = -1;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string, private readonly width = 30) {}

  update(fraction: number, detail = ''): void {
    const f = Math.max(0, Math.min(1, fraction));
    if (!this.tty) {
      const step = Math.floor(f * 4);
      if (step !== this.lastPlain) {
        this.lastPlain = step;
        process.stderr.write(`${this.label}: ${Math.round(f * 100)}% ${detail}\n`);
      }
      return;
    }
    const filled = Math.round(f * this.width);
    const line = `${this.label} [${'█'.repeat(filled)}${'░'.repeat(this.width - filled)}] ${String(Math.round(f * 100)).padStart(3)}% ${detail}`;
    if (line === this.lastLine) return;
    this.lastLine = line;
    process.stderr.write(`\r\x1b[2K${line}`);
  }

  done(message: string): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`${message}\n`);
  }
}
