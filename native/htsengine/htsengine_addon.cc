// N-API binding for hts_engine API 1.10 (Debian libhtsengine-dev): synthesis from full-context
// labels with (a) label-given durations (phoneme alignment), (b) a frame-level F0 target that
// replaces the model's log-F0 on voiced frames after parameter generation and before vocoding,
// (c) an F0 mapping (target median, range scale) and (d) all-pass / postfilter for timbre.
// Synthesis runs on the thread pool; one synthesis at a time per voice (the JS side serialises).
#include <napi.h>
extern "C" {
#include <HTS_engine.h>
}
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

struct Job {
  std::vector<std::string> labels;
  bool alignment = false;
  double speed = 1.0, alpha = -1, beta = -1, medianHz = 0, rangeScale = 1;
  std::vector<float> f0;  // per frame, Hz; 0 = keep the model's
  // outputs
  std::vector<float> samples, modelF0, outF0;
  size_t rate = 0, fperiod = 0, frames = 0;
  std::string error;
};

class Voice : public Napi::ObjectWrap<Voice> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("Voice", DefineClass(env, "Voice", {InstanceMethod("synthesize", &Voice::Synthesize), InstanceMethod("close", &Voice::Close),
                                                      InstanceAccessor("samplingRate", &Voice::Rate, nullptr), InstanceAccessor("framePeriod", &Voice::Period, nullptr),
                                                      InstanceAccessor("defaultAlpha", &Voice::Alpha, nullptr)}));
    return exports;
  }
  Voice(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Voice>(info) {
    std::string path = info[0].ToString();
    HTS_Engine_initialize(&engine_);
    char* voices[1] = {const_cast<char*>(path.c_str())};
    if (HTS_Engine_load(&engine_, voices, 1) != TRUE) {
      HTS_Engine_clear(&engine_);
      Napi::Error::New(info.Env(), "cannot load HTS voice " + path).ThrowAsJavaScriptException();
      return;
    }
    loaded_ = true;
    alpha_ = HTS_Engine_get_alpha(&engine_);
    beta_ = HTS_Engine_get_beta(&engine_);
  }
  ~Voice() { Free(); }
  void Free() {
    if (loaded_) HTS_Engine_clear(&engine_);
    loaded_ = false;
  }
  HTS_Engine* engine() { return loaded_ ? &engine_ : nullptr; }
  double alpha0() const { return alpha_; }
  double beta0() const { return beta_; }

 private:
  Napi::Value Rate(const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), loaded_ ? HTS_Engine_get_sampling_frequency(&engine_) : 0); }
  Napi::Value Period(const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), loaded_ ? HTS_Engine_get_fperiod(&engine_) : 0); }
  Napi::Value Alpha(const Napi::CallbackInfo& i) { return Napi::Number::New(i.Env(), alpha_); }
  Napi::Value Close(const Napi::CallbackInfo& i) {
    Free();
    return i.Env().Undefined();
  }
  Napi::Value Synthesize(const Napi::CallbackInfo& info);
  HTS_Engine engine_;
  bool loaded_ = false;
  double alpha_ = 0.42, beta_ = 0;
};

class SynthWorker : public Napi::AsyncWorker {
 public:
  SynthWorker(Napi::Env env, Voice* v, Job&& job) : Napi::AsyncWorker(env), d_(Napi::Promise::Deferred::New(env)), v_(v), job_(std::move(job)) {}
  Napi::Promise Promise() { return d_.Promise(); }

