/* Element checks and PaaS helpers: bodies (validation, media encoding), carrier routing, prices,
 * GetLiveCode / GetActionSequence answers, business results received as API errors, and the
 * helpers against the emulator (TCF_TEST_ENDPOINT, started by tests/c/test_c_core.py). */
#include "crypto.h"
#include "emulator.h"
#include "internal.h"
#include "tcft.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZHANG_ID "110101199003071233"
#define ZHANG_NAME "\xe5\xbc\xa0\xe4\xb8\x89" /* 张三 */
#define LI_ID "440304198512010027"
#define LI_NAME "\xe6\x9d\x8e\xe5\x9b\x9b" /* 李四 */

static char last_message[TCF_ERROR_MESSAGE_MAX];

/* The body, or NULL (the error's message kept in last_message). */
static char *body(const char *action, const tcf_check_params *p)
{
    char *out = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    last_message[0] = '\0';
    if (tcf_check_body(&out, NULL, action, p, 0, &err) != 0) {
        snprintf(last_message, sizeof last_message, "%s", err.message);
        return NULL;
    }
    return out;
}

static int body_is(const char *action, const tcf_check_params *p, const char *expected)
{
    char *b = body(action, p);
    int ok = b != NULL && strcmp(b, expected) == 0;
    if (!ok)
        fprintf(stdout, "    %s: got %s (%s)\n", action, b ? b : "NULL", last_message);
    tcf_string_free(b);
    return ok;
}

static int refused(const char *action, const tcf_check_params *p, const char *part)
{
    char *b = body(action, p);
    int ok = b == NULL && strstr(last_message, part) != NULL;
    if (!ok)
        fprintf(stdout, "    %s: expected \"%s\", got %s / %s\n", action, part, b ? b : "a body",
                last_message);
    tcf_string_free(b);
    return ok;
}

