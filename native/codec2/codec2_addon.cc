// N-API binding for Debian's libcodec2 1.0.5 FreeDV API (issue #15): one `struct freedv` per object.
// Raw data modes (DATAC0/1/3 and FSK_LDPC through freedv_open_advanced) modulate whole bursts
// (preamble + frames + postamble) and demodulate an arbitrary stream driven by freedv_nin; the
// voice modes (1600, 700D, 700E) turn 8 kHz speech into modem audio and back, with libcodec2's
// test frames and bit-error counters for coded-BER measurements. Every call that walks many modem
// frames runs on the libuv thread pool (Napi::AsyncWorker); one job at a time per modem (a second
// call while one is running is refused, the JS side serialises). The library is linked
// dynamically; nothing of its source is copied here.
#include <napi.h>
extern "C" {
#include <codec2/freedv_api.h>
// Exported by libcodec2 1.0.5 (ldpc_codes.c) but not in its installed headers: -1 for an unknown name.
int ldpc_codes_find(char* name);
// From codec2/fsk.h, which cannot be included (it needs kiss_fft.h, not installed): 0 peak, 1 mask.
void fsk_set_freq_est_alg(struct FSK* fsk, int est_type);
}
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct RxFrame {
  std::vector<uint8_t> bytes;
  float snrDb;
  int sync;
  int rxStatus;
  double endSample;  // stream position (samples pushed since open/reset) just after the frame
};

enum class JobKind { ModulateData, DemodulateData, ModulateSpeech, DemodulateSpeech };

struct Job {
  JobKind kind;
  std::vector<int16_t> in;       // samples (speech or modem)
  std::vector<uint8_t> frames;   // ModulateData: n * bytesPerFrame
  bool preamble = true, postamble = true;
  // outputs
  std::vector<int16_t> out;
  std::vector<RxFrame> rx;
  int syncFrames = 0, modemFrames = 0;
  std::string error;
};

