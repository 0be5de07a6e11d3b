/** The first file of a multipart request, streamed to its consumer: never buffered whole, never truncated. */
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type Koa from 'koa';
import { fieldError } from '../../services/errors.js';

const MAX_MB = 200;

export function withUploadedFile<T>(ctx: Koa.Context, field: string, consume: (file: Readable) => Promise<T>): Promise<T> {
  if (!ctx.is('multipart/form-data')) return Promise.reject(fieldError(field, 'file_not_multipart'));
  return new Promise<T>((resolve, reject) => {
    let handled = false;
    const bb = busboy({ headers: ctx.req.headers, limits: { files: 1, fileSize: MAX_MB * 1024 * 1024 } });
    bb.on('file', (_name, stream) => {
      handled = true;
      // Past the size limit, refuse rather than import a silently truncated file.
      stream.on('limit', () => stream.destroy(fieldError(field, 'file_too_large', { max_mb: MAX_MB })));
      consume(stream).then(resolve, (err: unknown) => {
        stream.resume();
        reject(err);
      });
    });
    bb.on('error', reject);
    bb.on('close', () => {
      if (!handled) reject(fieldError(field, 'file_required'));
    });
    ctx.req.pipe(bb);
  });
}
