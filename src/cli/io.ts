/** Where the command line writes: the real process streams, or a buffer in tests. */
export interface CliIo {
  /** One or more lines to standard output (a newline is added). */
  out(text: string): void;
  /** One or more lines to standard error (a newline is added). */
  err(text: string): void;
  /**
   * Raw bytes to standard output, no newline added (the guest's serial output as it comes).
   * Optional: an io without it does not stream (the output is still in the summary).
   */
  writeBytes?(bytes: Uint8Array): void;
}

export const processIo: CliIo = {
  out: (text) => { process.stdout.write(text + '\n'); },
  err: (text) => { process.stderr.write(text + '\n'); },
  writeBytes: (bytes) => { process.stdout.write(bytes); },
};

/**
 * An io that keeps what is written (tests, the VS Code extension). `stdout` holds lines:
 * `stdout.join('\n')` is what a process would have printed (without the final newline); raw
 * bytes are decoded as UTF-8 and continue the current line until they contain a newline.
 */
export function bufferIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const decoder = new TextDecoder('utf-8');
  /** The last element of stdout is an unfinished line (raw output without a final newline). */
  let open = false;
  const append = (text: string, newline: boolean): void => {
    const parts = text.split('\n');
    if (open) stdout[stdout.length - 1] += parts.shift()!;
    else stdout.push(parts.shift()!);
    stdout.push(...parts);
    open = !newline;
    if (newline) return;
    // A raw chunk that ends in '\n' leaves an empty open line: the next text starts it.
  };
  return {
    stdout,
    stderr,
    out: (t) => { append(t, true); },
    err: (t) => { stderr.push(t); },
    writeBytes: (b) => { append(decoder.decode(b, { stream: true }), false); },
  };
}
