/** %include for files on disk: relative to the including file, then the include directories. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { FileReader } from './preprocessor';

export function diskReader(includeDirs: readonly string[] = []): FileReader {
  return {
    read(name, from) {
      const candidates = isAbsolute(name) ? [name] : [join(dirname(from), name), ...includeDirs.map((d) => join(d, name))];
      for (const p of candidates) {
        if (existsSync(p)) return { path: resolve(p), text: readFileSync(p, 'utf8') };
      }
      return null;
    },
  };
}