TCFT_TEST(check_body_element_actions)
{
    tcf_check_params p = TCF_CHECK_PARAMS_INIT;
    p.id_card = "11010119900307123x"; /* the check character of this number is 3 */
    p.name = ZHANG_NAME;
    TCFT_CHECK(refused("IdCardVerification", &p, "id_card"));
    p.id_card = ZHANG_ID;
    p.name = " " ZHANG_NAME " ";
    TCFT_CHECK(body_is("IdCardVerification", &p,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME "\"}"));
    /* a trailing x is sent as X */
    tcf_check_params q = TCF_CHECK_PARAMS_INIT;
    q.id_card = "81000019920101003x";
    q.name = "\xe9\x99\x88\xe5\xa4\xa7\xe6\x96\x87";
    TCFT_CHECK(body_is("IdCardVerification", &q,
                       "{\"IdCard\":\"81000019920101003X\",\"Name\":\"\xe9\x99\x88\xe5\xa4\xa7\xe6"
                       "\x96\x87\"}"));
    q.id_card = "110101900307123"; /* 15-digit legacy number */
    TCFT_CHECK(refused("IdCardVerification", &q, "15-digit"));
    q.id_card = ZHANG_ID;
    q.name = "Zhang3";
    TCFT_CHECK(refused("IdCardVerification", &q, "name"));
    /* fields the action does not take, and missing ones */
    p.phone = "13800138000";
    TCFT_CHECK(refused("IdCardVerification", &p, "phone is not a parameter of IdCardVerification"));
    p.phone = NULL;
    p.name = NULL;
    TCFT_CHECK(refused("IdCardVerification", &p, "name is required by IdCardVerification"));
    p.name = ZHANG_NAME;

    p.phone = "13800138000";
    TCFT_CHECK(body_is("PhoneVerification", &p,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"Phone\":\"13800138000\"}"));
    p.verify_mode = 1;
    TCFT_CHECK(body_is("PhoneVerification", &p,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"Phone\":\"13800138000\",\"VerifyMode\":\"1\"}"));
    p.verify_mode = 2;
    TCFT_CHECK(refused("PhoneVerification", &p, "verify_mode"));
    p.verify_mode = 1;
    TCFT_CHECK(refused("PhoneVerificationCMCC", &p, "verify_mode is not a parameter"));
    p.verify_mode = -1;
    p.phone_route = TCF_PHONE_ROUTE_AUTO; /* the route is tcf_check's; the body is the same */
    TCFT_CHECK(body_is("PhoneVerification", &p,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"Phone\":\"13800138000\"}"));
    TCFT_CHECK(refused("PhoneVerificationCMCC", &p, "PhoneVerification only"));
    p.phone_route = 7;
    TCFT_CHECK(refused("PhoneVerification", &p, "PhoneVerification only"));
    p.phone_route = TCF_PHONE_ROUTE_GENERIC;
    TCFT_CHECK(body_is("PhoneVerificationCMCC", &p,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"Phone\":\"13800138000\"}"));
    TCFT_CHECK(
        refused("PhoneVerificationCTCC", &p, "checks only CTCC numbers; this number is a CMCC"));
    p.phone = "19212345678"; /* China Broadnet: in no documented range */
    TCFT_CHECK(refused("PhoneVerificationCUCC", &p, "in no known range"));
    p.phone = "1380013800";
    TCFT_CHECK(refused("PhoneVerification", &p, "phone"));

    tcf_check_params m = TCF_CHECK_PARAMS_INIT;
    m.phone = "13800138000";
    TCFT_CHECK(body_is("MobileStatus", &m, "{\"Mobile\":\"13800138000\"}"));
    TCFT_CHECK(body_is("MobileNetworkTimeVerification", &m, "{\"Mobile\":\"13800138000\"}"));
    m.name = LI_NAME;
    TCFT_CHECK(
        body_is("CheckPhoneAndName", &m, "{\"Name\":\"" LI_NAME "\",\"Mobile\":\"13800138000\"}"));
    TCFT_CHECK(refused("MobileStatus", &m, "name is not a parameter of MobileStatus"));

    tcf_check_params b = TCF_CHECK_PARAMS_INIT;
    b.bank_card = "6212261000000000017";
    TCFT_CHECK(body_is("CheckBankCardInformation", &b, "{\"BankCard\":\"6212261000000000017\"}"));
    b.bank_card = "6212261000000000018";
    TCFT_CHECK(refused("CheckBankCardInformation", &b, "Luhn"));
    b.bank_card = "6212261000000000017";
    b.name = ZHANG_NAME;
    TCFT_CHECK(body_is("BankCard2EVerification", &b,
                       "{\"Name\":\"" ZHANG_NAME "\",\"BankCard\":\"6212261000000000017\"}"));
    TCFT_CHECK(refused("BankCardVerification", &b, "id_card is required"));
    b.id_card = ZHANG_ID;
    TCFT_CHECK(body_is("BankCardVerification", &b,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"BankCard\":\"6212261000000000017\"}"));
    b.phone = "13800138000";
    TCFT_CHECK(body_is("BankCard4EVerification", &b,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"Phone\":\"13800138000\",\"BankCard\":\"6212261000000000017\"}"));

    tcf_check_params d = TCF_CHECK_PARAMS_INIT;
    d.id_card = ZHANG_ID;
    d.name = ZHANG_NAME;
    TCFT_CHECK(refused("CheckIdNameDate", &d, "validity_begin/validity_end is required"));
    d.validity_begin = "20150101";
    d.validity_end = "00000000";
    TCFT_CHECK(body_is("CheckIdNameDate", &d,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"ValidityBegin\":\"20150101\",\"ValidityEnd\":\"00000000\"}"));
    d.validity_end = "20141231";
    TCFT_CHECK(refused("CheckIdNameDate", &d, "after validity_begin"));
    d.validity_end = "20250230";
    TCFT_CHECK(refused("CheckIdNameDate", &d, "validity_end must be a real date"));
    d.validity_begin = "00000000";
    d.validity_end = "20350101";
    TCFT_CHECK(refused("CheckIdNameDate", &d, "validity_begin must be a real date"));

    TCFT_CHECK(body_is("GetLiveCode", NULL, "{}"));
    TCFT_CHECK(refused("GetActionSequence", &p, "is not a parameter"));
    TCFT_CHECK(refused("DetectAuth", &p, "has no typed helper"));
    tcf_check_params v = TCF_CHECK_PARAMS_INIT;
    v.version = 99;
    TCFT_CHECK(refused("IdCardVerification", &v, "version"));
}

