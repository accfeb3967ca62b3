/**
 * Source paths as the debugger shows them: absolute and normalized. DWARF directories and
 * names are joined the way DWARF 5 §6.2.4 describes (a relative file name is relative to its
 * directory entry, a relative directory to the compilation directory). Windows-style paths
 * (a drive letter or backslashes) are joined with Windows rules, everything else with POSIX.
 */
import { posix, win32 } from 'node:path';

const isWindowsStyle = (p: string): boolean => /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\') || (p.includes('\\') && !p.includes('/'));

export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

/** `rel` resolved against `base` (when `rel` is absolute, `rel` alone), normalized. */
export function joinPath(base: string, rel: string): string {
  if (isAbsolutePath(rel)) return normalizePath(rel);
  return isWindowsStyle(base) ? win32.join(base, rel) : posix.join(base, rel);
}

export function normalizePath(p: string): string {
  return isWindowsStyle(p) ? win32.normalize(p) : posix.normalize(p);
}

/** The last component of a path, with either separator. */
export function baseName(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i < 0 ? p : p.slice(i + 1);
}

/** The directory of a path, with either separator ('' when there is none). */
export function dirName(p: string): string {
  return isWindowsStyle(p) ? win32.dirname(p) : posix.dirname(p);
}
