import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, NATS_SERVER } from '../fixtures/components.ts';
import { NatsServerFixture } from './nats-fixture.ts';
import { LeaseTable, openJetStream, type GatewayJetStream } from '../../src/gateway/index.ts';

describeWith('session leases in JetStream KV (CAS on revision, staleness on the observer clock)', [NATS_SERVER], () => {
  let nats: NatsServerFixture;
  let jet: GatewayJetStream;
  beforeAll(async () => {
    nats = await NatsServerFixture.start();
    jet = await openJetStream({ servers: [nats.url], storage: 'memory' });
  }, 30_000);
  afterAll(async () => {
    await jet?.close();
    await nats?.stop();
  });

  it('one owner at a time; a stale lease is taken over; the old owner learns it lost', async () => {
    let clockB = 0;
    const a = new LeaseTable(jet.leases, 'A', { ttlMs: 1000, heartbeatMs: 300 }, () => 0);
    const b = new LeaseTable(jet.leases, 'B', { ttlMs: 1000, heartbeatMs: 300 }, () => clockB);
    const revA = await a.tryAcquire(1);
    expect(revA).toBeTypeOf('number');
    expect(await b.tryAcquire(1)).toBeUndefined(); // first sight of A's revision
    clockB = 999;
    expect(await b.tryAcquire(1)).toBeUndefined(); // not yet stale
    // A heartbeats: a new revision restarts B's staleness clock.
    const revA2 = await a.renew(1, revA!, 1);
    expect(revA2).toBeTypeOf('number');
    clockB = 1500;
    expect(await b.tryAcquire(1)).toBeUndefined();
    clockB = 2600; // A went quiet for > ttl on B's clock
    const revB = await b.tryAcquire(1);
    expect(revB).toBeTypeOf('number');
    expect(await a.renew(1, revA2 as number, 2)).toBe('lost');
    await b.release(1, revB!);
    expect(await a.tryAcquire(1)).toBeTypeOf('number'); // released: free at once
  });
});
