/**
 * The contacts CSV as the benchmark builds and posts it (POST /api/contacts/import, multipart
 * field `file`): the import scenario's file, and the campaign scenario's audience.
 */
import { FormData, type Pool } from 'undici';

/** A column after `status` that is not a contact column (it lands in the contact's custom_fields). */
export interface ExtraColumn {
  name: string;
  value: (i: number) => string;
}

/**
 * Header `name,email,phone,group,status` (and the extra column), then `rows` rows
 * `Contact <n>,contact<n>@example.com,+2416<2000000+i>,<group>,active`: distinct numbers, seven
 * digits after +2416, so a million at most.
 */
export function contactsCsv(rows: number, group: (i: number) => string, extra?: ExtraColumn): Buffer {
  const lines: string[] = [`name,email,phone,group,status${extra ? `,${extra.name}` : ''}`];
  for (let i = 0; i < rows; i++) {
    const n = i + 1;
    lines.push(`Contact ${n},contact${n}@example.com,+2416${2000000 + i},${group(i)},active${extra ? `,${extra.value(i)}` : ''}`);
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/**
 * One POST of the file as an integrator sends it (API key as Bearer, one FormData per request:
 * undici streams it as multipart with its own boundary), bounded by `timeoutS` for the answer,
 * since the daemon answers only once every row is written. The answer's status and body; the
 * reason instead of the body when the request failed (status 0 if no answer came).
 */
export async function postContactsCsv(pool: Pool, apiKey: string, file: Blob, timeoutS: number): Promise<{ status: number; text: string }> {
  const form = new FormData();
  form.append('file', file, 'contacts.csv');
  const headers = { authorization: `Bearer ${apiKey}`, accept: 'application/json' };
  let status = 0;
  try {
    const res = await pool.request({
      method: 'POST', path: '/api/contacts/import', headers, body: form,
      headersTimeout: timeoutS * 1000, bodyTimeout: timeoutS * 1000,
    });
    status = res.statusCode;
    return { status, text: await res.body.text() };
  } catch (err) {
    return { status, text: `request failed: ${(err as Error).message}` };
  }
}

/** The answer's `data`, or null when it has none (the caller reports the body). */
export function answerData(text: string): any {
  try {
    return JSON.parse(text)?.data ?? null;
  } catch {
    return null;
  }
}