TCFT_TEST(check_body_ocr_and_liveness_rules)
{
    tcf_check_params o = TCF_CHECK_PARAMS_INIT;
    TCFT_CHECK(refused("IdCardOCRVerification", &o, "give id_card and name, or an image"));
    o.id_card = ZHANG_ID;
    TCFT_CHECK(refused("IdCardOCRVerification", &o, "name is required with id_card"));
    o.name = ZHANG_NAME;
    TCFT_CHECK(body_is("IdCardOCRVerification", &o,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME "\"}"));
    o.image.url = "https://example.com/id.jpg";
    TCFT_CHECK(refused("IdCardOCRVerification", &o, "not both"));
    o.id_card = o.name = NULL;
    TCFT_CHECK(
        body_is("IdCardOCRVerification", &o, "{\"ImageUrl\":\"https://example.com/id.jpg\"}"));
    o.image.url = "ftp://example.com/id.jpg";
    TCFT_CHECK(refused("IdCardOCRVerification", &o, "http:// or https://"));

    tcf_check_params l = TCF_CHECK_PARAMS_INIT;
    l.id_card = ZHANG_ID;
    l.name = ZHANG_NAME;
    l.video.bytes = "abc";
    l.video.bytes_len = 3;
    TCFT_CHECK(refused("LivenessRecognition", &l, "liveness_type/validate_data is required"));
    l.liveness_type = "LIP";
    TCFT_CHECK(refused("LivenessRecognition", &l, "4 digits from GetLiveCode"));
    l.validate_data = "12a4";
    TCFT_CHECK(refused("LivenessRecognition", &l, "4 digits"));
    l.validate_data = "1234";
    l.best_frame_num = 2;
    TCFT_CHECK(body_is("LivenessRecognition", &l,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"LivenessType\":\"LIP\",\"ValidateData\":\"1234\",\"Optional\":\"{"
                       "\\\"BestFrameNum\\\":2}\",\"VideoBase64\":\"YWJj\"}"));
    l.best_frame_num = 11;
    TCFT_CHECK(refused("LivenessRecognition", &l, "best_frame_num"));
    l.best_frame_num = 0;
    l.liveness_type = "ACTION";
    TCFT_CHECK(refused("LivenessRecognition", &l, "GetActionSequence"));
    l.validate_data = "2,1";
    TCFT_CHECK(body_is("LivenessRecognition", &l,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"LivenessType\":\"ACTION\",\"ValidateData\":\"2,1\",\"VideoBase64\":"
                       "\"YWJj\"}"));
    l.validate_data = "2,,1";
    TCFT_CHECK(refused("LivenessRecognition", &l, "GetActionSequence"));
    l.liveness_type = "SILENT";
    TCFT_CHECK(refused("LivenessRecognition", &l, "empty for SILENT"));
    l.validate_data = NULL;
    TCFT_CHECK(body_is("LivenessRecognition", &l,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"LivenessType\":\"SILENT\",\"VideoBase64\":\"YWJj\"}"));
    l.liveness_type = "silent";
    TCFT_CHECK(refused("LivenessRecognition", &l, "LIP, ACTION or SILENT"));
    l.liveness_type = "SILENT";
    l.image.url = "https://example.com/a.jpg";
    TCFT_CHECK(refused("LivenessRecognition", &l, "image is not a parameter"));
    l.image.url = NULL;
    l.video.url = "http://127.0.0.1/v.mp4";
    TCFT_CHECK(refused("LivenessRecognition", &l, "not 2"));
    l.video.bytes = NULL;
    l.video.bytes_len = 0;
    TCFT_CHECK(body_is("LivenessRecognition", &l,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"LivenessType\":\"SILENT\",\"VideoUrl\":\"http://127.0.0.1/v.mp4\"}"));

    tcf_check_params c = TCF_CHECK_PARAMS_INIT;
    c.liveness_type = "SILENT";
    c.video.base64 = "data:video/mp4;base64,YWJj\r\nZGVm\n";
    c.image.base64 = "aGk=";
    TCFT_CHECK(body_is("LivenessCompare", &c,
                       "{\"LivenessType\":\"SILENT\",\"ImageBase64\":\"aGk=\",\"VideoBase64\":"
                       "\"YWJjZGVm\"}"));
    c.image.base64 = "clip.jpg";
    TCFT_CHECK(refused("LivenessCompare", &c, "a file name given instead"));
    c.image.base64 = "aGk";
    TCFT_CHECK(refused("LivenessCompare", &c, "not padded base64"));
    c.image.base64 = "data:image/png,aGk=";
    TCFT_CHECK(refused("LivenessCompare", &c, "data: URI"));
    c.image.base64 = "aGk=";
    c.image.base64_len = 2; /* only "aG" */
    TCFT_CHECK(refused("LivenessCompare", &c, "not padded base64"));

    tcf_check_params r = TCF_CHECK_PARAMS_INIT;
    r.id_card = ZHANG_ID;
    r.name = ZHANG_NAME;
    r.image.url = "https://example.com/a.jpg";
    TCFT_CHECK(refused("ImageRecognitionV2", &r, "not a URL"));
    r.image.url = NULL;
    r.image.bytes = "hi";
    r.image.bytes_len = 2;
    r.extra = "12345678901";
    TCFT_CHECK(refused("ImageRecognitionV2", &r, "extra must be 1-10"));
    r.extra = "\xe5\xbc\xa0x";
    TCFT_CHECK(body_is("ImageRecognitionV2", &r,
                       "{\"IdCard\":\"" ZHANG_ID "\",\"Name\":\"" ZHANG_NAME
                       "\",\"Extra\":\"\xe5\xbc\xa0x\",\"ImageBase64\":\"aGk=\"}"));
}

