import fs from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest folder above this file whose package.json is Foresight's (works from source and dist). */
function findProjectRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string };
      if (pkg.name === 'foresight') return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Foresight's package.json not found above ${start}`);
    dir = parent;
  }
}

export const projectRoot = findProjectRoot(__dirname);

/** The CDNOW purchase log and its published reference numbers, kept in the repository (see data/cdnow/README.md). */
export const cdnowDir = path.join(projectRoot, 'data', 'cdnow');
