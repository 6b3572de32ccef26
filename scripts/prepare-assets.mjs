// Copies the Scalar standalone bundle into public/docs/ so the Worker serves the docs page's
// script itself (no CDN). Run after every npm install ("prepare"), by npm start and the test config.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export function prepareAssets() {
  const source = join(root, 'node_modules', '@scalar', 'api-reference', 'dist', 'browser', 'standalone.js');
  const target = join(root, 'public', 'docs', 'scalar.js');
  mkdirSync(dirname(target), { recursive: true });
  let fresh = false;
  try {
    fresh = statSync(target).size === statSync(source).size;
  } catch {}
  if (!fresh) copyFileSync(source, target);
  return target;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) prepareAssets();
