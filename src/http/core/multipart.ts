/**
 * The first file of a multipart request, streamed to its consumer: never buffered whole, never
 * truncated. A body that cannot be read — no boundary, a broken part header, cut short, or its
 * client gone — is a 422 on the field, never a 500 and never a consumer left waiting.
 */
import { PassThrough, type Readable } from 'node:stream';
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
    let file: PassThrough | undefined;
    // busboy's own messages: "Unexpected end of form/file" for a body cut short, "Malformed part header".
    const broken = (err: Error): ServiceError => (/unexpected end|aborted/i.test(err.message) ? (file ? fieldError(field, 'upload_truncated') : malformed('it ends before its closing boundary')) : malformed('a part header cannot be read'));
    bb.on('file', (_name, stream) => {
      const out = (file = new PassThrough());
      // Past the size limit, refuse rather than import a silently truncated file.
      stream.on('limit', () => out.destroy(fieldError(field, 'file_too_large', { max_mb: MAX_MB })));
      stream.on('error', (err: Error) => out.destroy(broken(err)));
      stream.pipe(out);
      consume(out).then(resolve, (err: unknown) => {
        stream.unpipe(out);
        stream.resume();
        reject(err);
      });
    });
    // Once a file is being read, its consumer answers (after committing what it read); a file that
    // arrived whole is imported whole; before any file, this answers.
    bb.on('error', (err: Error) => {
      if (!file) reject(broken(err));
      else if (!file.writableEnded) file.destroy(broken(err));
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
