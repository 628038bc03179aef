/* E-ID identity decryption (tcf_eid_decrypt) against data made by the emulator's SM2/SM4 code
 * (tests/c/eid_fixtures.h, generator inside). */
#include "eid_fixtures.h"
#include "internal.h"
#include "tcft.h"

#include <stdlib.h>

/* 1 when decrypting gives exactly `expected` (and its length). */
static int decrypts_to(const char *des, const char *ui, const char *pem, const char *expected)
{
    char *json = NULL;
    size_t len = 12345;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_decrypt(&json, &len, des, ui, pem, &err);
    int ok = rc == 0 && err.code == 0 && json != NULL && strcmp(json, expected) == 0 &&
             len == strlen(expected);
    tcf_eid_json_free(json);
    return ok;
}

/* 1 when decrypting fails with `code`, leaves the output NULL and says something. */
static int fails_with(int code, const char *des, const char *ui, const char *pem)
{
    char *json = (char *)"sentinel";
    size_t len = 12345;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_decrypt(&json, &len, des, ui, pem, &err);
    int ok = rc == code && err.code == code && json == NULL && len == 0 && err.message[0] != '\0';
    /* identity data never appears in a message */
    ok = ok && strstr(err.message, "idnum") == NULL && strstr(err.message, "1101") == NULL;
    if (json != NULL && rc == 0)
        tcf_eid_json_free(json);
    return ok;
}

TCFT_TEST(eid_zero_padding)
{
    TCFT_CHECK(decrypts_to(EID_ZERO_DESKEY, EID_ZERO_USERINFO, EID_KEY_PEM, EID_ZERO_JSON));
}

TCFT_TEST(eid_pkcs7_padding)
{
    TCFT_CHECK(decrypts_to(EID_PKCS7_DESKEY, EID_PKCS7_USERINFO, EID_KEY_PEM, EID_PKCS7_JSON));
}

TCFT_TEST(eid_space_padding_and_middle_dot_name)
{
    TCFT_CHECK(decrypts_to(EID_SPACE_DESKEY, EID_SPACE_USERINFO, EID_KEY_PEM, EID_SPACE_JSON));
    TCFT_CHECK(strstr(EID_SPACE_JSON, "\xc2\xb7") != NULL); /* U+00B7 in the name */
}

TCFT_TEST(eid_json_of_whole_blocks)
{
    /* 64 bytes of JSON: PKCS#7 adds a block of 0x10 bytes, zero padding adds nothing */
    TCFT_CHECK(strlen(EID_PKCS7_FULL_JSON) == 64);
    TCFT_CHECK(decrypts_to(EID_PKCS7_FULL_DESKEY, EID_PKCS7_FULL_USERINFO, EID_KEY_PEM,
                           EID_PKCS7_FULL_JSON));
    TCFT_CHECK(
        decrypts_to(EID_ZERO_FULL_DESKEY, EID_ZERO_FULL_USERINFO, EID_KEY_PEM, EID_ZERO_FULL_JSON));
}

TCFT_TEST(eid_der_deskey)
{
    TCFT_CHECK(decrypts_to(EID_DER_DESKEY, EID_DER_USERINFO, EID_KEY_PEM, EID_DER_JSON));
}

TCFT_TEST(eid_gmssl_sec1_key_with_parameters)
{
    TCFT_CHECK(decrypts_to(EID_ZERO_DESKEY, EID_ZERO_USERINFO, EID_KEY_SEC1_PEM, EID_ZERO_JSON));
    TCFT_CHECK(decrypts_to(EID_DER_DESKEY, EID_DER_USERINFO, EID_KEY_SEC1_PEM, EID_DER_JSON));
}

TCFT_TEST(eid_json_len_is_optional)
{
    char *json = NULL;
    TCFT_CHECK(
        tcf_eid_decrypt(&json, NULL, EID_PKCS7_DESKEY, EID_PKCS7_USERINFO, EID_KEY_PEM, NULL) == 0);
    int same = json != NULL && strcmp(json, EID_PKCS7_JSON) == 0;
    tcf_eid_json_free(json);
    tcf_eid_json_free(NULL);
    TCFT_CHECK(same);
}

