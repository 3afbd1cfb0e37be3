#!/usr/bin/env node
// A native-`solc`-compatible command line backed by solc-js (npm `solc`, the official compiler built to
// WebAssembly). No native solc binary can be downloaded here, and py-solc-x/brownie insist on calling one, so
// `make setup` links this file as `.solcx/solc-v<version>` and points `SOLCX_BINARY_PATH` at that folder.
//
// Only the part of the command line that py-solc-x and brownie use is implemented:
//   solc --version
//   solc --standard-json [--allow-paths a,b] [--base-path p] [--include-path p]...   (input JSON on stdin)
// Anything else is refused the way native solc refuses it ("unrecognised option '...'", exit 1), which py-solc-x
// turns into a clear UnknownOption error.
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

// Write everything synchronously: `process.stdout.write(big); process.exit()` truncates output on a pipe,
// which reaches brownie as invalid JSON. A pipe may be non-blocking, so EAGAIN is retried.
function writeAll(fd, text) {
  const buffer = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

function readStdin() {
  const chunks = [];
  const chunk = Buffer.alloc(1 << 16);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, chunk, 0, chunk.length, null);
    } catch (err) {
      if (err.code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      if (err.code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function fail(message) {
  writeAll(2, message + '\n');
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, allowPaths: [], basePath: '', includePaths: [] };
  const takeValue = (i, flag) => {
    if (i + 1 >= argv.length) fail(`option '${flag}' requires an argument`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '--version':
        opts.version = true;
        break;
      case '--standard-json':
        opts.standardJson = true;
        break;
      case '--allow-paths':
        opts.allowPaths.push(...takeValue(i, arg).split(',').filter(Boolean));
        i++;
        break;
      case '--base-path':
        opts.basePath = takeValue(i, arg);
        i++;
        break;
      case '--include-path':
        opts.includePaths.push(takeValue(i, arg));
        i++;
        break;
      case '-':
        break; // "read from stdin", which --standard-json does anyway
      default:
        fail(`unrecognised option '${arg}'`);
    }
  }
  return opts;
}

// Resolves an import the way native solc's file reader does: the source unit name is looked up under the base
// path (or the working directory) and then under each include path; only files inside the base path, the
// include paths or the allowed paths may be read.
function makeImportReader(opts) {
  const cwd = process.cwd();
  const base = path.resolve(cwd, opts.basePath || '.');
  const roots = [base, ...opts.includePaths.map((p) => path.resolve(cwd, p))];
  const allowed = [...roots, ...opts.allowPaths.map((p) => path.resolve(cwd, p))].map((p) => {
    try {
      return fs.realpathSync(p);
    } catch (err) {
      return p;
    }
  });
  const isAllowed = (file) =>
    allowed.some((dir) => file === dir || file.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep));

  return function readImport(sourceUnitName) {
    const candidates = path.isAbsolute(sourceUnitName)
      ? [sourceUnitName]
      : roots.map((root) => path.join(root, sourceUnitName));
    for (const candidate of candidates) {
      let real;
      try {
        real = fs.realpathSync(candidate);
      } catch (err) {
        continue;
      }
      if (!isAllowed(real)) {
        return { error: `File outside of allowed directories: ${sourceUnitName}` };
      }
      return { contents: fs.readFileSync(real, 'utf8') };
    }
    return { error: `File not found. Searched the following locations: ${candidates.join(', ')}` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    // The native format; py-solc-x reads "Version: <x.y.z>+commit.<hash>".
    writeAll(1, `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (!opts.standardJson) fail('only --version and --standard-json are supported by this solc-js adapter');
  const input = readStdin();
  const output = solc.compile(input, { import: makeImportReader(opts) });
  writeAll(1, output + '\n');
}

main();
