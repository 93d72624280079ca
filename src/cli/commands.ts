/** Every subcommand, one file each. Add a line here when you add a command file. */
import type { Command } from 'commander';
import { registerIngest } from './ingest.js';
import { registerTop } from './top.js';
import { registerDemo } from './demo.js';
import { registerServe } from './serve.js';

export function registerCommands(program: Command): void {
  registerIngest(program);
  registerTop(program);
  registerDemo(program);
  registerServe(program);
}
