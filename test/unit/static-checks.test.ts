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
});
