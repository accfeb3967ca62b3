/** Where the command line writes: the real process streams, or a buffer in tests. */
export interface CliIo {
  /** One or more lines to standard output (a newline is added). */
  out(text: string): void;
  /** One or more lines to standard error (a newline is added). */
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => { process.stdout.write(text + '\n'); },
  err: (text) => { process.stderr.write(text + '\n'); },
};

/** An io that keeps what is written (tests, the VS Code extension). */
export function bufferIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => { stdout.push(t); }, err: (t) => { stderr.push(t); } };
}
