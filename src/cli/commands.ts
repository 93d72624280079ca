/** Every subcommand, one file each. Add a line here when you add a command file. */
import type { Command } from 'commander';

export function registerCommands(program: Command): void {
  void program;
}
