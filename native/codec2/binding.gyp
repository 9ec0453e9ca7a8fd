{
  "targets": [
    {
      "target_name": "stcts_codec2",
      "sources": ["codec2_addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "/usr/include"],
      "libraries": ["<!@(pkg-config --libs codec2)"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O2", "-std=c++17"]
    }
  ]
}
