import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constraints, fields, groupOperations, typeText, type ApiDocument, type Schema } from '../../src/console/api-reference-model.ts';

/** A small document with what the page must read generically: refs, cycles, path-level parameters, no tags. */
const doc: ApiDocument = {
  tags: [{ name: 'b tag', description: 'Bees.' }, { name: 'unused' }],
  components: {
    schemas: {
      Thing: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 8 }, parent: { $ref: '#/components/schemas/Thing' } } },
      Loop: { anyOf: [{ $ref: '#/components/schemas/Loop' }] },
    },
    parameters: { Id: { name: 'id', in: 'path', required: true, schema: { type: 'string' } } },
  },
  paths: {
    '/a/{id}': {
      parameters: [{ $ref: '#/components/parameters/Id' }, { name: 'q', in: 'query', schema: { type: 'string' } }],
      get: { tags: ['b tag'], operationId: 'getA', parameters: [{ name: 'q', in: 'query', required: true, schema: { type: 'integer', minimum: 1 } }] },
      post: { operationId: 'getA', responses: { 201: { description: 'made' } } },
      summary: 'not an operation',
    },
    '/broken': null as unknown as Record<string, unknown>,
  },
};

describe('API reference model', () => {
  it('summarises schemas as type and constraints', () => {
    const cases: Array<[Schema, string, string]> = [
      [{ type: 'string', minLength: 1, maxLength: 100 }, 'string', 'length 1–100'],
      [{ type: 'string', format: 'date-time' }, 'string (date-time)', ''],
      [{ anyOf: [{ type: 'string', enum: ['a'] }, { type: 'string', enum: ['b'] }] }, 'string', 'one of: a, b'],
      [{ anyOf: [{ type: 'string' }, { type: 'null' }] }, 'string | null', ''],
      [{ type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 5 }, 'array of string', 'items 1–5'],
      [{ type: 'integer', maximum: 100, default: 10 }, 'integer', 'value ≤ 100; default 10'],
      [{ $ref: '#/components/schemas/Thing' }, 'object (Thing)', ''],
      [{ $ref: '#/components/schemas/Loop' }, 'any', ''],
      [{ $ref: '#/components/schemas/Missing' }, 'any', ''],
      [{ type: 'object', properties: {}, additionalProperties: false }, 'object', 'no other fields'],
    ];
    for (const [schema, type, rules] of cases) {
      assert.equal(typeText(doc, schema), type, JSON.stringify(schema));
      assert.equal(constraints(doc, schema), rules, JSON.stringify(schema));
    }
  });

  it('lists fields with nested objects as dotted names, two levels deep, through refs and arrays', () => {
    const list = { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Thing' } } } } as Schema;
    assert.deepEqual(fields(doc, list).map((f) => [f.name, f.type, f.required, f.constraints]), [
      ['items', 'array of object (Thing)', false, ''],
      ['items[].id', 'string', true, 'length ≤ 8'],
      ['items[].parent', 'object (Thing)', false, ''],
      ['items[].parent.id', 'string', true, 'length ≤ 8'],
      ['items[].parent.parent', 'object (Thing)', false, ''],
    ]);
  });

  it('groups operations by tag with unique anchors, merging path-level parameters (the operation\'s win)', () => {
    const groups = groupOperations(doc);
    assert.deepEqual(groups.map((g) => [g.tag, g.anchor, g.description, g.ops.map((o) => [o.method, o.anchor])]), [
      ['b tag', 'tag-b-tag', 'Bees.', [['get', 'op-geta']]],
      ['other', 'tag-other', undefined, [['post', 'op-geta-2']]],
    ]);
    assert.deepEqual(groups[0]!.ops[0]!.params.map((p) => [p.name, p.in, p.required ?? false, p.schema?.type]), [['id', 'path', true, 'string'], ['q', 'query', true, 'integer']]);
  });
});