static char *temp_file(size_t size, unsigned char fill)
{
    char tmpl[] = "/tmp/tcf-check-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return NULL;
    unsigned char block[4096];
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (unsigned char)(fill + i * 7);
    size_t left = size;
    while (left > 0) {
        size_t n = left < sizeof block ? left : sizeof block;
        if (write(fd, block, n) != (ssize_t)n)
            break;
        left -= n;
    }
    close(fd);
    return left == 0 ? strdup(tmpl) : NULL;
}

TCFT_TEST(check_body_media_sources_and_limits)
{
    /* a file is encoded exactly as its bytes are */
    size_t size = 100003;
    char *path = temp_file(size, 3);
    TCFT_CHECK(path != NULL);
    unsigned char *raw = malloc(size);
    FILE *f = fopen(path, "rb");
    TCFT_CHECK(f != NULL && raw != NULL && fread(raw, 1, size, f) == size);
    fclose(f);
    tcf_check_params a = TCF_CHECK_PARAMS_INIT, b = TCF_CHECK_PARAMS_INIT;
    a.liveness_type = b.liveness_type = "SILENT";
    a.image.bytes = b.image.bytes = "hi";
    a.image.bytes_len = b.image.bytes_len = 2;
    a.video.path = path;
    b.video.bytes = raw;
    b.video.bytes_len = size;
    char *from_path = body("LivenessCompare", &a);
    char *from_bytes = body("LivenessCompare", &b);
    TCFT_CHECK(from_path != NULL && from_bytes != NULL && strcmp(from_path, from_bytes) == 0);
    TCFT_CHECK(from_path && strlen(from_path) > tcfp_base64_encoded_len(size));
    tcf_string_free(from_path);
    tcf_string_free(from_bytes);
    unlink(path);
    free(path);
    free(raw);

    /* the video limit is 8 MiB of base64: exactly at it passes, one group more fails */
    size_t at = (size_t)TCF_VIDEO_BASE64_MAX / 4 * 3;
    path = temp_file(at, 9);
    TCFT_CHECK(path != NULL);
    a.video.path = path;
    char *big = body("LivenessCompare", &a);
    TCFT_CHECK(big != NULL);
    tcf_string_free(big);
    unlink(path);
    free(path);
    path = temp_file(at + 1, 9);
    a.video.path = path;
    TCFT_CHECK(refused("LivenessCompare", &a, "ffmpeg -i in.webm -preset veryfast"));
    TCFT_CHECK(strstr(last_message, "at most 8 MiB") != NULL);
    unlink(path);
    free(path);
    a.video.path = "/nonexistent/video.mp4";
    TCFT_CHECK(refused("LivenessCompare", &a, "cannot be opened"));
    TCFT_CHECK(strstr(last_message, "nonexistent") == NULL); /* paths are not echoed */
    a.video.path = "/tmp";
    TCFT_CHECK(refused("LivenessCompare", &a, "not a regular file"));
    path = temp_file(0, 0);
    a.video.path = path;
    TCFT_CHECK(refused("LivenessCompare", &a, "empty"));
    unlink(path);
    free(path);
    a.video.path = "";
    TCFT_CHECK(refused("LivenessCompare", &a, "path is empty"));

    /* images: 3 MiB */
    a.video.path = NULL;
    a.video.bytes = "v";
    a.video.bytes_len = 1;
    size_t img = (size_t)TCF_IMAGE_BASE64_MAX / 4 * 3 + 1;
    unsigned char *pix = calloc(img, 1);
    a.image.bytes = pix;
    a.image.bytes_len = img;
    TCFT_CHECK(refused("LivenessCompare", &a, "the image is 3.0 MiB after base64"));
    a.image.bytes_len = img - 1;
    char *ok = body("LivenessCompare", &a);
    TCFT_CHECK(ok != NULL);
    tcf_string_free(ok);
    a.image.bytes = NULL;
    TCFT_CHECK(refused("LivenessCompare", &a, "bytes is NULL"));
    a.image.bytes = pix;
    a.image.bytes_len = 0;
    TCFT_CHECK(refused("LivenessCompare", &a, "image: no bytes"));
    free(pix);
}

