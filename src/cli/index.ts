#!/usr/bin/env node
/** The `modcast` binary: one subcommand per file in this folder, registered here. */
import { Command, CommanderError } from 'commander';
import { describeError } from '../errors.js';
import { registerCommands } from './commands.js';

export function buildProgram(): Command {
  const program = new Command('modcast')
    .description('Predictive prefetch analytics for fleets of Go module proxies')
    .option('-c, --config <file>', 'config file (YAML/JSON); default $MODCAST_CONFIG or ./modcast.yaml')
    .option('--data-dir <dir>', 'embedded store directory (default ./data, $MODCAST_DATA_DIR)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .showHelpAfterError();
  registerCommands(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode);
    console.error(`modcast: ${describeError(e)}`);
    process.exit(1);
  }
}

void main();
