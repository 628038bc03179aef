/* Element checks and PaaS calls (flows layer + one transport entry point): every input checked
 * with the public validators, the body written in one allocation with media encoded straight
 * into it (raw bytes and files through the streaming base64 encoder, base64 text cleaned while
 * copied: no JSON tree ever holds a video), carrier routing of the three-element phone check, the
 * documented prices, and tcf_check, which sends the body and decides the typed outcome. */
#include "crypto.h"
#include "jsonw.h"
#include "sansio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define URL_MAX 1024
#define FILE_CHUNK (3 * 16384) /* a multiple of 3: every chunk encodes to whole groups */
#define FFMPEG_HINT                                                                                \
    "compress it first, e.g. ffmpeg -i in.webm -preset veryfast -b:v 1048576 -vf "                 \
    "format=pix_fmts=yuv420p,fps=25,scale=320:-16 out.mp4 (docs/checks.md)"

/* ---- media: base64 text ---- */

#define FILE_HINT " (a file name given instead of the file or its content?)"

static int is_b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

int tcfp_media_base64_clean(const char *field, const char *s, size_t n, size_t max,
                            const char **start, size_t *raw_len, size_t *clean_len, tcf_error *err)
{
    const char *end = s + n;
    *start = s;
    if (n >= 5 && tcfp_starts_with_ci(s, "data:")) {
        const char *comma = memchr(s, ',', n);
        if (comma == NULL || comma - s < 12 || !tcfp_starts_with_ci(comma - 7, ";base64"))
            return tcfp_fail(err, TCF_EINVAL,
                             "%s: a data: URI must have the form data:<type>;base64,<data>", field);
        *start = comma + 1;
    }
    size_t count = 0, pad = 0;
    for (const char *c = *start; c < end; c++) {
        if (is_ascii_space(*c))
            continue;
        if (*c == '=') {
            pad++;
        } else if (pad > 0 || !is_b64_char((unsigned char)*c)) {
            return tcfp_fail(err, TCF_EINVAL,
                             "%s is not standard base64 (A-Z a-z 0-9 + /, '=' padding only at the "
                             "end)" FILE_HINT,
                             field);
        }
        count++;
    }
    if (count == 0)
        return tcfp_fail(err, TCF_EINVAL, "%s is empty", field);
    if (count % 4 != 0 || pad > 2)
        return tcfp_fail(err, TCF_EINVAL,
                         "%s is not padded base64 (its length without white space must be a "
                         "multiple of 4, with at most two '=')" FILE_HINT,
                         field);
    if (max && count > max)
        return tcfp_fail(err, TCF_EINVAL,
                         "%s is %zu bytes of base64; the service accepts at most %zu", field, count,
                         max);
    *raw_len = (size_t)(end - *start);
    *clean_len = count;
    return 0;
}

/* ---- media: the four sources ---- */

typedef struct media {
    const char *b64_field; /* "VideoBase64" / "ImageBase64" */
    const char *url_field; /* "VideoUrl" / "ImageUrl" */
    const tcf_media *m;
    int given;
    int fd;           /* path: open from the check to the write */
    size_t file_size; /* path */
    const char *b64;  /* base64: the text after a data: prefix */
    size_t b64_raw;   /* its length with white space */
    size_t out_len;   /* base64 characters written into the body */
    size_t offset;    /* path: where its base64 goes in the body */
} media;

static void media_init(media *md, const tcf_media *m, const char *b64_field, const char *url_field)
{
    memset(md, 0, sizeof *md);
    md->m = m;
    md->fd = -1;
    md->b64_field = b64_field;
    md->url_field = url_field;
    md->given = m->bytes != NULL || m->bytes_len != 0 || m->path != NULL || m->base64 != NULL ||
                m->url != NULL;
}

static void media_close(media *md)
{
    if (md->fd >= 0)
        close(md->fd);
    md->fd = -1;
}

static int too_large(const char *what, size_t size, size_t max, int video, tcf_error *err)
{
    return tcfp_fail(err, TCF_EINVAL,
                     "the %s is %.1f MiB after base64; the service accepts at most %zu MiB: %s",
                     what, (double)size / (1024.0 * 1024.0), max / (1024 * 1024),
                     video ? FFMPEG_HINT : "send a smaller JPG/PNG (docs/checks.md)");
}

