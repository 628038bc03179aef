/* tcf_eid_decrypt (EidInfo: DesKey SM2, UserInfo SM4-ECB) with fuzzed DesKey / UserInfo and the
 * emulator's bundled test key (bindings/python/tcfaceid/emulator/config.py,
 * DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM; a public test key, not a secret).
 *
 * Input: 1 byte of flags (bit 0: DesKey given as raw bytes, base64-encoded here; bit 1: the
 * same for UserInfo; bit 2: a fuzzed PEM instead of the test key), 2 bytes DesKey length and
 * the DesKey, then (bit 2) 2 bytes UserInfo length, the UserInfo and the PEM, else the
 * UserInfo as the rest.
 * Invariants: success gives a NUL-terminated JSON object (jansson) of the reported length,
 * the same text when decrypted again; failures are typed (with the test key never TCF_EINVAL)
 * and leave *json_out NULL. */
#include "fuzz_common.h"

#include <jansson.h>
#include <openssl/evp.h>

static const char test_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgDX+uMLTAuJx6t9yx\n"
    "2Wfh1JaqbCqmoyIzLAumElrD5JehRANCAATbkEJAX8hMN/eh7SjZ9CPtNvgjFaaG\n"
    "AbcBdSG0q0zfEgUT2pOkHqgqrFI4fmLMl0uQbeBOX83jTlGHVk8ATZ2a\n"
    "-----END PRIVATE KEY-----\n";

/* raw: base64 of the bytes; else the bytes as a string (cut at a NUL). */
static char *as_text(const uint8_t *b, size_t n, int raw)
{
    if (!raw)
        return fuzz_cstr(b, n);
    char *s = malloc(4 * (n / 3 + 1) + 1);
    if (s == NULL)
        abort();
    EVP_EncodeBlock((unsigned char *)s, b, (int)n);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0; /* SM2 is slow; identity records are small */
    fuzz_in in = {data, size};
    unsigned flags = fuzz_byte(&in);
    size_t dl, ul, pl;
    uint8_t *des = fuzz_bytes(&in, fuzz_u16(&in), &dl);
    uint8_t *ui, *pem_bytes = NULL;
    if (flags & 4) {
        ui = fuzz_bytes(&in, fuzz_u16(&in), &ul);
        pem_bytes = fuzz_bytes(&in, in.n, &pl);
    } else {
        ui = fuzz_bytes(&in, in.n, &ul);
    }
    char *des_s = as_text(des, dl, flags & 1), *ui_s = as_text(ui, ul, flags & 2);
    char *pem = pem_bytes ? fuzz_cstr(pem_bytes, pl) : NULL;
    const char *key = pem ? pem : test_key_pem;

    char *json = (char *)1;
    size_t len = 12345;
    tcf_error err = {0};
    int rc = tcf_eid_decrypt(&json, &len, des_s, ui_s, key, &err);
    if (rc != 0) {
        FUZZ_CHECK(json == NULL && len == 0, "output set on failure");
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_ECRYPTO || rc == TCF_ESTATE || rc == TCF_ENOMEM ||
                       (pem && rc == TCF_EINVAL),
                   "code %d: %s", rc, err.message);
        if (rc == TCF_ESTATE)
            FUZZ_CHECK(des_s[0] == '\0' || ui_s[0] == '\0', "ESTATE with both fields given");
    } else {
        FUZZ_CHECK(des_s[0] && ui_s[0], "decrypted an empty field");
        FUZZ_CHECK(json && json[len] == '\0' && strlen(json) == len, "bad length %zu", len);
        json_error_t e;
        json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);
        FUZZ_CHECK(json_is_object(doc), "UserInfo is not a JSON object: %s", e.text);
        json_decref(doc);
        char *again = NULL;
        size_t len2 = 0;
        FUZZ_CHECK(tcf_eid_decrypt(&again, &len2, des_s, ui_s, key, NULL) == 0 && len2 == len &&
                       memcmp(again, json, len) == 0,
                   "a second decryption differs");
        tcf_eid_json_free(again);
        tcf_eid_json_free(json);
    }
    free(des), free(ui), free(pem_bytes), free(des_s), free(ui_s), free(pem);
    return 0;
}