TCFT_TEST(eid_empty_fields_mean_not_enabled)
{
    TCFT_CHECK(fails_with(TCF_ESTATE, "", "", EID_KEY_PEM));
    TCFT_CHECK(fails_with(TCF_ESTATE, EID_ZERO_DESKEY, "", EID_KEY_PEM));
    TCFT_CHECK(fails_with(TCF_ESTATE, "", EID_ZERO_USERINFO, EID_KEY_PEM));
    tcf_error err;
    tcf_error_clear(&err);
    char *json = NULL;
    TCFT_CHECK(tcf_eid_decrypt(&json, NULL, "", "", EID_KEY_PEM, &err) == TCF_ESTATE);
    TCFT_CHECK(strstr(err.message, "not enabled") != NULL &&
               strstr(err.message, "did not complete") != NULL);
}

TCFT_TEST(eid_tampered_deskey)
{
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_TAMPERED_C3_DESKEY, EID_ZERO_USERINFO, EID_KEY_PEM));
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_TAMPERED_C2_DESKEY, EID_ZERO_USERINFO, EID_KEY_PEM));
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_TAMPERED_C1_DESKEY, EID_ZERO_USERINFO, EID_KEY_PEM));
}

TCFT_TEST(eid_wrong_sm2_key)
{
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_ZERO_DESKEY, EID_ZERO_USERINFO, EID_WRONG_SM2_KEY_PEM));
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_DER_DESKEY, EID_DER_USERINFO, EID_WRONG_SM2_KEY_PEM));
}

TCFT_TEST(eid_not_an_sm2_private_key)
{
    TCFT_CHECK(fails_with(TCF_EINVAL, EID_ZERO_DESKEY, EID_ZERO_USERINFO, EID_P256_KEY_PEM));
    TCFT_CHECK(fails_with(TCF_EINVAL, EID_ZERO_DESKEY, EID_ZERO_USERINFO, EID_PUBLIC_KEY_PEM));
    TCFT_CHECK(fails_with(TCF_EINVAL, EID_ZERO_DESKEY, EID_ZERO_USERINFO, "not a key"));
    TCFT_CHECK(fails_with(TCF_EINVAL, EID_ZERO_DESKEY, EID_ZERO_USERINFO, ""));
    TCFT_CHECK(fails_with(TCF_EINVAL, EID_ZERO_DESKEY, EID_ZERO_USERINFO,
                          "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
}

TCFT_TEST(eid_bad_base64)
{
    char des[sizeof EID_ZERO_DESKEY], ui[sizeof EID_ZERO_USERINFO];
    memcpy(des, EID_ZERO_DESKEY, sizeof des);
    memcpy(ui, EID_ZERO_USERINFO, sizeof ui);
    des[5] = '*';
    TCFT_CHECK(fails_with(TCF_ECRYPTO, des, EID_ZERO_USERINFO, EID_KEY_PEM));
    ui[sizeof ui - 2] = 'A'; /* '=' padding replaced: the length is no longer right */
    ui[sizeof ui - 3] = '\0';
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_ZERO_DESKEY, ui, EID_KEY_PEM));
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_ZERO_DESKEY, "a b=", EID_KEY_PEM));
}

TCFT_TEST(eid_malformed_ciphertexts)
{
    /* neither 04 || ... nor a DER SEQUENCE */
    TCFT_CHECK(fails_with(TCF_ECRYPTO, "AAAA", EID_ZERO_USERINFO, EID_KEY_PEM));
    /* a raw ciphertext cut short: C1 and C3 only */
    char des[sizeof EID_ZERO_DESKEY];
    memcpy(des, EID_ZERO_DESKEY, sizeof des);
    des[128] = '\0'; /* 96 bytes */
    TCFT_CHECK(fails_with(TCF_ECRYPTO, des, EID_ZERO_USERINFO, EID_KEY_PEM));
    /* a DER ciphertext cut short */
    char der[sizeof EID_DER_DESKEY];
    memcpy(der, EID_DER_DESKEY, sizeof der);
    der[100] = '\0';
    TCFT_CHECK(fails_with(TCF_ECRYPTO, der, EID_DER_USERINFO, EID_KEY_PEM));
    /* SM2 plaintext of 15 bytes: not an SM4 key */
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_SHORT_KEY_DESKEY, EID_ZERO_USERINFO, EID_KEY_PEM));
    /* UserInfo of 3 bytes: not whole SM4 blocks */
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_ZERO_DESKEY, "AAAA", EID_KEY_PEM));
}

