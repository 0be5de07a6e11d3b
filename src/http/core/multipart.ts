/**
 * The first file of a multipart request, streamed to its consumer: never buffered whole, never
 * truncated. A body that cannot be read — no boundary, a broken part header, cut short, or its
 * client gone — is a 422 on the field, never a 500 and never a consumer left waiting.
 */
import { Readable } from 'node:stream';
import busboy from 'busboy';
import type Koa from 'koa';
import { fieldError, type ServiceError } from '../../services/errors.js';

const MAX_MB = 200;

export function withUploadedFile<T>(ctx: Koa.Context, field: string, consume: (file: Readable) => Promise<T>): Promise<T> {
  if (!ctx.is('multipart/form-data')) return Promise.reject(fieldError(field, 'file_not_multipart'));
  const malformed = (reason: string): ServiceError => fieldError(field, 'multipart_malformed', { reason });
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: ctx.req.headers, limits: { files: 1, fileSize: MAX_MB * 1024 * 1024 } });
  } catch {
    // busboy refuses a multipart Content-Type without its boundary when it is built.
    return Promise.reject(malformed('its Content-Type has no boundary'));
  }
  return new Promise<T>((resolve, reject) => {
    /** What the consumer reads: the file's bytes, ending in the upload's error (a ServiceError) if the body breaks. */
    let file: UploadedFile | undefined;
    // busboy's own messages: "Unexpected end of form/file" for a body cut short, "Malformed part header".
    const broken = (err: Error): ServiceError => (/unexpected end|aborted/i.test(err.message) ? (file ? fieldError(field, 'upload_truncated') : malformed('it ends before its closing boundary')) : malformed('a part header cannot be read'));
    bb.on('file', (_name, stream) => {
      const out = (file = new UploadedFile(stream));
      // Past the size limit, refuse rather than import a silently truncated file.
      stream.on('limit', () => out.destroy(fieldError(field, 'file_too_large', { max_mb: MAX_MB })));
      stream.on('error', (err: Error) => out.fail(broken(err)));
      consume(out).then(resolve, (err: unknown) => {
        out.detach();
        reject(err);
      });
    });
    // Once a file is being read, its consumer answers (after committing what it read); a file that
    // arrived whole is imported whole; before any file, this answers.
    bb.on('error', (err: Error) => {
      if (!file) reject(broken(err));
      else file.fail(broken(err));
    });
    bb.on('close', () => {
      if (!file) reject(fieldError(field, 'file_required'));
    });
    // A client gone mid-body: pipe() would leave busboy, and the consumer, waiting for the rest forever.
    ctx.req.on('close', () => {
      if (!ctx.req.complete) bb.destroy(new Error('aborted'));
    });
    ctx.req.pipe(bb);
  });
}

/**
 * The file part's bytes as its consumer reads them (with the part's back-pressure). An upload
 * that breaks (cut short) ends them in its error only after the bytes that came before: a stream
 * destroyed at once drops what it still holds, and when the whole body was already received
 * (the request waited for a slower store before reading it) that is every row of the file.
 */
class UploadedFile extends Readable {
  private failure: Error | null = null;
  private ended = false;
  private readonly onData = (chunk: Buffer): void => {
    if (!this.push(chunk)) this.source.pause();
  };

  constructor(private readonly source: Readable) {
    super();
    source.on('data', this.onData);
    source.on('end', () => {
      this.ended = true;
      this.push(null);
    });
  }

  override _read(): void {
    this.source.resume();
  }

  override read(size?: number): Buffer | null {
    const chunk = super.read(size) as Buffer | null;
    // What was held before the failure is read: the consumer hears of it now.
    if (this.failure && this.readableLength === 0 && !this.destroyed) this.destroy(this.failure);
    return chunk;
  }

  /** Ends the bytes in `err` once the consumer has read those received before it; nothing after a complete file. */
  fail(err: Error): void {
    if (this.ended || this.failure || this.destroyed) return;
    this.failure = err;
    this.source.off('data', this.onData);
    if (this.readableLength === 0) this.destroy(err);
  }

  /** The consumer gave up: the rest of the part is drained, unread. */
  detach(): void {
    this.source.off('data', this.onData);
    this.source.resume();
  }
}
