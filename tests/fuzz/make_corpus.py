"""Writes the seed corpora (tests/fuzz/corpus/<name>/) and dictionaries (tests/fuzz/dict/) of the
libFuzzer harnesses, in each harness's input format (see the comment at the top of
tests/fuzz/fuzz_<name>.c). Real response bodies come from the bundled emulator, signing inputs
from ../shared/vectors/tc3.json, E-ID ciphertexts from the emulator's SM2/SM4 code and its test
key. Run from the repository root:  .venv/bin/python tests/fuzz/make_corpus.py
Emulator tokens and times change between runs; the seeds' shapes do not."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))

from emuclient import Api, sign_headers  # noqa: E402
from tcfaceid.emulator import Config, Emulator, gm  # noqa: E402
from tcfaceid.emulator.config import DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM as PEM  # noqa: E402

OUT = ROOT / "tests" / "fuzz" / "corpus"
DICT = ROOT / "tests" / "fuzz" / "dict"
corpus: dict[str, list[bytes]] = {}


def seed(name: str, data: bytes | str) -> None:
    corpus.setdefault(name, []).append(data.encode() if isinstance(data, str) else data)


def j(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def shrink(v):  # base64 media: keep the seeds small
    if isinstance(v, str) and len(v) > 64 and v.isascii() and " " not in v:
        return v[:24]
    if isinstance(v, list):
        return [shrink(x) for x in v]
    if isinstance(v, dict):
        return {k: shrink(x) for k, x in v.items()}
    return v


def parse_seed(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    out = struct.pack(">HB", (status - 100) % 510, len(headers))
    for k, v in headers:
        out += k.encode() + b"\0" + v.encode() + b"\0"
    return out + body


# ---- the emulator: real bodies ----
responses: list[tuple[int, list[tuple[str, str]], bytes]] = []  # parse seeds
objects: list[str] = []  # Response objects (with RequestId)

with Emulator(Config(port=0, qps_enabled=False)) as emu:
    api = Api(emu.endpoint, clock=emu.now)

    def raw(action, params, **sign):
        body = j(params).encode()
        sign.setdefault("timestamp", int(emu.now()))
        h = sign_headers(api.host, action, body, **sign)
        status, rh, data = api.raw("POST", "/", body, h)
        keep = [(k, v) for k, v in rh.items() if k.lower() in ("date", "content-type", "x-tc-requestid")]
        doc = json.loads(data)
        small = j({"Response": shrink(doc["Response"])}).encode()
        responses.append((status, keep, small))
        objects.append(j(shrink(doc["Response"])))
        return doc["Response"]

    r = raw("DetectAuth", {"RuleId": "1", "IdCard": "110101199003071233", "Name": "张三",
                           "RedirectUrl": "https://example.com/cb?x=1"})
    biz = r["BizToken"]
    seed("session", b"\0" + j(r).encode())
    seed("session", b"\1" + j({"Response": r}).encode())
    emu.complete(biz, "pass")
    for info in ("1", "0", "2", "3", "156"):
        resp = raw("GetDetectInfoEnhanced", {"BizToken": biz, "RuleId": "1", "InfoType": info})
        seed("verdict", j(shrink(resp)))
    for sc in ("fail_liveness", "fail_compare", "retry_then_pass", "abandon"):
        t = raw("DetectAuth", {"RuleId": "1", "IdCard": "110101199003071233", "Name": "张三"})["BizToken"]
        if sc != "abandon":
            emu.complete(t, sc)
        seed("verdict", j(shrink(raw("GetDetectInfoEnhanced", {"BizToken": t, "RuleId": "1", "InfoType": "1"}))))
    kinds = {"qa": {"IntentionQuestions": [{"Question": "是否本人办理？", "Answers": ["是"]}]},
             "nod": {"IntentionActions": [{"Text": "请点头确认"}], "Config": {"IntentionType": 1}},
             "read": {"IntentionVerifyText": "本人自愿办理"}}
    for params in kinds.values():
        for sc in ("pass", "fail_intention"):
            t = raw("DetectAuth", {"RuleId": "1", "IdCard": "110101199003071233", "Name": "张三", **params})["BizToken"]
            emu.complete(t, sc)
            seed("verdict", j(shrink(raw("GetDetectInfoEnhanced", {"BizToken": t, "RuleId": "1", "InfoType": "156"}))))
            seed("verdict", j(shrink(raw("GetDetectInfoEnhanced", {"BizToken": t, "RuleId": "1", "InfoType": "1"}))))

    merchant = emu.service.config.merchants[0].merchant_id
    r = raw("GetEidToken", {"MerchantId": merchant, "IdCard": "110101199003071233", "Name": "张三"})
    eid = r["EidToken"]
    seed("session", b"\0" + j(r).encode())
    seed("session", b"\4" + j({"Response": r}).encode())
    seed("eid_status", j(raw("CheckEidTokenStatus", {"EidToken": eid})))
    emu.complete(eid, "pass")
    seed("eid_status", j(raw("CheckEidTokenStatus", {"EidToken": eid})))
    full = raw("GetEidResult", {"EidToken": eid, "InfoType": "0"})
    seed("verdict", j(shrink(full)))
    seed("verdict", j(shrink(raw("GetEidResult", {"EidToken": eid, "InfoType": "1"}))))
    ei = full["EidInfo"]
    seed("eid_decrypt", b"\0" + struct.pack(">H", len(ei["DesKey"])) + ei["DesKey"].encode() + ei["UserInfo"].encode())
    # errors, as the service sends them
    raw("GetDetectInfoEnhanced", {"BizToken": "nope", "RuleId": "1", "InfoType": "1"})
    raw("DetectAuth", {"RuleId": "999"})
    raw("DetectAuth", {"RuleId": "1", "IdCard": "123"})
    raw("DetectAuth", {"RuleId": "1"}, secret_key="wrong")
    raw("NoSuchAction", {})
    raw("DetectAuth", {"RuleId": "1"}, timestamp=1)
    api.close()

for status, headers, body in responses:
    seed("parse", parse_seed(status, headers, body))
for obj in objects:
    seed("response_json", b"\0" + obj.encode())
    seed("response_json", b"\1" + json.dumps(json.loads(obj), indent=1, ensure_ascii=True).encode())

# ---- parse: edge cases ----
for status, headers, body in [
    (200, [], b'{"Response":{"RequestId":"r-1"}}'),
    (200, [("Date", "Tue, 15 Nov 1994 08:12:31 GMT")], b'{"Response":{"A":1,"RequestId":"r"}}'),
    (200, [("date", "Sun, 06 Nov 1994 08:49:37 GMT"), ("Date", "bogus")], b'{"Response":{}}'),
    (200, [("Date", "Thu, 31 Dec 9999 23:59:59 GMT")], b' {"Response" : { "RequestId" : "x" , "B" : [ ] } } '),
    (502, [("Content-Type", "text/html")], b"<html><body>Bad Gateway</body></html>"),
    (503, [], b""),
    (200, [], b'{"Response":{"RequestId":"r","A":'),
    (200, [], b'{"Response":{"Request\\u0049d":"escaped","A":1}}'),
    (200, [], b'{"Response":{"A":{"RequestId":"inner"},"RequestId":"outer"}}'),
    (200, [], b'{"Response":{"A":1,"A":2}}'),
    (200, [], b'\xef\xbb\xbf{"Response":{}}'),
    (200, [], b'{"Response":{"N":123456789012345678901234567890}}'),
    (200, [], b'{"Response":' + b"[" * 70 + b"]" * 70 + b"}"),
    (200, [], b'{"Response":{"S":"\\u0000","RequestId":"a\\u0000b"}}'),
    (200, [], b'{"Response":{"S":"\xe5\xbc"}}'),
    (400, [], b'{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"expired"},"RequestId":"r"}}'),
    (200, [], b'{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"x"},"RequestId":"r"}}'),
    (200, [], b'{"Response":{"Error":{"Code":"InternalError.x","Message":"\\u9519\\n\\t"}}}'),
    (200, [], b'{"Response":{"Error":{"Code":"InvalidParameterValue.BizTokenExpired"}}}'),
    (200, [], b'{"Response":{"Error":{"Code":1,"Message":null}}}'),
    (200, [], b'{"Response":{"Error":"x"}}'),
    (200, [], b'{"Response":[]}'),
    (200, [], b"[]"),
    (200, [], b"null"),
]:
    seed("parse", parse_seed(status, headers, body))
for obj in ['{"RequestId":"r"}', '{"RequestId":"r","A":1}', '{"A":1,"RequestId":"r"}',
            '{"A":1,"RequestId":"r","B":2}', '{ "A" : 1 , "RequestId" : { "x" : [1,"}"] } }',
            '{"Request\\u0049d":"e","A":"RequestId"}', '{"A":"\\"RequestId\\":1"}', "{}", " {} ",
            '{"RequestId":"r"},"X":{}', '{"A":1.5e300,"RequestId":null}']:
    for w in range(4):
        seed("response_json", bytes([w]) + obj.encode())

# ---- verdict: edge cases ----
for t in ["{}", '{"Text":null}', '{"Text":{"ErrCode":0}}', '{"Text":{"ErrCode":2147483648}}',
          '{"Text":{"ErrCode":"0"}}', '{"Text":{"ErrCode":0,"LivenessDetail":[{"Errcode":0,"Sim":"95.51",'
          '"ReqTime":"1700000000000","IsNeedCharge":true}]}}',
          '{"Text":{"ErrCode":1001,"LivenessDetail":[null,{"Sim":"nan"},{"Sim":"1e999","ReqTime":"-5"}]}}',
          '{"Text":{"ErrCode":0},"IsVerifyIntention":true,"IntentionVerifyType":"2","IntentionVerifyData":null}',
          '{"Text":{"ErrCode":0},"IsVerifyIntention":true,"IntentionVerifyType":"0",'
          '"IntentionQuestionResult":{"FinalResultDetailCode":-1}}',
          '{"Text":{"ErrCode":0},"IsVerifyIntention":true,"IntentionVerifyType":"1",'
          '"IntentionActionResult":{"FinalResultDetailCode":0}}', "[]", '{"Text":[]}']:
    seed("verdict", t)

# ---- session ----
def sess(kind, tok, owner, url, extra, c):
    if kind == "eid":
        return j({"v": 1, "kind": "eid", "eid_token": tok, "merchant_id": owner, "url": url, "extra": extra,
                  "created_at": c, "expires_at": c + 600, "results_until": c + 259200})
    return j({"v": 1, "biz_token": tok, "rule_id": owner, "url": url, "extra": extra, "created_at": c,
              "expires_at": c + 7200, "results_until": c + 259200})


for args in [("saas", "B1", "1", None, None, 1700000000), ("saas", "B-张", "规则", "https://x/y", "e", 0),
             ("eid", "E1", "0NSJ2203151011", None, "{\"a\":1}", 1700000000),
             ("eid", "E2", "M", "https://h/?a=b", None, 253402300799 - 259200)]:
    seed("session", b"\0" + sess(*args).encode())
for t in ['{"BizToken":"T","Url":"https://u"}', '{"BizToken":"T","Url":null}', '{"Response":{"BizToken":"T"}}',
          '{"EidToken":"E","Url":"https://u"}', '{"BizToken":"T\\u0000x"}', '{"BizToken":""}',
          '{"v":1,"biz_token":"b","rule_id":"1","url":null,"extra":null,"created_at":1,"expires_at":7201,'
          '"results_until":259201,"x":1}', '{"v":2}', '{"v":1,"kind":"saas"}']:
    seed("session", b"\0" + t.encode())
    seed("session", b"\1" + t.encode())

# ---- eid_status ----
for s in ["init", "doing", "finished", "timeout", "Init", "", "finished\u0000"]:
    seed("eid_status", b"\0\0\0" + j({"Status": s, "RequestId": "r"}).encode())
    seed("eid_status", b"\3\1\13" + j({"Response": {"Status": s}}).encode())
for t in ['{"Status":1}', '{"Response":{"Status":"doing"},"Status":null}', "[]", '"init"']:
    seed("eid_status", t)

# ---- result_plan ----
for kind in (1, 2):
    for parts in ["1", "13", "0", "all", "text", "text,best_frame", "id_card, video", "eid_info", "6,5,4,3,2,1",
                  " text , ,intention_result", "intention_verify,all", "7", "text,", ",", "", "x", "11"]:
        seed("result_plan", bytes([kind, 8]) + parts.encode())
for cap in (0, 1, 7, 16):
    seed("result_plan", bytes([1, cap]) + b"0")
seed("result_plan", bytes([0, 8]) + b"1")
seed("result_plan", bytes([3, 8]) + b"1")

# ---- redirect ----
for u in ["https://example.com/cb?token=0A1B-2C3D", "https://example.com/cb?a=1&token=abc.DEF_~-9#frag",
          "/cb?token=x", "token=x", "?token=%41%42", "https://e.com/?token=a&token=a", "https://e.com/?token=a&token=b",
          "https://e.com/?token=", "https://e.com/#?token=x", "https://e.com/cb", "a+b", "token=a+b", "token=%zz",
          "token=%2", "https://e.com/?TOKEN=x", "token=" + "a" * 128, "token=" + "a" * 129, "?x=1;token=y",
          "https://e.com/?tok%65n=x", "token=%E5%BC%A0"]:
    seed("redirect", u)

for u in ["https://e.com/cb?token=A%2DB", "?token=a&token=a&token=a", "token=a#token=b", "//e.com/?token=x",
          "e.com/cb?token=x", "https://e.com/cb?token=x?y", "https://e.com/cb?&&token=x&&", "token", "=x&token=y",
          "https://e.com/?token=%00", "https://e.com/?token=%7E%5F"]:
    seed("redirect", u)

# ---- validators ----
for v in ["110101199003071233", "11010119900307123x", "11010119900307123X", "110101199003071234", "810000199003071230",
          "990101199003071233", "110101189912311234", "110101202512310011", "11010119900230123X", "1101011990030712",
          "张三", "  阿卜杜拉·买买提  ", "阿卜杜拉•买买提", "阿卜杜拉.买买提", "阿卜杜拉··买买提", "张", "张" * 32, "张" * 33,
          "𠀀𠀁", "Zhang San", "张三\u3000", "13800138000", "1380013800", "23800138000", "17012345678",
          "4111111111111111", "6222021234567890128", "41111111111", "62220212345678901234", "https://example.com/cb",
          "HTTP://EXAMPLE.COM", "https://", "https:///x", "http://h/a b", "ftp://h", "https://h/\u00e9", "https://h/\xff",
          "20250101", "20240229", "20230229", "19000101", "18991231", "00000000", "99991231", "2025013", "20251301", ""]:
    seed("validate", v.encode("utf-8", "surrogateescape") if isinstance(v, str) else v)
seed("validate", b"https://h/\xff\xfe")
seed("validate", b"\xe5\xbc\xa0\xe4\xb8")

# ---- body builders ----
def body_seed(flags, nums, q, a, fields, questions=(), actions=()):
    out = bytes([flags]) + bytes(nums) + bytes([len(questions) if q is None else q, len(actions) if a is None else a])
    strs = list(fields)
    for qq in questions:
        strs += qq
    strs += list(actions)
    return out + b"\0".join(s.encode() for s in strs)


base = ["1", "110101199003071233", "张三", "https://example.com/cb", "{\"order\":1}", "", ""]
eidb = ["0NSJ2203151011"] + base[1:]
seed("bodies", body_seed(0, [0, 0, 0, 0], None, None, base))
seed("bodies", body_seed(1, [0, 0, 0, 0], None, None, eidb))
seed("bodies", body_seed(0, [1, 2, 2, 3], None, None, ["1", "11010119900307123x", "阿卜杜拉•买买提", "", "", "aGVsbG8=", ""]))
seed("bodies", body_seed(2, [0, 0, 0, 0], None, None, ["1", "", "", "", "", "raw image bytes", ""]))
seed("bodies", body_seed(0, [1, 2, 2, 1], None, None, ["1", "", "", "", "", "data:image/png;base64,aGVs bG8=", "本人自愿办理"]))
seed("bodies", body_seed(0, [1, 2, 2, 1], None, None, ["1"] + [""] * 6, questions=[("是否本人办理？", "是", "对")]))
seed("bodies", body_seed(0, [2, 2, 1, 1], None, None, ["1"] + [""] * 6, actions=["请点头确认", "再点头"]))
seed("bodies", body_seed(1 | 4, [4, 2, 2, 1], None, None, eidb, questions=[("问题", "是", "")]))
seed("bodies", body_seed(1 | 8 | 16, [3, 2, 1, 0], None, None, eidb[:6] + ["请朗读"]))
seed("bodies", body_seed(1 | 12 | 64, [1, 0, 0, 5], None, None, eidb, actions=["点头"]))
seed("bodies", body_seed(0, [0, 0, 0, 0], 2, 0, ["1"] + [""] * 6, questions=[("q", "", "")]))
seed("bodies", body_seed(0, [0, 0, 0, 0], None, None, ["1\u0001", "x", "张", "javascript:alert(1)", "\xff", "!!", "x" * 121]))
seed("bodies", body_seed(1, [0, 0, 0, 0], None, None, ["M" * 51, "", "", "", "e" * 1025, "", ""]))

for owner, idc, name, url, extra in [
        ("1", "11010119900307123X", "阿卜杜拉·买买提", "http://example.com", ""),
        ("2", "810000199003071230", "  李四  ", "HTTPS://EXAMPLE.COM/a?b=c#d", "中文 extra"),
        ("1", "110101189912311234", "张三", "https://e.com", ""),
        ("1", "110101199003071234", "张三", "", ""),
        ("1", "", "Zhang San", "", ""),
        ("1", "", "张·", "", ""),
        ("1", "", "", "https://", ""),
        ("1", "", "", "https://e.com/\x7f", ""),
        ("1", "", "", "", "\"quoted\" \\ and \n newline"),
        ("", "", "", "", ""),
        ("规则", "", "", "", "")]:
    seed("bodies", body_seed(0, [0, 0, 0, 0], None, None, [owner, idc, name, url, extra, "", ""]))
    seed("bodies", body_seed(1, [0, 0, 0, 0], None, None, [owner or "M", idc, name, url, extra, "", ""]))
for nums in ([0, 0, 0, 0], [5, 5, 5, 5], [2, 1, 1, 4], [0, 2, 2, 0]):
    seed("bodies", body_seed(0, nums, None, None, ["1"] + [""] * 6, questions=[("q1", "a", "b"), ("q2", "是", "")]))
    seed("bodies", body_seed(1 | 8, nums, None, None, ["M"] + [""] * 6, actions=["点头", "摇头", "眨眼"]))
seed("bodies", body_seed(0, [1, 1, 1, 1], None, None, ["1", "", "", "", "", "", "长" * 121]))
seed("bodies", body_seed(0, [1, 1, 1, 1], None, None, ["1", "", "", "", "", "!!!notbase64", ""]))
seed("bodies", body_seed(0, [1, 1, 1, 1], None, None, ["1", "", "", "", "", "aGVsbG8", ""]))

# ---- signer: the shared vectors ----
vectors = json.loads((ROOT.parent / "shared" / "vectors" / "tc3.json").read_text())["vectors"]
for v in vectors:
    alg = {"TC3-HMAC-SHA256": 1, "HmacSHA1": 2, "HmacSHA256": 3}[v["algorithm"]]
    ts = int(v.get("timestamp") or v.get("params_raw", {}).get("Timestamp", 1700000000))
    flags = (1 if v.get("unsigned_payload") else 0) | (2 if v.get("method") == "GET" else 0)
    strs = [v["secret_id"], v["secret_key"], v.get("service") or "faceid", v["host"],
            v.get("content_type") or "application/json", v.get("canonical_query") or ""]
    headers, params = [], []
    if alg == 1:
        signed = (v.get("signed_headers") or "content-type;host").split(";")
        sent = {k.lower(): val for k, val in (v.get("request_headers_sent") or {}).items()}
        headers = [(h, sent.get(h, "x")) for h in signed if h not in ("content-type", "host")][:3]
        body = base64.b64decode(v["body_base64"]) if v.get("body_base64") else (v.get("body_utf8") or "").encode()
    else:
        params = list(v["params_raw"].items())[:4]
        if alg == 3:
            params = [p for p in params if p[0] != "SignatureMethod"][:4]
            flags |= 16
        body = b""
    for k, val in headers + params:
        strs += [k, val]
    seed("sign", bytes([alg, flags]) + struct.pack(">Q", ts) + bytes([len(headers), len(params)])
         + b"\0".join(s.encode() for s in strs) + b"\0" + body)
for alg, flags, strs, body in [
    (0, 0, ["AKID", "key", "faceid", "faceid.tencentcloudapi.com", "application/json", ""], b"{}"),
    (0, 1, ["AKID", "k" * 300, "faceid", "h", "Application/JSON; Charset=UTF-8 ", "a=1&b=2"], b"\0\0"),
    (0, 4 | 8, ["PUT", "/x?y", "AKID", "key", "faceid", "h", "ct", ""], b""),
    (4, 0, ["tc3-hmac-sha256", "AKID", "key", "faceid", "h", "ct", ""], b""),
    (0, 0, ["AKID", "ke y", "faceid", "h", "ct", ""], b""),
    (0, 0, ["AKID", "key", "face/id", "h", "ct", ""], b""),
    (0, 0, ["AKID", "key", "faceid", "h", "ct\r\n", ""], b""),
]:
    seed("sign", bytes([alg, flags]) + struct.pack(">Q", 1700000000) + b"\0\0" + b"\0".join(s.encode() for s in strs) + b"\0" + body)
seed("sign", bytes([0, 0]) + struct.pack(">Q", 253402300800) + b"\0\0AKID\0key\0faceid\0h\0ct\0\0")
seed("sign", bytes([0, 0]) + struct.pack(">q", -1) + b"\0\0AKID\0key\0faceid\0h\0ct\0\0")
seed("sign", bytes([0, 0]) + struct.pack(">Q", 1700000000) + b"\3\0AKID\0key\0faceid\0h\0ct\0\0X-TC-Action\0DetectAuth\0"
     b"Host\0dup\0x y\0v\0body")

# ---- E-ID decryption: the emulator's GM code and test key ----
d = gm.sm2_private_key_from_pem(PEM)
pub = gm.sm2_public_key(d)


def pad(data, how):
    n = 16 - len(data) % 16
    if how == "pkcs7":
        return data + bytes([n]) * n
    return data if n == 16 else data + (b" " if how == "space" else b"\0") * n


def eid_seed(flags, des: bytes, ui: bytes) -> bytes:
    if not flags & 1:
        des = base64.b64encode(des)
    if not flags & 2:
        ui = base64.b64encode(ui)
    return bytes([flags]) + struct.pack(">H", len(des)) + des + ui


for i, (plain, how, der) in enumerate([
    (b'{"name":"\xe5\xbc\xa0\xe4\xb8\x89","idtype":"01","idnum":"110101199003071233"}', "zero", False),
    (b'{"name":"Li Xiaohua","idtype":"01","idnum":"110101199003071233"}', "pkcs7", False),
    (b'{"name":"x"}', "space", True), (b"{}", "pkcs7", False), (b"[1]", "pkcs7", False),
    (b'{"a":1,"a":2}', "zero", False), (b'{"a":"\\u0000"}', "zero", False)]):
    key = bytes([0x11 * (i + 1) % 256]) * 8 + bytes(range(8))
    raw = gm.sm2_encrypt(pub, key, k=1001 + i)
    des = gm.sm2_ciphertext_to_der(raw) if der else raw
    ui = gm.sm4_ecb_encrypt(key, pad(plain, how))
    for flags in (0, 1, 2, 3):
        seed("eid_decrypt", eid_seed(flags, des, ui))
seed("eid_decrypt", eid_seed(0, b"", b"x"))
seed("eid_decrypt", b"\0\0\4AAAA" + b"A" * 15)
seed("eid_decrypt", b"\0\0\4AA=A" + b"AAAAAAAAAAAAAAAAAAAAAAA=")
seed("eid_decrypt", b"\4\0\4AAAA\0\x18" + b"A" * 24 + PEM.replace("PRIVATE", "PUBLIC").encode())
seed("eid_decrypt", b"\4\0\4AAAA\0\x18" + b"A" * 24 + PEM.encode())

# ---- dictionaries (libFuzzer syntax: "..." with \\xNN escapes) ----
def entry(word: str) -> str:
    return '"' + "".join(chr(b) if 0x20 <= b < 0x7f and chr(b) not in '"\\' else "\\x%02X" % b
                         for b in word.encode()) + '"'


def write_dict(name: str, words: list[str]) -> None:
    (DICT / f"{name}.dict").write_text(f"# {name}: written by make_corpus.py\n" + "\n".join(map(entry, words)) + "\n")


json_tokens = ["{", "}", "[", "]", ":", ",", '"', "\\u0000", "\\ud800", "null", "true", "false", "-0", "1e999",
               "9223372036854775808"]
keys = ["Response", "RequestId", "Error", "Code", "Message", "Text", "ErrCode", "ErrMsg", "LivenessDetail", "Errcode",
        "Livestatus", "Comparestatus", "Sim", "ReqTime", "IsNeedCharge", "IsVerifyIntention", "IntentionVerifyType",
        "IntentionVerifyData", "ErrorCode", "IntentionQuestionResult", "IntentionActionResult",
        "FinalResultDetailCode", "BizToken", "EidToken", "Url", "Status", "EidInfo", "DesKey", "UserInfo", "v",
        "kind", "eid", "biz_token", "eid_token", "rule_id", "merchant_id", "url", "extra", "created_at",
        "expires_at", "results_until", "init", "doing", "finished", "timeout", "AuthFailure.SignatureExpire",
        "RequestLimitExceeded", "InternalError", "InvalidParameterValue.BizTokenExpired",
        "FailedOperation.IdentityAuthLimitExceeded"]
DICT.mkdir(parents=True, exist_ok=True)
for name in ("parse", "response_json", "verdict", "session", "eid_status"):
    write_dict(name, json_tokens + ['"%s"' % k for k in keys] + (["Date", "Tue, 15 Nov 1994 08:12:31 GMT"] if name == "parse" else []))
write_dict("result_plan", ["text", "id_card", "best_frame", "video", "intention_verify", "intention_result", "all",
                           "eid_info", ","])
write_dict("redirect", ["token=", "?", "&", "#", "%", "%2B", "+", "://", "https://", "/"])
write_dict("sign", ["TC3-HMAC-SHA256", "HmacSHA1", "HmacSHA256", "SignatureMethod", "POST", "GET", "content-type",
                    "host", "application/json", "x-tc-action", "faceid"])
write_dict("validate", ["\u00b7", "\u2022", "\u30fb", "\uff0e", "\u2027", "\u22c5", "\uff65", ".", "\u5f20",
                        "\U00020000", "X", "x", "https://", "http://", "00000000", "0229"])
write_dict("check_body", ["\u00b7", "\u5f20", "data:video/mp4;base64,", "=", "LIP", "ACTION", "SILENT", "2,1",
                          "110101199003071233", "13800138000", "6212261000000000017", "00000000"])
write_dict("bodies", ["\u00b7", "\u5f20", "https://", "data:image/png;base64,", "=", "110101199003071233"])

# ---- check bodies (element checks and PaaS helpers) ----
def check_seed(action, flags, frames, fields):
    return bytes([action, flags, frames]) + b"\0".join(f.encode("utf-8") for f in fields)


zhang = ["110101199003071233", "张三"]
seed("check_body", check_seed(0, 0, 0, zhang))
seed("check_body", check_seed(0, 0, 0, ["11010119900307123x", " 阿卜杜拉•买买提 "]))
seed("check_body", check_seed(1, 4, 0, ["", "", "", "", "", "", "", "", "", "", "https://example.com/id.jpg"]))
seed("check_body", check_seed(2, 0, 0, zhang + ["", "", "20150101", "00000000"]))
seed("check_body", check_seed(3, 2 << 3, 0, zhang + ["13800138000"]))
seed("check_body", check_seed(3, 1 << 5, 0, zhang + ["18612345678"]))
seed("check_body", check_seed(5, 0, 0, zhang + ["13312345678"]))
seed("check_body", check_seed(7, 0, 0, ["", "李四", "18612345678"]))
seed("check_body", check_seed(8, 0, 0, ["", "", "13800138000"]))
seed("check_body", check_seed(12, 0, 0, zhang + ["13800138000", "6212261000000000017"]))
seed("check_body", check_seed(13, 0, 0, ["", "", "", "6212261000000000017"]))
seed("check_body", check_seed(14, 1, 4, zhang + ["", "", "", "", "LIP", "1234", "", "raw video bytes"]))
seed("check_body", check_seed(14, 0, 0, zhang + ["", "", "", "", "ACTION", "2,1", "", "data:video/mp4;base64,YWJj\nZGVm"]))
seed("check_body", check_seed(15, 2, 0, ["", "", "", "", "", "", "SILENT", "", "", "YWJj", "raw image"]))
seed("check_body", check_seed(16, 0, 0, zhang + ["", "", "", "", "", "", "订单1", "", "aGk="]))
seed("check_body", check_seed(17, 0, 0, []))

# write: every seed named by its content, a fresh directory per harness
for name, seeds in corpus.items():
    d = OUT / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    for s in seeds:
        (d / hashlib.sha1(s).hexdigest()[:16]).write_bytes(s)
    print(f"{name}: {len(set(seeds))} seeds")

