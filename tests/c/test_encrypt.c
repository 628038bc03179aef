/* Field encryption: the crypto primitives (SM4-GCM against RFC 8998 and Wycheproof, AES-256-CBC
 * against NIST SP 800-38A and the OpenSSL command line, RSA PKCS#1 v1.5 and SM2 wrapping
 * checked by decrypting with the private keys) and tcf_encrypt_request / tcf_decrypt_response
 * for every encryptable field of every action with both algorithms. */
#include "crypto.h"
#include "internal.h"
#include "tcft.h"

#include <jansson.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>

/* The emulator's test key pairs (bindings/python/tcfaceid/emulator/config.py). */
static const char rsa_private_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAMbNgbAIlYFM1IhQ\n"
    "WEF+ek+woV2UqPmgQhLe8MwL3Yugn069yPksY8IZZJCnqXkKeSCPChDsTewCswFg\n"
    "+hd1DmTUStVPga/nheG/8ZIvMDkYUa+WtILrBbkJNF/cftTNk1+mcU/dTf82p4rS\n"
    "Ys9cGfPO3AwkmKEWAnek4SgrI7AzAgMBAAECgYBtBmT6CisbhuwDebR87oTbUS2d\n"
    "qZplk7rIqJT8AgHUwhi70R73b52h49Uf86Lga5rz/R3zG/S72tsahXmCBcMHF2Fc\n"
    "XHDySJFg4wTgDtc7rfiZv0b4lJKJylObwRWx8yS3oLH4wjVKKDZvtAwzvyPp/Ocz\n"
    "vxk2wgREBJpZSgGpiQJBAOUQOF6/wsw8Qdmet1FcVdKXKoRJEkhYPwL+cRW/S3Lz\n"
    "T+8LvvyHKNkco9SwslsmVw4wZDjN8aj7OsRG66Ux9A0CQQDeLlBX6/eCYpusTZrb\n"
    "J5HWDGfFCi3raigZVR9xADuIF6PsoqIp65TKGpVugdCuPoditJVSQqmXN2M4YY3X\n"
    "beU/AkAYhawDOLQ5+RlzmrI1W5U0fkpm7wuuAwR75ZFlqp0BKVsdVDyV/EI7O/2t\n"
    "/1yYtXoMYtHX4vRECuE3sf/4J2jhAkEApA2gh3sVs/Gprs1SpbWPCnT4flZo16X3\n"
    "29SttZuNWYzTHlxrzvZDVAPTCNjTxIUpJGngw++zF5PvMGdf+40KswJBAJyCTq6A\n"
    "dANqGoPIU4jEd7L+tzGseBOsp9PvdBQaC6cZkzEUnJ4ZT9J5KAY707IBecoSM56r\n"
    "j/nxqTlQtmer4gQ=\n"
    "-----END PRIVATE KEY-----\n";
static const char rsa_public_pkcs1_pem[] =
    "-----BEGIN RSA PUBLIC KEY-----\n"
    "MIGJAoGBAMbNgbAIlYFM1IhQWEF+ek+woV2UqPmgQhLe8MwL3Yugn069yPksY8IZ\n"
    "ZJCnqXkKeSCPChDsTewCswFg+hd1DmTUStVPga/nheG/8ZIvMDkYUa+WtILrBbkJ\n"
    "NF/cftTNk1+mcU/dTf82p4rSYs9cGfPO3AwkmKEWAnek4SgrI7AzAgMBAAE=\n"
    "-----END RSA PUBLIC KEY-----\n";
static const char rsa_public_spki_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDGzYGwCJWBTNSIUFhBfnpPsKFd\n"
    "lKj5oEIS3vDMC92LoJ9Ovcj5LGPCGWSQp6l5CnkgjwoQ7E3sArMBYPoXdQ5k1ErV\n"
    "T4Gv54Xhv/GSLzA5GFGvlrSC6wW5CTRf3H7UzZNfpnFP3U3/NqeK0mLPXBnzztwM\n"
    "JJihFgJ3pOEoKyOwMwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char sm2_private_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg6VtjnAN42MFnbDmp\n"
    "URN2MHLMqVbww+UgXWW9SWfGkYqhRANCAARoZK6d983TZdNJgLqzhPrdH22UOAU0\n"
    "Amszd/2WriG//tOr2gI4r8PhNRMkvSTQtlR+hdF/5IFYq8quWgt3oaey\n"
    "-----END PRIVATE KEY-----\n";
static const char sm2_public_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEaGSunffN02XTSYC6s4T63R9tlDgF\n"
    "NAJrM3f9lq4hv/7Tq9oCOK/D4TUTJL0k0LZUfoXRf+SBWKvKrloLd6Gnsg==\n"
    "-----END PUBLIC KEY-----\n";

/* ---- helpers ---- */

static size_t unhex(unsigned char *out, const char *hex)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        out[i] = (unsigned char)v;
    }
    return n;
}

static int same_hex(const unsigned char *p, size_t n, const char *hex)
{
    char buf[1024];
    if (2 * n + 1 > sizeof buf || strlen(hex) != 2 * n)
        return 0;
    tcfp_hex(buf, p, n);
    for (size_t i = 0; i < 2 * n; i++)
        if (buf[i] != (hex[i] | 0x20))
            return 0;
    return 1;
}