TCFT_TEST(check_phone_routes_and_recent_ranges)
{
    TCFT_CHECK_STR(tcf_phone_route_action("13800138000", -1), "PhoneVerification"); /* CMCC 1.3 */
    TCFT_CHECK_STR(tcf_phone_route_action("13412345678", 0), "PhoneVerification");
    TCFT_CHECK_STR(tcf_phone_route_action("13492345678", 0), "PhoneVerificationCTCC"); /* 1349 */
    TCFT_CHECK_STR(tcf_phone_route_action("18912345678", 0), "PhoneVerificationCTCC");
    TCFT_CHECK_STR(tcf_phone_route_action("18612345678", -1), "PhoneVerificationCUCC");
    TCFT_CHECK_STR(tcf_phone_route_action("18612345678", 1), "PhoneVerification"); /* detailed */
    TCFT_CHECK_STR(tcf_phone_route_action("19212345678", 0), "PhoneVerification"); /* no range */
    TCFT_CHECK_STR(tcf_phone_route_action("1861234567", 0), "PhoneVerification");
    TCFT_CHECK_STR(tcf_phone_route_action(NULL, 0), "PhoneVerification");
    TCFT_CHECK(tcf_phone_recent_range("19012345678") == 1);
    TCFT_CHECK(tcf_phone_recent_range("19712345678") == 1);
    TCFT_CHECK(tcf_phone_recent_range("19812345678") == 0);
    TCFT_CHECK(tcf_phone_recent_range("13800138000") == 0);
    TCFT_CHECK(tcf_phone_recent_range("1380013800") == -1);
    TCFT_CHECK(tcf_phone_recent_range(NULL) == -1);
}