/* Checks the one source of md (it must be given) and measures its base64. */
static int media_check(media *md, int video, int url_ok, tcf_error *err)
{
    const tcf_media *m = md->m;
    const char *what = video ? "video" : "image";
    size_t max = video ? TCF_VIDEO_BASE64_MAX : TCF_IMAGE_BASE64_MAX;
    int sources = (m->bytes != NULL || m->bytes_len != 0) + (m->path != NULL) +
                  (m->base64 != NULL) + (m->url != NULL);
    if (sources != 1)
        return tcfp_fail(err, TCF_EINVAL, "%s: give one of bytes, path, base64 or url, not %d",
                         what, sources);
    if (m->bytes != NULL || m->bytes_len != 0) {
        if (m->bytes == NULL || m->bytes_len == 0)
            return tcfp_fail(err, TCF_EINVAL, "%s: %s", what,
                             m->bytes == NULL ? "bytes is NULL with a non-zero length"
                                              : "no bytes");
        md->out_len = tcfp_base64_encoded_len(m->bytes_len);
        if (md->out_len > max)
            return too_large(what, md->out_len, max, video, err);
        return 0;
    }
    if (m->path != NULL) {
        if (m->path[0] == '\0')
            return tcfp_fail(err, TCF_EINVAL, "%s: the path is empty", what);
        md->fd = open(m->path, O_RDONLY | O_CLOEXEC);
        if (md->fd < 0)
            return tcfp_fail(err, TCF_EINVAL, "%s: the file cannot be opened: %s", what,
                             strerror(errno));
        struct stat st;
        if (fstat(md->fd, &st) != 0 || !S_ISREG(st.st_mode))
            return tcfp_fail(err, TCF_EINVAL, "%s: the path is not a regular file", what);
        if (st.st_size == 0)
            return tcfp_fail(err, TCF_EINVAL, "%s: the file is empty", what);
        md->file_size = (size_t)st.st_size;
        md->out_len = tcfp_base64_encoded_len(md->file_size);
        if ((uint64_t)st.st_size > (uint64_t)max || md->out_len > max)
            return too_large(what, md->out_len, max, video, err);
        return 0;
    }
    if (m->base64 != NULL) {
        size_t n = m->base64_len ? m->base64_len : strlen(m->base64);
        const char *field = video ? "video base64" : "image base64";
        int rc = tcfp_media_base64_clean(field, m->base64, n, 0, &md->b64, &md->b64_raw,
                                         &md->out_len, err);
        if (rc != 0)
            return rc;
        if (md->out_len > max)
            return too_large(what, md->out_len, max, video, err);
        return 0;
    }
    if (!url_ok)
        return tcfp_fail(err, TCF_EINVAL, "%s: this action takes the %s itself, not a URL", what,
                         what);
    if (strlen(m->url) > URL_MAX ||
        tcf_check_redirect_url(m->url, NULL) != 0) /* the same URL rules */
        return tcfp_fail(err, TCF_EINVAL,
                         "%s url: must be http:// or https://, at most 1024 bytes, without spaces "
                         "or control characters",
                         what);
    return 0;
}

static void put_media(writer *w, int *first, media *md)
{
    const tcf_media *m = md->m;
    if (m->url != NULL) {
        put_member(w, first, md->url_field, m->url);
        return;
    }
    put_str(w, *first ? "{\"" : ",\"");
    *first = 0;
    put_str(w, md->b64_field);
    put(w, "\":\"", 3);
    if (m->bytes != NULL) {
        if (w->out) /* writes out_len characters and a NUL, overwritten by what follows */
            (void)tcfp_base64_encode(w->out + w->len, m->bytes, m->bytes_len);
        w->len += md->out_len;
    } else if (m->path != NULL) {
        md->offset = w->len; /* filled from the file after the text is written */
        w->len += md->out_len;
    } else {
        for (size_t i = 0; i < md->b64_raw; i++)
            if (!is_ascii_space(md->b64[i]))
                put(w, md->b64 + i, 1);
    }
    put(w, "\"", 1);
}

