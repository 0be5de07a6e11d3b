/** The seed copies the conformance suites read are the documents themselves, byte for byte. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SEEDS, readSeed } from './seeds.js';

const ORIGINALS = join(import.meta.dirname, '../../../shared/seeds');

test('test/conformance/seeds holds the seed documents verbatim', { skip: existsSync(ORIGINALS) ? false : `no ${ORIGINALS} on this machine` }, () => {
  for (const file of Object.values(SEEDS)) assert.equal(readSeed(file), readFileSync(join(ORIGINALS, file), 'utf8'), file);
});