TCFT_TEST(eid_userinfo_not_a_json_object)
{
    /* encrypted under another session key: garbage */
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_ZERO_DESKEY, EID_OTHER_KEY_USERINFO, EID_KEY_PEM));
    /* the right key, but a JSON array */
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_ZERO_DESKEY, EID_ARRAY_USERINFO, EID_KEY_PEM));
    /* DesKey and UserInfo of two different results */
    TCFT_CHECK(fails_with(TCF_ECRYPTO, EID_PKCS7_DESKEY, EID_ZERO_USERINFO, EID_KEY_PEM));
}

TCFT_TEST(eid_null_arguments)
{
    size_t len = 0;
    char *json = NULL;
    TCFT_CHECK(tcf_eid_decrypt(NULL, &len, EID_ZERO_DESKEY, EID_ZERO_USERINFO, EID_KEY_PEM, NULL) ==
               TCF_EINVAL);
    TCFT_CHECK(fails_with(TCF_EINVAL, NULL, EID_ZERO_USERINFO, EID_KEY_PEM));
    TCFT_CHECK(fails_with(TCF_EINVAL, EID_ZERO_DESKEY, NULL, EID_KEY_PEM));
    TCFT_CHECK(fails_with(TCF_EINVAL, EID_ZERO_DESKEY, EID_ZERO_USERINFO, NULL));
    TCFT_CHECK(tcf_eid_decrypt(&json, NULL, NULL, NULL, NULL, NULL) == TCF_EINVAL && !json);
}

TCFT_TEST(eid_first_error_wins)
{
    tcf_error err;
    tcf_error_clear(&err);
    tcfp_fail(&err, TCF_EJSON, "earlier");
    char *json = NULL;
    TCFT_CHECK(tcf_eid_decrypt(&json, NULL, EID_TAMPERED_C3_DESKEY, EID_ZERO_USERINFO, EID_KEY_PEM,
                               &err) == TCF_ECRYPTO);
    TCFT_CHECK(err.code == TCF_EJSON && strcmp(err.message, "earlier") == 0 && json == NULL);
}

#ifdef TCF_ALLOC_FAILURE_INJECTION
TCFT_TEST(eid_allocation_failures)
{
    const char *cases[][4] = {
        {EID_ZERO_DESKEY, EID_ZERO_USERINFO, EID_KEY_PEM, EID_ZERO_JSON},
        {EID_DER_DESKEY, EID_DER_USERINFO, EID_KEY_PEM, EID_DER_JSON},
        {EID_PKCS7_DESKEY, EID_PKCS7_USERINFO, EID_KEY_SEC1_PEM, EID_PKCS7_JSON},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int succeeded = 0, ok = 1;
        for (long n = 1; n < 40 && !succeeded; n++) {
            char *json = NULL;
            size_t len = 99;
            tcf_error err;
            tcf_error_clear(&err);
            tcfp_fail_allocations_after(n);
            int rc = tcf_eid_decrypt(&json, &len, cases[c][0], cases[c][1], cases[c][2], &err);
            tcfp_fail_allocations_after(0);
            if (rc == 0)
                succeeded =
                    json != NULL && strcmp(json, cases[c][3]) == 0 && len == strlen(cases[c][3]);
            else if (rc != TCF_ENOMEM || err.code != TCF_ENOMEM || json != NULL || len != 0)
                ok = 0;
            tcf_eid_json_free(json);
            if (rc == 0 && !succeeded)
                break;
        }
        TCFT_CHECK(ok);
        TCFT_CHECK(succeeded);
    }
}
#endif
