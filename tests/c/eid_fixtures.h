// clang-format off
/* Generated test data for tests/c/test_eid.c (E-ID DesKey / UserInfo). Do not edit.
 *
 * # The generator of this file (needs the openssl command). To regenerate, from the repository root:
 * #   sed -n '/^ \* # The generator/,/^ \*\/$/p' tests/c/eid_fixtures.h | sed '$d; s/^ \*\( \|$\)//' > /tmp/gen.py
 * #   .venv/bin/python /tmp/gen.py > tests/c/eid_fixtures.h     (clang-format is off in this file)
 * # The wrong and P-256 keys come from openssl and change on every run; the rest is deterministic.
 * import base64, json, subprocess, sys
 * from tcfaceid.emulator import gm
 * from tcfaceid.emulator.config import DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM as PEM
 *
 * d = gm.sm2_private_key_from_pem(PEM)
 * pub = gm.sm2_public_key(d)
 * b64 = lambda b: base64.b64encode(b).decode()
 *
 * def pad(data, how):
 *     n = 16 - len(data) % 16
 *     if how == "pkcs7":
 *         return data + bytes([n]) * n
 *     return data if n == 16 else data + (b" " if how == "space" else b"\x00") * n
 *
 * def user_json(name, idnum):
 *     return json.dumps({"name": name, "idtype": "01", "idnum": idnum}, ensure_ascii=False,
 *                       separators=(",", ":")).encode()
 *
 * def case(name, idnum, how, key_byte, k, der=False):
 *     key = bytes([key_byte]) * 8 + bytes(range(8))
 *     plain = user_json(name, idnum)
 *     raw = gm.sm2_encrypt(pub, key, k=k)
 *     des = gm.sm2_ciphertext_to_der(raw) if der else raw
 *     return b64(des), b64(gm.sm4_ecb_encrypt(key, pad(plain, how))), plain.decode()
 *
 * def openssl_key(*args):
 *     return subprocess.run(["openssl", "genpkey", *args], check=True, capture_output=True, text=True).stdout
 *
 * cases = {
 *     "ZERO": case("张三", "110101199003071233", "zero", 0x11, 1001),
 *     "PKCS7": case("李四", "440304198512010027", "pkcs7", 0x22, 1002),
 *     "SPACE": case("阿卜杜拉·买买提", "650102197806154350", "space", 0x33, 1003),
 *     "DER": case("王五", "310115199504308767", "zero", 0x44, 1004, der=True),
 * }
 * # JSON of exactly 64 bytes: PKCS#7 adds a whole block of 0x10, zero padding adds nothing.
 * cases["PKCS7_FULL"] = case("Li Xiaohua", "110101199003071233", "pkcs7", 0x55, 1005)
 * cases["ZERO_FULL"] = case("Li Xiaohua", "110101199003071233", "zero", 0x66, 1006)
 * assert len(user_json("Li Xiaohua", "110101199003071233")) == 64
 *
 * out = ["/" + "/ clang-format off", "/" + "* Generated test data for tests/c/test_eid.c (E-ID DesKey / UserInfo). Do not edit.", " *"]
 * out += [" * " + line if line else " *" for line in open(sys.argv[0], encoding="utf-8").read().splitlines()]
 * out += [" *" + "/", "#ifndef TCFT_EID_FIXTURES_H", "#define TCFT_EID_FIXTURES_H", ""]
 *
 * def const(name, value):
 *     lit = "".join(  # printable ASCII as is, the rest as octal escapes of the UTF-8 bytes
 *         c if 0x20 <= ord(c) < 0x7f and c not in '"\\?' else "\\%03o" % ord(c) if ord(c) < 0x80 else
 *                   "".join("\\%03o" % b for b in c.encode()) for c in value)
 *     out.append("static const char %s[] = \"%s\";" % (name, lit))
 *
 * const("EID_KEY_PEM", PEM)
 * for n, (des, ui, plain) in cases.items():
 *     const("EID_%s_DESKEY" % n, des)
 *     const("EID_%s_USERINFO" % n, ui)
 *     const("EID_%s_JSON" % n, plain)
 *
 * des, ui, plain = cases["ZERO"]
 * raw = bytearray(base64.b64decode(des)); raw[70] ^= 1  # flip a bit of C3
 * const("EID_TAMPERED_C3_DESKEY", b64(raw))
 * raw = bytearray(base64.b64decode(des)); raw[-1] ^= 0x80  # flip a bit of C2
 * const("EID_TAMPERED_C2_DESKEY", b64(raw))
 * raw = bytearray(base64.b64decode(des)); raw[64] ^= 1  # C1 no longer on the curve
 * const("EID_TAMPERED_C1_DESKEY", b64(raw))
 * # A DesKey whose SM2 plaintext is 15 bytes (not an SM4 key).
 * const("EID_SHORT_KEY_DESKEY", b64(gm.sm2_encrypt(pub, bytes(15), k=1007)))
 * # UserInfo encrypted under another SM4 key: decrypts to garbage.
 * const("EID_OTHER_KEY_USERINFO", case("张三", "110101199003071233", "zero", 0x77, 1008)[1])
 * # A valid session key, but the plaintext is a JSON array, not an object.
 * key = bytes([0x11]) * 8 + bytes(range(8))
 * const("EID_ARRAY_USERINFO", b64(gm.sm4_ecb_encrypt(key, pad(b'["not","an","object"]', "zero"))))
 * const("EID_WRONG_SM2_KEY_PEM", openssl_key("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2"))
 * const("EID_P256_KEY_PEM", openssl_key("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"))
 * # The bundled key as GmSSL's "gmssl ecparam -genkey -name sm2p256v1" writes it: SEC1 after the curve.
 * sec1 = subprocess.run(["openssl", "ec"], input=PEM, check=True, capture_output=True, text=True).stdout
 * const("EID_KEY_SEC1_PEM", "-----BEGIN EC PARAMETERS-----\nBggqgRzPVQGCLQ==\n-----END EC PARAMETERS-----\n"
 *       + sec1.replace("SM2 PRIVATE KEY", "EC PRIVATE KEY"))
 * const("EID_PUBLIC_KEY_PEM", gm.sm2_public_key_to_pem(pub))
 * out += ["", "#endif", "/" + "/ clang-format on"]
 * print("\n".join(out))
 */
