import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM, describeWith, FESTIVAL, NATS_SERVER } from '../fixtures/components.ts';
import { festivalSpeech, launchChromium, writeWavFile } from './harness.ts';
import { NatsServerFixture } from '../gateway/nats-fixture.ts';
import { listenSimulatedVessel, parseGatewayConfig, startGateway, type GatewayNode, type HeardPhrase } from '../../src/gateway/index.ts';
import { phraseCodecFactory } from '../../src/pipeline/codecs.ts';
import { FakeAsr } from '../daemon/fakes.ts';
import { until } from '../fixtures/wait.ts';

describeWith('shore page in headless Chromium (issue #18): hold to talk → a vessel hears it', [CHROMIUM, FESTIVAL, NATS_SERVER], () => {
  let nats: NatsServerFixture;
  let node: GatewayNode;
  beforeAll(async () => {
    nats = await NatsServerFixture.start();
    node = await startGateway(parseGatewayConfig(`
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: ws, listen: '127.0.0.1:0' }]
workers: { count: 1, tts: tone, text: utf8 }
shore: { listen: '127.0.0.1:0' }
`), { workerId: 'page', createAsr: async () => new FakeAsr() });
  }, 30_000);
  afterAll(async () => {
    await node?.close();
    await nats?.stop();
  });

  it('the microphone goes to the vessel; the page shows the phrase sent, then delivered', async () => {
    const heard: HeardPhrase[] = [];
    const vessel = listenSimulatedVessel(node.terminators[0]!.address, 'pageship', await phraseCodecFactory(), (p) => heard.push(p));
    const browser = await launchChromium(writeWavFile(festivalSpeech('THE SHIP IS READY TO SAIL', 1500)));
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${node.shore!.port}/`);
      await page.fill('#vessel', 'pageship');
      const box = (await page.locator('#talk').boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.waitForTimeout(5000);
      await page.mouse.up();
      await until(() => heard.length > 0, 20_000);
      await page.waitForFunction(() => document.getElementById('log')!.textContent!.includes('(delivered)'), undefined, { timeout: 20_000 });
      const log = await page.locator('#log').textContent();
      expect(log).toContain(`(sent): ${heard[0]!.text}`);
      expect(log).toContain(`(delivered): ${heard[0]!.text}`);
      expect(heard[0]!.text).toMatch(/^PHRASE \d+$/);
    } finally {
      await browser.close();
      vessel.close();
    }
  }, 60_000);
});