static EVP_PKEY *load_private(const char *pem)
{
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *d =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
    const unsigned char *data = (const unsigned char *)pem;
    size_t len = strlen(pem);
    if (d == NULL || OSSL_DECODER_from_data(d, &data, &len) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(d);
    ERR_clear_error();
    return pkey;
}

/* Decrypts with a private key (RSA PKCS#1 v1.5, or SM2 from DER); returns the length or 0. */
static size_t private_decrypt(unsigned char *out, size_t cap, const char *pem, int rsa,
                              const unsigned char *in, size_t n)
{
    EVP_PKEY *pkey = load_private(pem);
    EVP_PKEY_CTX *ctx = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    size_t len = cap;
    int ok = ctx != NULL && EVP_PKEY_decrypt_init(ctx) == 1 &&
             (!rsa || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1) &&
             EVP_PKEY_decrypt(ctx, out, &len, in, n) == 1;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return ok ? len : 0;
}

/* CiphertextBlob -> the symmetric key, with the emulator's private keys. */
static size_t unwrap_blob(unsigned char *key, const char *blob_b64, int rsa)
{
    unsigned char raw[512];
    size_t raw_len = 0, len = 0;
    /* the caller's buffer holds at least 256 bytes (RSA wants room for a modulus) */
    if (strlen(blob_b64) > 600 || tcfp_base64_decode(raw, &raw_len, blob_b64, strlen(blob_b64)))
        return 0;
    if (rsa)
        return raw_len == 128 ? private_decrypt(key, 256, rsa_private_pem, 1, raw, raw_len) : 0;
    unsigned char *der = NULL;
    if (raw_len != 113 || raw[0] != 4 || tcfp_sm2_raw_to_der(&der, &len, raw, raw_len) != 0)
        return 0;
    size_t n = private_decrypt(key, 256, sm2_private_pem, 0, der, len);
    tcfp_free(der);
    return n;
}

/* ---- SM4-GCM ---- */

TCFT_TEST(sm4_gcm_rfc8998_vector)
{
    unsigned char key[16], iv[12], aad[20], pt[64], ct[64], tag[16], out[64];
    unhex(key, "0123456789ABCDEFFEDCBA9876543210");
    unhex(iv, "00001234567800000000ABCD");
    unhex(aad, "FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
    unhex(pt, "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
              "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA");
    TCFT_CHECK(tcfp_sm4_gcm_encrypt(ct, tag, key, iv, 12, aad, 20, pt, 64) == 0);
    TCFT_CHECK(same_hex(ct, 64,
                        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
                        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"));
    TCFT_CHECK(same_hex(tag, 16, "83DE3541E4C2B58177E065A9BF7B62EC"));
    TCFT_CHECK(tcfp_sm4_gcm_decrypt(out, key, iv, 12, aad, 20, ct, 64, tag) == 0);
    TCFT_CHECK(memcmp(out, pt, 64) == 0);
    /* a wrong tag, a modified ciphertext, a wrong AAD: rejected, nothing written */
    for (int which = 0; which < 3; which++) {
        unsigned char bad_tag[16], bad_ct[64], bad_aad[20], dst[64];
        memcpy(bad_tag, tag, 16);
        memcpy(bad_ct, ct, 64);
        memcpy(bad_aad, aad, 20);
        if (which == 0)
            bad_tag[15] ^= 1;
        else if (which == 1)
            bad_ct[30] ^= 0x80;
        else
            bad_aad[0] ^= 2;
        memset(dst, 0x5A, sizeof dst);
        TCFT_CHECK(tcfp_sm4_gcm_decrypt(dst, key, iv, 12, bad_aad, 20, bad_ct, 64, bad_tag) ==
                   TCF_ECRYPTO);
        for (size_t i = 0; i < sizeof dst; i++)
            TCFT_CHECK(dst[i] == 0x5A);
    }
}

/* Wycheproof sm4_gcm_test.json: short messages, an empty message, IVs of 1, 8, 15, 16 and 32
 * bytes (J0 from GHASH; tc68's counter wraps in its 32 bits). */
TCFT_TEST(sm4_gcm_wycheproof_vectors)
{
    static const char *const v[][6] = {
        {"384ea416ac3c2f51a76e7d8226346d4e", "b30c084727ad1c592ac21d12", "", "35", "a3",
         "a06f50a378b116e9dd2363a6e8babd88"},
        {"e63a43216c08867210e248859eb5e99c", "9c3a4263d983456658aad4b1", "834afdc5c737186b",
         "b14da56b0462dc05b871fc815273ff4810f92f4b", "74011a2daa5b32ff71fc8fdd8b6ac88f3ac34c96",
         "7888f6f99acd94c4e7f919de632107dd"},
        {"00112233445566778899aabbccddeeff", "97d84172e735eab6765dfb7292c7c395", "",
         "00000000000000000000000000000000000000000000000000000000000000000000000000000000",
         "3c5a4347f370ff7c7affd4a10b3ed1ea8e1393f00c3ff44f854bb3292668a544c5bf7a30276f45be",
         "63636b1cf3c7b0ac7f7da87f8d5c54e8"},
        {"34c74e28182948e03af02a01f46eb4f7", "b0a73119a97d623806b49d45ddf4c7", "",
         "fe82ba66cf2e265741f2c86c", "c0392af55791eae29abaf4df",
         "f8c5423dd1a305dd8fbd3ed2ea063f47"},
        {"5927bae748bb69d81b5a724e0a165652",
         "365e0b96932b13306f92e9bb23847165bcbf5d35e45a83d75c86ecca70131f4c", "",
         "316bf99bfafc76f1bfc0b03c", "62fa000549eb27532e8590b6",
         "a6525a74c51f5e1fa966e2845aa290c0"},
        {"fec58aa8cf06bfe05de829f27ec77693", "9d", "", "f2d99a9f893378e0757d27c2e3a3101b",
         "cac61589057f75405d41fa646a757b59", "dfc394e6590ff100d0754f45c01f958e"},
        {"deb62233559b57476602b5adac57c77f", "d084547de55bbc15", "",
         "d8986df0241ed3297582c0c239c724cb", "5bd7fa6415563981e418a3a7e075b254",
         "edecac4f12ddf24b3c6b976be8e000bd"},
    };
    for (size_t t = 0; t < sizeof v / sizeof v[0]; t++) {
        unsigned char key[16], iv[32], aad[16], msg[64], ct[64], tag[16], out[64];
        unhex(key, v[t][0]);
        size_t iv_len = unhex(iv, v[t][1]), aad_len = unhex(aad, v[t][2]);
        size_t n = unhex(msg, v[t][3]);
        TCFT_CHECK(tcfp_sm4_gcm_encrypt(ct, tag, key, iv, iv_len, aad, aad_len, msg, n) == 0);
        TCFT_CHECK(same_hex(ct, n, v[t][4]));
        TCFT_CHECK(same_hex(tag, 16, v[t][5]));
        TCFT_CHECK(tcfp_sm4_gcm_decrypt(out, key, iv, iv_len, aad, aad_len, ct, n, tag) == 0);
        TCFT_CHECK(memcmp(out, msg, n) == 0);
    }
}

TCFT_TEST(sm4_gcm_round_trips_across_batches)
{
    /* lengths around the block size and around the 4096-byte counter batch */
    static const size_t lens[] = {0, 1, 15, 16, 17, 4095, 4096, 4097, 10000};
    unsigned char key[16], iv[12];
    memset(key, 7, sizeof key);
    memset(iv, 9, sizeof iv);
    for (size_t t = 0; t < sizeof lens / sizeof lens[0]; t++) {
        size_t n = lens[t];
        unsigned char *pt = malloc(n + 1), *ct = malloc(n + 1), *back = malloc(n + 1), tag[16];
        TCFT_CHECK(pt && ct && back);
        for (size_t i = 0; i < n; i++)
            pt[i] = (unsigned char)(i * 31 + 7);
        int ok = tcfp_sm4_gcm_encrypt(ct, tag, key, iv, 12, NULL, 0, pt, n) == 0 &&
                 tcfp_sm4_gcm_decrypt(back, key, iv, 12, NULL, 0, ct, n, tag) == 0 &&
                 memcmp(back, pt, n) == 0 && (n < 16 || memcmp(ct, pt, 16) != 0);
        free(pt);
        free(ct);
        free(back);
        TCFT_CHECK(ok);
    }
    unsigned char tag[16];
    TCFT_CHECK(tcfp_sm4_gcm_encrypt(NULL, tag, key, iv, 0, NULL, 0, NULL, 0) == TCF_EINVAL);
}

/* ---- AES-256-CBC ---- */

TCFT_TEST(aes256cbc_nist_sp800_38a_and_openssl)
{
    unsigned char key[32], iv[16], pt[64], ct[96], out[96];
    size_t len = 0;
    unhex(key, "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
    unhex(iv, "000102030405060708090a0b0c0d0e0f");
    /* F.2.5 CBC-AES256.Encrypt; PKCS#7 adds one block of 0x10 (as `openssl enc` does) */
    unhex(pt, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
              "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
    TCFT_CHECK(tcfp_aes256cbc_encrypt(ct, &len, key, iv, pt, 64) == 0 && len == 80);
    TCFT_CHECK(same_hex(ct, 80,
                        "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
                        "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b"
                        "3f461796d6b0d6b2e0c2a72b4d80e644"));
    TCFT_CHECK(tcfp_aes256cbc_decrypt(out, &len, key, iv, ct, 80) == 0 && len == 64);
    TCFT_CHECK(memcmp(out, pt, 64) == 0);
    /* printf '%s' TEXT | openssl enc -aes-256-cbc -K <key> -iv <iv> */
    static const char *const cases[][2] = {
        {"", "7e9248e5d829ca7593f0c549db2f5b8c"},
        {"a", "0ad0834b56f4b1cafb4ccdddd29ba721"},
        {"0123456789abcdef", "af7982f678f498be053f0ec06bc547caf81dab9022f1009991cdf5a02a864a5d"},
        {"\xe5\xbc\xa0\xe4\xb8\x89", "f841687ef82f69a65a62a6cb12cf17dc"},
        {"110101199001011237", "366341a4d0caa20459966b5ff95accde2eb659cb6bdb693792bc189b472c71c0"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = strlen(cases[c][0]);
        TCFT_CHECK(
            tcfp_aes256cbc_encrypt(ct, &len, key, iv, (const unsigned char *)cases[c][0], n) == 0);
        TCFT_CHECK(same_hex(ct, len, cases[c][1]));
        TCFT_CHECK(tcfp_aes256cbc_decrypt(out, &len, key, iv, ct, len) == 0 && len == n);
        TCFT_CHECK(memcmp(out, cases[c][0], n) == 0);
    }
    /* bad lengths and bad padding */
    TCFT_CHECK(tcfp_aes256cbc_decrypt(out, &len, key, iv, ct, 0) == TCF_ECRYPTO);
    TCFT_CHECK(tcfp_aes256cbc_decrypt(out, &len, key, iv, ct, 15) == TCF_ECRYPTO);
    key[0] ^= 1; /* this wrong key gives a last byte that is not valid padding */
    unhex(ct, "7e9248e5d829ca7593f0c549db2f5b8c");
    int rc = tcfp_aes256cbc_decrypt(out, &len, key, iv, ct, 16);
    TCFT_CHECK(rc == TCF_ECRYPTO || len != 0);
}

/* ---- key wrapping ---- */

TCFT_TEST(rsa_pkcs1_wrap_both_pem_forms)
{
    const char *pems[] = {rsa_public_pkcs1_pem, rsa_public_spki_pem};
    unsigned char key[32];
    memset(key, 0xA5, sizeof key);
    for (int i = 0; i < 2; i++) {
        EVP_PKEY *pub = NULL;
        unsigned char *ct = NULL, back[256];
        size_t ct_len = 0;
        TCFT_CHECK(tcfp_load_public_key(&pub, pems[i], TCFP_PUBKEY_RSA) == 0);
        TCFT_CHECK(tcfp_rsa_pkcs1_encrypt(&ct, &ct_len, pub, key, 32) == 0 && ct_len == 128);
        size_t n = private_decrypt(back, sizeof back, rsa_private_pem, 1, ct, ct_len);
        tcfp_free(ct);
        EVP_PKEY_free(pub);
        TCFT_CHECK(n == 32 && memcmp(back, key, 32) == 0);
    }
    EVP_PKEY *pub = NULL;
    TCFT_CHECK(tcfp_load_public_key(&pub, sm2_public_pem, TCFP_PUBKEY_RSA) == TCF_EINVAL);
    TCFT_CHECK(tcfp_load_public_key(&pub, "not a key", TCFP_PUBKEY_RSA) == TCF_EINVAL);
    TCFT_CHECK(pub == NULL);
}

TCFT_TEST(sm2_wrap_is_raw_c1c3c2)
{
    EVP_PKEY *pub = NULL;
    unsigned char key[16], back[256], *ct = NULL, *der = NULL, *raw = NULL;
    size_t ct_len = 0, der_len = 0, raw_len = 0;
    memset(key, 0x3C, sizeof key);
    TCFT_CHECK(tcfp_load_public_key(&pub, sm2_public_pem, TCFP_PUBKEY_SM2) == 0);
    int rc = tcfp_sm2_encrypt(&ct, &ct_len, pub, key, 16);
    EVP_PKEY_free(pub);
    TCFT_CHECK(rc == 0 && ct_len == 113 && ct[0] == 0x04);
    TCFT_CHECK(tcfp_sm2_raw_to_der(&der, &der_len, ct, ct_len) == 0);
    TCFT_CHECK(tcfp_sm2_der_to_raw(&raw, &raw_len, der, der_len) == 0);
    int same = raw_len == ct_len && memcmp(raw, ct, ct_len) == 0;
    size_t n = private_decrypt(back, sizeof back, sm2_private_pem, 0, der, der_len);
    tcfp_free(raw);
    tcfp_free(der);
    tcfp_free(ct);
    TCFT_CHECK(same);
    TCFT_CHECK(n == 16 && memcmp(back, key, 16) == 0);
    TCFT_CHECK(tcfp_load_public_key(&pub, rsa_public_spki_pem, TCFP_PUBKEY_SM2) == TCF_EINVAL);
    /* the documented service key (through the public API's default) loads too */
    tcf_encryption_keys *k = NULL;
    tcf_encryption_options o = TCF_ENCRYPTION_OPTIONS_INIT;
    o.algorithm = TCF_ENCRYPTION_SM4_GCM;
    TCFT_CHECK(tcf_encryption_keys_new(&k, &o, NULL) == 0);
    TCFT_CHECK(strlen(tcf_encryption_keys_ciphertext_blob(k)) == 152); /* base64 of 113 bytes */
    tcf_encryption_keys_free(k);
    o.algorithm = TCF_ENCRYPTION_AES_256_CBC;
    TCFT_CHECK(tcf_encryption_keys_new(&k, &o, NULL) == 0);
    TCFT_CHECK(strlen(tcf_encryption_keys_ciphertext_blob(k)) == 172); /* base64 of 128 bytes */
    tcf_encryption_keys_free(k);
    unsigned char bad[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    TCFT_CHECK(tcfp_sm2_der_to_raw(&raw, &raw_len, bad, sizeof bad) == TCF_ECRYPTO);
}

/* ---- the public API ---- */

static tcf_encryption_options emu_options(tcf_encryption_algorithm alg)
{
    tcf_encryption_options o = TCF_ENCRYPTION_OPTIONS_INIT;
    o.algorithm = alg;
    o.rsa_public_key_pem = rsa_public_pkcs1_pem;
    o.sm2_public_key_pem = sm2_public_pem;
    return o;
}

/* A plausible value for each encryptable field. */
static const char *sample(const char *field)
{
    if (strcmp(field, "Name") == 0)
        return "\xe5\xbc\xa0\xe4\xb8\x89"; /* 张三 */
    if (strcmp(field, "IdCard") == 0)
        return "11010119900307803X";
    if (strcmp(field, "Phone") == 0 || strcmp(field, "Mobile") == 0)
        return "13800138000";
    if (strcmp(field, "BankCard") == 0)
        return "6222020111122220000";
    return "aGVsbG8gcGhvdG8="; /* ImageBase64 */
}

/* Decrypts one value of an encrypted request by hand (not through tcf_decrypt_response). */
static int value_decrypts_to(const char *ct_b64, const char *tag_b64, const unsigned char *key,
                             const unsigned char *iv, size_t iv_len, int gcm, const char *want)
{
    unsigned char ct[256], pt[256], tag[16];
    size_t ct_len = 0, pt_len = 0, tag_len = 0;
    if (strlen(ct_b64) > 300 || tcfp_base64_decode(ct, &ct_len, ct_b64, strlen(ct_b64)) != 0)
        return 0;
    if (gcm) {
        if (tag_b64 == NULL || tcfp_base64_decode(tag, &tag_len, tag_b64, strlen(tag_b64)) != 0 ||
            tag_len != 16 || tcfp_sm4_gcm_decrypt(pt, key, iv, iv_len, NULL, 0, ct, ct_len, tag))
            return 0;
        pt_len = ct_len;
    } else if (tcfp_aes256cbc_decrypt(pt, &pt_len, key, iv, ct, ct_len) != 0) {
        return 0;
    }
    return pt_len == strlen(want) && memcmp(pt, want, pt_len) == 0;
}

static const char *const all_actions[] = {"BankCard2EVerification",
                                          "BankCard4EVerification",
                                          "BankCardVerification",
                                          "CheckBankCardInformation",
                                          "CheckIdNameDate",
                                          "CheckPhoneAndName",
                                          "DetectAuth",
                                          "GetEidToken",
                                          "GetFaceIdToken",
                                          "IdCardOCRVerification",
                                          "IdCardVerification",
                                          "ImageRecognition",
                                          "ImageRecognitionV2",
                                          "LivenessRecognition",
                                          "MinorsVerification",
                                          "MobileNetworkTimeVerification",
                                          "MobileStatus",
                                          "PhoneVerification",
                                          "PhoneVerificationCMCC",
                                          "PhoneVerificationCTCC",
                                          "PhoneVerificationCUCC"};

/* Encrypts every encryptable field of one action and checks the result field by field. */
static int check_action(const char *action, tcf_encryption_algorithm alg)
{
    size_t nfields = 0;
    const char *const *fields = tcf_encryptable_fields(action, &nfields);
    if (fields == NULL || nfields == 0)
        return 0;
    int gcm = alg == TCF_ENCRYPTION_SM4_GCM, legacy = strcmp(action, "PhoneVerification") == 0;
    json_t *params = json_pack("{s:s}", "Extra", "keep me");
    for (size_t i = 0; i < nfields; i++)
        json_object_set_new(params, fields[i], json_string(sample(fields[i])));
    char *in = json_dumps(params, JSON_COMPACT);
    tcf_encryption_options o = emu_options(alg);
    tcf_encryption_keys *k = NULL;
    char *out = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int ok = tcf_encrypt_request(&out, &len, action, in, strlen(in), &o, &k, &err) == 0 &&
             out != NULL && len == strlen(out) && k != NULL;
    json_t *enc_req = ok ? json_loads(out, 0, NULL) : NULL;
    json_t *enc = legacy ? enc_req : json_object_get(enc_req, "Encryption");
    ok = ok && json_is_object(enc);
    /* the wrapped key is the key */
    unsigned char key[256];
    size_t key_len = 0;
    const unsigned char *kk = tcf_encryption_keys_key(k, &key_len);
    const char *blob = json_string_value(json_object_get(enc, "CiphertextBlob"));
    ok = ok && blob != NULL && unwrap_blob(key, blob, !gcm) == key_len &&
         key_len == (gcm ? 16u : 32u) && memcmp(key, kk, key_len) == 0;
    /* the IV, the algorithm, the lists */
    unsigned char iv[16];
    size_t iv_len = 0;
    const char *iv_b64 = json_string_value(json_object_get(enc, "Iv"));
    ok = ok && iv_b64 != NULL && tcfp_base64_decode(iv, &iv_len, iv_b64, strlen(iv_b64)) == 0 &&
         iv_len == (gcm ? 12u : 16u);
    json_t *list = json_object_get(enc, "EncryptList");
    json_t *tags = json_object_get(enc, "TagList");
    ok = ok && json_array_size(list) == nfields;
    if (!legacy) {
        const char *alg_name = json_string_value(json_object_get(enc, "Algorithm"));
        ok = ok && alg_name != NULL && strcmp(alg_name, tcf_encryption_algorithm_name(alg)) == 0;
        ok = ok && json_is_array(tags) && json_array_size(tags) == (gcm ? nfields : 0);
    } else {
        ok = ok && json_object_get(enc_req, "Encryption") == NULL;
    }
    for (size_t i = 0; ok && i < nfields; i++) {
        const char *f = json_string_value(json_array_get(list, i));
        const char *ct = f ? json_string_value(json_object_get(enc_req, f)) : NULL;
        const char *tag = json_string_value(json_array_get(tags, i));
        ok = ct != NULL && strcmp(ct, sample(f)) != 0 &&
             value_decrypts_to(ct, tag, kk, iv, iv_len, gcm, sample(f));
    }
    ok = ok && strcmp(json_string_value(json_object_get(enc_req, "Extra")), "keep me") == 0;
    /* tcf_decrypt_response reads the same object back (the paths are top-level names) */
    if (ok && !legacy) {
        char *back = NULL;
        ok = tcf_decrypt_response(&back, NULL, out, len, k, &err) == 0;
        json_t *b = ok ? json_loads(back, 0, NULL) : NULL;
        if (b != NULL)
            json_object_del(b, "Encryption");
        ok = ok && json_equal(b, params);
        json_decref(b);
        tcf_string_free(back);
    }
    json_decref(enc_req);
    json_decref(params);
    free(in);
    tcf_string_free(out);
    tcf_encryption_keys_free(k);
    return ok && err.code == 0;
}

TCFT_TEST(encrypt_every_field_of_every_action_aes)
{
    for (size_t i = 0; i < sizeof all_actions / sizeof all_actions[0]; i++)
        TCFT_CHECK(check_action(all_actions[i], TCF_ENCRYPTION_AES_256_CBC));
}

TCFT_TEST(encrypt_every_field_of_every_action_sm4_gcm)
{
    for (size_t i = 0; i < sizeof all_actions / sizeof all_actions[0]; i++) {
        if (strcmp(all_actions[i], "PhoneVerification") == 0)
            continue; /* AES only */
        TCFT_CHECK(check_action(all_actions[i], TCF_ENCRYPTION_SM4_GCM));
    }
}

TCFT_TEST(encryptable_field_table)
{
    size_t n = 99;
    const char *const *f = tcf_encryptable_fields("BankCard4EVerification", &n);
    TCFT_CHECK(f != NULL && n == 4 && f[4] == NULL);
    f = tcf_encryptable_fields("MinorsVerification", &n);
    TCFT_CHECK(f != NULL && n == 3 && strcmp(f[2], "Mobile") == 0);
    f = tcf_encryptable_fields("GetFaceIdToken", &n);
    TCFT_CHECK(f != NULL && n == 3 && strcmp(f[2], "ImageBase64") == 0);
    TCFT_CHECK(tcf_encryptable_fields("GetDetectInfoEnhanced", &n) != NULL && n == 0);
    TCFT_CHECK(tcf_encryptable_fields("GetLiveCode", &n) == NULL && n == 0);
    TCFT_CHECK(tcf_encryptable_fields(NULL, NULL) == NULL);
    TCFT_CHECK_STR(tcf_encryption_algorithm_name(TCF_ENCRYPTION_SM4_GCM), "SM4-GCM");
    TCFT_CHECK(tcf_encryption_algorithm_name((tcf_encryption_algorithm)7) == NULL);
}

TCFT_TEST(encrypt_selected_fields_and_fixed_key)
{
    static const unsigned char key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                          12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                          23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    static const unsigned char iv[16] = {0};
    static const char *const only[] = {"IdCard"};
    tcf_encryption_options o = emu_options(TCF_ENCRYPTION_AES_256_CBC);
    o.key = key;
    o.key_len = 32;
    o.iv = iv;
    o.iv_len = 16;
    o.fields = only;
    o.field_count = 1;
    const char *params = "{\"IdCard\":\"110101199001011237\",\"Name\":\"A\",\"Phone\":null}";
    char *out = NULL;
    tcf_encryption_keys *k = NULL;
    TCFT_CHECK(tcf_encrypt_request(&out, NULL, "IdCardVerification", params, strlen(params), &o, &k,
                                   NULL) == 0);
    /* IdCard's ciphertext is the openssl enc one for this key and the zero IV; Name stays */
    json_t *j = json_loads(out, 0, NULL);
    const char *ct = json_string_value(json_object_get(j, "IdCard"));
    unsigned char raw[64];
    size_t raw_len = 0;
    int ok = ct && tcfp_base64_decode(raw, &raw_len, ct, strlen(ct)) == 0 && raw_len == 32;
    unsigned char want[48];
    size_t want_len = 0;
    ok = ok &&
         tcfp_aes256cbc_encrypt(want, &want_len, key, iv,
                                (const unsigned char *)"110101199001011237", 18) == 0 &&
         want_len == 32 && memcmp(raw, want, 32) == 0;
    ok = ok && strcmp(json_string_value(json_object_get(j, "Name")), "A") == 0;
    ok = ok && json_is_null(json_object_get(j, "Phone"));
    ok = ok && strcmp(json_string_value(json_object_get(json_object_get(j, "Encryption"), "Iv")),
                      "AAAAAAAAAAAAAAAAAAAAAA==") == 0;
    json_decref(j);
    tcf_string_free(out);
    /* a caller-supplied CiphertextBlob (legacy KMS) is sent as is */
    o.ciphertext_blob = "S01TLWJsb2I=";
    o.fields = NULL;
    o.field_count = 0;
    TCFT_CHECK(ok);
    TCFT_CHECK(tcf_encrypt_request(&out, NULL, "IdCardVerification", params, strlen(params), &o,
                                   NULL, NULL) == 0);
    TCFT_CHECK(strstr(out, "\"CiphertextBlob\":\"S01TLWJsb2I=\"") != NULL);
    tcf_string_free(out);
    /* no encryptable field present: the parameters come back unchanged */
    TCFT_CHECK(tcf_encrypt_request(&out, NULL, "IdCardVerification", "{\"Name\":\"\"}", 11, &o,
                                   NULL, NULL) == 0);
    TCFT_CHECK_STR(out, "{\"Name\":\"\"}");
    tcf_string_free(out);
    tcf_encryption_keys_free(k);
}

static int fails(int code, const char *action, const char *params, const tcf_encryption_options *o,
                 const char *secret)
{
    char *out = (char *)"x";
    size_t len = 5;
    tcf_encryption_keys *k = (tcf_encryption_keys *)1;
    tcf_error err;
    tcf_error_clear(&err);
    int rc =
        tcf_encrypt_request(&out, &len, action, params, params ? strlen(params) : 0, o, &k, &err);
    return rc == code && err.code == code && out == NULL && len == 0 && k == NULL &&
           err.message[0] != '\0' && (secret == NULL || strstr(err.message, secret) == NULL);
}

TCFT_TEST(encrypt_request_errors)
{
    tcf_encryption_options o = emu_options(TCF_ENCRYPTION_AES_256_CBC);
    const char *p = "{\"IdCard\":\"110101199001011237\"}";
    TCFT_CHECK(fails(TCF_EINVAL, "NoSuchAction", p, &o, NULL));
    TCFT_CHECK(fails(TCF_EINVAL, "GetLiveCode", "{}", &o, NULL));
    static const char *const not_encryptable[] = {"Extra"};
    o.fields = not_encryptable;
    o.field_count = 1;
    TCFT_CHECK(fails(TCF_EINVAL, "DetectAuth", p, &o, NULL));
    static const char *const phone[] = {"Phone"}; /* IdCardVerification has no Phone */
    o.fields = phone;
    TCFT_CHECK(fails(TCF_EINVAL, "IdCardVerification", p, &o, NULL));
    o.fields = NULL;
    o.field_count = 0;
    TCFT_CHECK(fails(TCF_EINVAL, "IdCardVerification", "{\"IdCard\":18}", &o, NULL));
    TCFT_CHECK(fails(TCF_EINVAL, "IdCardVerification",
                     "{\"IdCard\":\"110101199001011237\",\"Encryption\":{}}", &o, "1101"));
    TCFT_CHECK(fails(TCF_EINVAL, "PhoneVerification",
                     "{\"IdCard\":\"110101199001011237\",\"Iv\":\"x\"}", &o, "1101"));
    TCFT_CHECK(
        fails(TCF_EJSON, "IdCardVerification", "{\"IdCard\":\"110101199001011237\"", &o, "1101"));
    TCFT_CHECK(fails(TCF_EJSON, "IdCardVerification", "[\"110101199001011237\"]", &o, "1101"));
    o.whole_body = 1;
    TCFT_CHECK(fails(TCF_EINVAL, "IdCardVerification", p, &o, NULL));
    o.whole_body = 0;
    o.algorithm = TCF_ENCRYPTION_SM4_GCM;
    TCFT_CHECK(fails(TCF_EINVAL, "PhoneVerification", p, &o, NULL));
    o.sm2_public_key_pem = rsa_public_spki_pem;
    TCFT_CHECK(fails(TCF_EINVAL, "IdCardVerification", p, &o, NULL));
    o = emu_options(TCF_ENCRYPTION_SM4_GCM);
    static const unsigned char short_key[8] = {0};
    o.key = short_key;
    o.key_len = 8;
    TCFT_CHECK(fails(TCF_EINVAL, "IdCardVerification", p, &o, NULL));
    o = emu_options((tcf_encryption_algorithm)9);
    TCFT_CHECK(fails(TCF_EINVAL, "IdCardVerification", p, &o, NULL));
    o = emu_options(TCF_ENCRYPTION_AES_256_CBC);
    o.version = 99;
    TCFT_CHECK(fails(TCF_EINVAL, "IdCardVerification", p, &o, NULL));
    TCFT_CHECK(tcf_encrypt_request(NULL, NULL, "IdCardVerification", p, 2, NULL, NULL, NULL) ==
               TCF_EINVAL);
}

/* A response as the service would encrypt it: each path's value under (key, response IV). */
static char *make_field_response(const tcf_encryption_keys *k, const unsigned char *iv,
                                 size_t iv_len, int break_tag)
{
    size_t key_len = 0;
    const unsigned char *key = tcf_encryption_keys_key(k, &key_len);
    int gcm = tcf_encryption_keys_algorithm(k) == TCF_ENCRYPTION_SM4_GCM;
    static const char *const names[] = {"IdCard", "Name", "OcrIdCard", "OcrName"};
    json_t *text = json_pack("{s:i,s:n}", "ErrCode", 0, "Extra");
    json_t *list = json_array(), *tags = json_array();
    for (size_t i = 0; i < 4; i++) {
        const char *pt = i % 2 ? "\xe5\xbc\xa0\xe4\xb8\x89" : "11010119900307803X";
        unsigned char ct[64], tag[16];
        size_t ct_len = 0;
        char b64[128], tb64[32];
        if (gcm) {
            tcfp_sm4_gcm_encrypt(ct, tag, key, iv, iv_len, NULL, 0, (const unsigned char *)pt,
                                 strlen(pt));
            ct_len = strlen(pt);
            if (break_tag && i == 2)
                tag[0] ^= 1;
            tcfp_base64_encode(tb64, tag, 16);
            json_array_append_new(tags, json_string(tb64));
        } else {
            tcfp_aes256cbc_encrypt(ct, &ct_len, key, iv, (const unsigned char *)pt, strlen(pt));
        }
        tcfp_base64_encode(b64, ct, ct_len);
        json_object_set_new(text, names[i], json_string(b64));
        char path[64];
        snprintf(path, sizeof path, "%sText.%s", i == 3 ? "" : "Response.", names[i]);
        json_array_append_new(list, json_string(path));
    }
    /* a listed path whose value is null, and one that does not exist: skipped */
    json_array_append_new(list, json_string("Response.Text.Extra"));
    json_array_append_new(list, json_string("Response.IdCardData.Nothing"));
    char iv_b64[32];
    tcfp_base64_encode(iv_b64, iv, iv_len);
    json_t *resp =
        json_pack("{s:{s:o,s:{s:o,s:s,s:s,s:s,s:o},s:s,s:s}}", "Response", "Text", text,
                  "Encryption", "EncryptList", list, "CiphertextBlob", "", "Iv", iv_b64,
                  "Algorithm", tcf_encryption_algorithm_name(tcf_encryption_keys_algorithm(k)),
                  "TagList", tags, "EncryptedBody", "", "RequestId", "req-1");
    char *s = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    return s;
}

TCFT_TEST(decrypt_field_level_responses)
{
    for (int gcm = 0; gcm < 2; gcm++) {
        tcf_encryption_options o =
            emu_options(gcm ? TCF_ENCRYPTION_SM4_GCM : TCF_ENCRYPTION_AES_256_CBC);
        char *req = NULL;
        tcf_encryption_keys *k = NULL;
        TCFT_CHECK(tcf_encrypt_request(&req, NULL, "GetDetectInfoEnhanced",
                                       "{\"BizToken\":\"t\",\"RuleId\":\"1\"}", 29, &o, &k,
                                       NULL) == 0);
        TCFT_CHECK(strstr(req, "\"EncryptList\":[]") != NULL);
        TCFT_CHECK(strstr(req, "IsEncryptResponse") == NULL);
        tcf_string_free(req);
        unsigned char server_iv[16];
        memset(server_iv, 0x42, sizeof server_iv);
        char *resp = make_field_response(k, server_iv, gcm ? 12 : 16, 0);
        char *out = NULL;
        tcf_error err;
        tcf_error_clear(&err);
        TCFT_CHECK(tcf_decrypt_response(&out, NULL, resp, strlen(resp), k, &err) == 0);
        json_t *j = json_loads(out, 0, NULL);
        json_t *text = json_object_get(json_object_get(j, "Response"), "Text");
        int ok =
            strcmp(json_string_value(json_object_get(text, "IdCard")), "11010119900307803X") == 0 &&
            strcmp(json_string_value(json_object_get(text, "OcrName")),
                   "\xe5\xbc\xa0\xe4\xb8\x89") == 0 &&
            json_is_null(json_object_get(text, "Extra")) &&
            json_object_get(json_object_get(j, "Response"), "Encryption") != NULL;
        json_decref(j);
        tcf_string_free(out);
        free(resp);
        TCFT_CHECK(ok);
        /* a wrong tag (SM4-GCM) is refused, and the message has no identity data */
        if (gcm) {
            resp = make_field_response(k, server_iv, 12, 1);
            tcf_error_clear(&err);
            out = (char *)"x";
            TCFT_CHECK(tcf_decrypt_response(&out, NULL, resp, strlen(resp), k, &err) ==
                       TCF_ECRYPTO);
            TCFT_CHECK(out == NULL && strstr(err.message, "EncryptList[2]") != NULL);
            TCFT_CHECK(strstr(err.message, "1101") == NULL);
            free(resp);
        }
        /* the other algorithm's keys: refused */
        tcf_encryption_options other =
            emu_options(gcm ? TCF_ENCRYPTION_AES_256_CBC : TCF_ENCRYPTION_SM4_GCM);
        tcf_encryption_keys *k2 = NULL;
        TCFT_CHECK(tcf_encryption_keys_new(&k2, &other, NULL) == 0);
        resp = make_field_response(k, server_iv, gcm ? 12 : 16, 0);
        TCFT_CHECK(tcf_decrypt_response(&out, NULL, resp, strlen(resp), k2, NULL) == TCF_ECRYPTO);
        free(resp);
        tcf_encryption_keys_free(k2);
        tcf_encryption_keys_free(k);
    }
}

TCFT_TEST(whole_body_request_and_response)
{
    for (int gcm = 0; gcm < 2; gcm++) {
        tcf_encryption_options o =
            emu_options(gcm ? TCF_ENCRYPTION_SM4_GCM : TCF_ENCRYPTION_AES_256_CBC);
        o.whole_body = 1;
        char *req = NULL;
        tcf_encryption_keys *k = NULL;
        /* GetDetectInfoEnhanced: asks for a whole-body response */
        TCFT_CHECK(tcf_encrypt_request(&req, NULL, "GetDetectInfoEnhanced",
                                       "{\"BizToken\":\"t\",\"RuleId\":\"1\"}", 29, &o, &k,
                                       NULL) == 0);
        TCFT_CHECK(strstr(req, "\"EncryptList\":[\"EncryptionBody\"]") != NULL);
        TCFT_CHECK(strstr(req, "\"IsEncryptResponse\":true") != NULL);
        TCFT_CHECK(strstr(req, "\"BizToken\":\"t\"") != NULL);
        tcf_string_free(req);
        /* DetectAIFakeFaces: the body itself; a response built the same way decrypts back */
        const char *body = "{\"Text\":{\"ErrCode\":0,\"IdCard\":\"11010119900307803X\"},"
                           "\"RequestId\":\"inner\"}";
        size_t key_len = 0;
        const unsigned char *key = tcf_encryption_keys_key(k, &key_len);
        tcf_encryption_options fixed = o;
        fixed.key = key;
        fixed.key_len = key_len;
        char *enc = NULL;
        TCFT_CHECK(tcf_encrypt_request(&enc, NULL, "DetectAIFakeFaces", body, strlen(body), &fixed,
                                       NULL, NULL) == 0);
        json_t *e = json_loads(enc, 0, NULL);
        tcf_string_free(enc);
        TCFT_CHECK(json_object_size(e) == 2 && json_object_get(e, "EncryptedBody") != NULL);
        json_t *resp =
            json_pack("{s:O,s:O,s:s}", "Encryption", json_object_get(e, "Encryption"),
                      "EncryptedBody", json_object_get(e, "EncryptedBody"), "RequestId", "outer");
        json_decref(e);
        char *resp_text = json_dumps(resp, JSON_COMPACT);
        char *out = NULL;
        int rc = tcf_decrypt_response(&out, NULL, resp_text, strlen(resp_text), k, NULL);
        json_t *j = rc == 0 ? json_loads(out, 0, NULL) : NULL;
        int ok = j != NULL &&
                 strcmp(json_string_value(json_object_get(json_object_get(j, "Text"), "IdCard")),
                        "11010119900307803X") == 0 &&
                 strcmp(json_string_value(json_object_get(j, "RequestId")), "outer") == 0 &&
                 strcmp(json_string_value(json_object_get(j, "EncryptedBody")), "") == 0;
        json_decref(j);
        tcf_string_free(out);
        /* a modified body: SM4-GCM refuses it; AES-CBC refuses it or gives non-JSON */
        char *p = strstr(resp_text, "\"EncryptedBody\":\"");
        p += 17;
        *p = *p == 'A' ? 'B' : 'A';
        tcf_error err;
        tcf_error_clear(&err);
        rc = tcf_decrypt_response(&out, NULL, resp_text, strlen(resp_text), k, &err);
        ok = ok && (gcm ? rc == TCF_ECRYPTO : (rc == TCF_ECRYPTO || rc == TCF_EJSON));
        ok = ok && strstr(err.message, "1101") == NULL;
        free(resp_text);
        json_decref(resp);
        tcf_encryption_keys_free(k);
        TCFT_CHECK(ok);
    }
}

TCFT_TEST(decrypt_response_without_encryption_is_unchanged)
{
    tcf_encryption_keys *k = NULL;
    TCFT_CHECK(tcf_encryption_keys_new(&k, NULL, NULL) == 0);
    const char *r = "{\"Text\":{\"ErrCode\":0},\"Encryption\":{\"EncryptList\":[],"
                    "\"CiphertextBlob\":\"\",\"Iv\":\"\",\"Algorithm\":\"\",\"TagList\":[]},"
                    "\"EncryptedBody\":\"\",\"RequestId\":\"r\"}";
    char *out = NULL;
    TCFT_CHECK(tcf_decrypt_response(&out, NULL, r, strlen(r), k, NULL) == 0);
    TCFT_CHECK_STR(out, r);
    tcf_string_free(out);
    TCFT_CHECK(tcf_decrypt_response(&out, NULL, "[1]", 3, k, NULL) == TCF_EJSON);
    TCFT_CHECK(tcf_decrypt_response(&out, NULL, r, strlen(r), NULL, NULL) == TCF_EINVAL);
    const char *bad = "{\"Text\":{\"IdCard\":\"!!!!\"},\"Encryption\":{\"EncryptList\":"
                      "[\"Response.Text.IdCard\"],\"Iv\":\"\"}}";
    TCFT_CHECK(tcf_decrypt_response(&out, NULL, bad, strlen(bad), k, NULL) == TCF_ECRYPTO);
    const char *notstr = "{\"Text\":{\"IdCard\":5},\"Encryption\":{\"EncryptList\":"
                         "[\"Text.IdCard\"]}}";
    TCFT_CHECK(tcf_decrypt_response(&out, NULL, notstr, strlen(notstr), k, NULL) == TCF_EJSON);
    const char *badpath = "{\"Encryption\":{\"EncryptList\":[\"Text..IdCard\"]}}";
    TCFT_CHECK(tcf_decrypt_response(&out, NULL, badpath, strlen(badpath), k, NULL) == TCF_EJSON);
    tcf_encryption_keys_free(k);
}

TCFT_TEST(decrypt_array_paths)
{
    tcf_encryption_options o = emu_options(TCF_ENCRYPTION_AES_256_CBC);
    tcf_encryption_keys *k = NULL;
    TCFT_CHECK(tcf_encryption_keys_new(&k, &o, NULL) == 0);
    size_t key_len = 0;
    const unsigned char *key = tcf_encryption_keys_key(k, &key_len);
    unsigned char iv[16] = {0}, ct[32];
    size_t ct_len = 0;
    char b64[64];
    tcfp_aes256cbc_encrypt(ct, &ct_len, key, iv, (const unsigned char *)"secret", 6);
    tcfp_base64_encode(b64, ct, ct_len);
    char doc[512];
    snprintf(doc, sizeof doc,
             "{\"Response\":{\"L\":[{\"N\":\"%s\"},[\"%s\"]],\"Encryption\":{\"EncryptList\":"
             "[\"Response.L[0].N\",\"L.1.0\"],\"Iv\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}}}",
             b64, b64);
    char *out = NULL;
    TCFT_CHECK(tcf_decrypt_response(&out, NULL, doc, strlen(doc), k, NULL) == 0);
    TCFT_CHECK(strstr(out, "[{\"N\":\"secret\"},[\"secret\"]]") != NULL);
    tcf_string_free(out);
    tcf_encryption_keys_free(k);
}

#ifdef TCF_ALLOC_FAILURE_INJECTION
TCFT_TEST(encryption_allocation_failures)
{
    for (int gcm = 0; gcm < 2; gcm++) {
        tcf_encryption_options o =
            emu_options(gcm ? TCF_ENCRYPTION_SM4_GCM : TCF_ENCRYPTION_AES_256_CBC);
        const char *p = "{\"IdCard\":\"110101199001011237\",\"Name\":\"\xe5\xbc\xa0\"}";
        int succeeded = 0, ok = 1;
        for (long n = 1; n < 200 && !succeeded; n++) {
            char *out = NULL, *back = NULL;
            tcf_encryption_keys *k = NULL;
            tcf_error err;
            tcf_error_clear(&err);
            tcfp_fail_allocations_after(n);
            int rc =
                tcf_encrypt_request(&out, NULL, "IdCardVerification", p, strlen(p), &o, &k, &err);
            int rc2 = rc == 0 ? tcf_decrypt_response(&back, NULL, out, strlen(out), k, &err) : rc;
            tcfp_fail_allocations_after(0);
            if (rc2 == 0)
                succeeded = back != NULL && strstr(back, "110101199001011237") != NULL;
            else if (rc2 != TCF_ENOMEM || err.code != TCF_ENOMEM)
                ok = 0;
            if (rc != 0 && (out != NULL || k != NULL))
                ok = 0;
            tcf_string_free(back);
            tcf_string_free(out);
            tcf_encryption_keys_free(k);
        }
        TCFT_CHECK(ok);
        TCFT_CHECK(succeeded);
    }
}
#endif
