/** Errors a loader reports for an image it cannot boot; the message names the problem. */
export class LoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadError';
  }
}

export function hex(v: number): string {
  return `0x${v.toString(16)}`;
}
