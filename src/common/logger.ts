/** A minimal leveled logger; each process decides where lines go (LSP console, stderr, a file). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type LogSink = (level: LogLevel, line: string) => void;

export function createLogger(sink: LogSink, minimum: LogLevel = 'info', scope?: string): Logger {
  const emit = (level: LogLevel, message: string) => {
    if (ORDER[level] < ORDER[minimum]) return;
    sink(level, scope ? `[${scope}] ${message}` : message);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}

export const stderrSink: LogSink = (level, line) => {
  process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${line}\n`);
};

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
