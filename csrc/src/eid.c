/* E-ID identity decryption: EidInfo.DesKey (SM2) and EidInfo.UserInfo (SM4-ECB).
 *
 * DesKey  = base64(SM2-encrypt(merchant public key, 16-byte SM4 session key)), the ciphertext
 *           either raw C1 || C3 || C2 (C1 = 04 || x || y) or the DER SEQUENCE OpenSSL uses;
 * UserInfo = base64(SM4-ECB(session key, JSON padded to a multiple of 16 bytes)), the padding
 *           being zero bytes, PKCS#7 or spaces depending on who produced it.
 *
 * OpenSSL 3.0 decrypts SM2 with EVP_PKEY_decrypt on a key of type "SM2" (its decoders give that
 * type to every EC key on the sm2p256v1 curve) and only reads the DER form, so a raw ciphertext
 * is converted first. SM2 checks C3 = SM3(x2 || M || y2), which catches a wrong key or a
 * modified DesKey. The session key and every plaintext buffer are wiped before release. */
#include "crypto.h"
#include "internal.h"

#include <jansson.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#define EID_SESSION_KEY_LEN 16
#define EID_INPUT_MAX ((size_t)1 << 20) /* base64 characters; identity JSON is tiny */

/* PEM pass phrase callback: never prompt on the terminal; an encrypted key is refused. */
static int eid_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static int eid_load_key(EVP_PKEY **out, const char *pem, tcf_error *err)
{
    *out = NULL;
    size_t n = strlen(pem);
    if (n == 0 || n > (size_t)INT_MAX)
        return tcfp_fail(err, TCF_EINVAL, "sm2_private_key_pem is empty or too long");
    BIO *bio = BIO_new_mem_buf(pem, (int)n);
    if (bio == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory reading sm2_private_key_pem");
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, eid_no_passphrase, NULL);
    BIO_free(bio);
    if (pkey == NULL) {
        ERR_clear_error();
        return tcfp_fail(err, TCF_EINVAL,
                         "sm2_private_key_pem is not an unencrypted PEM private key");
    }
    int is_sm2 = EVP_PKEY_is_a(pkey, "SM2");
    if (!is_sm2 && EVP_PKEY_is_a(pkey, "EC")) {
        /* Not expected with OpenSSL 3 decoders, but an EC key on the SM2 curve is fine. */
        char group[64];
        size_t glen = 0;
        if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &glen) == 1 &&
            (strcmp(group, "SM2") == 0 || strcmp(group, "sm2p256v1") == 0))
            is_sm2 = 1;
    }
    if (!is_sm2) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        return tcfp_fail(err, TCF_EINVAL,
                         "sm2_private_key_pem is not an SM2 (sm2p256v1) private key");
    }
    *out = pkey;
    return 0;
}

/* Base64 (strict) into a new buffer. Returns 0, TCF_ENOMEM or TCF_ECRYPTO. */
static int eid_unbase64(unsigned char **out, size_t *out_len, const char *in, const char *field,
                        tcf_error *err)
{
    *out = NULL;
    size_t n = strlen(in);
    if (n > EID_INPUT_MAX)
        return tcfp_fail(err, TCF_ECRYPTO, "%s is too long (over %zu characters)", field,
                         (size_t)EID_INPUT_MAX);
    unsigned char *buf = tcfp_malloc(n / 4 * 3 + 1);
    if (buf == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory decoding %s", field);
    if (tcfp_base64_decode(buf, out_len, in, n) != 0) {
        tcfp_free(buf);
        return tcfp_fail(err, TCF_ECRYPTO, "%s is not valid base64", field);
    }
    *out = buf;
    return 0;
}

/* SM2-decrypt the DesKey bytes into the 16-byte session key. */
static int eid_sm2_decrypt(unsigned char key[EID_SESSION_KEY_LEN], EVP_PKEY *pkey,
                           const unsigned char *ct, size_t ct_len, tcf_error *err)
{
    unsigned char *der = NULL;
    const unsigned char *in = ct;
    size_t in_len = ct_len;
    int rc;
    if (ct_len > TCFP_SM2_C1_LEN + TCFP_SM2_C3_LEN && ct[0] == 0x04) {
        if (tcfp_sm2_raw_to_der(&der, &in_len, ct, ct_len) != 0)
            return tcfp_fail(err, TCF_ENOMEM, "out of memory converting DesKey");
        in = der;
    } else if (ct_len == 0 || ct[0] != 0x30) {
        return tcfp_fail(err, TCF_ECRYPTO,
                         "DesKey is not an SM2 ciphertext (neither C1C3C2 nor DER)");
    }
    unsigned char *plain = NULL;
    size_t plain_len = 0;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL) {
        rc = tcfp_fail(err, TCF_ECRYPTO, "OpenSSL cannot use the SM2 key");
        goto out;
    }
    if (EVP_PKEY_decrypt_init(ctx) != 1 ||
        EVP_PKEY_decrypt(ctx, NULL, &plain_len, in, in_len) != 1) {
        rc = tcfp_fail(err, TCF_ECRYPTO,
                       "DesKey could not be decrypted: not an SM2 ciphertext for this key");
        goto out;
    }
    plain = tcfp_malloc(plain_len + 1);
    if (plain == NULL) {
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory decrypting DesKey");
        goto out;
    }
    size_t cap = plain_len;
    if (EVP_PKEY_decrypt(ctx, plain, &plain_len, in, in_len) != 1) {
        plain_len = cap;
        rc = tcfp_fail(err, TCF_ECRYPTO,
                       "DesKey could not be decrypted: wrong private key, or DesKey was modified "
                       "(SM2 integrity check failed)");
        goto out;
    }
    if (plain_len != EID_SESSION_KEY_LEN) {
        rc = tcfp_fail(err, TCF_ECRYPTO,
                       "DesKey decrypted to %zu bytes, not a 16-byte SM4 session key", plain_len);
        plain_len = cap;
        goto out;
    }
    memcpy(key, plain, EID_SESSION_KEY_LEN);
    plain_len = cap;
    rc = 0;
out:
    if (plain != NULL) {
        tcfp_wipe(plain, plain_len);
        tcfp_free(plain);
    }
    EVP_PKEY_CTX_free(ctx);
    tcfp_free(der);
    if (rc != 0)
        ERR_clear_error();
    return rc;
}

