{
  "targets": [
    {
      "target_name": "zg_reed_solomon",
      "sources": ["native/reed_solomon.c"],
      "cflags": ["-O3", "-std=gnu11"],
      "cflags!": ["-O2"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3"] },
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
