/**
 * Sources of a program built somewhere else. DWARF names sources by the absolute paths they had
 * when compiled; a program built in one checkout and debugged in another (a moved tree, another
 * machine, CI) names files that are not there. A missing file is looked for the way a person
 * would: its path's trailing components (longest first) under the program's directory and then
 * each directory above it, so /build/tree/drivers/uart.c of a program in /home/me/tree/ is found
 * at /home/me/tree/drivers/uart.c. A file found nowhere keeps its recorded path (the editor then
 * says it cannot open it). Existing files are never moved.
 */
import { existsSync } from 'node:fs';
import { isAbsolutePath, joinPath, dirName } from './sourcePaths';

/** How many directories above the program's own are searched. */
const MAX_ANCESTORS = 16;

export type FileExists = (path: string) => boolean;

/** A function mapping each recorded source path to the path it is found at (cached per path). */
export function sourceRelocator(programDir: string, exists: FileExists = existsSync): (recorded: string) => string {
  const cache = new Map<string, string>();
  const ancestors: string[] = [];
  for (let d = programDir, i = 0; d && i <= MAX_ANCESTORS; i++) {
    ancestors.push(d);
    const up = dirName(d);
    if (up === d) break;
    d = up;
  }
  return (recorded) => {
    if (recorded === '' || !isAbsolutePath(recorded)) return recorded;
    let found = cache.get(recorded);
    if (found !== undefined) return found;
    found = recorded;
    if (!exists(recorded)) {
      const parts = recorded.split(/[\\/]+/).filter((p) => p !== '');
      // Longest suffix first (never the whole recorded path, which is known missing).
      search: for (let start = 1; start < parts.length; start++) {
        const tail = parts.slice(start).join('/');
        for (const a of ancestors) {
          const candidate = joinPath(a, tail);
          if (exists(candidate)) {
            found = candidate;
            break search;
          }
        }
      }
    }
    cache.set(recorded, found);
    return found;
  };
}
