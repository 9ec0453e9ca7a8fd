import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, NATS_SERVER } from '../fixtures/components.ts';
import { NatsServerFixture } from './nats-fixture.ts';
import { parseGatewayConfig, simulatedCallFrames, startGateway, type GatewayNode } from '../../src/gateway/index.ts';
import { connectLink } from '../../src/transport/ws.ts';
import { LinkSession } from '../../src/transport/link-session.ts';
import { until } from '../fixtures/wait.ts';

describeWith('gateway terminator: a frame is acknowledged to the vessel only once JetStream stored it', [NATS_SERVER], () => {
  let nats: NatsServerFixture;
  let node: GatewayNode;
  beforeAll(async () => {
    nats = await NatsServerFixture.start();
    node = await startGateway(parseGatewayConfig(`
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: ws, listen: '127.0.0.1:0' }]
workers: { count: 0 }
`), { role: 'terminator' });
  }, 30_000);
  afterAll(async () => {
    await node?.close();
    await nats?.stop();
  });

  it('while the server is down the vessel keeps its frames (not acknowledged); after the restart they are stored and acknowledged', async () => {
    const { frames } = simulatedCallFrames(41, ['before the outage', 'during the outage', 'still down'], 100);
    const link = new LinkSession(41, { sender: { bitsPerSecond: 9600 } });
    const conn = connectLink(`${node.terminators[0]!.address}/vessel/v41`, link);
    try {
      link.send(frames[0]!);
      link.send(frames[1]!);
      await until(() => link.sender.idle, 10_000);
      const restart = nats.restart(3000);
      await new Promise((r) => setTimeout(r, 300));
      for (const f of frames.slice(2)) link.send(f);
      await new Promise((r) => setTimeout(r, 1500));
      // Received by the terminator, not yet stored: not acknowledged.
      expect(link.sender.outstanding).toBe(frames.length - 2);
      await restart;
      await until(() => link.sender.idle, 20_000);
      const last = await node.jet.jsm.streams.getMessage('STCTS_UP', { last_by_subj: 'stcts.v1.up.v41.41' });
      expect(last).toBeDefined();
      expect(node.hub!.stats.framesPublished).toBe(frames.length);
    } finally {
      conn.close();
      link.close();
    }
  }, 60_000);
});