#ifndef TCFT_EID_FIXTURES_H
#define TCFT_EID_FIXTURES_H

static const char EID_KEY_PEM[] = "-----BEGIN PRIVATE KEY-----\012MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgDX+uMLTAuJx6t9yx\0122Wfh1JaqbCqmoyIzLAumElrD5JehRANCAATbkEJAX8hMN/eh7SjZ9CPtNvgjFaaG\012AbcBdSG0q0zfEgUT2pOkHqgqrFI4fmLMl0uQbeBOX83jTlGHVk8ATZ2a\012-----END PRIVATE KEY-----\012";
static const char EID_ZERO_DESKEY[] = "BEFtBNVqRjIotf1/gFXb5vgXAGfJJrVHG0RzpOJ5ik+l7jO78LX2W99uuw8xj4xzhBxkUYSBdsWa2GKeEoeHnDUY7Wd3q3VLCl9xGdjC7eNvBhCOV/m79WpSRc4XadnQjWnbkVPZlVxf7anOG8A0UNo=";
static const char EID_ZERO_USERINFO[] = "i4HsgJg/IuBfaUaTHRxUUAoXwlK69c0KliM3d241/BIf4RuKl9GlyTj9L0s/xjv1tWH4A5M1M5Ptb2mxJ6oSJg==";
static const char EID_ZERO_JSON[] = "{\042name\042:\042\345\274\240\344\270\211\042,\042idtype\042:\04201\042,\042idnum\042:\042110101199003071233\042}";
static const char EID_PKCS7_DESKEY[] = "BC98dI2kS/c2F/nI1mP2sRbRIsbnzPLMf6McvkgypvZW8AjENeHo9B/ognAK0FVL8POoSEb4uEwiFjS0LUkqV/DQcHpjwPtOpWe7rbZlnB1aO7ssgYheNdyrzf04zke1Nzn8S89w8awWFiKOkxG8A3w=";
static const char EID_PKCS7_USERINFO[] = "cV0lt17hPoAncJwWp/4pgYbDwr7TayrkALBy4ax32yu2TC0b0+00PLauz9O68patbUYN4TxyvT3sWQDqTetsew==";
static const char EID_PKCS7_JSON[] = "{\042name\042:\042\346\235\216\345\233\233\042,\042idtype\042:\04201\042,\042idnum\042:\042440304198512010027\042}";
static const char EID_SPACE_DESKEY[] = "BJKHuGcXIbw3u0UCo7v17tUPR41n3UX65S4VuoH2EUs1kdeV3RNFl3MCFMBdwV3EFzO1n2MVcbu7BOwJlvBlRWwVazbcDmzGqjxmlQV3z/XZBVcROTYoExGSsmvBfI6T2mkWfX13jDeP/FlCAiSKdso=";
static const char EID_SPACE_USERINFO[] = "0D2nc3Gz8UrYkgIjBT33kTKOq7X0K1LkAaGiZBn7A/qNu2sPUYKBuWsE9BWF+iErXEzRAbK9oF3DMOJXNDbWGTqeEJSTwCLKdX/H3Np7MFo=";
static const char EID_SPACE_JSON[] = "{\042name\042:\042\351\230\277\345\215\234\346\235\234\346\213\211\302\267\344\271\260\344\271\260\346\217\220\042,\042idtype\042:\04201\042,\042idnum\042:\042650102197806154350\042}";
static const char EID_DER_DESKEY[] = "MHgCIHPDIRxcgQJR0Ly1iLM79GdPa0V6e51xy7DoNY8g/Z3cAiBYhuKJqYdaHXpzEPQvOjCk23HNR64QBg2S8WCQuuithgQg+gLOh6Hi6NGkOLlQqRcE6tAh309cVbD2S2yfMxPWIJAEEBNyndBFNYYxaAzr4jhv2B8=";
static const char EID_DER_USERINFO[] = "89QgeMzrlSyiHUpRN4fK7y+yM0wqYLs5k8cVtEfrAiURpOR/NFJfI7+S8eufFM5HnYnS6OYj4fZQhqCyCtLcIQ==";
static const char EID_DER_JSON[] = "{\042name\042:\042\347\216\213\344\272\224\042,\042idtype\042:\04201\042,\042idnum\042:\042310115199504308767\042}";
static const char EID_PKCS7_FULL_DESKEY[] = "BFJkihTzrpUkmFxj6WrYTFqtL7NwGW8orUWFGlNMQru2gJPBVYpsc3lRMbyBsJdooRgIl8pspHBIkMVRsE84yJEb+qvCVicpASd3j0EHROcVS3V1NHe39FfNTzghyZFKMUziiXX4f0o8+I2r3qBb5d8=";
static const char EID_PKCS7_FULL_USERINFO[] = "37gmZY9e9Znq8kPsknsDG8TwPbG0px0BLA+qP+KjtrbnVWRAq3kNwbICqm9n0NpGfiaOUX0I3qBzvHETolO5DDI7fYXb2tABmNXmn5chrwY=";
static const char EID_PKCS7_FULL_JSON[] = "{\042name\042:\042Li Xiaohua\042,\042idtype\042:\04201\042,\042idnum\042:\042110101199003071233\042}";
static const char EID_ZERO_FULL_DESKEY[] = "BNw/9CnBuYmrREkuazVUxYGjwyVYImDRVLjJwadyjD/kU24vdYVkOUolCXsCFfwX2F8/YajUR5PV08kMbMXE3esBrd+JaTe+rF7D0BpN/08xbkFuThYnUS+3JHdPbIJo3aCDxv7MYWM0um+x/LhhaTs=";
static const char EID_ZERO_FULL_USERINFO[] = "xQFL9ISMNZwlTZdqWgCdkQNIyGnJmQGoZoEd3p3qYTtICOkYQTxM7nCqz99/bbYSUMHEV081cxeIi7MugJGriw==";
static const char EID_ZERO_FULL_JSON[] = "{\042name\042:\042Li Xiaohua\042,\042idtype\042:\04201\042,\042idnum\042:\042110101199003071233\042}";
static const char EID_TAMPERED_C3_DESKEY[] = "BEFtBNVqRjIotf1/gFXb5vgXAGfJJrVHG0RzpOJ5ik+l7jO78LX2W99uuw8xj4xzhBxkUYSBdsWa2GKeEoeHnDUY7Wd3q3RLCl9xGdjC7eNvBhCOV/m79WpSRc4XadnQjWnbkVPZlVxf7anOG8A0UNo=";
static const char EID_TAMPERED_C2_DESKEY[] = "BEFtBNVqRjIotf1/gFXb5vgXAGfJJrVHG0RzpOJ5ik+l7jO78LX2W99uuw8xj4xzhBxkUYSBdsWa2GKeEoeHnDUY7Wd3q3VLCl9xGdjC7eNvBhCOV/m79WpSRc4XadnQjWnbkVPZlVxf7anOG8A0UFo=";
static const char EID_TAMPERED_C1_DESKEY[] = "BEFtBNVqRjIotf1/gFXb5vgXAGfJJrVHG0RzpOJ5ik+l7jO78LX2W99uuw8xj4xzhBxkUYSBdsWa2GKeEoeHnDQY7Wd3q3VLCl9xGdjC7eNvBhCOV/m79WpSRc4XadnQjWnbkVPZlVxf7anOG8A0UNo=";
static const char EID_SHORT_KEY_DESKEY[] = "BK1RaE+gSFzDO39wf58VLlazzkUCe+eOft3nCgAv9TN5J0lD7+gKsNIJWDyy1+8V7sjWpmOodQrqPiqopPbaSujJ7ZcApfYM3tNcw5srjEgYxHuTVoeTkiS25u3CN7HfXXSywoqJFq9M/jMeJOLlrg==";
static const char EID_OTHER_KEY_USERINFO[] = "w9Q9W/TSk8uhosELcgnt+iI+tTNwzLUFXrTLErsV8uREe8hQdafB9VeaGnTg527lKR1ki9TFARpnJ/9JlWEjgw==";
static const char EID_ARRAY_USERINFO[] = "+AQKm0OjIv/6sOvRbwqgBEG/YXrxcx7XYywkT47Aa1M=";
static const char EID_WRONG_SM2_KEY_PEM[] = "-----BEGIN PRIVATE KEY-----\012MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQguqicT03/FIU6et/g\0123Kjbfrib2Jrmy2b+Hum6Bqoc/xGhRANCAAQ1zbAQbGcG9Z1hf7umau06MBAdYsNT\012kBH9XY+x0krFNXPaX+sU8NFBZTkEMzcjCF9/+Glx1OEDuETIMaI+4ANj\012-----END PRIVATE KEY-----\012";
static const char EID_P256_KEY_PEM[] = "-----BEGIN PRIVATE KEY-----\012MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg5dEb+v9U2OrNSutA\012sGOtdCzzSx8oife8rqgXFapBRdyhRANCAAQy02iYRx5/2VPrlwGb86H4KAYSNjBE\012R03DRL6e20K+bi9TF0t4nzdRSOJHjy4jxF7LImuTQopBhi2czVg+431L\012-----END PRIVATE KEY-----\012";
static const char EID_KEY_SEC1_PEM[] = "-----BEGIN EC PARAMETERS-----\012BggqgRzPVQGCLQ==\012-----END EC PARAMETERS-----\012-----BEGIN EC PRIVATE KEY-----\012MHcCAQEEIA1/rjC0wLicerfcsdln4dSWqmwqpqMiMywLphJaw+SXoAoGCCqBHM9V\012AYItoUQDQgAE25BCQF/ITDf3oe0o2fQj7Tb4IxWmhgG3AXUhtKtM3xIFE9qTpB6o\012KqxSOH5izJdLkG3gTl/N405Rh1ZPAE2dmg==\012-----END EC PRIVATE KEY-----\012";
static const char EID_PUBLIC_KEY_PEM[] = "-----BEGIN PUBLIC KEY-----\012MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE25BCQF/ITDf3oe0o2fQj7Tb4IxWm\012hgG3AXUhtKtM3xIFE9qTpB6oKqxSOH5izJdLkG3gTl/N405Rh1ZPAE2dmg==\012-----END PUBLIC KEY-----\012";

#endif
// clang-format on
