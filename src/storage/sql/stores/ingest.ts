import type { IngestBatchRecord, IngestSignal, IngestStore } from '../../../core/stores.ts';
import type { Executor, Row } from '../schema.ts';
import { insertUnique } from './common.ts';

const toRecord = (r: Row<'ingest_batches'>): IngestBatchRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  principalId: r.principal_id,
  signal: r.signal as IngestSignal,
  contentType: r.content_type,
  // A plain Uint8Array (not the driver's Buffer), the same type on both engines.
  body: new Uint8Array(r.body),
  receivedAt: r.received_at,
});

export class SqlIngestStore implements IngestStore {
  constructor(private readonly db: Executor) {}

  async insert(b: IngestBatchRecord): Promise<void> {
    await insertUnique('ingest batch', this.db.insertInto('ingest_batches').values({
      id: b.id,
      tenant_id: b.tenantId,
      principal_id: b.principalId,
      signal: b.signal,
      content_type: b.contentType,
      body: Buffer.from(b.body.buffer, b.body.byteOffset, b.body.byteLength),
      received_at: b.receivedAt,
    }));
  }

  /** Newest first by receivedAt, then by id. */
  async list(tenantId: string, limit: number): Promise<IngestBatchRecord[]> {
    const rows = await this.db.selectFrom('ingest_batches').selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('received_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }
}
