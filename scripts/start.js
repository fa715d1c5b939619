'use strict';
// `npm start`: prepares a fresh clone, then runs the platform on the embedded host (port 7071 unless PORT is set).
const { spawn } = require('node:child_process');
const path = require('node:path');
const { prepare, root } = require('./prepare');

prepare();
const args = [path.join(root, 'dist', 'host', 'cli.js'), root];
if (process.env.PORT) args.push('--port', process.env.PORT);
const child = spawn(process.execPath, [...args, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