/* SM4-ECB without padding, in place is not allowed by EVP: out has room for n bytes. */
static int eid_sm4_ecb_decrypt(unsigned char *out, const unsigned char key[EID_SESSION_KEY_LEN],
                               const unsigned char *in, size_t n, tcf_error *err)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory decrypting UserInfo");
    int outl = 0, finl = 0, rc = 0;
    if (EVP_DecryptInit_ex(ctx, EVP_sm4_ecb(), NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
        EVP_DecryptUpdate(ctx, out, &outl, in, (int)n) != 1 ||
        EVP_DecryptFinal_ex(ctx, out + outl, &finl) != 1 || (size_t)outl + (size_t)finl != n) {
        ERR_clear_error();
        rc = tcfp_fail(err, TCF_ECRYPTO, "UserInfo could not be decrypted with SM4-ECB");
    }
    EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
    return rc;
}

static int eid_is_json_object(const unsigned char *p, size_t n)
{
    json_error_t e;
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &e);
    int ok = j != NULL && json_is_object(j);
    json_decref(j);
    tcfp_wipe(&e, sizeof e); /* its text may quote the identity data */
    return ok;
}

/* The length of the JSON text without its padding, or SIZE_MAX when it is not a JSON object. */
static size_t eid_unpad(const unsigned char *p, size_t n)
{
    unsigned last = n ? p[n - 1] : 0;
    if (last >= 1 && last <= 16 && last <= n) {
        size_t i = 0;
        while (i < last && p[n - 1 - i] == last)
            i++;
        if (i == last && eid_is_json_object(p, n - last))
            return n - last;
    }
    size_t m = n;
    while (m > 0 && p[m - 1] == 0)
        m--;
    while (m > 0 && p[m - 1] == ' ')
        m--;
    return eid_is_json_object(p, m) ? m : SIZE_MAX;
}

int tcf_eid_decrypt(char **json_out, size_t *json_len, const char *des_key_b64,
                    const char *user_info_b64, const char *sm2_private_key_pem, tcf_error *err)
{
    if (json_out != NULL)
        *json_out = NULL;
    if (json_len != NULL)
        *json_len = 0;
    if (json_out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "json_out is NULL");
    if (des_key_b64 == NULL || user_info_b64 == NULL)
        return tcfp_fail(err, TCF_EINVAL, "%s is NULL",
                         des_key_b64 == NULL ? "des_key_b64" : "user_info_b64");
    if (sm2_private_key_pem == NULL)
        return tcfp_fail(err, TCF_EINVAL, "sm2_private_key_pem is NULL");
    if (des_key_b64[0] == '\0' || user_info_b64[0] == '\0')
        return tcfp_fail(err, TCF_ESTATE,
                         "EidInfo.%s is empty: identity return is not enabled for this merchant "
                         "(apply in the console with a CSR), or the E-ID flow did not complete",
                         des_key_b64[0] == '\0' ? "DesKey" : "UserInfo");

    EVP_PKEY *pkey = NULL;
    unsigned char *des = NULL, *ui = NULL, *plain = NULL;
    size_t des_len = 0, ui_len = 0;
    unsigned char key[EID_SESSION_KEY_LEN];
    int rc = eid_load_key(&pkey, sm2_private_key_pem, err);
    if (rc == 0)
        rc = eid_unbase64(&des, &des_len, des_key_b64, "DesKey", err);
    if (rc == 0)
        rc = eid_unbase64(&ui, &ui_len, user_info_b64, "UserInfo", err);
    if (rc == 0 && (ui_len == 0 || ui_len % 16 != 0))
        rc = tcfp_fail(err, TCF_ECRYPTO, "UserInfo is %zu bytes, not a multiple of 16 (SM4-ECB)",
                       ui_len);
    if (rc == 0)
        rc = eid_sm2_decrypt(key, pkey, des, des_len, err);
    if (rc == 0 && (plain = tcfp_malloc(ui_len + 1)) == NULL)
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory decrypting UserInfo");
    if (rc == 0)
        rc = eid_sm4_ecb_decrypt(plain, key, ui, ui_len, err);
    if (rc == 0) {
        size_t len = eid_unpad(plain, ui_len);
        if (len == SIZE_MAX) {
            rc = tcfp_fail(err, TCF_ECRYPTO,
                           "UserInfo did not decrypt to a JSON object (DesKey and UserInfo do not "
                           "belong together, or UserInfo was modified)");
        } else {
            char *text = tcfp_malloc(len + 1);
            if (text == NULL) {
                rc = tcfp_fail(err, TCF_ENOMEM, "out of memory decrypting UserInfo");
            } else {
                memcpy(text, plain, len);
                text[len] = '\0';
                *json_out = text;
                if (json_len != NULL)
                    *json_len = len;
            }
        }
    }
    tcfp_wipe(key, sizeof key);
    if (plain != NULL) {
        tcfp_wipe(plain, ui_len + 1);
        tcfp_free(plain);
    }
    tcfp_free(ui);
    tcfp_free(des);
    EVP_PKEY_free(pkey);
    return rc;
}

void tcf_eid_json_free(char *json)
{
    tcfp_free_secret(json);
}
