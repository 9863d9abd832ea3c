#!/usr/bin/env node
// `edgewatch` executable (package.json "bin"): registers tsx's ESM loader in this process, then runs
// the TypeScript CLI. Works from any working directory (paths resolve from this file).
import { register } from "tsx/esm/api";

const unregister = register();
const { runCli } = await import(new URL("./main.ts", import.meta.url).href);
const code = await runCli(process.argv);
unregister();
// Exit explicitly so keep-alive sockets or timers left by a library cannot hold the CLI open.
process.exit(code);
