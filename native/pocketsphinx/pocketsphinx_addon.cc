// N-API binding for Debian's pocketsphinx 0.8+5prealpha: one decoder per object; each decode of a
// complete utterance runs on the libuv thread pool (Napi::AsyncWorker) so the event loop never blocks.
// A decoder is used by one worker at a time (the JS side serialises calls).
#include <napi.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <string>
#include <vector>

struct Word {
  std::string word;
  int startFrame, endFrame;
  double prob;
};

struct Result {
  std::string text;
  std::vector<Word> words;
  std::vector<std::string> nbest;
  std::string error;
};

class Decoder : public Napi::ObjectWrap<Decoder> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "Decoder", {InstanceMethod("decode", &Decoder::Decode), InstanceMethod("close", &Decoder::Close), InstanceAccessor("frameRate", &Decoder::FrameRate, nullptr)});
    exports.Set("Decoder", f);
    return exports;
  }

  Decoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Decoder>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "Decoder({hmm, lm, dict})").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    std::string hmm = o.Get("hmm").ToString(), lm = o.Get("lm").ToString(), dict = o.Get("dict").ToString();
    // Optional extra decoder flags as flat [name, value, ...] strings (e.g. "-fwdflat", "no").
    std::vector<std::string> args = {"-hmm", hmm, "-lm", lm, "-dict", dict, "-logfn", "/dev/null"};
    if (o.Has("extra") && o.Get("extra").IsArray()) {
      Napi::Array extra = o.Get("extra").As<Napi::Array>();
      if (extra.Length() % 2 != 0 || extra.Length() > 64) {
        Napi::TypeError::New(env, "Decoder: extra must be [name, value] pairs (at most 32)").ThrowAsJavaScriptException();
        return;
      }
      for (uint32_t i = 0; i < extra.Length(); i++) args.push_back(extra.Get(i).ToString());
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    err_set_logfp(NULL);
    config_ = cmd_ln_parse_r(NULL, ps_args(), (int32)argv.size(), argv.data(), TRUE);
    if (!config_) {
      Napi::Error::New(env, "pocketsphinx: bad configuration (model paths?)").ThrowAsJavaScriptException();
      return;
    }
    ps_ = ps_init(config_);
    if (!ps_) {
      Napi::Error::New(env, "pocketsphinx: cannot load the models").ThrowAsJavaScriptException();
      return;
    }
  }

  ~Decoder() { Free(); }

  void Free() {
    if (ps_) ps_free(ps_);
    if (config_) cmd_ln_free_r(config_);
    ps_ = nullptr;
    config_ = nullptr;
  }

  ps_decoder_t* ps() { return ps_; }

 private:
  Napi::Value FrameRate(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), config_ ? cmd_ln_int32_r(config_, "-frate") : 100);
  }
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Free();
    return info.Env().Undefined();
  }
  cmd_ln_t* config_ = nullptr;
  ps_decoder_t* ps_ = nullptr;
};

class DecodeWorker : public Napi::AsyncWorker {
 public:
  DecodeWorker(Napi::Env env, Decoder* d, std::vector<int16_t>&& pcm, int nbest)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), dec_(d), pcm_(std::move(pcm)), nbest_(nbest) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    ps_decoder_t* ps = dec_->ps();
    if (!ps) {
      res_.error = "decoder closed";
      return;
    }
    if (ps_start_utt(ps) < 0) {
      res_.error = "ps_start_utt failed";
      return;
    }
    ps_process_raw(ps, pcm_.data(), pcm_.size(), FALSE, TRUE);
    ps_end_utt(ps);
    int32 score;
    const char* hyp = ps_get_hyp(ps, &score);
    res_.text = hyp ? hyp : "";
    ps_get_prob(ps);  // computes word posteriors for ps_seg_prob
    logmath_t* lmath = ps_get_logmath(ps);
    for (ps_seg_t* it = ps_seg_iter(ps); it; it = ps_seg_next(it)) {
      int sf, ef;
      ps_seg_frames(it, &sf, &ef);
      int32 ascr, lscr, lback;
      int32 post = ps_seg_prob(it, &ascr, &lscr, &lback);
      res_.words.push_back({ps_seg_word(it), sf, ef, logmath_exp(lmath, post)});
    }
    if (nbest_ > 0) {
      int n = 0;
      for (ps_nbest_t* nb = ps_nbest(ps); nb && n < nbest_; nb = ps_nbest_next(nb), n++) {
        const char* h = ps_nbest_hyp(nb, &score);
        res_.nbest.push_back(h ? h : "");
        if (n + 1 >= nbest_) {
          ps_nbest_free(nb);
          break;
        }
      }
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!res_.error.empty()) {
      deferred_.Reject(Napi::Error::New(env, res_.error).Value());
      return;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("text", res_.text);
    Napi::Array words = Napi::Array::New(env, res_.words.size());
    for (size_t i = 0; i < res_.words.size(); i++) {
      Napi::Object w = Napi::Object::New(env);
      w.Set("word", res_.words[i].word);
      w.Set("startFrame", res_.words[i].startFrame);
      w.Set("endFrame", res_.words[i].endFrame);
      w.Set("prob", res_.words[i].prob);
      words.Set(i, w);
    }
    o.Set("words", words);
    Napi::Array nb = Napi::Array::New(env, res_.nbest.size());
    for (size_t i = 0; i < res_.nbest.size(); i++) nb.Set(i, res_.nbest[i]);
    o.Set("nbest", nb);
    deferred_.Resolve(o);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Decoder* dec_;
  std::vector<int16_t> pcm_;
  int nbest_;
  Result res_;
};

Napi::Value Decoder::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array) {
    Napi::TypeError::New(env, "decode(Int16Array, nbest?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!ps_) {
    Napi::Error::New(env, "decoder closed").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Int16Array a = info[0].As<Napi::Int16Array>();
  std::vector<int16_t> pcm(a.Data(), a.Data() + a.ElementLength());
  int nbest = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  auto* w = new DecodeWorker(env, this, std::move(pcm), nbest);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return Decoder::Init(env, exports); }

NODE_API_MODULE(stcts_pocketsphinx, InitAll)