TCFT_TEST(check_prices_and_estimates)
{
    long long fen = 0;
    TCFT_CHECK(tcf_price_per_call_fen("IdCardVerification", -1, &fen) == 0 && fen == 30);
    TCFT_CHECK(tcf_price_per_call_fen("PhoneVerification", 1, &fen) == 0 && fen == 120);
    TCFT_CHECK(tcf_price_per_call_fen("PhoneVerification", 0, &fen) == 0 && fen == 110);
    TCFT_CHECK(tcf_price_per_call_fen("PhoneVerificationCMCC", 1, &fen) == 0 && fen == 130);
    TCFT_CHECK(tcf_price_per_call_fen("LivenessRecognition", 0, &fen) == TCF_EINVAL);
    tcf_cost_estimate e;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_estimate_cost(&e, "IdCardVerification", 0, 1000, &err) == 0);
    TCFT_CHECK(e.postpaid_fen == 30000 && e.best_fen == 30000 && e.per_call_fen == 30);
    /* 999 calls: postpaid 299.70 is cheaper than a 300 package */
    TCFT_CHECK(tcf_estimate_cost(&e, "IdCardVerification", 0, 999, NULL) == 0);
    TCFT_CHECK(e.best_fen == 29970 && e.package_kinds == 0 && e.postpaid_calls == 999);
    /* 2,500 calls of ID + validity: 2 x 1k (3,000) + 500 x 1.8 (900) = 3,900 < 3 x 1k = 4,500 */
    TCFT_CHECK(tcf_estimate_cost(&e, "CheckIdNameDate", 0, 2500, NULL) == 0);
    TCFT_CHECK(e.postpaid_fen == 450000 && e.best_fen == 390000 && e.package_kinds == 1 &&
               e.packages[0].size == 1000 && e.packages[0].count == 2 && e.postpaid_calls == 500);
    /* 9,500 calls: one 10k package (14,000) beats 9 x 1k + 500 postpaid (13,500 + 900) */
    TCFT_CHECK(tcf_estimate_cost(&e, "CheckIdNameDate", 0, 9500, NULL) == 0);
    TCFT_CHECK(e.best_fen == 1400000 && e.package_kinds == 1 && e.packages[0].size == 10000 &&
               e.packages[0].count == 1 && e.postpaid_calls == 0);
    /* 1,200,000 ID two-element calls: 1M + 200k packages = 268,000 CNY */
    TCFT_CHECK(tcf_estimate_cost(&e, "IdCardVerification", 0, 1200000, NULL) == 0);
    TCFT_CHECK(e.best_fen == 26800000 && e.package_kinds == 2 && e.packages[0].size == 1000000 &&
               e.packages[1].size == 200000);
    TCFT_CHECK(tcf_estimate_cost(&e, "PhoneVerification", 1, 1000, NULL) == 0 &&
               e.postpaid_fen == 120000 && e.best_fen == 110000);
    TCFT_CHECK(tcf_estimate_cost(&e, "PhoneVerificationCTCC", 0, 0, NULL) == 0 && e.best_fen == 0);
    TCFT_CHECK(tcf_estimate_cost(&e, "CheckBankCardInformation", 0, 1000000000000LL, NULL) == 0);
    TCFT_CHECK(tcf_estimate_cost(&e, "IdCardVerification", 0, -1, &err) == TCF_EINVAL);
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_estimate_cost(&e, "LivenessCompare", 0, 10, &err) == TCF_EINVAL &&
               strstr(err.message, "no documented price") != NULL);
}

TCFT_TEST(check_live_code_and_sequence_answers)
{
    char code[5], seq[8];
    const char *ok = "{\"Response\":{\"LiveCode\":\"0427\",\"RequestId\":\"r\"}}";
    TCFT_CHECK(tcf_live_code_from_json(code, ok, strlen(ok), NULL) == 0);
    TCFT_CHECK_STR(code, "0427");
    TCFT_CHECK(tcf_live_code_from_json(code, "{\"LiveCode\":\"427\"}", 17, NULL) == TCF_EJSON);
    TCFT_CHECK(tcf_live_code_from_json(code, "{\"LiveCode\":4270}", 17, NULL) == TCF_EJSON);
    TCFT_CHECK(tcf_live_code_from_json(code, "[", 1, NULL) == TCF_EJSON);
    const char *s = "{\"ActionSequence\":\"2,1\"}";
    TCFT_CHECK(tcf_action_sequence_from_json(seq, sizeof seq, s, strlen(s), NULL) == 0);
    TCFT_CHECK_STR(seq, "2,1");
    TCFT_CHECK(tcf_action_sequence_from_json(seq, 3, s, strlen(s), NULL) == TCF_EINVAL);
    const char *bad = "{\"ActionSequence\":\"2,,1\"}";
    TCFT_CHECK(tcf_action_sequence_from_json(seq, sizeof seq, bad, strlen(bad), NULL) == TCF_EJSON);
}