/* Reads the file of md into out + md->offset, base64-encoded. */
static int media_fill(media *md, char *out, tcf_error *err)
{
    if (md->m->path == NULL || md->m->url != NULL)
        return 0;
    unsigned char *chunk = tcfp_malloc(FILE_CHUNK);
    if (chunk == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    tcfp_base64_stream st = TCFP_BASE64_STREAM_INIT;
    char *dst = out + md->offset;
    size_t total = 0;
    int rc = 0;
    for (;;) {
        ssize_t got = read(md->fd, chunk, FILE_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = tcfp_fail(err, TCF_EINVAL, "the media file cannot be read: %s", strerror(errno));
            break;
        }
        if (got == 0)
            break;
        if (total + (size_t)got > md->file_size) {
            rc = tcfp_fail(err, TCF_EINVAL, "the media file grew while it was read");
            break;
        }
        total += (size_t)got;
        dst += tcfp_base64_stream_update(&st, dst, chunk, (size_t)got);
    }
    if (rc == 0 && total != md->file_size)
        rc = tcfp_fail(err, TCF_EINVAL, "the media file shrank while it was read");
    if (rc == 0) {
        char tail[4];
        size_t k = tcfp_base64_stream_final(&st, tail);
        memcpy(dst, tail, k);
    }
    tcfp_wipe(chunk, FILE_CHUNK);
    tcfp_free(chunk);
    return rc;
}

/* ---- actions ---- */

enum {
    F_ID = 1 << 0,
    F_NAME = 1 << 1,
    F_PHONE = 1 << 2,
    F_CARD = 1 << 3,
    F_VALIDITY = 1 << 4,
    F_LIVENESS = 1 << 5,
    F_VIDEO = 1 << 6,
    F_IMAGE = 1 << 7,
    F_FRAMES = 1 << 8,
    F_MODE = 1 << 9,
    F_EXTRA = 1 << 10
};

typedef struct check_def {
    const char *action;
    unsigned required;
    unsigned optional;
    const char *phone_field; /* "Phone" or "Mobile" */
    const char *carrier;     /* the carrier-specific phone checks */
    int image_url_ok;
} check_def;

#define PERSON (F_ID | F_NAME)
static const check_def check_defs[] = {
    {"IdCardVerification", PERSON, 0, NULL, NULL, 0},
    {"IdCardOCRVerification", 0, PERSON | F_IMAGE, NULL, NULL, 1},
    {"CheckIdNameDate", PERSON | F_VALIDITY, 0, NULL, NULL, 0},
    {"PhoneVerification", PERSON | F_PHONE, F_MODE, "Phone", NULL, 0},
    {"PhoneVerificationCMCC", PERSON | F_PHONE, 0, "Phone", "CMCC", 0},
    {"PhoneVerificationCTCC", PERSON | F_PHONE, 0, "Phone", "CTCC", 0},
    {"PhoneVerificationCUCC", PERSON | F_PHONE, 0, "Phone", "CUCC", 0},
    {"CheckPhoneAndName", F_PHONE | F_NAME, 0, "Mobile", NULL, 0},
    {"MobileStatus", F_PHONE, 0, "Mobile", NULL, 0},
    {"MobileNetworkTimeVerification", F_PHONE, 0, "Mobile", NULL, 0},
    {"BankCard2EVerification", F_NAME | F_CARD, 0, NULL, NULL, 0},
    {"BankCardVerification", PERSON | F_CARD, 0, NULL, NULL, 0},
    {"BankCard4EVerification", PERSON | F_CARD | F_PHONE, 0, "Phone", NULL, 0},
    {"CheckBankCardInformation", F_CARD, 0, NULL, NULL, 0},
    {"LivenessRecognition", PERSON | F_LIVENESS | F_VIDEO, F_FRAMES, NULL, NULL, 0},
    {"LivenessCompare", F_LIVENESS | F_VIDEO | F_IMAGE, F_FRAMES, NULL, NULL, 1},
    {"ImageRecognitionV2", PERSON | F_IMAGE, F_EXTRA, NULL, NULL, 0},
    {"GetLiveCode", 0, 0, NULL, NULL, 0},
    {"GetActionSequence", 0, 0, NULL, NULL, 0},
};

static const check_def *find_check(const char *action)
{
    for (size_t i = 0; i < sizeof check_defs / sizeof check_defs[0]; i++)
        if (strcmp(check_defs[i].action, action) == 0)
            return &check_defs[i];
    return NULL;
}

/* ---- the body ---- */

typedef struct body_ctx {
    const check_def *def;
    const tcf_check_params *p;
    char id[19];
    char name[4 * 32 + 1];
    char optional[32];
    media video, image;
} body_ctx;

static unsigned given_fields(const tcf_check_params *p, const media *video, const media *image)
{
    unsigned f = 0;
    f |= optional(p->id_card) ? F_ID : 0;
    f |= optional(p->name) ? F_NAME : 0;
    f |= optional(p->phone) ? F_PHONE : 0;
    f |= optional(p->bank_card) ? F_CARD : 0;
    f |= optional(p->validity_begin) || optional(p->validity_end) ? F_VALIDITY : 0;
    f |= optional(p->liveness_type) || optional(p->validate_data) ? F_LIVENESS : 0;
    f |= video->given ? F_VIDEO : 0;
    f |= image->given ? F_IMAGE : 0;
    f |= p->best_frame_num != 0 ? F_FRAMES : 0;
    f |= p->verify_mode != -1 ? F_MODE : 0;
    f |= optional(p->extra) ? F_EXTRA : 0;
    return f;
}

static const char *field_name(unsigned f)
{
    switch (f) {
    case F_ID:
        return "id_card";
    case F_NAME:
        return "name";
    case F_PHONE:
        return "phone";
    case F_CARD:
        return "bank_card";
    case F_VALIDITY:
        return "validity_begin/validity_end";
    case F_LIVENESS:
        return "liveness_type/validate_data";
    case F_VIDEO:
        return "video";
    case F_IMAGE:
        return "image";
    case F_FRAMES:
        return "best_frame_num";
    case F_MODE:
        return "verify_mode";
    default:
        return "extra";
    }
}

static int all_digits(const char *s)
{
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int check_liveness(const tcf_check_params *p, tcf_error *err)
{
    const char *t = p->liveness_type;
    const char *d = p->validate_data ? p->validate_data : "";
    if (!optional(t))
        return tcfp_fail(err, TCF_EINVAL, "liveness_type is required: LIP, ACTION or SILENT");
    if (strcmp(t, "LIP") == 0) {
        if (strlen(d) != 4 || !all_digits(d))
            return tcfp_fail(err, TCF_EINVAL,
                             "validate_data: LIP liveness needs the 4 digits from GetLiveCode");
    } else if (strcmp(t, "ACTION") == 0) {
        size_t n = strlen(d);
        int ok = n > 0 && n % 2 == 1 && n <= 19;
        for (size_t i = 0; ok && i < n; i++)
            ok = i % 2 == 0 ? (d[i] == '1' || d[i] == '2') : d[i] == ',';
        if (!ok)
            return tcfp_fail(err, TCF_EINVAL,
                             "validate_data: ACTION liveness needs the sequence from "
                             "GetActionSequence, e.g. \"2,1\" (1 open mouth, 2 close eyes)");
    } else if (strcmp(t, "SILENT") == 0) {
        if (d[0] != '\0')
            return tcfp_fail(err, TCF_EINVAL,
                             "validate_data must be empty for SILENT liveness (no challenge)");
    } else {
        return tcfp_fail(err, TCF_EINVAL, "liveness_type must be LIP, ACTION or SILENT");
    }
    return 0;
}

static int check_identity(body_ctx *c, long long today, tcf_error *err)
{
    const tcf_check_params *p = c->p;
    if (optional(p->id_card)) {
        int rc = tcf_normalize_id_card(c->id, p->id_card, today, err);
        if (rc != 0)
            return rc;
    }
    if (optional(p->name)) {
        int rc = tcf_normalize_name(c->name, sizeof c->name, p->name, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int check_all(body_ctx *c, long long today, tcf_error *err)
{
    const check_def *def = c->def;
    const tcf_check_params *p = c->p;
    unsigned given = given_fields(p, &c->video, &c->image);
    unsigned allowed = def->required | def->optional;
    for (unsigned f = 1; f <= F_EXTRA; f <<= 1) {
        if ((given & f) && !(allowed & f))
            return tcfp_fail(err, TCF_EINVAL, "%s is not a parameter of %s", field_name(f),
                             def->action);
        if ((def->required & f) && !(given & f))
            return tcfp_fail(err, TCF_EINVAL, "%s is required by %s", field_name(f), def->action);
    }
    if (strcmp(def->action, "IdCardOCRVerification") == 0) {
        int person = (given & PERSON) != 0;
        if (person && (given & F_IMAGE))
            return tcfp_fail(err, TCF_EINVAL,
                             "IdCardOCRVerification: give id_card and name, or an image, not both");
        if (person && (given & PERSON) != PERSON)
            return tcfp_fail(err, TCF_EINVAL, "IdCardOCRVerification: %s is required with %s",
                             (given & F_ID) ? "name" : "id_card",
                             (given & F_ID) ? "id_card" : "name");
        if (!person && !(given & F_IMAGE))
            return tcfp_fail(err, TCF_EINVAL,
                             "IdCardOCRVerification: give id_card and name, or an image");
    }
    int rc = check_identity(c, today, err);
    if (rc != 0)
        return rc;
    if (given & F_PHONE) {
        if ((rc = tcf_check_phone(p->phone, err)) != 0)
            return rc;
        if (def->carrier != NULL) {
            const char *carrier = tcf_phone_carrier(p->phone);
            if (carrier == NULL || strcmp(carrier, def->carrier) != 0)
                return tcfp_fail(err, TCF_EINVAL,
                                 "phone: %s checks only %s numbers; this number is %s%s (use "
                                 "PhoneVerification)",
                                 def->action, def->carrier, carrier ? "a " : "in no known range",
                                 carrier ? carrier : "");
        }
    }
    if ((given & F_CARD) && (rc = tcf_check_bank_card(p->bank_card, err)) != 0)
        return rc;
    if (def->required & F_VALIDITY) {
        if (!optional(p->validity_begin) || !optional(p->validity_end))
            return tcfp_fail(err, TCF_EINVAL, "validity_begin and validity_end are both required");
        if (tcf_check_validity_date(p->validity_begin, 0, NULL) != 0)
            return tcfp_fail(err, TCF_EINVAL, "validity_begin must be a real date YYYYMMDD");
        if (tcf_check_validity_date(p->validity_end, 1, NULL) != 0)
            return tcfp_fail(err, TCF_EINVAL,
                             "validity_end must be a real date YYYYMMDD or 00000000 (long term)");
        if (strcmp(p->validity_end, "00000000") != 0 &&
            strcmp(p->validity_end, p->validity_begin) <= 0)
            return tcfp_fail(err, TCF_EINVAL, "validity_end must be after validity_begin");
    }
    if ((def->required & F_LIVENESS) && (rc = check_liveness(p, err)) != 0)
        return rc;
    if (given & F_FRAMES) {
        if (p->best_frame_num < 2 || p->best_frame_num > 10)
            return tcfp_fail(err, TCF_EINVAL, "best_frame_num must be from 2 to 10 (0: none)");
        snprintf(c->optional, sizeof c->optional, "{\"BestFrameNum\":%d}", p->best_frame_num);
    }
    if ((given & F_MODE) && p->verify_mode != 0 && p->verify_mode != 1)
        return tcfp_fail(err, TCF_EINVAL,
                         "verify_mode must be -1 (default), 0 simple or 1 detailed");
    if (given & F_EXTRA) {
        size_t chars = utf8_count(p->extra, strlen(p->extra));
        if (chars == SIZE_MAX || chars < 1 || chars > 10)
            return tcfp_fail(err, TCF_EINVAL, "extra must be 1-10 characters of valid UTF-8");
    }
    if ((given & F_VIDEO) && (rc = media_check(&c->video, 1, 1, err)) != 0)
        return rc;
    if ((given & F_IMAGE) && (rc = media_check(&c->image, 0, def->image_url_ok, err)) != 0)
        return rc;
    return 0;
}

static void write_check(writer *w, const void *ctx)
{
    body_ctx *c = (body_ctx *)(uintptr_t)ctx; /* media offsets are recorded while writing */
    const tcf_check_params *p = c->p;
    int first = 1;
    if (c->id[0])
        put_member(w, &first, "IdCard", c->id);
    if (c->name[0])
        put_member(w, &first, "Name", c->name);
    if (optional(p->phone))
        put_member(w, &first, c->def->phone_field, p->phone);
    if (optional(p->bank_card))
        put_member(w, &first, "BankCard", p->bank_card);
    if (c->def->required & F_VALIDITY) {
        put_member(w, &first, "ValidityBegin", p->validity_begin);
        put_member(w, &first, "ValidityEnd", p->validity_end);
    }
    if (c->def->required & F_LIVENESS) {
        put_member(w, &first, "LivenessType", p->liveness_type);
        if (optional(p->validate_data))
            put_member(w, &first, "ValidateData", p->validate_data);
    }
    if (c->optional[0])
        put_member(w, &first, "Optional", c->optional);
    if (p->verify_mode == 0 || p->verify_mode == 1)
        put_member(w, &first, "VerifyMode", p->verify_mode ? "1" : "0");
    if (optional(p->extra))
        put_member(w, &first, "Extra", p->extra);
    if (c->image.given)
        put_media(w, &first, &c->image);
    if (c->video.given)
        put_media(w, &first, &c->video);
    put_str(w, first ? "{}" : "}");
}

int tcf_check_body(char **json_out, size_t *len, const char *action, const tcf_check_params *p,
                   long long today_unix, tcf_error *err)
{
    if (json_out != NULL)
        *json_out = NULL;
    if (len != NULL)
        *len = 0;
    if (json_out == NULL || action == NULL)
        return tcfp_fail(err, TCF_EINVAL, "json_out and action must not be NULL");
    tcf_check_params none = TCF_CHECK_PARAMS_INIT;
    if (p == NULL)
        p = &none;
    if (p->version != TCF_CHECK_PARAMS_VERSION)
        return tcfp_fail(err, TCF_EINVAL, "tcf_check_params.version must be %d",
                         TCF_CHECK_PARAMS_VERSION);
    const check_def *def = find_check(action);
    if (p->phone_route != TCF_PHONE_ROUTE_GENERIC &&
        (p->phone_route != TCF_PHONE_ROUTE_AUTO || strcmp(action, "PhoneVerification") != 0))
        return tcfp_fail(err, TCF_EINVAL,
                         "phone_route: TCF_PHONE_ROUTE_AUTO applies to PhoneVerification only");
    if (def == NULL)
        return tcfp_fail(err, TCF_EINVAL,
                         "%.64s has no typed helper (element checks, LivenessRecognition, "
                         "LivenessCompare, ImageRecognitionV2, GetLiveCode, GetActionSequence)",
                         action);
    body_ctx *c = tcfp_calloc(1, sizeof *c); /* holds the normalised identity: wiped below */
    if (c == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    c->def = def;
    c->p = p;
    media_init(&c->video, &p->video, "VideoBase64", "VideoUrl");
    media_init(&c->image, &p->image, "ImageBase64", "ImageUrl");
    int rc = check_all(c, today_unix, err);
    if (rc == 0) {
        writer w = {NULL, 0};
        write_check(&w, c);
        size_t total = w.len;
        w.out = tcfp_malloc(total + 1);
        if (w.out == NULL) {
            rc = tcfp_fail(err, TCF_ENOMEM, "out of memory (a body of %zu bytes)", total);
        } else {
            w.len = 0;
            write_check(&w, c);
            w.out[w.len] = '\0';
            if ((rc = media_fill(&c->image, w.out, err)) == 0)
                rc = media_fill(&c->video, w.out, err);
            if (rc != 0) {
                tcfp_wipe(w.out, total);
                tcfp_free(w.out);
            } else {
                *json_out = w.out;
                if (len)
                    *len = w.len;
            }
        }
    }
    media_close(&c->video);
    media_close(&c->image);
    tcfp_wipe(c, sizeof *c);
    tcfp_free(c);
    return rc;
}

/* ---- carrier routing ---- */

const char *tcf_phone_route_action(const char *phone, int verify_mode)
{
    if (verify_mode == 1 || phone == NULL || tcf_check_phone(phone, NULL) != 0)
        return "PhoneVerification";
    const char *carrier = tcf_phone_carrier(phone);
    long long generic = 0, specific = 0;
    static const struct {
        const char *carrier, *action;
    } routes[] = {{"CMCC", "PhoneVerificationCMCC"},
                  {"CTCC", "PhoneVerificationCTCC"},
                  {"CUCC", "PhoneVerificationCUCC"}};
    for (size_t i = 0; carrier != NULL && i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(routes[i].carrier, carrier) != 0)
            continue;
        if (tcf_price_per_call_fen("PhoneVerification", 0, &generic) == 0 &&
            tcf_price_per_call_fen(routes[i].action, 0, &specific) == 0 && specific < generic)
            return routes[i].action;
    }
    return "PhoneVerification";
}

int tcf_phone_recent_range(const char *phone)
{
    if (phone == NULL || tcf_check_phone(phone, NULL) != 0)
        return -1;
    static const char *const recent[] = {"190", "191", "192", "193", "195", "196", "197"};
    for (size_t i = 0; i < sizeof recent / sizeof recent[0]; i++)
        if (strncmp(phone, recent[i], 3) == 0)
            return 1;
    return 0;
}

/* ---- prices (faq-facts.md; fen) ---- */

typedef struct price_row {
    const char *action;
    int detailed; /* PhoneVerification: VerifyMode 1 */
    long long per_call;
    long long packages[6]; /* 1k, 10k, 100k, 200k, 500k, 1M; 0: not sold */
} price_row;

#define CNY(x) ((long long)(x)*100)
static const price_row prices[] = {
    {"IdCardVerification",
     0,
     30,
     {CNY(300), CNY(2800), CNY(26000), CNY(48000), CNY(115000), CNY(220000)}},
    {"CheckIdNameDate",
     0,
     180,
     {CNY(1500), CNY(14000), CNY(130000), CNY(240000), CNY(550000), CNY(1000000)}},
    {"BankCard2EVerification", 0, 60, {CNY(580), CNY(5600), CNY(54000), CNY(104000), 0, 0}},
    {"BankCardVerification", 0, 60, {CNY(580), CNY(5600), CNY(54000), CNY(104000), 0, 0}},
    {"BankCard4EVerification", 0, 60, {CNY(580), CNY(5600), CNY(54000), CNY(104000), 0, 0}},
    {"CheckBankCardInformation", 0, 30, {CNY(280), CNY(2700), CNY(26000), CNY(36000), 0, 0}},
    {"MobileStatus", 0, 40, {CNY(380), CNY(3800), CNY(37000), CNY(72000), 0, 0}},
    {"MobileNetworkTimeVerification", 0, 40, {CNY(380), CNY(3800), CNY(37000), CNY(72000), 0, 0}},
    {"CheckPhoneAndName", 0, 40, {CNY(380), CNY(3700), CNY(36000), CNY(70000), 0, 0}},
    {"PhoneVerification", 0, 110, {CNY(1050), CNY(10000), CNY(95000), CNY(180000), 0, 0}},
    {"PhoneVerification", 1, 120, {CNY(1100), CNY(10500), CNY(100000), CNY(190000), 0, 0}},
    {"PhoneVerificationCMCC", 0, 130, {CNY(1250), CNY(12000), CNY(115000), CNY(220000), 0, 0}},
    {"PhoneVerificationCTCC", 0, 70, {CNY(650), CNY(6000), CNY(55000), CNY(100000), 0, 0}},
    {"PhoneVerificationCUCC", 0, 70, {CNY(650), CNY(6000), CNY(55000), CNY(100000), 0, 0}},
};
static const long long package_sizes[6] = {1000, 10000, 100000, 200000, 500000, 1000000};
#define CALLS_MAX 1000000000000LL

static const price_row *find_price(const char *action, int verify_mode)
{
    int detailed = verify_mode == 1 && action != NULL && strcmp(action, "PhoneVerification") == 0;
    for (size_t i = 0; action != NULL && i < sizeof prices / sizeof prices[0]; i++)
        if (strcmp(prices[i].action, action) == 0 && prices[i].detailed == detailed)
            return &prices[i];
    return NULL;
}

int tcf_price_per_call_fen(const char *action, int verify_mode, long long *fen)
{
    const price_row *row = find_price(action, verify_mode);
    if (row == NULL || fen == NULL)
        return TCF_EINVAL;
    *fen = row->per_call;
    return 0;
}

typedef struct cost_plan {
    long long cost;
    long long counts[6];
    long long postpaid_calls;
} cost_plan;

/* The cheapest plan for `left` calls using package kinds k..0 (largest first): for each kind, a
 * count near left / size (a larger package is never dearer per call, so the optimum is there). */
static void search(const price_row *row, int k, long long left, long long spent, long long *counts,
                   cost_plan *best)
{
    if (k < 0) {
        long long cost = spent + left * row->per_call;
        if (best->cost < 0 || cost < best->cost) {
            best->cost = cost;
            memcpy(best->counts, counts, sizeof best->counts);
            best->postpaid_calls = left;
        }
        return;
    }
    if (row->packages[k] == 0) {
        counts[k] = 0;
        search(row, k - 1, left, spent, counts, best);
        return;
    }
    long long size = package_sizes[k], q = left / size;
    for (long long n = q > 0 ? q - 1 : 0; n <= q + 1; n++) {
        long long rest = left - n * size;
        counts[k] = n;
        search(row, k - 1, rest > 0 ? rest : 0, spent + n * row->packages[k], counts, best);
    }
    counts[k] = 0;
}

int tcf_estimate_cost(tcf_cost_estimate *out, const char *action, int verify_mode, long long calls,
                      tcf_error *err)
{
    if (out == NULL || action == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out and action must not be NULL");
    memset(out, 0, sizeof *out);
    const price_row *row = find_price(action, verify_mode);
    if (row == NULL)
        return tcfp_fail(err, TCF_EINVAL,
                         "%.64s has no documented price (priced: the identity-element checks of "
                         "faq-facts.md)",
                         action);
    if (calls < 0 || calls > CALLS_MAX)
        return tcfp_fail(err, TCF_EINVAL, "calls must be from 0 to 10^12");
    out->calls = calls;
    out->per_call_fen = row->per_call;
    out->postpaid_fen = calls * row->per_call;
    cost_plan best = {-1, {0}, 0};
    long long counts[6] = {0};
    search(row, 5, calls, 0, counts, &best);
    out->best_fen = best.cost;
    out->postpaid_calls = best.postpaid_calls;
    for (int k = 5; k >= 0; k--)
        if (best.counts[k] > 0) {
            tcf_package_use *u = &out->packages[out->package_kinds++];
            u->size = package_sizes[k];
            u->count = best.counts[k];
            u->price_fen = row->packages[k];
        }
    return 0;
}

/* ---- GetLiveCode / GetActionSequence answers ---- */

static json_t *load_response(const void *text, size_t len, tcf_error *err)
{
    if (text == NULL)
        return tcfp_fail(err, TCF_EINVAL, "response_json is NULL"), NULL;
    tcfp_json_status st;
    json_t *root = tcfp_json_load(text, len, &st);
    if (root == NULL) {
        tcfp_fail(err, st == TCFP_JSON_NOMEM ? TCF_ENOMEM : TCF_EJSON, "the response JSON %s",
                  tcfp_json_status_text(st));
        return NULL;
    }
    json_t *inner = json_object_get(root, "Response");
    if (json_is_object(inner)) {
        json_incref(inner);
        json_decref(root);
        return inner;
    }
    return root;
}

int tcf_live_code_from_json(char code[5], const void *response_json, size_t len, tcf_error *err)
{
    if (code == NULL)
        return tcfp_fail(err, TCF_EINVAL, "code is NULL");
    code[0] = '\0';
    json_t *r = load_response(response_json, len, err);
    if (r == NULL)
        return err ? err->code : TCF_EJSON;
    const char *s = json_string_value(json_object_get(r, "LiveCode"));
    int rc = 0;
    if (s == NULL || strlen(s) != 4 || !all_digits(s))
        rc = tcfp_fail(err, TCF_EJSON, "the response has no 4-digit LiveCode");
    else
        memcpy(code, s, 5);
    json_decref(r);
    return rc;
}

int tcf_action_sequence_from_json(char *out, size_t cap, const void *response_json, size_t len,
                                  tcf_error *err)
{
    if (out == NULL || cap == 0)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL or cap is 0");
    out[0] = '\0';
    json_t *r = load_response(response_json, len, err);
    if (r == NULL)
        return err ? err->code : TCF_EJSON;
    json_t *v = json_object_get(r, "ActionSequence");
    const char *s = json_string_value(v);
    size_t n = s ? json_string_length(v) : 0;
    int ok = s != NULL && n > 0 && n % 2 == 1 && strlen(s) == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = i % 2 == 0 ? (s[i] >= '1' && s[i] <= '9') : s[i] == ',';
    int rc = 0;
    if (!ok)
        rc = tcfp_fail(err, TCF_EJSON, "the response has no ActionSequence such as \"2,1\"");
    else if (n + 1 > cap)
        rc = tcfp_fail(err, TCF_EINVAL, "out is too small for the sequence (%zu bytes)", n + 1);
    else
        memcpy(out, s, n + 1);
    json_decref(r);
    return rc;
}

/* ---- the client calls ---- */

/* ---- one helper call: the plan (bodies, routing) and the decision, for both drivers ---- */

int tcfp_check_plan_make(tcfp_check_plan *plan, const char *action, const tcf_check_params *p,
                         long long today, tcf_error *err)
{
    memset(plan, 0, sizeof *plan);
    if (action == NULL)
        return tcfp_fail(err, TCF_EINVAL, "action is NULL");
    if (strcmp(action, "GetLiveCode") == 0 || strcmp(action, "GetActionSequence") == 0)
        return tcfp_fail(err, TCF_EINVAL,
                         "%s has no check outcome: use tcf_get_live_code / "
                         "tcf_get_action_sequence",
                         action);
    int rc = tcf_check_body(&plan->body, &plan->len, action, p, today, err);
    if (rc != 0)
        return rc;
    plan->action = find_check(action)->action; /* static */
    /* tcf_check_body refused a route other than AUTO on PhoneVerification */
    if (p == NULL || p->phone_route != TCF_PHONE_ROUTE_AUTO)
        return 0;
    const char *routed = tcf_phone_route_action(p->phone, p->verify_mode);
    if (strcmp(routed, plan->action) == 0)
        return 0;
    tcf_check_params q = *p;
    q.verify_mode = -1; /* the carrier actions have no VerifyMode */
    q.phone_route = TCF_PHONE_ROUTE_GENERIC;
    char *body = NULL;
    size_t len = 0;
    rc = tcf_check_body(&body, &len, routed, &q, today, err);
    if (rc != 0) {
        tcfp_check_plan_free(plan);
        return rc;
    }
    plan->fallback_action = plan->action; /* PhoneVerification, when the carrier's is refused */
    plan->fallback_body = plan->body;
    plan->fallback_len = plan->len;
    plan->action = routed;
    plan->body = body;
    plan->len = len;
    return 0;
}

void tcfp_check_plan_free(tcfp_check_plan *plan)
{
    tcf_string_free(plan->body); /* wiped */
    tcf_string_free(plan->fallback_body);
    memset(plan, 0, sizeof *plan);
}

int tcfp_check_plan_fall_back(tcfp_check_plan *plan, int rc, const tcf_error *e)
{
    if (plan->fallback_action == NULL || rc != TCF_EAPI ||
        (strncmp(e->api_code, "UnauthorizedOperation", 21) != 0 &&
         strcmp(e->api_code, "InvalidAction") != 0))
        return 0;
    tcf_string_free(plan->body);
    plan->action = plan->fallback_action;
    plan->body = plan->fallback_body;
    plan->len = plan->fallback_len;
    plan->fallback_action = NULL;
    plan->fallback_body = NULL;
    plan->fallback_len = 0;
    return 1;
}

int tcfp_check_decide(tcf_check_outcome **out, const char *action, int rc, tcf_response *resp,
                      tcf_error *e)
{
    *out = NULL;
    if (rc == 0) {
        size_t n = 0;
        const char *text = tcf_response_json(resp, &n);
        rc = tcf_check_outcome_from_json(out, action, text, n, e);
        if (rc == 0)
            tcfp_check_outcome_set_request_id(*out, tcf_response_request_id(resp));
    } else if (rc == TCF_EAPI) {
        tcf_check_outcome *o = NULL;
        if (tcf_check_outcome_from_api_error(&o, action, e->api_code, e->request_id, NULL) == 0 &&
            o != NULL) {
            *out = o;
            rc = 0;
        }
    }
    return rc;
}

#if TCF_WITH_CURL

int tcf_check(tcf_client *client, const char *action, const tcf_check_params *p,
              const tcf_call_options *opts, tcf_check_outcome **out, tcf_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (client == NULL || action == NULL || out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "client, action and out must not be NULL");
    tcfp_check_plan plan;
    long long today = (long long)time(NULL) + tcf_client_clock_offset(client);
    int rc = tcfp_check_plan_make(&plan, action, p, today, err);
    if (rc != 0)
        return rc;
    tcf_error e;
    tcf_response *resp = NULL;
    do {
        tcf_error_clear(&e);
        rc = tcfp_client_call_body(client, plan.action, plan.body, plan.len, opts, &resp, &e);
    } while (rc != 0 && tcfp_check_plan_fall_back(&plan, rc, &e));
    rc = tcfp_check_decide(out, plan.action, rc, resp, &e);
    tcf_response_free(resp);
    if (rc != 0 && err != NULL && err->code == 0)
        *err = e;
    tcfp_wipe(&e, sizeof e);
    tcfp_check_plan_free(&plan);
    return rc;
}

#define HELPER(fn, action)                                                                         \
    int fn(tcf_client *client, const tcf_check_params *p, const tcf_call_options *opts,            \
           tcf_check_outcome **out, tcf_error *err)                                                \
    {                                                                                              \
        return tcf_check(client, action, p, opts, out, err);                                       \
    }
HELPER(tcf_id_card_verification, "IdCardVerification")
HELPER(tcf_id_card_ocr_verification, "IdCardOCRVerification")
HELPER(tcf_check_id_name_date, "CheckIdNameDate")
HELPER(tcf_phone_verification, "PhoneVerification")
HELPER(tcf_phone_verification_cmcc, "PhoneVerificationCMCC")
HELPER(tcf_phone_verification_ctcc, "PhoneVerificationCTCC")
HELPER(tcf_phone_verification_cucc, "PhoneVerificationCUCC")
HELPER(tcf_check_phone_and_name, "CheckPhoneAndName")
HELPER(tcf_mobile_status, "MobileStatus")
HELPER(tcf_mobile_network_time_verification, "MobileNetworkTimeVerification")
HELPER(tcf_bank_card_2e_verification, "BankCard2EVerification")
HELPER(tcf_bank_card_verification, "BankCardVerification")
HELPER(tcf_bank_card_4e_verification, "BankCard4EVerification")
HELPER(tcf_check_bank_card_information, "CheckBankCardInformation")
HELPER(tcf_liveness_recognition, "LivenessRecognition")
HELPER(tcf_liveness_compare, "LivenessCompare")
HELPER(tcf_image_recognition_v2, "ImageRecognitionV2")
#undef HELPER

/* The answer of a call without parameters, as text for the _from_json parsers. */
static int call_plain(tcf_client *client, const char *action, const tcf_call_options *opts,
                      tcf_response **resp, tcf_error *err)
{
    if (client == NULL)
        return tcfp_fail(err, TCF_EINVAL, "client is NULL");
    return tcf_client_call_ex(client, action, "{}", 2, opts, resp, err);
}

int tcf_get_live_code(tcf_client *client, const tcf_call_options *opts, char code[5],
                      tcf_error *err)
{
    if (code == NULL)
        return tcfp_fail(err, TCF_EINVAL, "code is NULL");
    code[0] = '\0';
    tcf_response *resp = NULL;
    int rc = call_plain(client, "GetLiveCode", opts, &resp, err);
    if (rc == 0) {
        size_t n = 0;
        const char *text = tcf_response_json(resp, &n);
        rc = tcf_live_code_from_json(code, text, n, err);
        tcf_response_free(resp);
    }
    return rc;
}

int tcf_get_action_sequence(tcf_client *client, const tcf_call_options *opts, char *out, size_t cap,
                            tcf_error *err)
{
    if (out == NULL || cap == 0)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL or cap is 0");
    out[0] = '\0';
    tcf_response *resp = NULL;
    int rc = call_plain(client, "GetActionSequence", opts, &resp, err);
    if (rc == 0) {
        size_t n = 0;
        const char *text = tcf_response_json(resp, &n);
        rc = tcf_action_sequence_from_json(out, cap, text, n, err);
        tcf_response_free(resp);
    }
    return rc;
}

#endif /* TCF_WITH_CURL */
