// Test support: `belay mcp` alone, without the rest of the belay program
// (webhook/main.ts adds the same command with the same function), so a test
// that spawns it does not compile the whole gateway first.

import { Command } from 'commander';
import { addMcpCommand } from '../../../webhook/mcp/command.js';

const program = new Command('belay');
addMcpCommand(program);
await program.parseAsync();