TCFT_TEST(check_outcome_from_api_errors)
{
    tcf_check_outcome *o = NULL;
    TCFT_CHECK(tcf_check_outcome_from_api_error(&o, "LivenessRecognition",
                                                "FailedOperation.CompareLowSimilarity", "rid-1",
                                                NULL) == 0);
    TCFT_CHECK(o != NULL && tcf_check_outcome_status(o) == TCF_CHECK_MISMATCHED &&
               tcf_check_outcome_billed(o) == 1 && tcf_check_outcome_matched(o) == 0);
    TCFT_CHECK_STR(tcf_check_outcome_request_id(o), "rid-1");
    TCFT_CHECK_STR(tcf_check_outcome_result(o), "FailedOperation.CompareLowSimilarity");
    tcf_check_outcome_free(o);
    /* the daily limit stays an error; unknown codes and element checks give no outcome */
    TCFT_CHECK(tcf_check_outcome_from_api_error(&o, "LivenessRecognition",
                                                "FailedOperation.IdentityAuthLimitExceeded", "r",
                                                NULL) == 0 &&
               o == NULL);
    TCFT_CHECK(tcf_check_outcome_from_api_error(&o, "LivenessRecognition", "InternalError", "r",
                                                NULL) == 0 &&
               o == NULL);
    TCFT_CHECK(tcf_check_outcome_from_api_error(&o, "IdCardVerification",
                                                "FailedOperation.CompareFail", "r", NULL) == 0 &&
               o == NULL);
    TCFT_CHECK(tcf_check_outcome_from_api_error(&o, "ImageRecognitionV2",
                                                "FailedOperation.LipVoiceLow", "r", NULL) == 0 &&
               o == NULL); /* not one of ImageRecognitionV2's results */
    TCFT_CHECK(tcf_check_outcome_from_api_error(NULL, "LivenessRecognition", "x", "r", NULL) ==
               TCF_EINVAL);
    /* a recorded response keeps its RequestId */
    const char *rec =
        "{\"Response\":{\"Result\":\"0\",\"Description\":\"\",\"RequestId\":\"abc\"}}";
    TCFT_CHECK(tcf_check_outcome_from_json(&o, "IdCardVerification", rec, strlen(rec), NULL) == 0);
    TCFT_CHECK_STR(tcf_check_outcome_request_id(o), "abc");
    tcf_check_outcome_free(o);
}

/* ---- against the emulator ---- */

/* The emulator's count of the requests it received (stats.total), -1 on failure. */
static long total_requests(void)
{
    char *text = NULL;
    long n = -1;
    if (emulator_control("stats", NULL, &text) == 0) {
        const char *t = strstr(text, "\"total\":");
        if (t != NULL)
            n = strtol(t + 8, NULL, 10);
    }
    tcfp_free(text);
    return n;
}

