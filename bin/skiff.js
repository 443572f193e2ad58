#!/usr/bin/env node
// The `skiff` command: the compiled CLI lives in dist/ (built from src/ by `npm install`).
import { main } from '../dist/src/cli/main.js';
main(process.argv.slice(2)).then((code) => { if (typeof code === 'number') process.exitCode = code; });
