'use strict';
// Writes a file of random bytes 1 MiB at a time (never the whole content in memory) and returns its SHA-256 (hex).
// CommonJS so bench/ scripts share it with the tests (test/connectors/fileStreaming.test.ts).

const { createHash, randomBytes } = require('node:crypto');
const fs = require('node:fs');

/** @param {string} file @param {number} bytes @returns {Promise<string>} */
async function randomFile(file, bytes) {
  const hash = createHash('sha256');
  const out = fs.createWriteStream(file);
  for (let written = 0; written < bytes; written += 1024 * 1024) {
    const chunk = randomBytes(Math.min(1024 * 1024, bytes - written));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
  return hash.digest('hex');
}

module.exports = { randomFile };