class Modem : public Napi::ObjectWrap<Modem> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("Modem", DefineClass(env, "Modem", {
                                                       InstanceMethod("info", &Modem::Info),
                                                       InstanceMethod("modulateData", &Modem::Queue<JobKind::ModulateData>),
                                                       InstanceMethod("demodulateData", &Modem::Queue<JobKind::DemodulateData>),
                                                       InstanceMethod("modulateSpeech", &Modem::Queue<JobKind::ModulateSpeech>),
                                                       InstanceMethod("demodulateSpeech", &Modem::Queue<JobKind::DemodulateSpeech>),
                                                       InstanceMethod("stats", &Modem::Stats),
                                                       InstanceMethod("resetStats", &Modem::ResetStats),
                                                       InstanceMethod("resetReceiver", &Modem::ResetReceiver),
                                                       InstanceMethod("close", &Modem::Close),
                                                   }));
    exports.Set("crc16", Napi::Function::New(env, &Modem::Crc16));
    exports.Set("version", Napi::Number::New(env, freedv_get_version()));
    return exports;
  }

  Modem(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Modem>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "Modem({mode, fsk?, framesPerBurst?, testFrames?})").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    mode_ = o.Get("mode").ToNumber().Int32Value();
    if (o.Has("fsk") && o.Get("fsk").IsObject()) {
      Napi::Object a = o.Get("fsk").As<Napi::Object>();
      struct freedv_advanced adv;
      std::memset(&adv, 0, sizeof adv);
      adv.M = a.Get("m").ToNumber().Int32Value();
      adv.Rs = a.Get("symbolRateHz").ToNumber().Int32Value();
      adv.Fs = a.Get("sampleRateHz").ToNumber().Int32Value();
      adv.first_tone = a.Get("firstToneHz").ToNumber().Int32Value();
      adv.tone_spacing = a.Get("toneSpacingHz").ToNumber().Int32Value();
      codename_ = a.Get("ldpcCode").ToString().Utf8Value();
      adv.codename = const_cast<char*>(codename_.c_str());
      // An unknown name would index the code table at -1 inside libcodec2.
      if (ldpc_codes_find(adv.codename) < 0) {
        Napi::Error::New(env, "unknown LDPC code " + codename_).ThrowAsJavaScriptException();
        return;
      }
      f_ = freedv_open_advanced(mode_, &adv);
      if (f_) UseMaskEstimator(f_);
    } else {
      f_ = freedv_open(mode_);
    }
    if (!f_) {
      Napi::Error::New(env, "freedv_open failed for mode " + std::to_string(mode_) + " (unknown mode or LDPC code)").ThrowAsJavaScriptException();
      return;
    }
    data_ = freedv_get_bits_per_codec_frame(f_) == 0;
    int fpb = o.Has("framesPerBurst") ? o.Get("framesPerBurst").ToNumber().Int32Value() : 1;
    // Burst reception of the OFDM data modes needs frames-per-burst set on both ends (links.md):
    // without it the receiver only decodes the first of a series of separate bursts.
    if (data_ && mode_ != FREEDV_MODE_FSK_LDPC) freedv_set_frames_per_burst(f_, fpb);
    if (o.Has("testFrames") && o.Get("testFrames").ToBoolean()) freedv_set_test_frames(f_, 1);
    if (o.Has("squelch") && !data_) freedv_set_squelch_en(f_, o.Get("squelch").ToBoolean() ? 1 : 0);
  }

  ~Modem() { Free(); }

  // The default FSK tone estimator picks the M strongest spectral peaks of each 0.5 s chunk and
  // fails when a chunk does not visit every tone (runs of equal symbols: measured, a payload of
  // repeated bytes was lost at half of the alignments tried). The "mask" estimator knows the tone
  // spacing and does not depend on the data.
  static void UseMaskEstimator(struct freedv* f) {
    struct FSK* fsk = freedv_get_fsk(f);
    if (fsk) fsk_set_freq_est_alg(fsk, 1);
  }

  void Free() {
    if (f_) freedv_close(f_);
    f_ = nullptr;
  }

  void Run(Job& j);                 // worker thread
  void Finished() {                 // JS thread
    busy_ = false;
    if (closeRequested_) Free();
  }

 private:
  static Napi::Value Crc16(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "crc16(Uint8Array)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
    return Napi::Number::New(env, freedv_gen_crc16(a.Data(), (int)a.ElementLength()));
  }

  bool Usable(Napi::Env env) {
    if (!f_ || closeRequested_) {
      Napi::Error::New(env, "modem closed").ThrowAsJavaScriptException();
      return false;
    }
    return true;
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    Napi::Object o = Napi::Object::New(env);
    o.Set("mode", mode_);
    o.Set("data", data_);
    o.Set("bitsPerModemFrame", freedv_get_bits_per_modem_frame(f_));
    o.Set("bitsPerCodecFrame", freedv_get_bits_per_codec_frame(f_));
    o.Set("modemSampleRateHz", freedv_get_modem_sample_rate(f_));
    o.Set("speechSampleRateHz", freedv_get_speech_sample_rate(f_));
    o.Set("speechSamplesPerFrame", freedv_get_n_speech_samples(f_));
    o.Set("maxSpeechSamplesPerFrame", freedv_get_n_max_speech_samples(f_));
    o.Set("nominalModemSamples", freedv_get_n_nom_modem_samples(f_));
    o.Set("maxModemSamples", freedv_get_n_max_modem_samples(f_));
    o.Set("txModemSamplesPerFrame", freedv_get_n_tx_modem_samples(f_));
    o.Set("txPreambleSamples", freedv_get_n_tx_preamble_modem_samples(f_));
    o.Set("txPostambleSamples", freedv_get_n_tx_postamble_modem_samples(f_));
    o.Set("symbolRateHz", freedv_get_modem_symbol_rate(f_));
    return o;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (busy_) {
      Napi::Error::New(env, "modem busy").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!Usable(env)) return env.Undefined();
    int sync = 0;
    float snr = 0;
    freedv_get_modem_stats(f_, &sync, &snr);
    Napi::Object o = Napi::Object::New(env);
    o.Set("sync", freedv_get_sync(f_));
    o.Set("snrDb", snr);
    o.Set("totalBits", freedv_get_total_bits(f_));
    o.Set("totalBitErrors", freedv_get_total_bit_errors(f_));
    o.Set("totalBitsCoded", freedv_get_total_bits_coded(f_));
    o.Set("totalBitErrorsCoded", freedv_get_total_bit_errors_coded(f_));
    o.Set("totalPackets", freedv_get_total_packets(f_));
    o.Set("totalPacketErrors", freedv_get_total_packet_errors(f_));
    o.Set("bufferedSamples", (double)rxbuf_.size());
    o.Set("nin", freedv_nin(f_));
    return o;
  }

  Napi::Value ResetStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (busy_) {
      Napi::Error::New(env, "modem busy").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!Usable(env)) return env.Undefined();
    freedv_set_total_bits(f_, 0);
    freedv_set_total_bit_errors(f_, 0);
    freedv_set_total_bits_coded(f_, 0);
    freedv_set_total_bit_errors_coded(f_, 0);
    freedv_set_total_packets(f_, 0);
    freedv_set_total_packet_errors(f_, 0);
    return env.Undefined();
  }

  // Drops buffered samples and forces the demodulator back to searching for sync.
  Napi::Value ResetReceiver(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (busy_) {
      Napi::Error::New(env, "modem busy").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!Usable(env)) return env.Undefined();
    rxbuf_.clear();
    consumed_ = 0;
    if (mode_ != FREEDV_MODE_FSK_LDPC && mode_ != FREEDV_MODE_1600) freedv_set_sync(f_, FREEDV_SYNC_UNSYNC);
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    // A running job keeps the modem; it is freed when the job finishes.
    if (busy_) closeRequested_ = true;
    else Free();
    return info.Env().Undefined();
  }

  template <JobKind K>
  Napi::Value Queue(const Napi::CallbackInfo& info);

  friend class Worker;
  int mode_ = -1;
  bool data_ = true;
  std::string codename_;
  struct freedv* f_ = nullptr;
  std::vector<int16_t> rxbuf_;  // received samples not yet consumed (fewer than freedv_nin)
  double consumed_ = 0;         // samples handed to the demodulator so far
  bool busy_ = false, closeRequested_ = false;
};

