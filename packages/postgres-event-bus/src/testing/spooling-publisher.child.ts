// A publishing process for the kill -9 test: `publish <count>` prints `ok <n>` after each
// event the publisher accepted (spooled or stored); `replay` flushes the spool and exits.
// When the spool cannot be opened (another process holds it) it prints `refused …`, exits 3.
import { PostgresEventBus } from '../event-bus.js';
import { EventBusPublisher } from '../publisher/event-bus-publisher.js';

const [url, schema, dir, mode, countText] = process.argv.slice(2);
if (url === undefined || schema === undefined || dir === undefined || mode === undefined) {
  process.stderr.write('usage: <url> <schema> <spool dir> publish <count> | replay\n');
  process.exit(2);
}
const bus = PostgresEventBus.create({
  connectionString: url,
  schema,
  listen: false,
})._unsafeUnwrap();
const opened = EventBusPublisher.open({ bus, spoolDirectory: dir, retryMs: 50 });
if (opened.isErr()) {
  // Exit code 3: the spool is held by another process (or cannot be opened).
  process.stderr.write(`refused ${opened.error.type}: ${opened.error.message}\n`);
  await bus.close();
  process.exit(3);
}
const publisher = opened.value;

if (mode === 'publish') {
  const count = Number(countText ?? '100');
  for (let n = 1; n <= count; n += 1) {
    const result = await publisher.publish({
      eventId: `01940000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
      type: 'WorkerEphemeralBusy',
      occurredAt: new Date(Date.UTC(2025, 0, 1) + n).toISOString(),
      providerId: 'p-kill',
      workerId: 'w-kill',
      actor: 'watch',
    });
    if (result.isErr()) {
      process.stderr.write(`${result.error.message}\n`);
      process.exit(1);
    }
    process.stdout.write(`ok ${n}\n`);
  }
  // Wait to be killed (a pending promise alone would let the process exit).
  setInterval(() => undefined, 60_000);
} else {
  for (let i = 0; i < 100; i += 1) {
    if ((await publisher.flush()).isOk()) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const left = publisher.state().spooledCount;
  await publisher.close();
  await bus.close();
  process.stdout.write(`left ${left}\n`);
}
