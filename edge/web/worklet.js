// AudioWorklet processors of the stcts page (plain JS: worklets load as their own module).
// stcts-capture: microphone → 16 kHz s16 chunks of 20 ms (WebSocket-PCM transport).
// stcts-player: 16 kHz s16 chunks from the daemon → the context rate, bounded jitter buffer.
// stcts-recorder: copies its input to the main thread (test hook, ?record=1).

const PCM_RATE_HZ = 16000;

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / PCM_RATE_HZ; // input samples per output sample
    this.pos = 0; // position of the next output sample, in input samples from the start of `tail`
    this.tail = new Float32Array(0);
    this.chunk = new Int16Array(PCM_RATE_HZ / 50);
    this.fill = 0;
  }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    const buf = new Float32Array(this.tail.length + input.length);
    buf.set(this.tail);
    buf.set(input, this.tail.length);
    const half = this.ratio / 2;
    // Box-filter decimation: each output sample is the mean over one output period (anti-aliasing).
    while (this.pos + half < buf.length) {
      const lo = Math.max(0, Math.floor(this.pos - half));
      const hi = Math.min(buf.length - 1, Math.floor(this.pos + half));
      let acc = 0;
      for (let i = lo; i <= hi; i++) acc += buf[i];
      const v = Math.max(-1, Math.min(1, acc / (hi - lo + 1)));
      this.chunk[this.fill++] = Math.round(v * 32767);
      if (this.fill === this.chunk.length) {
        this.port.postMessage(this.chunk.buffer, [this.chunk.buffer]);
        this.chunk = new Int16Array(PCM_RATE_HZ / 50);
        this.fill = 0;
      }
      this.pos += this.ratio;
    }
    const keep = Math.max(0, Math.floor(this.pos - half) - 1);
    this.tail = buf.slice(keep);
    this.pos -= keep;
    return true;
  }
}

class PlayerProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.capacity = PCM_RATE_HZ * 4; // 4 s of 16 kHz audio; older audio is dropped when full
    this.ring = new Float32Array(this.capacity);
    this.read = 0;
    this.size = 0;
    this.frac = 0;
    this.step = PCM_RATE_HZ / sampleRate;
    this.port.onmessage = (e) => {
      const pcm = new Int16Array(e.data);
      for (let i = 0; i < pcm.length; i++) {
        if (this.size === this.capacity) {
          this.read = (this.read + 1) % this.capacity;
          this.size--;
        }
        this.ring[(this.read + this.size) % this.capacity] = pcm[i] / 32768;
        this.size++;
      }
    };
  }
  process(_inputs, outputs) {
    const out = outputs[0][0];
    for (let i = 0; i < out.length; i++) {
      if (this.size < 2) {
        out[i] = 0;
        continue;
      }
      const a = this.ring[this.read];
      const b = this.ring[(this.read + 1) % this.capacity];
      out[i] = a + (b - a) * this.frac;
      this.frac += this.step;
      while (this.frac >= 1 && this.size > 1) {
        this.frac -= 1;
        this.read = (this.read + 1) % this.capacity;
        this.size--;
      }
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    return true;
  }
}

class RecorderProcessor extends AudioWorkletProcessor {
  process(inputs, outputs) {
    const input = inputs[0] && inputs[0][0];
    if (input) this.port.postMessage(input.slice(0));
    const out = outputs[0] && outputs[0][0];
    if (out) out.fill(0);
    return true;
  }
}

registerProcessor('stcts-capture', CaptureProcessor);
registerProcessor('stcts-player', PlayerProcessor);
registerProcessor('stcts-recorder', RecorderProcessor);