class Worker : public Napi::AsyncWorker {
 public:
  Worker(Napi::Env env, Modem* m, Napi::Object self, Job&& j)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), m_(m), job_(std::move(j)) {
    self_ = Napi::Persistent(self);  // keeps the modem alive while the job runs
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { m_->Run(job_); }
  void OnOK() override {
    Napi::Env env = Env();
    m_->Finished();
    if (!job_.error.empty()) {
      deferred_.Reject(Napi::Error::New(env, job_.error).Value());
      return;
    }
    Napi::Object o = Napi::Object::New(env);
    Napi::Int16Array out = Napi::Int16Array::New(env, job_.out.size());
    if (!job_.out.empty()) std::memcpy(out.Data(), job_.out.data(), job_.out.size() * sizeof(int16_t));
    o.Set("samples", out);
    Napi::Array frames = Napi::Array::New(env, job_.rx.size());
    for (size_t i = 0; i < job_.rx.size(); i++) {
      Napi::Object fr = Napi::Object::New(env);
      Napi::Uint8Array b = Napi::Uint8Array::New(env, job_.rx[i].bytes.size());
      std::memcpy(b.Data(), job_.rx[i].bytes.data(), job_.rx[i].bytes.size());
      fr.Set("bytes", b);
      fr.Set("snrDb", job_.rx[i].snrDb);
      fr.Set("sync", job_.rx[i].sync);
      fr.Set("rxStatus", job_.rx[i].rxStatus);
      fr.Set("endSample", job_.rx[i].endSample);
      frames.Set(i, fr);
    }
    o.Set("frames", frames);
    o.Set("syncFrames", job_.syncFrames);
    o.Set("modemFrames", job_.modemFrames);
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override {
    m_->Finished();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Modem* m_;
  Napi::ObjectReference self_;
  Job job_;
};

void Modem::Run(Job& j) {
  struct freedv* f = f_;
  switch (j.kind) {
    case JobKind::ModulateData: {
      const size_t bpf = freedv_get_bits_per_modem_frame(f) / 8;
      const size_t nFrames = j.frames.size() / bpf;
      std::vector<int16_t> buf(std::max(freedv_get_n_tx_modem_samples(f), freedv_get_n_tx_preamble_modem_samples(f)) + freedv_get_n_tx_postamble_modem_samples(f) + 16);
      if (j.preamble) {
        int n = freedv_rawdatapreambletx(f, buf.data());
        j.out.insert(j.out.end(), buf.begin(), buf.begin() + n);
      }
      const int nTx = freedv_get_n_tx_modem_samples(f);
      for (size_t i = 0; i < nFrames; i++) {
        freedv_rawdatatx(f, buf.data(), j.frames.data() + i * bpf);
        j.out.insert(j.out.end(), buf.begin(), buf.begin() + nTx);
      }
      if (j.postamble) {
        int n = freedv_rawdatapostambletx(f, buf.data());
        j.out.insert(j.out.end(), buf.begin(), buf.begin() + n);
      }
      return;
    }
    case JobKind::DemodulateData: {
      rxbuf_.insert(rxbuf_.end(), j.in.begin(), j.in.end());
      const size_t bpf = freedv_get_bits_per_modem_frame(f) / 8;
      std::vector<uint8_t> bytes(bpf);
      size_t pos = 0;
      for (;;) {
        size_t nin = (size_t)freedv_nin(f);
        if (rxbuf_.size() - pos < nin) break;
        int n = freedv_rawdatarx(f, bytes.data(), rxbuf_.data() + pos);
        pos += nin;
        consumed_ += (double)nin;
        j.modemFrames++;
        int sync = 0;
        float snr = 0;
        freedv_get_modem_stats(f, &sync, &snr);
        if (freedv_get_sync(f)) j.syncFrames++;
        if (n > 0) j.rx.push_back({std::vector<uint8_t>(bytes.begin(), bytes.begin() + std::min((size_t)n, bpf)), snr, sync, freedv_get_rx_status(f), consumed_});
      }
      rxbuf_.erase(rxbuf_.begin(), rxbuf_.begin() + pos);
      return;
    }
    case JobKind::ModulateSpeech: {
      const size_t ns = freedv_get_n_speech_samples(f);
      const size_t nm = freedv_get_n_nom_modem_samples(f);
      std::vector<int16_t> speech(ns), buf(nm);
      for (size_t at = 0; at < j.in.size(); at += ns) {
        std::fill(speech.begin(), speech.end(), 0);  // the last partial frame is padded with silence
        std::copy(j.in.begin() + at, j.in.begin() + std::min(at + ns, j.in.size()), speech.begin());
        freedv_tx(f, buf.data(), speech.data());
        j.out.insert(j.out.end(), buf.begin(), buf.end());
      }
      return;
    }
    case JobKind::DemodulateSpeech: {
      rxbuf_.insert(rxbuf_.end(), j.in.begin(), j.in.end());
      std::vector<int16_t> speech(freedv_get_n_max_speech_samples(f));
      size_t pos = 0;
      for (;;) {
        size_t nin = (size_t)freedv_nin(f);
        if (rxbuf_.size() - pos < nin) break;
        int n = freedv_rx(f, speech.data(), rxbuf_.data() + pos);
        pos += nin;
        consumed_ += (double)nin;
        j.modemFrames++;
        if (freedv_get_sync(f)) j.syncFrames++;
        if (n > 0) j.out.insert(j.out.end(), speech.begin(), speech.begin() + n);
      }
      rxbuf_.erase(rxbuf_.begin(), rxbuf_.begin() + pos);
      return;
    }
  }
}

template <JobKind K>
Napi::Value Modem::Queue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Usable(env)) return env.Undefined();
  if (busy_) {
    Napi::Error::New(env, "modem busy: one call at a time").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const bool wantsData = K == JobKind::ModulateData || K == JobKind::DemodulateData;
  if (wantsData != data_) {
    Napi::TypeError::New(env, data_ ? "a data mode has no speech path" : "a voice mode has no raw data path").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Job j;
  j.kind = K;
  if (K == JobKind::ModulateData) {
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "modulateData(Uint8Array frames, preamble, postamble)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
    const size_t bpf = freedv_get_bits_per_modem_frame(f_) / 8;
    if (a.ElementLength() % bpf != 0) {
      Napi::RangeError::New(env, "modulateData: length must be a multiple of " + std::to_string(bpf) + " bytes").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    j.frames.assign(a.Data(), a.Data() + a.ElementLength());
    j.preamble = info.Length() < 2 || info[1].ToBoolean();
    j.postamble = info.Length() < 3 || info[2].ToBoolean();
  } else {
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array) {
      Napi::TypeError::New(env, "expected an Int16Array of samples").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Int16Array a = info[0].As<Napi::Int16Array>();
    j.in.assign(a.Data(), a.Data() + a.ElementLength());
  }
  busy_ = true;
  auto* w = new Worker(env, this, info.This().As<Napi::Object>(), std::move(j));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return Modem::Init(env, exports); }

NODE_API_MODULE(stcts_codec2, InitAll)