  void Execute() override {
    HTS_Engine* e = v_->engine();
    if (!e) {
      job_.error = "voice closed";
      return;
    }
    HTS_Engine_set_phoneme_alignment_flag(e, job_.alignment ? TRUE : FALSE);
    HTS_Engine_set_speed(e, job_.speed);
    HTS_Engine_set_alpha(e, job_.alpha >= 0 ? job_.alpha : v_->alpha0());
    HTS_Engine_set_beta(e, job_.beta >= 0 ? job_.beta : v_->beta0());
    std::vector<char*> lines;
    for (auto& l : job_.labels) lines.push_back(const_cast<char*>(l.c_str()));
    if (HTS_Engine_generate_state_sequence_from_strings(e, lines.data(), lines.size()) != TRUE) {
      job_.error = "HTS: bad labels";
      HTS_Engine_refresh(e);
      return;
    }
    if (HTS_Engine_generate_parameter_sequence(e) != TRUE) {
      job_.error = "HTS: parameter generation failed";
      HTS_Engine_refresh(e);
      return;
    }
    HTS_PStream* lf0 = &e->pss.pstream[1];
    size_t T = e->pss.total_frame;
    job_.frames = T;
    job_.modelF0.assign(T, 0.f);
    // Model contour and its mean log-F0 (for the median/range mapping).
    double sum = 0;
    size_t n = 0;
    for (size_t t = 0, k = 0; t < T; t++) {
      if (lf0->msd_flag[t]) {
        job_.modelF0[t] = (float)std::exp(lf0->par[k][0]);
        sum += lf0->par[k][0];
        n++;
        k++;
      }
    }
    double mean = n ? sum / n : 0;
    double target = job_.medianHz > 0 ? std::log(job_.medianHz) : mean;
    job_.outF0.assign(T, 0.f);
    for (size_t t = 0, k = 0; t < T; t++) {
      if (!lf0->msd_flag[t]) continue;
      double v = target + (lf0->par[k][0] - mean) * job_.rangeScale;
      if (t < job_.f0.size() && job_.f0[t] > 0) v = std::log((double)job_.f0[t]);
      lf0->par[k][0] = v;
      job_.outF0[t] = (float)std::exp(v);
      k++;
    }
    if (HTS_Engine_generate_sample_sequence(e) != TRUE) {
      job_.error = "HTS: vocoding failed";
      HTS_Engine_refresh(e);
      return;
    }
    size_t ns = HTS_Engine_get_nsamples(e);
    job_.samples.resize(ns);
    for (size_t i = 0; i < ns; i++) job_.samples[i] = (float)(HTS_Engine_get_generated_speech(e, i) / 32768.0);
    job_.rate = HTS_Engine_get_sampling_frequency(e);
    job_.fperiod = HTS_Engine_get_fperiod(e);
    HTS_Engine_refresh(e);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!job_.error.empty()) {
      d_.Reject(Napi::Error::New(env, job_.error).Value());
      return;
    }
    Napi::Object o = Napi::Object::New(env);
    auto arr = [&](const std::vector<float>& v) {
      Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
      std::copy(v.begin(), v.end(), a.Data());
      return a;
    };
    o.Set("samples", arr(job_.samples));
    o.Set("modelF0", arr(job_.modelF0));
    o.Set("f0", arr(job_.outF0));
    o.Set("sampleRateHz", (double)job_.rate);
    o.Set("framePeriod", (double)job_.fperiod);
    o.Set("frames", (double)job_.frames);
    d_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { d_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred d_;
  Voice* v_;
  Job job_;
};

Napi::Value Voice::Synthesize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!loaded_) {
    Napi::Error::New(env, "voice closed").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsObject()) {
    Napi::TypeError::New(env, "synthesize(labels: string[], options)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Job job;
  Napi::Array labels = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < labels.Length(); i++) job.labels.push_back(labels.Get(i).ToString());
  Napi::Object o = info[1].As<Napi::Object>();
  auto num = [&](const char* k, double def) { return o.Has(k) && o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().DoubleValue() : def; };
  job.alignment = o.Has("alignment") && o.Get("alignment").ToBoolean();
  job.speed = num("speed", 1.0);
  job.alpha = num("alpha", -1);
  job.beta = num("beta", -1);
  job.medianHz = num("medianHz", 0);
  job.rangeScale = num("rangeScale", 1);
  if (o.Has("f0") && o.Get("f0").IsTypedArray()) {
    Napi::Float32Array f = o.Get("f0").As<Napi::Float32Array>();
    job.f0.assign(f.Data(), f.Data() + f.ElementLength());
  }
  auto* w = new SynthWorker(env, this, std::move(job));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return Voice::Init(env, exports); }
NODE_API_MODULE(stcts_htsengine, InitAll)
