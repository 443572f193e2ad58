#!/usr/bin/env node
// The `skiff` command: the compiled CLI lives in dist/ (built from src/ by `npm install`).
import { main } from '../dist/src/cli/main.js';
main(process.argv.slice(2)).then((code) => process.exit(code ?? 0), (err) => { console.error(err); process.exit(1); });
