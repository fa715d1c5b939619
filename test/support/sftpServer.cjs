'use strict';
// An SFTP server in this process for tests and benchmarks (CommonJS, so bench/ scripts can require it as it is):
// ssh2's server over a temporary directory, password authentication, a fresh RSA host key per start. Files are
// read and written with positioned fs calls per SFTP request, so any file size streams through it.
// test/support/sftpServer.ts gives it its types.

const { createHash, generateKeyPairSync } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Server, utils } = require('ssh2');

/**
 * Starts the server on 127.0.0.1 and a free port; `close()` ends the sessions and removes the directory.
 * @param {{ username: string; password: string }} credentials
 */
async function startSftpServer({ username, password }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-sftp-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'pkcs1', format: 'pem' } });
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  const fingerprint = createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '');
  const { OPEN_MODE, STATUS_CODE } = utils.sftp;
  let connections = 0;
  const clients = new Set();

  const local = (virtual) => {
    const normalized = path.posix.normalize(path.posix.join('/', virtual));
    return path.join(root, normalized);
  };
  const attrsOf = (stats) => ({ mode: stats.mode, uid: stats.uid, gid: stats.gid, size: stats.size, atime: Math.floor(stats.atimeMs / 1000), mtime: Math.floor(stats.mtimeMs / 1000) });
  const longname = (name, stats) => `${stats.isDirectory() ? 'd' : '-'}rw-r--r-- 1 aiq aiq ${stats.size} Jan 1 00:00 ${name}`;
  const statusOf = (error) => (error.code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : STATUS_CODE.FAILURE);

  const server = new Server({ hostKeys: [privateKey] }, (client) => {
    connections += 1;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === username && ctx.password === password) ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          const sftp = acceptSftp();
          const handles = new Map();
          let next = 0;
          const handleOf = (buffer) => handles.get(buffer.length === 4 ? buffer.readUInt32BE(0) : -1);
          const newHandle = (entry) => {
            const id = next++;
            handles.set(id, entry);
            const buffer = Buffer.alloc(4);
            buffer.writeUInt32BE(id, 0);
            return buffer;
          };
          sftp.on('OPEN', (reqid, filename, flags) => {
            const mode = utils.sftp.flagsToString(flags) ?? 'r';
            try {
              const fd = fs.openSync(local(filename), flags & OPEN_MODE.WRITE ? (flags & OPEN_MODE.APPEND ? 'a' : 'w') : mode);
              sftp.handle(reqid, newHandle({ fd }));
            } catch (error) {
              sftp.status(reqid, statusOf(error));
            }
          });
          sftp.on('READ', (reqid, handle, offset, length) => {
            const entry = handleOf(handle);
            if (entry?.fd === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
            const buffer = Buffer.alloc(length);
            const read = fs.readSync(entry.fd, buffer, 0, length, offset);
            if (read === 0) return sftp.status(reqid, STATUS_CODE.EOF);
            return sftp.data(reqid, buffer.subarray(0, read));
          });
          sftp.on('WRITE', (reqid, handle, offset, data) => {
            const entry = handleOf(handle);
            if (entry?.fd === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
            fs.writeSync(entry.fd, data, 0, data.length, offset);
            return sftp.status(reqid, STATUS_CODE.OK);
          });
          sftp.on('CLOSE', (reqid, handle) => {
            const entry = handleOf(handle);
            if (!entry) return sftp.status(reqid, STATUS_CODE.FAILURE);
            if (entry.fd !== undefined) fs.closeSync(entry.fd);
            handles.delete(handle.readUInt32BE(0));
            return sftp.status(reqid, STATUS_CODE.OK);
          });
          const stat = (reqid, filename) => {
            try {
              sftp.attrs(reqid, attrsOf(fs.statSync(local(filename))));
            } catch (error) {
              sftp.status(reqid, statusOf(error));
            }
          };
          sftp.on('STAT', stat);
          sftp.on('LSTAT', stat);
          sftp.on('FSTAT', (reqid, handle) => {
            const entry = handleOf(handle);
            if (entry?.fd === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
            return sftp.attrs(reqid, attrsOf(fs.fstatSync(entry.fd)));
          });
          sftp.on('SETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
          sftp.on('FSETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
          sftp.on('OPENDIR', (reqid, dirPath) => {
            try {
              if (!fs.statSync(local(dirPath)).isDirectory()) return sftp.status(reqid, STATUS_CODE.FAILURE);
              return sftp.handle(reqid, newHandle({ dir: local(dirPath) }));
            } catch (error) {
              return sftp.status(reqid, statusOf(error));
            }
          });
          sftp.on('READDIR', (reqid, handle) => {
            const entry = handleOf(handle);
            if (entry?.dir === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
            if (entry.listed) return sftp.status(reqid, STATUS_CODE.EOF);
            entry.listed = true;
            const names = fs.readdirSync(entry.dir).map((name) => {
              const stats = fs.statSync(path.join(entry.dir, name));
              return { filename: name, longname: longname(name, stats), attrs: attrsOf(stats) };
            });
            return sftp.name(reqid, names);
          });
          sftp.on('REMOVE', (reqid, filename) => {
            try {
              fs.unlinkSync(local(filename));
              sftp.status(reqid, STATUS_CODE.OK);
            } catch (error) {
              sftp.status(reqid, statusOf(error));
            }
          });
          sftp.on('RENAME', (reqid, from, to) => {
            try {
              fs.renameSync(local(from), local(to));
              sftp.status(reqid, STATUS_CODE.OK);
            } catch (error) {
              sftp.status(reqid, statusOf(error));
            }
          });
          sftp.on('MKDIR', (reqid, dirPath) => {
            try {
              fs.mkdirSync(local(dirPath));
              sftp.status(reqid, STATUS_CODE.OK);
            } catch (error) {
              sftp.status(reqid, statusOf(error));
            }
          });
          sftp.on('REALPATH', (reqid, requested) => {
            const virtual = path.posix.normalize(path.posix.join('/', requested));
            sftp.name(reqid, [{ filename: virtual, longname: virtual, attrs: {} }]);
          });
        });
      });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    port,
    root,
    fingerprint,
    connections: () => connections,
    close: async () => {
      for (const client of clients) client.end();
      await new Promise((resolve) => server.close(() => resolve()));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

module.exports = { startSftpServer };
