/* Element checks and PaaS outcomes (tcf_check_outcome_from_json). The expected tables below
 * were generated once from faceid-api.md Appendix A (element_result_codes: code, meaning,
 * billed; actions[].possible_errors_go_sdk and api_error_codes for the PaaS actions, with the
 * billing notes of §4.2), the expected status chosen by keywords of the documented Chinese
 * meaning (shown in the comments) -- not from csrc/src/element.c. */
#include "internal.h"
#include "tcft.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct expect_row {
    const char *action;
    const char *code;
    int billed;
    tcf_check_status status;
} expect_row;

/* faceid-api.md §4.6 / element_result_codes: every documented code of every action. */
static const expect_row element_rows[] = {
    {"IdCardVerification", "0", 1, TCF_CHECK_MATCHED},     /* 姓名和身份证号一致 */
    {"IdCardVerification", "-1", 1, TCF_CHECK_MISMATCHED}, /* 姓名和身份证号不一致 */
    {"IdCardVerification", "-2", 0,
     TCF_CHECK_INVALID_INPUT}, /* 非法身份证号（长度、校验位等不正确） */
    {"IdCardVerification", "-3", 0, TCF_CHECK_INVALID_INPUT}, /* 非法姓名（长度、格式等不正确） */
    {"IdCardVerification", "-4", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 证件库服务异常 */
    {"IdCardVerification", "-5", 0, TCF_CHECK_NOT_FOUND}, /* 证件库中无此身份证记录 */
    {"IdCardVerification", "-6", 0,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 权威比对系统升级中，请稍后再试 */
    {"IdCardVerification", "-7", 0, TCF_CHECK_DAILY_LIMIT},   /* 认证次数超过当日限制 */
    {"IdCardOCRVerification", "0", 1, TCF_CHECK_MATCHED},     /* 姓名和身份证号一致 */
    {"IdCardOCRVerification", "-1", 1, TCF_CHECK_MISMATCHED}, /* 姓名和身份证号不一致 */
    {"IdCardOCRVerification", "-2", 0, TCF_CHECK_INVALID_INPUT},       /* 非法身份证号 */
    {"IdCardOCRVerification", "-3", 0, TCF_CHECK_INVALID_INPUT},       /* 非法姓名 */
    {"IdCardOCRVerification", "-4", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 证件库服务异常 */
    {"IdCardOCRVerification", "-5", 0, TCF_CHECK_NOT_FOUND}, /* 证件库中无此身份证记录 */
    {"IdCardOCRVerification", "-6", 0,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 权威比对系统升级中，请稍后再试 */
    {"IdCardOCRVerification", "-7", 0, TCF_CHECK_DAILY_LIMIT}, /* 认证次数超过当日限制 */
    {"CheckIdNameDate", "0", 1, TCF_CHECK_MATCHED},            /* 一致 */
    {"CheckIdNameDate", "-1", 1, TCF_CHECK_MISMATCHED},        /* 不一致 */
    {"CheckIdNameDate", "-2", 0, TCF_CHECK_INVALID_INPUT},     /* 非法身份证号 */
    {"CheckIdNameDate", "-3", 0, TCF_CHECK_INVALID_INPUT},     /* 非法姓名 */
    {"CheckIdNameDate", "-4", 0, TCF_CHECK_INVALID_INPUT},     /* 非法有效期 */
    {"CheckIdNameDate", "-5", 0, TCF_CHECK_NOT_FOUND},         /* 身份信息无效 */
    {"CheckIdNameDate", "-6", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 证件库服务异常 */
    {"CheckIdNameDate", "-7", 0, TCF_CHECK_NOT_FOUND}, /* 证件库中无此身份证记录 */
    {"CheckIdNameDate", "-8", 0, TCF_CHECK_DAILY_LIMIT}, /* 认证次数超过当日限制，请次日重试 */
    {"BankCard2EVerification", "0", 1, TCF_CHECK_MATCHED},       /* 认证通过 */
    {"BankCard2EVerification", "-1", 1, TCF_CHECK_MISMATCHED},   /* 认证未通过 */
    {"BankCard2EVerification", "-4", 1, TCF_CHECK_MISMATCHED},   /* 持卡人信息有误 */
    {"BankCard2EVerification", "-5", 1, TCF_CHECK_CARD_PROBLEM}, /* 未开通无卡支付 */
    {"BankCard2EVerification", "-6", 1, TCF_CHECK_CARD_PROBLEM}, /* 此卡被没收 */
    {"BankCard2EVerification", "-7", 1, TCF_CHECK_CARD_PROBLEM}, /* 无效卡号 */
    {"BankCard2EVerification", "-8", 1, TCF_CHECK_CARD_PROBLEM}, /* 此卡无对应发卡行 */
    {"BankCard2EVerification", "-9", 1, TCF_CHECK_CARD_PROBLEM}, /* 该卡未初始化或睡眠卡 */
    {"BankCard2EVerification", "-10", 1, TCF_CHECK_CARD_PROBLEM}, /* 作弊卡、吞卡 */
    {"BankCard2EVerification", "-11", 1, TCF_CHECK_CARD_PROBLEM}, /* 此卡已挂失 */
    {"BankCard2EVerification", "-12", 1, TCF_CHECK_CARD_PROBLEM}, /* 该卡已过期 */
    {"BankCard2EVerification", "-13", 1, TCF_CHECK_CARD_PROBLEM}, /* 受限制的卡 */
    {"BankCard2EVerification", "-14", 1, TCF_CHECK_CARD_PROBLEM}, /* 密码错误次数超限 */
    {"BankCard2EVerification", "-15", 1, TCF_CHECK_CARD_PROBLEM}, /* 发卡行不支持此交易 */
    {"BankCard2EVerification", "-18", 1, TCF_CHECK_CARD_PROBLEM}, /* 卡状态异常或卡号错误 */
    {"BankCard2EVerification", "-2", 0, TCF_CHECK_INVALID_INPUT}, /* 姓名校验不通过 */
    {"BankCard2EVerification", "-3", 0, TCF_CHECK_INVALID_INPUT}, /* 银行卡号格式有误 */
    {"BankCard2EVerification", "-16", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 验证中心服务繁忙 */
    {"BankCard2EVerification", "-17", 0, TCF_CHECK_DAILY_LIMIT}, /* 验证次数超限，请次日重试 */
    {"BankCardVerification", "0", 1, TCF_CHECK_MATCHED},         /* 认证通过 */
    {"BankCardVerification", "-1", 1, TCF_CHECK_MISMATCHED},    /* 认证未通过 */
    {"BankCardVerification", "-5", 1, TCF_CHECK_MISMATCHED},    /* 持卡人信息有误 */
    {"BankCardVerification", "-6", 1, TCF_CHECK_CARD_PROBLEM},  /* 未开通无卡支付 */
    {"BankCardVerification", "-7", 1, TCF_CHECK_CARD_PROBLEM},  /* 此卡被没收 */
    {"BankCardVerification", "-8", 1, TCF_CHECK_CARD_PROBLEM},  /* 无效卡号 */
    {"BankCardVerification", "-9", 1, TCF_CHECK_CARD_PROBLEM},  /* 此卡无对应发卡行 */
    {"BankCardVerification", "-10", 1, TCF_CHECK_CARD_PROBLEM}, /* 该卡未初始化或睡眠卡 */
    {"BankCardVerification", "-11", 1, TCF_CHECK_CARD_PROBLEM}, /* 作弊卡、吞卡 */
    {"BankCardVerification", "-12", 1, TCF_CHECK_CARD_PROBLEM}, /* 此卡已挂失 */
    {"BankCardVerification", "-13", 1, TCF_CHECK_CARD_PROBLEM}, /* 该卡已过期 */
    {"BankCardVerification", "-14", 1, TCF_CHECK_CARD_PROBLEM}, /* 受限制的卡 */
    {"BankCardVerification", "-15", 1, TCF_CHECK_CARD_PROBLEM}, /* 密码错误次数超限 */
    {"BankCardVerification", "-16", 1, TCF_CHECK_CARD_PROBLEM}, /* 发卡行不支持此交易 */
    {"BankCardVerification", "-20", 1, TCF_CHECK_CARD_PROBLEM}, /* 卡状态异常或卡号错误 */
    {"BankCardVerification", "-2", 0, TCF_CHECK_INVALID_INPUT}, /* 姓名校验不通过 */
    {"BankCardVerification", "-3", 0, TCF_CHECK_INVALID_INPUT}, /* 身份证号码有误 */
    {"BankCardVerification", "-4", 0, TCF_CHECK_INVALID_INPUT}, /* 银行卡号格式有误 */
    {"BankCardVerification", "-17", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 验证中心服务繁忙 */
    {"BankCardVerification", "-18", 0, TCF_CHECK_DAILY_LIMIT}, /* 验证次数超限，请次日重试 */
    {"BankCardVerification", "-19", 0,
     TCF_CHECK_UNSUPPORTED}, /* 该证件号暂不支持核验，当前仅支持二代身份证 */
    {"BankCard4EVerification", "0", 1, TCF_CHECK_MATCHED},        /* 认证通过 */
    {"BankCard4EVerification", "-1", 1, TCF_CHECK_MISMATCHED},    /* 认证未通过 */
    {"BankCard4EVerification", "-6", 1, TCF_CHECK_MISMATCHED},    /* 持卡人信息有误 */
    {"BankCard4EVerification", "-7", 1, TCF_CHECK_CARD_PROBLEM},  /* 未开通无卡支付 */
    {"BankCard4EVerification", "-8", 1, TCF_CHECK_CARD_PROBLEM},  /* 此卡被没收 */
    {"BankCard4EVerification", "-9", 1, TCF_CHECK_CARD_PROBLEM},  /* 无效卡号 */
    {"BankCard4EVerification", "-10", 1, TCF_CHECK_CARD_PROBLEM}, /* 此卡无对应发卡行 */
    {"BankCard4EVerification", "-11", 1, TCF_CHECK_CARD_PROBLEM}, /* 该卡未初始化或睡眠卡 */
    {"BankCard4EVerification", "-12", 1, TCF_CHECK_CARD_PROBLEM}, /* 作弊卡、吞卡 */
    {"BankCard4EVerification", "-13", 1, TCF_CHECK_CARD_PROBLEM}, /* 此卡已挂失 */
    {"BankCard4EVerification", "-14", 1, TCF_CHECK_CARD_PROBLEM}, /* 该卡已过期 */
    {"BankCard4EVerification", "-15", 1, TCF_CHECK_CARD_PROBLEM}, /* 受限制的卡 */
    {"BankCard4EVerification", "-16", 1, TCF_CHECK_CARD_PROBLEM}, /* 密码错误次数超限 */
    {"BankCard4EVerification", "-17", 1, TCF_CHECK_CARD_PROBLEM}, /* 发卡行不支持此交易 */
    {"BankCard4EVerification", "-21", 1, TCF_CHECK_CARD_PROBLEM}, /* 卡状态异常或卡号错误 */
    {"BankCard4EVerification", "-2", 0, TCF_CHECK_INVALID_INPUT}, /* 姓名校验不通过 */
    {"BankCard4EVerification", "-3", 0, TCF_CHECK_INVALID_INPUT}, /* 身份证号码有误 */
    {"BankCard4EVerification", "-4", 0, TCF_CHECK_INVALID_INPUT}, /* 银行卡号格式有误 */
    {"BankCard4EVerification", "-5", 0, TCF_CHECK_INVALID_INPUT}, /* 手机号码不合法 */
    {"BankCard4EVerification", "-18", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 验证中心服务繁忙 */
    {"BankCard4EVerification", "-19", 0, TCF_CHECK_DAILY_LIMIT}, /* 验证次数超限，请次日重试 */
    {"BankCard4EVerification", "-20", 0,
     TCF_CHECK_UNSUPPORTED}, /* 该证件号暂不支持核验，当前仅支持二代身份证 */
    {"CheckBankCardInformation", "0", 1, TCF_CHECK_ANSWERED},             /* 查询成功 */
    {"CheckBankCardInformation", "-1", 1, TCF_CHECK_NOT_FOUND},           /* 未查到信息 */
    {"CheckBankCardInformation", "-5", 1, TCF_CHECK_CARD_PROBLEM},        /* 卡号无效 */
    {"CheckBankCardInformation", "-2", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 验证中心服务繁忙 */
    {"CheckBankCardInformation", "-3", 0, TCF_CHECK_NOT_FOUND},           /* 银行卡不存在 */
    {"CheckBankCardInformation", "-4", 0,
     TCF_CHECK_DAILY_LIMIT}, /* 认证次数超过当日限制，请次日重试 */
    {"CheckBankCardInformation", "-6", 0, TCF_CHECK_UNSUPPORTED}, /* 暂不支持该银行卡种 */
    {"PhoneVerification", "0", 1, TCF_CHECK_MATCHED},             /* 三要素信息一致 */
    {"PhoneVerification", "-4", 1, TCF_CHECK_MISMATCHED},         /* 三要素信息不一致 */
    {"PhoneVerification", "-6", 0, TCF_CHECK_INVALID_INPUT},      /* 手机号码不合法 */
    {"PhoneVerification", "-7", 0, TCF_CHECK_INVALID_INPUT},      /* 身份证号码有误 */
    {"PhoneVerification", "-8", 0, TCF_CHECK_INVALID_INPUT},      /* 姓名校验不通过 */
    {"PhoneVerification", "-9", 0, TCF_CHECK_NOT_FOUND},          /* 没有记录 */
    {"PhoneVerification", "-11", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 验证中心服务繁忙 */
    {"PhoneVerification", "-12", 0, TCF_CHECK_DAILY_LIMIT}, /* 认证次数超过当日限制，请次日重试 */
    {"PhoneVerification", "-13", 0, TCF_CHECK_UNSUPPORTED}, /* 该号段不支持验证 */
    {"PhoneVerificationCMCC", "0", 1, TCF_CHECK_MATCHED},   /* 认证通过 */
    {"PhoneVerificationCMCC", "-4", 1,
     TCF_CHECK_MISMATCHED}, /* 信息不一致（手机号已实名，但姓名和身份证号与实名信息不一致） */
    {"PhoneVerificationCMCC", "-6", 0, TCF_CHECK_INVALID_INPUT},        /* 手机号码不合法 */
    {"PhoneVerificationCMCC", "-7", 0, TCF_CHECK_INVALID_INPUT},        /* 身份证号码有误 */
    {"PhoneVerificationCMCC", "-8", 0, TCF_CHECK_INVALID_INPUT},        /* 姓名校验不通过 */
    {"PhoneVerificationCMCC", "-9", 0, TCF_CHECK_NOT_FOUND},            /* 没有记录 */
    {"PhoneVerificationCMCC", "-11", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 验证中心服务繁忙 */
    {"PhoneVerificationCMCC", "-13", 0, TCF_CHECK_UNSUPPORTED}, /* 该号段不支持验证 */
    {"PhoneVerificationCTCC", "0", 1, TCF_CHECK_MATCHED},       /* 认证通过 */
    {"PhoneVerificationCTCC", "-4", 1,
     TCF_CHECK_MISMATCHED}, /* 信息不一致（手机号已实名，但姓名和身份证号与实名信息不一致） */
    {"PhoneVerificationCTCC", "-6", 0, TCF_CHECK_INVALID_INPUT},        /* 手机号码不合法 */
    {"PhoneVerificationCTCC", "-7", 0, TCF_CHECK_INVALID_INPUT},        /* 身份证号码有误 */
    {"PhoneVerificationCTCC", "-8", 0, TCF_CHECK_INVALID_INPUT},        /* 姓名校验不通过 */
    {"PhoneVerificationCTCC", "-9", 0, TCF_CHECK_NOT_FOUND},            /* 没有记录 */
    {"PhoneVerificationCTCC", "-11", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 验证中心服务繁忙 */
    {"PhoneVerificationCTCC", "-13", 0, TCF_CHECK_UNSUPPORTED}, /* 该号段不支持验证 */
    {"PhoneVerificationCUCC", "0", 1, TCF_CHECK_MATCHED},       /* 认证通过 */
    {"PhoneVerificationCUCC", "-4", 1,
     TCF_CHECK_MISMATCHED}, /* 信息不一致（手机号已实名，但姓名和身份证号与实名信息不一致） */
    {"PhoneVerificationCUCC", "-6", 0, TCF_CHECK_INVALID_INPUT},        /* 手机号码不合法 */
    {"PhoneVerificationCUCC", "-7", 0, TCF_CHECK_INVALID_INPUT},        /* 身份证号码有误 */
    {"PhoneVerificationCUCC", "-8", 0, TCF_CHECK_INVALID_INPUT},        /* 姓名校验不通过 */
    {"PhoneVerificationCUCC", "-9", 0, TCF_CHECK_NOT_FOUND},            /* 没有记录 */
    {"PhoneVerificationCUCC", "-11", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 验证中心服务繁忙 */
    {"PhoneVerificationCUCC", "-13", 0, TCF_CHECK_UNSUPPORTED},       /* 该号段不支持验证 */
    {"EncryptedPhoneVerification", "0", 1, TCF_CHECK_MATCHED},        /* 三要素信息一致 */
    {"EncryptedPhoneVerification", "-4", 1, TCF_CHECK_MISMATCHED},    /* 三要素信息不一致 */
    {"EncryptedPhoneVerification", "-7", 0, TCF_CHECK_INVALID_INPUT}, /* 身份证号码有误 */
    {"EncryptedPhoneVerification", "-8", 0, TCF_CHECK_INVALID_INPUT}, /* 参数错误 */
    {"EncryptedPhoneVerification", "-9", 0, TCF_CHECK_NOT_FOUND},     /* 没有记录 */
    {"EncryptedPhoneVerification", "-11", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 验证中心服务繁忙 */
    {"CheckPhoneAndName", "0", 1, TCF_CHECK_MATCHED},              /* 验证结果一致 */
    {"CheckPhoneAndName", "1", 1, TCF_CHECK_MISMATCHED},           /* 验证结果不一致 */
    {"CheckPhoneAndName", "-1", 0, TCF_CHECK_NOT_FOUND},           /* 查无记录 */
    {"CheckPhoneAndName", "-2", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 引擎未知错误 */
    {"CheckPhoneAndName", "-3", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 引擎服务异常 */
    {"CheckPhoneAndName", "-4", 0, TCF_CHECK_INVALID_INPUT},       /* 姓名校验不通过 */
    {"CheckPhoneAndName", "-5", 0, TCF_CHECK_INVALID_INPUT},       /* 手机号码不合法 */
    {"CheckPhoneAndName", "-6", 0, TCF_CHECK_DAILY_LIMIT}, /* 认证次数超过当日限制，请次日重试 */
    {"CheckPhoneAndName", "-13", 0, TCF_CHECK_UNSUPPORTED},   /* 该号段不支持验证 */
    {"MobileStatus", "0", 1, TCF_CHECK_ANSWERED},             /* 成功 */
    {"MobileStatus", "-1", 0, TCF_CHECK_NOT_FOUND},           /* 未查询到结果 */
    {"MobileStatus", "-2", 0, TCF_CHECK_INVALID_INPUT},       /* 手机号格式不正确 */
    {"MobileStatus", "-3", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 验证中心服务繁忙 */
    {"MobileStatus", "-4", 0, TCF_CHECK_DAILY_LIMIT}, /* 认证次数超过当日限制，请次日重试 */
    {"MobileStatus", "-13", 0, TCF_CHECK_UNSUPPORTED},               /* 该号段不支持验证 */
    {"MobileNetworkTimeVerification", "0", 1, TCF_CHECK_ANSWERED},   /* 成功 (doc writes "-0") */
    {"MobileNetworkTimeVerification", "-2", 1, TCF_CHECK_NOT_FOUND}, /* 手机号不存在 */
    {"MobileNetworkTimeVerification", "-3", 1,
     TCF_CHECK_NOT_FOUND}, /* 手机号存在，但无法查询到在网时长 */
    {"MobileNetworkTimeVerification", "-1", 0, TCF_CHECK_INVALID_INPUT}, /* 手机号格式不正确 */
    {"MobileNetworkTimeVerification", "-4", 0,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 验证中心服务繁忙 */
    {"MobileNetworkTimeVerification", "-5", 0,
     TCF_CHECK_DAILY_LIMIT}, /* 认证次数超过当日限制，请次日重试 */
    {"MobileNetworkTimeVerification", "-13", 0, TCF_CHECK_UNSUPPORTED}, /* 该号段不支持验证 */
    {"MinorsVerification", "0", 1, TCF_CHECK_ANSWERED},                 /* 成年 */
    {"MinorsVerification", "-1", 1, TCF_CHECK_ANSWERED},                /* 未成年 */
    {"MinorsVerification", "-3", 1, TCF_CHECK_MISMATCHED},    /* 姓名和身份证号不一致 */
    {"MinorsVerification", "-2", 0, TCF_CHECK_NOT_FOUND},     /* 未查询到手机号信息 */
    {"MinorsVerification", "-4", 0, TCF_CHECK_INVALID_INPUT}, /* 非法身份证号 */
    {"MinorsVerification", "-5", 0, TCF_CHECK_INVALID_INPUT}, /* 非法姓名 */
    {"MinorsVerification", "-6", 0, TCF_CHECK_SERVICE_UNAVAILABLE}, /* 权威数据源服务异常 */
    {"MinorsVerification", "-7", 0, TCF_CHECK_NOT_FOUND},           /* 未查询到身份信息 */
    {"MinorsVerification", "-8", 0,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 权威数据源升级中，请稍后再试 */
};

/* LivenessRecognition, LivenessCompare, ImageRecognition, ImageRecognitionV2: "Success" and
 * every FailedOperation.* their Go SDK comments document; billed from §4.2 (Success,
 * IdNameMisMatch, CompareLowSimilarity billed; IdPhotoPoorQuality, LifePhotoDetectFaces,
 * LifePhotoDetectFake, LifePhotoDetectNoFaces, CompareFail not billed; the rest undocumented). */
static const expect_row paas_rows[] = {
    {"LivenessRecognition", "Success", 1, TCF_CHECK_MATCHED},
    {"LivenessRecognition", "FailedOperation.ActionCloseEye", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 未检测到闭眼动作。 */
    {"LivenessRecognition", "FailedOperation.ActionFaceClose", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 脸离屏幕太近。 */
    {"LivenessRecognition", "FailedOperation.ActionFaceFar", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 脸离屏幕太远。 */
    {"LivenessRecognition", "FailedOperation.ActionFaceLeft", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 脸离屏幕太左。 */
    {"LivenessRecognition", "FailedOperation.ActionFaceRight", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 脸离屏幕太右。 */
    {"LivenessRecognition", "FailedOperation.ActionFirstAction", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 未检测到动作配合。 */
    {"LivenessRecognition", "FailedOperation.ActionLightDark", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 光线太暗。 */
    {"LivenessRecognition", "FailedOperation.ActionLightStrong", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 光线太强。 */
    {"LivenessRecognition", "FailedOperation.ActionNodetectFace", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 未能检测到完整人脸。 */
    {"LivenessRecognition", "FailedOperation.ActionOpenMouth", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 未检测到张嘴动作。 */
    {"LivenessRecognition", "FailedOperation.CompareFail", 0,
     TCF_CHECK_MISMATCHED}, /* 比对失败。 */
    {"LivenessRecognition", "FailedOperation.CompareLibServiceUnavailable", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 比对库源维护中，暂时不可用 */
    {"LivenessRecognition", "FailedOperation.CompareLowSimilarity", 1,
     TCF_CHECK_MISMATCHED}, /* 比对相似度未达到通过标准。 */
    {"LivenessRecognition", "FailedOperation.CompareSystemError", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 调用比对引擎接口出错。 */
    {"LivenessRecognition", "FailedOperation.DecryptSystemError", -1,
     TCF_CHECK_INVALID_INPUT}, /* 解密失败。 */
    {"LivenessRecognition", "FailedOperation.DownLoadError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 文件下载失败。 */
    {"LivenessRecognition", "FailedOperation.DownLoadTimeoutError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 文件下载超时。 */
    {"LivenessRecognition", "FailedOperation.IdFormatError", -1,
     TCF_CHECK_INVALID_INPUT}, /* 输入的身份证号有误。 */
    {"LivenessRecognition", "FailedOperation.IdNameMisMatch", 1,
     TCF_CHECK_MISMATCHED}, /* 姓名和身份证号不一致，请核实后重试。 */
    {"LivenessRecognition", "FailedOperation.IdNoExistSystem", -1,
     TCF_CHECK_NOT_FOUND}, /* 库中无此号，请到户籍所在地进行核实。 */
    {"LivenessRecognition", "FailedOperation.IdPhotoNoExist", -1,
     TCF_CHECK_NOT_FOUND}, /* 库中无此号照片，请到户籍所在地进行核实。 */
    {"LivenessRecognition", "FailedOperation.IdPhotoPoorQuality", 0,
     TCF_CHECK_NOT_FOUND}, /* 证件图片质量差，请更新后重试。 */
    {"LivenessRecognition", "FailedOperation.IdentityAuthLimitExceeded", -1,
     TCF_CHECK_DAILY_LIMIT}, /* 姓名/身份证号认证次数超过当日限制，请次日重试 */
    {"LivenessRecognition", "FailedOperation.LifePhotoDetectFaces", 0,
     TCF_CHECK_MEDIA_PROBLEM}, /* 检测到多张人脸。 */
    {"LivenessRecognition", "FailedOperation.LifePhotoDetectFake", 0,
     TCF_CHECK_LIVENESS_FAILED}, /* 实人比对没通过。 */
    {"LivenessRecognition", "FailedOperation.LifePhotoDetectNoFaces", 0,
     TCF_CHECK_MEDIA_PROBLEM}, /* 未能检测到完整人脸。 */
    {"LivenessRecognition", "FailedOperation.LifePhotoSizeError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 传入图片过大或过小。 */
    {"LivenessRecognition", "FailedOperation.LipFaceIncomplete", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 脸部未完整露出。 */
    {"LivenessRecognition", "FailedOperation.LipMoveSmall", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 嘴唇动作幅度过小。 */
    {"LivenessRecognition", "FailedOperation.LipNetFailed", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频拉取失败，请重试。 */
    {"LivenessRecognition", "FailedOperation.LipSizeError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频为空，或大小不合适，请控制录制时长在6s左右。 */
    {"LivenessRecognition", "FailedOperation.LipVideoInvalid", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频格式有误。 */
    {"LivenessRecognition", "FailedOperation.LipVideoQuaility", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频像素太低。 */
    {"LivenessRecognition", "FailedOperation.LipVoiceDetect", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 未检测到声音。 */
    {"LivenessRecognition", "FailedOperation.LipVoiceLow", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频声音太小。 */
    {"LivenessRecognition", "FailedOperation.LipVoiceRecognize", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 声音识别失败。 */
    {"LivenessRecognition", "FailedOperation.LivessBestFrameError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 人脸检测失败，无法提取比对照。 */
    {"LivenessRecognition", "FailedOperation.LivessDetectFail", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 活体检测没通过。 */
    {"LivenessRecognition", "FailedOperation.LivessDetectFake", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 疑似非真人录制。 */
    {"LivenessRecognition", "FailedOperation.LivessSystemError", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 调用活体引擎接口出错。 */
    {"LivenessRecognition", "FailedOperation.LivessUnknownError", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 视频实人检测没通过。 */
    {"LivenessRecognition", "FailedOperation.NameFormatError", -1,
     TCF_CHECK_INVALID_INPUT}, /* 输入的姓名有误。 */
    {"LivenessRecognition", "FailedOperation.SilentDetectFail", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 实人检测失败。 */
    {"LivenessRecognition", "FailedOperation.SilentThreshold", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 实人检测未达到通过标准。 */
    {"LivenessRecognition", "FailedOperation.SilentTooShort", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频录制时间过短，请录制2秒以上的视频。 */
    {"LivenessRecognition", "FailedOperation.StsUnAuthErrError", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* STS未授权。 */
    {"LivenessRecognition", "FailedOperation.UnKnown", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 内部未知错误。 */
    {"LivenessCompare", "Success", 1, TCF_CHECK_MATCHED},
    {"LivenessCompare", "FailedOperation.ActionCloseEye", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 未检测到闭眼动作。 */
    {"LivenessCompare", "FailedOperation.ActionFaceClose", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 脸离屏幕太近。 */
    {"LivenessCompare", "FailedOperation.ActionFaceFar", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 脸离屏幕太远。 */
    {"LivenessCompare", "FailedOperation.ActionFaceLeft", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 脸离屏幕太左。 */
    {"LivenessCompare", "FailedOperation.ActionFaceRight", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 脸离屏幕太右。 */
    {"LivenessCompare", "FailedOperation.ActionFirstAction", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 未检测到动作配合。 */
    {"LivenessCompare", "FailedOperation.ActionLightDark", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 光线太暗。 */
    {"LivenessCompare", "FailedOperation.ActionLightStrong", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 光线太强。 */
    {"LivenessCompare", "FailedOperation.ActionNodetectFace", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 未能检测到完整人脸。 */
    {"LivenessCompare", "FailedOperation.ActionOpenMouth", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 未检测到张嘴动作。 */
    {"LivenessCompare", "FailedOperation.CompareFail", 0, TCF_CHECK_MISMATCHED}, /* 比对失败。 */
    {"LivenessCompare", "FailedOperation.CompareLowSimilarity", 1,
     TCF_CHECK_MISMATCHED}, /* 比对相似度未达到通过标准。 */
    {"LivenessCompare", "FailedOperation.CompareSystemError", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 调用比对引擎接口出错。 */
    {"LivenessCompare", "FailedOperation.CompressVideoError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* The video compression failed. Please try again or reduce the size
                                  of the input video. */
    {"LivenessCompare", "FailedOperation.DownLoadError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 文件下载失败。 */
    {"LivenessCompare", "FailedOperation.DownLoadTimeoutError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 文件下载超时。 */
    {"LivenessCompare", "FailedOperation.LifePhotoDetectFaces", 0,
     TCF_CHECK_MEDIA_PROBLEM}, /* 检测到多张人脸。 */
    {"LivenessCompare", "FailedOperation.LifePhotoDetectFake", 0,
     TCF_CHECK_LIVENESS_FAILED}, /* 实人比对没通过。 */
    {"LivenessCompare", "FailedOperation.LifePhotoDetectNoFaces", 0,
     TCF_CHECK_MEDIA_PROBLEM}, /* 未能检测到完整人脸。 */
    {"LivenessCompare", "FailedOperation.LifePhotoPoorQuality", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 传入图片分辨率太低，请重新上传。 */
    {"LivenessCompare", "FailedOperation.LifePhotoSizeError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 传入图片过大或过小。 */
    {"LivenessCompare", "FailedOperation.LipFaceIncomplete", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 脸部未完整露出。 */
    {"LivenessCompare", "FailedOperation.LipMoveSmall", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 嘴唇动作幅度过小。 */
    {"LivenessCompare", "FailedOperation.LipNetFailed", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频拉取失败，请重试。 */
    {"LivenessCompare", "FailedOperation.LipSizeError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频为空，或大小不合适，请控制录制时长在6s左右。 */
    {"LivenessCompare", "FailedOperation.LipVideoInvalid", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频格式有误。 */
    {"LivenessCompare", "FailedOperation.LipVideoQuaility", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频像素太低。 */
    {"LivenessCompare", "FailedOperation.LipVoiceDetect", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 未检测到声音。 */
    {"LivenessCompare", "FailedOperation.LipVoiceLow", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频声音太小。 */
    {"LivenessCompare", "FailedOperation.LipVoiceRecognize", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 声音识别失败。 */
    {"LivenessCompare", "FailedOperation.LivessBestFrameError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 人脸检测失败，无法提取比对照。 */
    {"LivenessCompare", "FailedOperation.LivessDetectFail", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 活体检测没通过。 */
    {"LivenessCompare", "FailedOperation.LivessDetectFake", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 疑似非真人录制。 */
    {"LivenessCompare", "FailedOperation.LivessSystemError", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 调用活体引擎接口出错。 */
    {"LivenessCompare", "FailedOperation.LivessUnknownError", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 视频实人检测没通过。 */
    {"LivenessCompare", "FailedOperation.SilentDetectFail", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 实人检测失败。 */
    {"LivenessCompare", "FailedOperation.SilentEyeLiveFail", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 眼睛检测失败。 */
    {"LivenessCompare", "FailedOperation.SilentFaceDetectFail", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频未检测到人脸。 */
    {"LivenessCompare", "FailedOperation.SilentFaceQualityFail", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频中人脸质量低。 */
    {"LivenessCompare", "FailedOperation.SilentFaceWithMaskFail", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 检测到带口罩。 */
    {"LivenessCompare", "FailedOperation.SilentMouthLiveFail", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 嘴巴检测失败。 */
    {"LivenessCompare", "FailedOperation.SilentMultiFaceFail", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频检测中有多个人脸。 */
    {"LivenessCompare", "FailedOperation.SilentPictureLiveFail", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 疑似翻拍。 */
    {"LivenessCompare", "FailedOperation.SilentThreshold", -1,
     TCF_CHECK_LIVENESS_FAILED}, /* 实人检测未达到通过标准。 */
    {"LivenessCompare", "FailedOperation.SilentTooShort", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 视频录制时间过短，请录制2秒以上的视频。 */
    {"LivenessCompare", "FailedOperation.UnKnown", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 内部未知错误。 */
    {"ImageRecognition", "Success", 1, TCF_CHECK_MATCHED},
    {"ImageRecognition", "FailedOperation.CompareFail", 0, TCF_CHECK_MISMATCHED}, /* 比对失败。 */
    {"ImageRecognition", "FailedOperation.CompareLibServiceUnavailable", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 比对库源维护中，暂时不可用 */
    {"ImageRecognition", "FailedOperation.CompareLowSimilarity", 1,
     TCF_CHECK_MISMATCHED}, /* 比对相似度未达到通过标准。 */
    {"ImageRecognition", "FailedOperation.CompareSystemError", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 调用比对引擎接口出错。 */
    {"ImageRecognition", "FailedOperation.DecryptSystemError", -1,
     TCF_CHECK_INVALID_INPUT}, /* 解密失败。 */
    {"ImageRecognition", "FailedOperation.IdFormatError", -1,
     TCF_CHECK_INVALID_INPUT}, /* 输入的身份证号有误。 */
    {"ImageRecognition", "FailedOperation.IdNameMisMatch", 1,
     TCF_CHECK_MISMATCHED}, /* 姓名和身份证号不一致，请核实后重试。 */
    {"ImageRecognition", "FailedOperation.IdNoExistSystem", -1,
     TCF_CHECK_NOT_FOUND}, /* 库中无此号，请到户籍所在地进行核实。 */
    {"ImageRecognition", "FailedOperation.IdPhotoNoExist", -1,
     TCF_CHECK_NOT_FOUND}, /* 库中无此号照片，请到户籍所在地进行核实。 */
    {"ImageRecognition", "FailedOperation.IdPhotoPoorQuality", 0,
     TCF_CHECK_NOT_FOUND}, /* 证件图片质量差，请更新后重试。 */
    {"ImageRecognition", "FailedOperation.IdPhotoSystemNoanswer", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 客户库自建库或认证中心返照失败，请稍后再试。 */
    {"ImageRecognition", "FailedOperation.IdentityAuthLimitExceeded", -1,
     TCF_CHECK_DAILY_LIMIT}, /* 姓名/身份证号认证次数超过当日限制，请次日重试 */
    {"ImageRecognition", "FailedOperation.LifePhotoDetectFaces", 0,
     TCF_CHECK_MEDIA_PROBLEM}, /* 检测到多张人脸。 */
    {"ImageRecognition", "FailedOperation.LifePhotoDetectFake", 0,
     TCF_CHECK_LIVENESS_FAILED}, /* 实人比对没通过。 */
    {"ImageRecognition", "FailedOperation.LifePhotoDetectNoFaces", 0,
     TCF_CHECK_MEDIA_PROBLEM}, /* 未能检测到完整人脸。 */
    {"ImageRecognition", "FailedOperation.LifePhotoPoorQuality", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 传入图片分辨率太低，请重新上传。 */
    {"ImageRecognition", "FailedOperation.LifePhotoSizeError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 传入图片过大或过小。 */
    {"ImageRecognition", "FailedOperation.NameFormatError", -1,
     TCF_CHECK_INVALID_INPUT}, /* 输入的姓名有误。 */
    {"ImageRecognition", "FailedOperation.StsUnAuthErrError", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* STS未授权。 */
    {"ImageRecognition", "FailedOperation.UnKnown", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 内部未知错误。 */
    {"ImageRecognitionV2", "Success", 1, TCF_CHECK_MATCHED},
    {"ImageRecognitionV2", "FailedOperation.CompareFail", 0, TCF_CHECK_MISMATCHED}, /* 比对失败。 */
    {"ImageRecognitionV2", "FailedOperation.CompareLibServiceUnavailable", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 比对库源维护中，暂时不可用 */
    {"ImageRecognitionV2", "FailedOperation.CompareLowSimilarity", 1,
     TCF_CHECK_MISMATCHED}, /* 比对相似度未达到通过标准。 */
    {"ImageRecognitionV2", "FailedOperation.CompareSystemError", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 调用比对引擎接口出错。 */
    {"ImageRecognitionV2", "FailedOperation.DecryptSystemError", -1,
     TCF_CHECK_INVALID_INPUT}, /* 解密失败。 */
    {"ImageRecognitionV2", "FailedOperation.IdFormatError", -1,
     TCF_CHECK_INVALID_INPUT}, /* 输入的身份证号有误。 */
    {"ImageRecognitionV2", "FailedOperation.IdNameMisMatch", 1,
     TCF_CHECK_MISMATCHED}, /* 姓名和身份证号不一致，请核实后重试。 */
    {"ImageRecognitionV2", "FailedOperation.IdNoExistSystem", -1,
     TCF_CHECK_NOT_FOUND}, /* 库中无此号，请到户籍所在地进行核实。 */
    {"ImageRecognitionV2", "FailedOperation.IdPhotoNoExist", -1,
     TCF_CHECK_NOT_FOUND}, /* 库中无此号照片，请到户籍所在地进行核实。 */
    {"ImageRecognitionV2", "FailedOperation.IdPhotoPoorQuality", 0,
     TCF_CHECK_NOT_FOUND}, /* 证件图片质量差，请更新后重试。 */
    {"ImageRecognitionV2", "FailedOperation.IdPhotoSystemNoanswer", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 客户库自建库或认证中心返照失败，请稍后再试。 */
    {"ImageRecognitionV2", "FailedOperation.IdentityAuthLimitExceeded", -1,
     TCF_CHECK_DAILY_LIMIT}, /* 姓名/身份证号认证次数超过当日限制，请次日重试 */
    {"ImageRecognitionV2", "FailedOperation.LifePhotoDetectFaces", 0,
     TCF_CHECK_MEDIA_PROBLEM}, /* 检测到多张人脸。 */
    {"ImageRecognitionV2", "FailedOperation.LifePhotoDetectFake", 0,
     TCF_CHECK_LIVENESS_FAILED}, /* 实人比对没通过。 */
    {"ImageRecognitionV2", "FailedOperation.LifePhotoDetectNoFaces", 0,
     TCF_CHECK_MEDIA_PROBLEM}, /* 未能检测到完整人脸。 */
    {"ImageRecognitionV2", "FailedOperation.LifePhotoPoorQuality", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 传入图片分辨率太低，请重新上传。 */
    {"ImageRecognitionV2", "FailedOperation.LifePhotoSizeError", -1,
     TCF_CHECK_MEDIA_PROBLEM}, /* 传入图片过大或过小。 */
    {"ImageRecognitionV2", "FailedOperation.NameFormatError", -1,
     TCF_CHECK_INVALID_INPUT}, /* 输入的姓名有误。 */
    {"ImageRecognitionV2", "FailedOperation.StsUnAuthErrError", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* STS未授权。 */
    {"ImageRecognitionV2", "FailedOperation.UnKnown", -1,
     TCF_CHECK_SERVICE_UNAVAILABLE}, /* 内部未知错误。 */
};

/* FailedOperation codes another of the four PaaS actions documents, but not this one. */
static const struct {
    const char *action;
    const char *code;
} paas_undocumented[] = {
    {"LivenessRecognition", "FailedOperation.CompressVideoError"},
    {"LivenessRecognition", "FailedOperation.IdPhotoSystemNoanswer"},
    {"LivenessRecognition", "FailedOperation.LifePhotoPoorQuality"},
    {"LivenessRecognition", "FailedOperation.SilentEyeLiveFail"},
    {"LivenessRecognition", "FailedOperation.SilentFaceDetectFail"},
    {"LivenessRecognition", "FailedOperation.SilentFaceQualityFail"},
    {"LivenessRecognition", "FailedOperation.SilentFaceWithMaskFail"},
    {"LivenessRecognition", "FailedOperation.SilentMouthLiveFail"},
    {"LivenessRecognition", "FailedOperation.SilentMultiFaceFail"},
    {"LivenessRecognition", "FailedOperation.SilentPictureLiveFail"},
    {"LivenessCompare", "FailedOperation.CompareLibServiceUnavailable"},
    {"LivenessCompare", "FailedOperation.DecryptSystemError"},
    {"LivenessCompare", "FailedOperation.IdFormatError"},
    {"LivenessCompare", "FailedOperation.IdNameMisMatch"},
    {"LivenessCompare", "FailedOperation.IdNoExistSystem"},
    {"LivenessCompare", "FailedOperation.IdPhotoNoExist"},
    {"LivenessCompare", "FailedOperation.IdPhotoPoorQuality"},
    {"LivenessCompare", "FailedOperation.IdPhotoSystemNoanswer"},
    {"LivenessCompare", "FailedOperation.IdentityAuthLimitExceeded"},
    {"LivenessCompare", "FailedOperation.NameFormatError"},
    {"LivenessCompare", "FailedOperation.StsUnAuthErrError"},
    {"ImageRecognition", "FailedOperation.ActionCloseEye"},
    {"ImageRecognition", "FailedOperation.ActionFaceClose"},
    {"ImageRecognition", "FailedOperation.ActionFaceFar"},
    {"ImageRecognition", "FailedOperation.ActionFaceLeft"},
    {"ImageRecognition", "FailedOperation.ActionFaceRight"},
    {"ImageRecognition", "FailedOperation.ActionFirstAction"},
    {"ImageRecognition", "FailedOperation.ActionLightDark"},
    {"ImageRecognition", "FailedOperation.ActionLightStrong"},
    {"ImageRecognition", "FailedOperation.ActionNodetectFace"},
    {"ImageRecognition", "FailedOperation.ActionOpenMouth"},
    {"ImageRecognition", "FailedOperation.CompressVideoError"},
    {"ImageRecognition", "FailedOperation.DownLoadError"},
    {"ImageRecognition", "FailedOperation.DownLoadTimeoutError"},
    {"ImageRecognition", "FailedOperation.LipFaceIncomplete"},
    {"ImageRecognition", "FailedOperation.LipMoveSmall"},
    {"ImageRecognition", "FailedOperation.LipNetFailed"},
    {"ImageRecognition", "FailedOperation.LipSizeError"},
    {"ImageRecognition", "FailedOperation.LipVideoInvalid"},
    {"ImageRecognition", "FailedOperation.LipVideoQuaility"},
    {"ImageRecognition", "FailedOperation.LipVoiceDetect"},
    {"ImageRecognition", "FailedOperation.LipVoiceLow"},
    {"ImageRecognition", "FailedOperation.LipVoiceRecognize"},
    {"ImageRecognition", "FailedOperation.LivessBestFrameError"},
    {"ImageRecognition", "FailedOperation.LivessDetectFail"},
    {"ImageRecognition", "FailedOperation.LivessDetectFake"},
    {"ImageRecognition", "FailedOperation.LivessSystemError"},
    {"ImageRecognition", "FailedOperation.LivessUnknownError"},
    {"ImageRecognition", "FailedOperation.SilentDetectFail"},
    {"ImageRecognition", "FailedOperation.SilentEyeLiveFail"},
    {"ImageRecognition", "FailedOperation.SilentFaceDetectFail"},
    {"ImageRecognition", "FailedOperation.SilentFaceQualityFail"},
    {"ImageRecognition", "FailedOperation.SilentFaceWithMaskFail"},
    {"ImageRecognition", "FailedOperation.SilentMouthLiveFail"},
    {"ImageRecognition", "FailedOperation.SilentMultiFaceFail"},
    {"ImageRecognition", "FailedOperation.SilentPictureLiveFail"},
    {"ImageRecognition", "FailedOperation.SilentThreshold"},
    {"ImageRecognition", "FailedOperation.SilentTooShort"},
    {"ImageRecognitionV2", "FailedOperation.ActionCloseEye"},
    {"ImageRecognitionV2", "FailedOperation.ActionFaceClose"},
    {"ImageRecognitionV2", "FailedOperation.ActionFaceFar"},
    {"ImageRecognitionV2", "FailedOperation.ActionFaceLeft"},
    {"ImageRecognitionV2", "FailedOperation.ActionFaceRight"},
    {"ImageRecognitionV2", "FailedOperation.ActionFirstAction"},
    {"ImageRecognitionV2", "FailedOperation.ActionLightDark"},
    {"ImageRecognitionV2", "FailedOperation.ActionLightStrong"},
    {"ImageRecognitionV2", "FailedOperation.ActionNodetectFace"},
    {"ImageRecognitionV2", "FailedOperation.ActionOpenMouth"},
    {"ImageRecognitionV2", "FailedOperation.CompressVideoError"},
    {"ImageRecognitionV2", "FailedOperation.DownLoadError"},
    {"ImageRecognitionV2", "FailedOperation.DownLoadTimeoutError"},
    {"ImageRecognitionV2", "FailedOperation.LipFaceIncomplete"},
    {"ImageRecognitionV2", "FailedOperation.LipMoveSmall"},
    {"ImageRecognitionV2", "FailedOperation.LipNetFailed"},
    {"ImageRecognitionV2", "FailedOperation.LipSizeError"},
    {"ImageRecognitionV2", "FailedOperation.LipVideoInvalid"},
    {"ImageRecognitionV2", "FailedOperation.LipVideoQuaility"},
    {"ImageRecognitionV2", "FailedOperation.LipVoiceDetect"},
    {"ImageRecognitionV2", "FailedOperation.LipVoiceLow"},
    {"ImageRecognitionV2", "FailedOperation.LipVoiceRecognize"},
    {"ImageRecognitionV2", "FailedOperation.LivessBestFrameError"},
    {"ImageRecognitionV2", "FailedOperation.LivessDetectFail"},
    {"ImageRecognitionV2", "FailedOperation.LivessDetectFake"},
    {"ImageRecognitionV2", "FailedOperation.LivessSystemError"},
    {"ImageRecognitionV2", "FailedOperation.LivessUnknownError"},
    {"ImageRecognitionV2", "FailedOperation.SilentDetectFail"},
    {"ImageRecognitionV2", "FailedOperation.SilentEyeLiveFail"},
    {"ImageRecognitionV2", "FailedOperation.SilentFaceDetectFail"},
    {"ImageRecognitionV2", "FailedOperation.SilentFaceQualityFail"},
    {"ImageRecognitionV2", "FailedOperation.SilentFaceWithMaskFail"},
    {"ImageRecognitionV2", "FailedOperation.SilentMouthLiveFail"},
    {"ImageRecognitionV2", "FailedOperation.SilentMultiFaceFail"},
    {"ImageRecognitionV2", "FailedOperation.SilentPictureLiveFail"},
    {"ImageRecognitionV2", "FailedOperation.SilentThreshold"},
    {"ImageRecognitionV2", "FailedOperation.SilentTooShort"},
};

#define COUNT(a) (sizeof a / sizeof a[0])

static int is_query(const char *action)
{
    return strcmp(action, "MobileStatus") == 0 ||
           strcmp(action, "MobileNetworkTimeVerification") == 0 ||
           strcmp(action, "CheckBankCardInformation") == 0 ||
           strcmp(action, "MinorsVerification") == 0;
}

/* The outcome of text for action (NULL on failure, with the reason printed). */
static tcf_check_outcome *outcome_of(const char *action, const char *text)
{
    tcf_check_outcome *o = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_check_outcome_from_json(&o, action, text, strlen(text), &err);
    if (rc != 0 || o == NULL) {
        printf("    %s %s: rc=%d message=%s\n", action, text, rc, err.message);
        return NULL;
    }
    return o;
}

/* The outcome of {"Result": code, "Description": "..."}. */
static tcf_check_outcome *result_of(const char *action, const char *code)
{
    char text[256];
    snprintf(text, sizeof text,
             "{\"Result\":\"%s\",\"Description\":\"\\u4e00\\u81f4\",\"RequestId\":\"r-1\"}", code);
    return outcome_of(action, text);
}

/* Checks one documented row; prints what differs. */
static int row_ok(const expect_row *r, int paas)
{
    tcf_check_outcome *o = result_of(r->action, r->code);
    if (o == NULL)
        return 0;
    int want_matched = -1;
    if (!is_query(r->action) && r->status == TCF_CHECK_MATCHED)
        want_matched = 1;
    if (!is_query(r->action) && r->status == TCF_CHECK_MISMATCHED)
        want_matched = 0;
    const char *m = tcf_check_outcome_meaning(o);
    int ok = tcf_check_outcome_status(o) == r->status && tcf_check_outcome_billed(o) == r->billed &&
             tcf_check_outcome_matched(o) == want_matched &&
             strcmp(tcf_check_outcome_result(o), r->code) == 0 &&
             strcmp(tcf_check_outcome_action(o), r->action) == 0 && m != NULL && m[0] != '\0' &&
             strstr(m, "not in the") == NULL;
    /* The daily-limit status agrees with the transport's table (element checks only). */
    if (!paas && (r->status == TCF_CHECK_DAILY_LIMIT) != tcf_daily_limit_result(r->action, r->code))
        ok = 0;
    if (!ok)
        printf("    %s %s: status %s (want %s) billed %d (want %d) matched %d (want %d) "
               "meaning \"%s\"\n",
               r->action, r->code, tcf_check_status_name(tcf_check_outcome_status(o)),
               tcf_check_status_name(r->status), tcf_check_outcome_billed(o), r->billed,
               tcf_check_outcome_matched(o), want_matched, m ? m : "(null)");
    tcf_check_outcome_free(o);
    return ok;
}

TCFT_TEST(element_every_documented_code)
{
    for (size_t i = 0; i < COUNT(element_rows); i++)
        TCFT_CHECK(row_ok(&element_rows[i], 0));
    TCFT_CHECK(COUNT(element_rows) == 164);
}

/* No action knows more codes than documented: every other small number is UNKNOWN, billed -1. */
TCFT_TEST(element_undocumented_codes_unknown)
{
    for (size_t i = 0; i < COUNT(element_rows); i++) {
        const char *action = element_rows[i].action;
        if (i > 0 && strcmp(action, element_rows[i - 1].action) == 0)
            continue;
        for (int n = -40; n <= 40; n++) {
            char code[16];
            snprintf(code, sizeof code, "%d", n);
            int documented = 0;
            for (size_t j = 0; j < COUNT(element_rows); j++)
                if (strcmp(element_rows[j].action, action) == 0 &&
                    strcmp(element_rows[j].code, code) == 0)
                    documented = 1;
            if (documented)
                continue;
            tcf_check_outcome *o = result_of(action, code);
            TCFT_CHECK(o != NULL);
            int ok = tcf_check_outcome_status(o) == TCF_CHECK_UNKNOWN &&
                     tcf_check_outcome_billed(o) == -1 && tcf_check_outcome_matched(o) == -1 &&
                     strcmp(tcf_check_outcome_result(o), code) == 0;
            if (!ok)
                printf("    %s %s should be unknown\n", action, code);
            tcf_check_outcome_free(o);
            TCFT_CHECK(ok);
        }
        /* Not numbers of the table, however close. */
        static const char *const odd[] = {"",    " 0",      "0 ",  "+0",      "00",       "-01",
                                          "0.0", "Success", "-4a", "\\u0030", "-4\\u0000"};
        for (size_t k = 0; k < COUNT(odd); k++) {
            tcf_check_outcome *o = result_of(action, odd[k]);
            TCFT_CHECK(o != NULL);
            int ok = tcf_check_outcome_status(o) == TCF_CHECK_UNKNOWN &&
                     tcf_check_outcome_billed(o) == -1;
            if (strcmp(odd[k], "\\u0030") == 0) /* the escape decodes to "0": documented */
                ok = tcf_check_outcome_status(o) != TCF_CHECK_UNKNOWN;
            if (!ok)
                printf("    %s \"%s\": status %d\n", action, odd[k], tcf_check_outcome_status(o));
            tcf_check_outcome_free(o);
            TCFT_CHECK(ok);
        }
    }
}

static int status_billed(const char *action, const char *code, tcf_check_status status, int billed)
{
    tcf_check_outcome *o = result_of(action, code);
    if (o == NULL)
        return 0;
    int ok = tcf_check_outcome_status(o) == status && tcf_check_outcome_billed(o) == billed;
    if (!ok)
        printf("    %s %s: status %d billed %d\n", action, code, tcf_check_outcome_status(o),
               tcf_check_outcome_billed(o));
    tcf_check_outcome_free(o);
    return ok;
}

static const char *meaning_of(const char *action, const char *code, char *buf, size_t cap)
{
    tcf_check_outcome *o = result_of(action, code);
    snprintf(buf, cap, "%s", o ? tcf_check_outcome_meaning(o) : "(none)");
    tcf_check_outcome_free(o);
    return buf;
}

/* faceid-api.md §4.6: -4 is billed wrong cardholder information in BankCard2EVerification, an
 * invalid card number format (not billed) in BankCardVerification and a billed mismatch in
 * PhoneVerification. */
TCFT_TEST(element_same_code_different_meaning)
{
    TCFT_CHECK(status_billed("BankCard2EVerification", "-4", TCF_CHECK_MISMATCHED, 1));
    TCFT_CHECK(status_billed("BankCardVerification", "-4", TCF_CHECK_INVALID_INPUT, 0));
    TCFT_CHECK(status_billed("PhoneVerification", "-4", TCF_CHECK_MISMATCHED, 1));
    TCFT_CHECK(status_billed("BankCard4EVerification", "-4", TCF_CHECK_INVALID_INPUT, 0));
    TCFT_CHECK(status_billed("CheckPhoneAndName", "-4", TCF_CHECK_INVALID_INPUT, 0));
    TCFT_CHECK(status_billed("MobileStatus", "-4", TCF_CHECK_DAILY_LIMIT, 0));
    TCFT_CHECK(status_billed("CheckBankCardInformation", "-4", TCF_CHECK_DAILY_LIMIT, 0));
    TCFT_CHECK(status_billed("IdCardVerification", "-4", TCF_CHECK_SERVICE_UNAVAILABLE, 0));
    TCFT_CHECK(status_billed("CheckIdNameDate", "-4", TCF_CHECK_INVALID_INPUT, 0));
    TCFT_CHECK(status_billed("MinorsVerification", "-4", TCF_CHECK_INVALID_INPUT, 0));
    char a[160], b[160], c[160];
    meaning_of("BankCard2EVerification", "-4", a, sizeof a);
    meaning_of("BankCardVerification", "-4", b, sizeof b);
    meaning_of("PhoneVerification", "-4", c, sizeof c);
    TCFT_CHECK(strcmp(a, b) != 0 && strcmp(b, c) != 0 && strcmp(a, c) != 0);
    TCFT_CHECK(strstr(a, "cardholder") != NULL);
    TCFT_CHECK(strstr(b, "card number format") != NULL);
    TCFT_CHECK(strstr(c, "do not match") != NULL);
    /* matched only for the comparisons */
    tcf_check_outcome *o = result_of("PhoneVerification", "-4");
    TCFT_CHECK(o != NULL && tcf_check_outcome_matched(o) == 0);
    tcf_check_outcome_free(o);
    o = result_of("BankCard2EVerification", "-5"); /* a card state, not a comparison */
    TCFT_CHECK(o != NULL && tcf_check_outcome_matched(o) == -1);
    tcf_check_outcome_free(o);
    /* CheckPhoneAndName: "1" (positive) is the mismatch; -1 is "no record" */
    TCFT_CHECK(status_billed("CheckPhoneAndName", "1", TCF_CHECK_MISMATCHED, 1));
    TCFT_CHECK(status_billed("CheckPhoneAndName", "-1", TCF_CHECK_NOT_FOUND, 0));
    TCFT_CHECK(status_billed("IdCardVerification", "1", TCF_CHECK_UNKNOWN, -1));
    /* the daily limit: -12 in PhoneVerification, undocumented in the carrier-specific checks */
    TCFT_CHECK(status_billed("PhoneVerification", "-12", TCF_CHECK_DAILY_LIMIT, 0));
    TCFT_CHECK(status_billed("PhoneVerificationCMCC", "-12", TCF_CHECK_UNKNOWN, -1));
    TCFT_CHECK(status_billed("PhoneVerificationCTCC", "-12", TCF_CHECK_UNKNOWN, -1));
    TCFT_CHECK(status_billed("PhoneVerificationCUCC", "-12", TCF_CHECK_UNKNOWN, -1));
    TCFT_CHECK(status_billed("EncryptedPhoneVerification", "-6", TCF_CHECK_UNKNOWN, -1));
    TCFT_CHECK(status_billed("EncryptedPhoneVerification", "-13", TCF_CHECK_UNKNOWN, -1));
    /* MobileNetworkTimeVerification: the documentation writes success as "-0" */
    TCFT_CHECK(status_billed("MobileNetworkTimeVerification", "-0", TCF_CHECK_ANSWERED, 1));
    TCFT_CHECK(status_billed("MobileStatus", "-0", TCF_CHECK_UNKNOWN, -1));
    TCFT_CHECK(status_billed("MobileNetworkTimeVerification", "-2", TCF_CHECK_NOT_FOUND, 1));
    /* MinorsVerification: adult and minor are both answers, told apart by meaning and code */
    meaning_of("MinorsVerification", "0", a, sizeof a);
    meaning_of("MinorsVerification", "-1", b, sizeof b);
    TCFT_CHECK(strcmp(a, "adult") == 0 && strcmp(b, "minor") == 0);
}

TCFT_TEST(paas_every_documented_code)
{
    for (size_t i = 0; i < COUNT(paas_rows); i++)
        TCFT_CHECK(row_ok(&paas_rows[i], 1));
    for (size_t i = 0; i < COUNT(paas_undocumented); i++)
        TCFT_CHECK(status_billed(paas_undocumented[i].action, paas_undocumented[i].code,
                                 TCF_CHECK_UNKNOWN, -1));
    static const char *const actions[] = {"LivenessRecognition", "LivenessCompare",
                                          "ImageRecognition", "ImageRecognitionV2"};
    static const char *const odd[] = {"success",
                                      "FailedOperation.Success",
                                      "FailedOperation.",
                                      "FailedOperation",
                                      "0",
                                      "CompareFail",
                                      "InternalError.CompareFail",
                                      "FailedOperation.VerificationFail",
                                      "FailedOperation.OcrWarningOccurred",
                                      "FailedOperation.compareFail",
                                      "FailedOperation.CompareFail "};
    for (size_t i = 0; i < COUNT(actions); i++)
        for (size_t k = 0; k < COUNT(odd); k++)
            TCFT_CHECK(status_billed(actions[i], odd[k], TCF_CHECK_UNKNOWN, -1));
    /* an element code in a PaaS action and the other way round */
    TCFT_CHECK(status_billed("IdCardVerification", "Success", TCF_CHECK_UNKNOWN, -1));
    TCFT_CHECK(status_billed("IdCardVerification", "FailedOperation.IdNameMisMatch",
                             TCF_CHECK_UNKNOWN, -1));
}

static int sim_of(const char *action, const char *text, double *sim)
{
    tcf_check_outcome *o = outcome_of(action, text);
    if (o == NULL)
        return -999;
    int rc = tcf_check_outcome_sim(o, sim);
    tcf_check_outcome_free(o);
    return rc;
}

static int fails(const char *action, const char *text, int code, const char *part)
{
    tcf_check_outcome *o = (tcf_check_outcome *)1;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_check_outcome_from_json(&o, action, text, text ? strlen(text) : 0, &err);
    int ok = rc == code && err.code == code && o == NULL &&
             (part == NULL || strstr(err.message, part) != NULL);
    if (!ok)
        printf("    expected %d (%s) for %s %s: rc=%d message=%s\n", code, part ? part : "",
               action ? action : "(null)", text ? text : "(null)", rc, err.message);
    if (rc == 0)
        tcf_check_outcome_free(o);
    return ok;
}

TCFT_TEST(paas_sim)
{
    double s = -1;
    TCFT_CHECK(sim_of("LivenessRecognition",
                      "{\"BestFrameBase64\":null,\"Sim\":85.5,\"Result\":\"Success\","
                      "\"Description\":\"\\u6210\\u529f\",\"BestFrameList\":null}",
                      &s) == 0 &&
               s == 85.5);
    TCFT_CHECK(sim_of("LivenessCompare",
                      "{\"Sim\":0,\"Result\":\"FailedOperation.LivessDetectFake\"}", &s) == 0 &&
               s == 0.0);
    TCFT_CHECK(sim_of("ImageRecognitionV2", "{\"Sim\":\"95.51\",\"Result\":\"Success\"}", &s) ==
                   0 &&
               fabs(s - 95.51) < 1e-9);
    TCFT_CHECK(sim_of("ImageRecognitionV2", "{\"Sim\":null,\"Result\":\"Success\"}", &s) ==
               TCF_ESTATE);
    TCFT_CHECK(sim_of("ImageRecognitionV2", "{\"Result\":\"Success\"}", &s) == TCF_ESTATE);
    TCFT_CHECK(sim_of("ImageRecognitionV2", "{\"Sim\":\"\",\"Result\":\"Success\"}", &s) ==
               TCF_ESTATE);
    TCFT_CHECK(sim_of("ImageRecognitionV2", "{\"Sim\":\"9x\",\"Result\":\"Success\"}", &s) ==
               TCF_ESTATE);
    TCFT_CHECK(sim_of("ImageRecognitionV2", "{\"Sim\":\"nan\",\"Result\":\"Success\"}", &s) ==
               TCF_ESTATE);
    /* element checks have no Sim, even when a field of that name is present */
    TCFT_CHECK(sim_of("IdCardVerification", "{\"Sim\":99,\"Result\":\"0\"}", &s) == TCF_ESTATE);
    TCFT_CHECK(
        fails("LivenessRecognition", "{\"Sim\":true,\"Result\":\"Success\"}", TCF_EJSON, "Sim"));
    TCFT_CHECK(
        fails("LivenessRecognition", "{\"Sim\":[1],\"Result\":\"Success\"}", TCF_EJSON, "Sim"));
    TCFT_CHECK(tcf_check_outcome_sim(NULL, &s) == TCF_EINVAL);
    /* thresholds */
    TCFT_CHECK(TCF_SIM_THRESHOLD == 70.0 && TCF_SIM_V1_FAR_1E3 == 70.0 &&
               TCF_SIM_V1_FAR_1E4 == 80.0);
    tcf_check_outcome *o = result_of("ImageRecognitionV2", "Success");
    TCFT_CHECK(o != NULL && tcf_check_outcome_sim_threshold(o) == 70.0);
    TCFT_CHECK(tcf_check_outcome_sim(o, NULL) == TCF_EINVAL);
    tcf_check_outcome_free(o);
    o = result_of("ImageRecognition", "Success");
    TCFT_CHECK(o != NULL && tcf_check_outcome_sim_threshold(o) == TCF_SIM_V1_FAR_1E3);
    tcf_check_outcome_free(o);
    o = result_of("PhoneVerification", "0");
    TCFT_CHECK(o != NULL && tcf_check_outcome_sim_threshold(o) == -1);
    tcf_check_outcome_free(o);
    TCFT_CHECK(tcf_check_outcome_sim_threshold(NULL) == -1);
}

TCFT_TEST(check_outcome_errors)
{
    const char *ok = "{\"Result\":\"0\"}";
    TCFT_CHECK(fails("GetLiveCode", ok, TCF_EINVAL, "action"));
    TCFT_CHECK(fails("DetectAuth", ok, TCF_EINVAL, "action"));
    TCFT_CHECK(fails("", ok, TCF_EINVAL, "action"));
    TCFT_CHECK(fails("idcardverification", ok, TCF_EINVAL, "action"));
    TCFT_CHECK(fails(NULL, ok, TCF_EINVAL, "action"));
    TCFT_CHECK(fails("IdCardVerification", NULL, TCF_EINVAL, "response_json"));
    TCFT_CHECK(tcf_check_outcome_from_json(NULL, "IdCardVerification", ok, strlen(ok), NULL) ==
               TCF_EINVAL);
    TCFT_CHECK(!tcf_check_action_known("GetLiveCode") && !tcf_check_action_known(NULL) &&
               tcf_check_action_known("PhoneVerificationCUCC") &&
               tcf_check_action_known("ImageRecognitionV2"));
    /* bad JSON, wrong types */
    TCFT_CHECK(fails("IdCardVerification", "", TCF_EJSON, NULL));
    TCFT_CHECK(fails("IdCardVerification", "<html>", TCF_EJSON, NULL));
    TCFT_CHECK(fails("IdCardVerification", "{\"Result\":\"0\"", TCF_EJSON, NULL));
    TCFT_CHECK(fails("IdCardVerification", "[{\"Result\":\"0\"}]", TCF_EJSON, "not an object"));
    TCFT_CHECK(fails("IdCardVerification", "\"0\"", TCF_EJSON, "not an object"));
    TCFT_CHECK(
        fails("IdCardVerification", "{\"Result\":\"0\",\"Result\":\"-1\"}", TCF_EJSON, NULL));
    TCFT_CHECK(fails("IdCardVerification", "{}", TCF_EJSON, "Result"));
    TCFT_CHECK(fails("IdCardVerification", "{\"Result\":null}", TCF_EJSON, "Result"));
    TCFT_CHECK(fails("IdCardVerification", "{\"Result\":0}", TCF_EJSON, "Result"));
    TCFT_CHECK(fails("IdCardVerification", "{\"Result\":-1}", TCF_EJSON, "Result"));
    TCFT_CHECK(fails("IdCardVerification", "{\"Result\":[\"0\"]}", TCF_EJSON, "Result"));
    TCFT_CHECK(fails("LivenessRecognition", "{\"Result\":true}", TCF_EJSON, "Result"));
    TCFT_CHECK(fails("IdCardVerification", "{\"Response\":[]}", TCF_EJSON, "Response"));
    TCFT_CHECK(fails("IdCardVerification", "{\"Response\":{}}", TCF_EJSON, "Result"));
    /* an API error is not an outcome */
    tcf_error err;
    tcf_error_clear(&err);
    tcf_check_outcome *o = (tcf_check_outcome *)1;
    const char *api = "{\"Response\":{\"Error\":{\"Code\":\"InvalidParameter\",\"Message\":\"x\"},"
                      "\"RequestId\":\"r\"}}";
    TCFT_CHECK(tcf_check_outcome_from_json(&o, "IdCardVerification", api, strlen(api), &err) ==
                   TCF_EAPI &&
               o == NULL);
    TCFT_CHECK_STR(err.api_code, "InvalidParameter");
    TCFT_CHECK(fails("MobileStatus", "{\"Error\":{\"Code\":\"UnauthorizedOperation.Arrears\"}}",
                     TCF_EAPI, "UnauthorizedOperation.Arrears"));
    /* the first error wins */
    tcf_error_clear(&err);
    err.code = TCF_ETIMEOUT;
    snprintf(err.message, sizeof err.message, "earlier");
    TCFT_CHECK(tcf_check_outcome_from_json(&o, "IdCardVerification", "{}", 2, &err) == TCF_EJSON);
    TCFT_CHECK(err.code == TCF_ETIMEOUT && strcmp(err.message, "earlier") == 0);
    /* NULL handles */
    TCFT_CHECK(tcf_check_outcome_status(NULL) == TCF_CHECK_UNKNOWN);
    TCFT_CHECK(tcf_check_outcome_billed(NULL) == -1 && tcf_check_outcome_matched(NULL) == -1);
    TCFT_CHECK(tcf_check_outcome_result(NULL) == NULL && tcf_check_outcome_action(NULL) == NULL);
    TCFT_CHECK(tcf_check_outcome_meaning(NULL) != NULL);
    size_t n = 7;
    TCFT_CHECK(tcf_check_outcome_json(NULL, &n) == NULL && n == 0);
    tcf_check_outcome_free(NULL);
}

/* Responses as the service (and the emulator) sends them: extra fields stay in the text. */
TCFT_TEST(check_outcome_recorded_responses)
{
    const char *phone =
        "{\"Response\":{\"Result\":\"-4\",\"Description\":\"\\u4e09\\u8981\\u7d20\\u4fe1\\u606f"
        "\\u4e0d\\u4e00\\u81f4\",\"Isp\":\"\\u79fb\\u52a8\",\"ResultDetail\":\"PhoneNameMismatch\","
        "\"RequestId\":\"6a8a1b9c-0000-4000-8000-000000000001\"}}";
    tcf_check_outcome *o = outcome_of("PhoneVerification", phone);
    TCFT_CHECK(o != NULL);
    TCFT_CHECK(tcf_check_outcome_status(o) == TCF_CHECK_MISMATCHED);
    TCFT_CHECK(tcf_check_outcome_matched(o) == 0 && tcf_check_outcome_billed(o) == 1);
    size_t n = 0;
    const char *j = tcf_check_outcome_json(o, &n);
    TCFT_CHECK(j != NULL && n == strlen(phone) && strcmp(j, phone) == 0);
    TCFT_CHECK(strstr(j, "PhoneNameMismatch") != NULL);
    TCFT_CHECK(tcf_check_outcome_json(o, NULL) == j);
    tcf_check_outcome_free(o);

    /* Description never decides: a "consistent" text on an inconsistent code */
    o = outcome_of("IdCardVerification",
                   "{\"Result\":\"-1\",\"Description\":\"\\u59d3\\u540d\\u548c\\u8eab\\u4efd\\u8bc1"
                   "\\u53f7\\u4e00\\u81f4\",\"RequestId\":\"r\"}");
    TCFT_CHECK(o != NULL && tcf_check_outcome_status(o) == TCF_CHECK_MISMATCHED);
    tcf_check_outcome_free(o);

    o = outcome_of("MobileStatus", "{\"Result\":\"0\",\"Description\":\"\\u6210\\u529f\","
                                   "\"StatusCode\":1,\"RequestId\":\"r\"}");
    TCFT_CHECK(o != NULL && tcf_check_outcome_status(o) == TCF_CHECK_ANSWERED);
    TCFT_CHECK(tcf_check_outcome_matched(o) == -1 && tcf_check_outcome_billed(o) == 1);
    TCFT_CHECK(strstr(tcf_check_outcome_json(o, NULL), "\"StatusCode\":1") != NULL);
    tcf_check_outcome_free(o);

    o = outcome_of("CheckBankCardInformation",
                   "{\"Result\":\"0\",\"Description\":\"\",\"AccountBank\":\"\\u62db\\u5546"
                   "\\u94f6\\u884c\",\"AccountType\":1,\"RequestId\":\"r\"}");
    TCFT_CHECK(o != NULL && tcf_check_outcome_status(o) == TCF_CHECK_ANSWERED);
    tcf_check_outcome_free(o);

    o = outcome_of("BankCard4EVerification",
                   "{\"Result\":\"-19\",\"Description\":\"\",\"RequestId\":\"r\"}");
    TCFT_CHECK(o != NULL && tcf_check_outcome_status(o) == TCF_CHECK_DAILY_LIMIT);
    TCFT_CHECK(tcf_check_outcome_billed(o) == 0);
    tcf_check_outcome_free(o);

    o = outcome_of("ImageRecognitionV2",
                   "{\"Sim\":62.3,\"Result\":\"FailedOperation.CompareLowSimilarity\","
                   "\"Description\":\"\",\"Extra\":\"abc\",\"RequestId\":\"r\"}");
    TCFT_CHECK(o != NULL && tcf_check_outcome_status(o) == TCF_CHECK_MISMATCHED);
    double s = 0;
    TCFT_CHECK(tcf_check_outcome_matched(o) == 0 && tcf_check_outcome_billed(o) == 1);
    TCFT_CHECK(tcf_check_outcome_sim(o, &s) == 0 && s == 62.3 &&
               s < tcf_check_outcome_sim_threshold(o));
    tcf_check_outcome_free(o);

    o = outcome_of(
        "LivenessRecognition",
        "{\"Response\":{\"Sim\":0,\"Result\":\"FailedOperation.IdentityAuthLimitExceeded\","
        "\"Description\":\"\",\"RequestId\":\"r\"}}");
    TCFT_CHECK(o != NULL && tcf_check_outcome_status(o) == TCF_CHECK_DAILY_LIMIT);
    TCFT_CHECK(tcf_check_outcome_billed(o) == -1 && tcf_check_outcome_matched(o) == -1);
    tcf_check_outcome_free(o);
}

TCFT_TEST(check_status_names)
{
    const char *seen[16] = {0};
    for (int s = 0; s <= 11; s++) {
        const char *n = tcf_check_status_name((tcf_check_status)s);
        TCFT_CHECK(n != NULL && n[0] != '\0');
        for (int k = 0; k < s; k++)
            TCFT_CHECK(strcmp(seen[k], n) != 0);
        seen[s] = n;
    }
    TCFT_CHECK_STR(tcf_check_status_name(TCF_CHECK_DAILY_LIMIT), "daily_limit");
    TCFT_CHECK(tcf_check_status_name((tcf_check_status)12) == NULL);
    TCFT_CHECK(tcf_check_status_name((tcf_check_status)-1) == NULL);
}

#ifdef TCF_ALLOC_FAILURE_INJECTION
TCFT_TEST(check_outcome_allocation_failures)
{
    static const char *const inputs[][2] = {
        {"PhoneVerification", "{\"Result\":\"-4\",\"Isp\":\"x\",\"ResultDetail\":\"y\"}"},
        {"LivenessCompare", "{\"Response\":{\"Sim\":\"88.1\",\"Result\":\"Success\"}}"},
        {"MobileStatus", "{\"Result\":\"-99\"}"},
    };
    for (size_t k = 0; k < COUNT(inputs); k++) {
        int succeeded = 0;
        for (long n = 1; n < 1000 && !succeeded; n++) {
            tcf_check_outcome *o = (tcf_check_outcome *)1;
            tcf_error err;
            tcf_error_clear(&err);
            tcfp_fail_allocations_after(n);
            int rc = tcf_check_outcome_from_json(&o, inputs[k][0], inputs[k][1],
                                                 strlen(inputs[k][1]), &err);
            tcfp_fail_allocations_after(0);
            if (rc == 0) {
                succeeded = 1;
                TCFT_CHECK(o != NULL && tcf_check_outcome_result(o) != NULL);
                tcf_check_outcome_free(o);
            } else {
                TCFT_CHECK(rc == TCF_ENOMEM && err.code == TCF_ENOMEM && o == NULL);
            }
        }
        TCFT_CHECK(succeeded);
    }
}
#endif
