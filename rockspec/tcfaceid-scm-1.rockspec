-- tcfaceid for Lua: the C module tcfaceid.core (the binding compiled together with the C core)
-- and the pure-Lua modules tcfaceid, tcfaceid.flows and tcfaceid.resty (OpenResty).
--   luarocks --lua-version 5.4 make rockspec/tcfaceid-scm-1.rockspec     (from the repository root)
-- Needs the development files of libcurl, jansson and OpenSSL (Debian: libcurl4-openssl-dev
-- libjansson-dev libssl-dev). Every csrc/src/*.c must be listed below (tests/lua/test_lua.py
-- checks it).
rockspec_format = "3.0"
package = "tcfaceid"
version = "scm-1"

source = {
   -- `luarocks make` builds the working copy; this is only used by `luarocks install`.
   url = "git+file:///tcfaceid",
}

description = {
   summary = "A client for Tencent Cloud FaceID (API 2018-03-01): signing, flows, verdicts",
   detailed = [[
A native client for Tencent Cloud FaceID (人脸核身): TC3-HMAC-SHA256 signing, sans-IO request
building and response parsing, a libcurl client, the SaaS and E-ID verification flows, local
validators, verdicts and E-ID identity decryption, over the tcfaceid C core. tcfaceid.resty is
a non-blocking client for OpenResty (nginx subrequests).
]],
   license = "MIT",
}

dependencies = {
   "lua >= 5.1",
}

external_dependencies = {
   -- Debian/Ubuntu keep curl/curl.h under /usr/include/<multiarch>/, where luarocks does not look
   -- (the compiler does): the header is left to the compiler.
   CURL = { library = "curl" },
   JANSSON = { header = "jansson.h", library = "jansson" },
   OPENSSL = { header = "openssl/evp.h", library = "crypto" },
}

build = {
   type = "builtin",
   modules = {
      ["tcfaceid.core"] = {
         sources = {
            "bindings/lua/tcfaceid_core.c",
            "csrc/src/base.c",
            "csrc/src/check.c",
            "csrc/src/config.c",
            "csrc/src/credentials.c",
            "csrc/src/crypto.c",
            "csrc/src/eid.c",
            "csrc/src/element.c",
            "csrc/src/encrypt.c",
            "csrc/src/flow.c",
            "csrc/src/policy.c",
            "csrc/src/request.c",
            "csrc/src/response.c",
            "csrc/src/session.c",
            "csrc/src/sign.c",
            "csrc/src/transport.c",
            "csrc/src/validate.c",
            "csrc/src/verdict.c",
         },
         defines = { "_POSIX_C_SOURCE=200809L", "TCF_WITH_CURL=1" },
         incdirs = { "csrc/include", "csrc/src", "$(CURL_INCDIR)", "$(JANSSON_INCDIR)", "$(OPENSSL_INCDIR)" },
         libdirs = { "$(CURL_LIBDIR)", "$(JANSSON_LIBDIR)", "$(OPENSSL_LIBDIR)" },
         libraries = { "curl", "jansson", "crypto", "pthread" },
      },
      ["tcfaceid"] = "bindings/lua/tcfaceid/init.lua",
      ["tcfaceid.flows"] = "bindings/lua/tcfaceid/flows.lua",
      ["tcfaceid.resty"] = "bindings/lua/tcfaceid/resty.lua",
   },
}
