import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}

const files = sources('src').map((path) => ({ path, text: readFileSync(path, 'utf8') }));

describe('static checks over src/', () => {
  it('KC-4 Math.random does not occur: every unguessable value comes from node:crypto', () => {
    assert.deepEqual(files.filter((f) => f.text.includes('Math.random')).map((f) => f.path), []);
  });

  it('IN-4 no raw SQL is built from strings (sql.raw / sql.lit / string-built queries)', () => {
    assert.deepEqual(files.filter((f) => /sql\.(raw|lit)\s*\(|\.executeQuery\(\s*['`"]/.test(f.text)).map((f) => f.path), []);
  });

  it('the protocol core imports neither Fastify nor a database driver', () => {
    const core = files.filter((f) => f.path.startsWith(join('src', 'core')));
    assert.ok(core.length > 10);
    assert.deepEqual(core.filter((f) => /from '(fastify|@fastify\/[^']+|kysely|pg|better-sqlite3)'/.test(f.text)).map((f) => f.path), []);
  });

  it('the core owns its store interfaces: nothing in src/core imports from src/storage or src/http', () => {
    const core = files.filter((f) => f.path.startsWith(join('src', 'core')));
    const outward = /(?:from|import)\s*\(?\s*'(?:\.\.\/)+(?:storage|http|console|api|cli)\//;
    assert.deepEqual(core.filter((f) => outward.test(f.text)).map((f) => f.path), []);
    assert.ok(core.some((f) => f.path === join('src', 'core', 'stores.ts')), 'the store interfaces live in src/core/stores.ts');
  });
});
