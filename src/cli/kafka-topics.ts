/** `modcast kafka-topics` — create modcast's topics (partitions, replication, retention from the config) and show them. */
import type { Command } from 'commander';
import { contextFrom } from './context.js';
import { createKafkaClient } from '../kafka/kafkajs.js';
import { topicSpecs, withAdmin } from '../kafka/topics.js';

export function registerKafkaTopics(program: Command): void {
  const topics = program.command('kafka-topics').description("create and describe modcast's Kafka topics");
  topics
    .command('create')
    .description('create the missing topics (existing ones are left as they are)')
    .action(async (_flags: unknown, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const specs = topicSpecs(ctx.config.kafka);
      const created = await withAdmin(createKafkaClient(ctx.config.kafka, ctx.logger), (admin) => admin.ensureTopics(specs));
      for (const s of specs) {
        const hours = Number(s.config['retention.ms']) / 3_600_000;
        console.log(`${created.includes(s.topic) ? 'created' : 'exists '} ${s.topic} (${s.partitions} partitions, retention ${hours} h)`);
      }
    });
  topics
    .command('describe')
    .description('partitions, offsets and non-default configs of the topics')
    .action(async (_flags: unknown, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const names = topicSpecs(ctx.config.kafka).map((s) => s.topic);
      const described = await withAdmin(createKafkaClient(ctx.config.kafka, ctx.logger), async (admin) => {
        const existing = new Set(await admin.listTopics());
        return admin.describe(names.filter((n) => existing.has(n)));
      });
      for (const name of names) {
        const d = described.find((x) => x.topic === name);
        if (!d) {
          console.log(`${name}: missing (modcast kafka-topics create)`);
          continue;
        }
        const messages = d.partitions.reduce((sum, p) => sum + (p.high - p.low), 0);
        const configs = Object.entries(d.config).map(([k, v]) => `${k}=${v}`).join(' ');
        console.log(`${name}: ${d.partitions.length} partitions, ${messages} messages retained; ${configs}`);
        for (const p of d.partitions) console.log(`  partition ${p.partition}: leader ${p.leader}, replicas [${p.replicas.join(',')}], isr [${p.isr.join(',')}], offsets ${p.low}..${p.high}`);
      }
    });
}
