import { DeliverPolicy, headers, type JetStreamClient, type JsMsg, type PubAck } from 'nats';

/**
 * The messages a stream holds on one subject, from the first (or `fromStreamSeq`), then as they
 * come, until `signal` aborts. The consumer is recreated from the next stream sequence whenever it
 * stops (a server restart is a pause, not an end). An error thrown by the caller's loop body ends
 * the iteration (and the consumer) and reaches the caller.
 */
export async function* storedMessages(js: JetStreamClient, stream: string, subject: string, signal: AbortSignal, retryMs: number, fromStreamSeq = 1): AsyncGenerator<JsMsg> {
  let next = fromStreamSeq;
  while (!signal.aborted) {
    let messages: Awaited<ReturnType<Awaited<ReturnType<typeof js.consumers.get>>['consume']>> | undefined;
    const stop = () => messages?.stop();
    try {
      const consumer = await js.consumers.get(stream, { filterSubjects: subject, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next });
      messages = await consumer.consume({ max_messages: 256 });
      signal.addEventListener('abort', stop, { once: true });
      for await (const m of messages) {
        next = m.seq + 1;
        yield m;
      }
    } catch {
      if (signal.aborted) break;
      await new Promise((r) => setTimeout(r, retryMs));
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
  }
}

/**
 * Publishes until JetStream has stored the message (retrying through a server restart), with
 * `Nats-Msg-Id` = `msgId` so a retry, or a new owner's republish, is stored once.
 */
export async function publishStored(js: JetStreamClient, subject: string, data: Uint8Array, msgId: string, set: Record<string, string>, signal: AbortSignal, retryMs: number): Promise<PubAck> {
  const h = headers();
  h.set('Nats-Msg-Id', msgId);
  for (const [k, v] of Object.entries(set)) h.set(k, v);
  for (;;) {
    signal.throwIfAborted();
    try {
      return await js.publish(subject, data, { headers: h, timeout: 2000 });
    } catch {
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }
}
