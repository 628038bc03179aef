/* tcf-encrypt: field encryption from the command line (tcf_encrypt_request /
 * tcf_decrypt_response), for trying the Encryption object against the emulator or the service
 * and for the emulator's tests. See docs/c-api.md, section "Field encryption". */
#include "tcfaceid.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FIELDS 8

static void usage(FILE *f)
{
    fputs(
        "usage: tcf-encrypt request ACTION [options] < params.json > request.json\n"
        "       tcf-encrypt response --key HEX [--algorithm ALG] < response.json\n"
        "\n"
        "request: encrypts the action's encryptable fields present in the JSON object on\n"
        "stdin and prints the parameters to send (with their Encryption object).\n"
        "response: decrypts a Response object (or {\"Response\": ...}) encrypted with the key\n"
        "of a request and prints it.\n"
        "\n"
        "Options:\n"
        "  --algorithm ALG         AES-256-CBC (default) or SM4-GCM\n"
        "  --rsa-public-key FILE   PEM of the RSA key wrapping AES keys (default: the service's)\n"
        "  --sm2-public-key FILE   PEM of the SM2 key wrapping SM4 keys (default: the service's)\n"
        "  --field NAME            encrypt only this field (repeatable)\n"
        "  --whole-body            whole-body encryption (IsEncryptResponse / EncryptedBody)\n"
        "  --key HEX               the symmetric key (default for request: random)\n"
        "  --iv HEX                the IV (default: random)\n"
        "  --key-out FILE          request: write the key, hex, to FILE (mode 0600)\n"
        "\n"
        "Exit status: 0 success, 1 encryption or decryption failed, 2 usage or unreadable "
        "input.\n",
        f);
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf != NULL) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t len = 0;
    char *text = f ? read_all(f, &len) : NULL;
    if (f != NULL)
        fclose(f);
    return text;
}

/* Hex to bytes; returns the length, or 0 for bad hex or more than cap bytes. */
static size_t unhex(unsigned char *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex);
    if (n == 0 || n % 2 != 0 || n / 2 > cap)
        return 0;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                return 0;
            v = v * 16 + (unsigned)d;
        }
        out[i] = (unsigned char)v;
    }
    return n / 2;
}

static int fail(const tcf_error *err)
{
    fprintf(stderr, "tcf-encrypt: %s: %s\n", tcf_strerror(err->code), err->message);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || (strcmp(argv[1], "request") != 0 && strcmp(argv[1], "response") != 0)) {
        usage(stderr);
        return 2;
    }
    int is_request = strcmp(argv[1], "request") == 0;
    int i = 2;
    const char *action = NULL;
    if (is_request) {
        if (argc < 3) {
            usage(stderr);
            return 2;
        }
        action = argv[i++];
    }
    tcf_encryption_options o = TCF_ENCRYPTION_OPTIONS_INIT;
    const char *fields[MAX_FIELDS];
    unsigned char key[32], iv[16];
    char *rsa_pem = NULL, *sm2_pem = NULL;
    const char *key_out = NULL;
    int bad = 0;
    for (; i < argc && !bad; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--whole-body") == 0) {
            o.whole_body = 1;
            continue;
        }
        if (v == NULL) {
            bad = 1;
            break;
        }
        i++;
        if (strcmp(a, "--algorithm") == 0) {
            if (strcmp(v, "AES-256-CBC") == 0)
                o.algorithm = TCF_ENCRYPTION_AES_256_CBC;
            else if (strcmp(v, "SM4-GCM") == 0)
                o.algorithm = TCF_ENCRYPTION_SM4_GCM;
            else
                bad = 1;
        } else if (strcmp(a, "--rsa-public-key") == 0) {
            bad = (rsa_pem = read_file(v)) == NULL;
            o.rsa_public_key_pem = rsa_pem;
        } else if (strcmp(a, "--sm2-public-key") == 0) {
            bad = (sm2_pem = read_file(v)) == NULL;
            o.sm2_public_key_pem = sm2_pem;
        } else if (strcmp(a, "--field") == 0 && o.field_count < MAX_FIELDS) {
            fields[o.field_count++] = v;
            o.fields = fields;
        } else if (strcmp(a, "--key") == 0) {
            o.key = key;
            bad = (o.key_len = unhex(key, sizeof key, v)) == 0;
        } else if (strcmp(a, "--iv") == 0) {
            o.iv = iv;
            bad = (o.iv_len = unhex(iv, sizeof iv, v)) == 0;
        } else if (strcmp(a, "--key-out") == 0 && is_request) {
            key_out = v;
        } else {
            bad = 1;
        }
    }
    if (bad || (!is_request && o.key == NULL)) {
        fprintf(stderr, "tcf-encrypt: bad or missing option (or unreadable key file)\n");
        usage(stderr);
        free(rsa_pem);
        free(sm2_pem);
        return 2;
    }
    size_t len = 0;
    char *in = read_all(stdin, &len);
    if (in == NULL) {
        fprintf(stderr, "tcf-encrypt: cannot read stdin\n");
        return 2;
    }
    tcf_error err;
    tcf_error_clear(&err);
    tcf_encryption_keys *keys = NULL;
    char *out = NULL;
    int rc;
    if (is_request) {
        rc = tcf_encrypt_request(&out, NULL, action, in, len, &o, &keys, &err);
        if (rc == 0 && key_out != NULL) {
            size_t key_len = 0;
            const unsigned char *k = tcf_encryption_keys_key(keys, &key_len);
            int fd = open(key_out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
            if (f == NULL && fd >= 0)
                close(fd);
            if (f == NULL) {
                rc = 2;
                fprintf(stderr, "tcf-encrypt: cannot write %s\n", key_out);
            } else {
                for (size_t b = 0; b < key_len; b++)
                    fprintf(f, "%02x", k[b]);
                fputc('\n', f);
                fclose(f);
            }
        }
    } else {
        rc = tcf_encryption_keys_new(&keys, &o, &err);
        if (rc == 0)
            rc = tcf_decrypt_response(&out, NULL, in, len, keys, &err);
    }
    int status = 0;
    if (rc == 2)
        status = 2;
    else if (rc != 0)
        status = fail(&err);
    else
        printf("%s\n", out);
    tcf_string_free(out);
    tcf_encryption_keys_free(keys);
    free(in);
    free(rsa_pem);
    free(sm2_pem);
    return status;
}