TCFT_TEST(check_helpers_against_emulator)
{
    tcf_client *c = emulator_client("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", 1);
    TCFT_CHECK(c != NULL);
    if (c == NULL)
        return;
    tcf_error err;
    tcf_error_clear(&err);
    tcf_check_outcome *o = NULL;
    tcf_check_params p = TCF_CHECK_PARAMS_INIT;
    p.id_card = ZHANG_ID;
    p.name = ZHANG_NAME;
    TCFT_CHECK(tcf_id_card_verification(c, &p, NULL, &o, &err) == 0);
    TCFT_CHECK(tcf_check_outcome_status(o) == TCF_CHECK_MATCHED &&
               tcf_check_outcome_billed(o) == 1);
    TCFT_CHECK(strlen(tcf_check_outcome_request_id(o)) == 36);
    tcf_check_outcome_free(o);
    p.name = LI_NAME;
    TCFT_CHECK(tcf_id_card_verification(c, &p, NULL, &o, &err) == 0);
    TCFT_CHECK(tcf_check_outcome_status(o) == TCF_CHECK_MISMATCHED &&
               tcf_check_outcome_matched(o) == 0);
    tcf_check_outcome_free(o);

    /* carrier routing: a CUCC number goes to PhoneVerificationCUCC, a CMCC one stays */
    tcf_check_params ph = TCF_CHECK_PARAMS_INIT;
    ph.id_card = LI_ID;
    ph.name = LI_NAME;
    ph.phone = "18612345678";
    ph.phone_route = TCF_PHONE_ROUTE_AUTO;
    TCFT_CHECK(tcf_phone_verification(c, &ph, NULL, &o, &err) == 0);
    TCFT_CHECK_STR(tcf_check_outcome_action(o), "PhoneVerificationCUCC");
    TCFT_CHECK(tcf_check_outcome_status(o) == TCF_CHECK_MATCHED);
    tcf_check_outcome_free(o);
    ph.id_card = ZHANG_ID;
    ph.name = ZHANG_NAME;
    ph.phone = "13800138000";
    TCFT_CHECK(tcf_phone_verification(c, &ph, NULL, &o, &err) == 0);
    TCFT_CHECK_STR(tcf_check_outcome_action(o), "PhoneVerification");
    tcf_check_outcome_free(o);

    /* LivenessRecognition from a file whose content carries the emulator's directive */
    char path[] = "/tmp/tcf-video-XXXXXX";
    int fd = mkstemp(path);
    const char *directive =
        "tcfaceid-emulator:result=FailedOperation.CompareLowSimilarity;sim=41.5\n";
    TCFT_CHECK(fd >= 0 && write(fd, directive, strlen(directive)) == (ssize_t)strlen(directive));
    char filler[65536];
    memset(filler, 'v', sizeof filler);
    for (int i = 0; i < 16; i++)
        TCFT_CHECK(write(fd, filler, sizeof filler) == (ssize_t)sizeof filler);
    close(fd);
    tcf_check_params l = TCF_CHECK_PARAMS_INIT;
    l.id_card = ZHANG_ID;
    l.name = ZHANG_NAME;
    l.liveness_type = "SILENT";
    l.video.path = path;
    TCFT_CHECK(tcf_liveness_recognition(c, &l, NULL, &o, &err) == 0);
    double sim = 0;
    TCFT_CHECK(tcf_check_outcome_status(o) == TCF_CHECK_MISMATCHED &&
               tcf_check_outcome_billed(o) == 1 && tcf_check_outcome_sim(o, &sim) == 0 &&
               sim == 41.5 && tcf_check_outcome_sim_threshold(o) == TCF_SIM_THRESHOLD);
    tcf_check_outcome_free(o);
    unlink(path);

    char code[5], seq[16];
    TCFT_CHECK(tcf_get_live_code(c, NULL, code, &err) == 0 && strlen(code) == 4);
    TCFT_CHECK(tcf_get_action_sequence(c, NULL, seq, sizeof seq, &err) == 0 && strlen(seq) == 3);

    /* bad input is refused before anything is sent */
    long before = total_requests();
    tcf_check_params bad = TCF_CHECK_PARAMS_INIT;
    bad.bank_card = "6212261000000000018";
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_check_bank_card_information(c, &bad, NULL, &o, &err) == TCF_EINVAL &&
               o == NULL && err.attempts == 0);
    TCFT_CHECK(tcf_check(c, "GetLiveCode", NULL, NULL, &o, NULL) == TCF_EINVAL);
    TCFT_CHECK(before > 0 && total_requests() == before);
    tcf_client_free(c);
}

TCFT_TEST(check_normalize_id_card_and_recorded_api_errors)
{
    char id[19] = "junk";
    TCFT_CHECK(tcf_normalize_id_card(id, "81000019920101003x", 0, NULL) == 0);
    TCFT_CHECK_STR(id, "81000019920101003X");
    TCFT_CHECK(tcf_normalize_id_card(id, "110101199003071233", 0, NULL) == 0);
    TCFT_CHECK_STR(id, "110101199003071233");
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_normalize_id_card(id, "110101900307123", 0, &err) == TCF_EINVAL);
    TCFT_CHECK(id[0] == '\0' && strstr(err.message, "15-digit") != NULL);
    TCFT_CHECK(tcf_normalize_id_card(id, "11010119900307123x", 0, NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_normalize_id_card(id, NULL, 0, NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_normalize_id_card(NULL, ZHANG_ID, 0, NULL) == TCF_EINVAL);

    /* a recorded API error keeps its RequestId; the daily limit is the rate-limited error */
    tcf_check_outcome *o = NULL;
    const char *e1 = "{\"Response\":{\"Error\":{\"Code\":\"InternalError\",\"Message\":\"m\"},"
                     "\"RequestId\":\"e1\"}}";
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_check_outcome_from_json(&o, "IdCardVerification", e1, strlen(e1), &err) ==
               TCF_EAPI);
    TCFT_CHECK_STR(err.request_id, "e1");
    TCFT_CHECK_STR(err.api_code, "InternalError");
    const char *e2 = "{\"Error\":{\"Code\":\"FailedOperation.IdentityAuthLimitExceeded\","
                     "\"Message\":\"m\"},\"RequestId\":\"e2\"}";
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_check_outcome_from_json(&o, "LivenessRecognition", e2, strlen(e2), &err) ==
               TCF_ERATE_LIMITED);
    TCFT_CHECK_STR(err.request_id, "e2");
    TCFT_CHECK(o == NULL && err.retry_at == 0);
}
