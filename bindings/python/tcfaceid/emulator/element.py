"""Identity-element checks. Each answers with the per-action ``Result`` string of
faceid-api.md §4.6, decided from the inputs: format checks, then the daily
limit, then the emulator's identity library (docs/emulator.md lists the order).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Optional

from . import paas
from .errors import ApiError, invalid
from .identity import (
    CARRIER_NAMES,
    Person,
    bank_card_format_ok,
    id_card_birth,
    id_card_problem,
    id_card_sex,
    luhn_ok,
    name_problem,
    phone_carrier,
    phone_valid,
)
from .saas import check_base64
from .service import ELEMENT_RESULTS, ERROR_MESSAGES, Call, Service, action, error_message

_CARRIER_TABLE = "PhoneVerificationCMCC|CTCC|CUCC"


def _table(name: str) -> dict[str, list[Any]]:
    if name.startswith("PhoneVerification") and name != "PhoneVerification":
        return ELEMENT_RESULTS[_CARRIER_TABLE]
    return ELEMENT_RESULTS[name]


def answer(svc: Service, call: Call, code: str, **extra: Any) -> dict[str, Any]:
    meaning, billed = _table(call.action)[code]
    if billed:
        svc.count_billed(call.action)
    return {"Result": code, "Description": meaning, **extra}


class Done(Exception):
    """Carries the Result code of a check that stopped early."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def need(ok: bool, code: str) -> None:
    if not ok:
        raise Done(code)


def limit(svc: Service, call: Call, code: str, *values: str) -> None:
    """The per-identity daily limit of this action, counted on the identical inputs."""
    if svc.over_identity_limit(call.action, call.account, "\x1f".join(values), per_day=svc.config.limits["element_per_day"]):
        raise Done(code)


def run(svc: Service, call: Call, check: Any, **extra: Any) -> dict[str, Any]:
    try:
        code, more = check()
    except Done as d:
        code, more = d.code, {}
    return answer(svc, call, code, **{**extra, **more})


@action("IdCardVerification")
def id_card_verification(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    def check() -> tuple[str, dict[str, Any]]:
        need(id_card_problem(p["IdCard"]) is None, "-2")
        need(name_problem(p["Name"]) is None, "-3")
        limits = svc.config.limits
        if svc.over_identity_limit("IdCardVerification-name", call.account, p["Name"], per_day=limits["idcard_name_per_day"]) or \
                svc.over_identity_limit("IdCardVerification-id", call.account, p["IdCard"], per_day=limits["idcard_id_per_day"]):
            raise Done("-7")
        person = svc.registry.by_id.get(p["IdCard"])
        need(person is not None, "-5")
        return ("0" if person.name == p["Name"] else "-1"), {}

    return run(svc, call, check)


# IdCardOCRVerification: the API errors its Go SDK comments list for an image (faceid-api.md §4.2).
OCR_ERRORS = ("FailedOperation.DownLoadError", "FailedOperation.EmptyImageError", "FailedOperation.ImageBlur",
              "FailedOperation.ImageDecodeFailed", "FailedOperation.ImageNoIdCard",
              "FailedOperation.ImageSizeTooLarge", "FailedOperation.OcrFailed", "FailedOperation.UnKnown")
MAX_IMAGE_B64 = 3 * 1024 * 1024


def _ocr_error(code: str) -> ApiError:
    return ApiError(code, error_message(code))


def _ocr_image(p: dict[str, Any]) -> dict[str, str]:
    """The "OCR" of the portrait side: a directive line at the start of the decoded image,
    ``tcfaceid-emulator:idcard=<18 characters>;name=<name>`` (docs/emulator.md)."""
    if p.get("ImageBase64"):
        data = check_base64("ImageBase64", p["ImageBase64"], MAX_IMAGE_B64)
    else:
        try:
            data = paas._fetch_local(p["ImageUrl"], "ImageUrl")
        except paas._Outcome:
            raise _ocr_error("FailedOperation.DownLoadError") from None
        except ApiError:
            raise _ocr_error("FailedOperation.ImageSizeTooLarge") from None
        if len(base64.b64encode(data)) > MAX_IMAGE_B64:
            raise _ocr_error("FailedOperation.ImageSizeTooLarge")
    if not data:
        raise _ocr_error("FailedOperation.EmptyImageError")
    d = paas.directive(data)
    error = d.get("error")
    if error:
        if error not in OCR_ERRORS or error not in ERROR_MESSAGES:
            raise invalid("image directive", f"error must be one of {', '.join(OCR_ERRORS)}")
        raise _ocr_error(error)
    if not re.fullmatch(r"\d{1,3}", d.get("quality", "100")) or int(d.get("quality", "100")) > 100:
        raise invalid("image directive", "quality must be 0 to 100")
    if "idcard" not in d:
        raise _ocr_error("FailedOperation.ImageNoIdCard" if not d else "FailedOperation.OcrFailed")
    return d


@action("IdCardOCRVerification")
def id_card_ocr_verification(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    config = p.get("Config")
    if config:
        try:
            if not isinstance(json.loads(config), dict):
                raise ValueError
        except ValueError:
            raise invalid("Config", "a JSON object such as {\"CopyWarn\": true}") from None
    if p.get("IdCard") and p.get("Name"):  # priority: Name + IdCard > ImageBase64 > ImageUrl
        ocr: Optional[dict[str, str]] = None
        id_card, name = p["IdCard"], p["Name"]
    elif p.get("ImageBase64") or p.get("ImageUrl"):
        ocr = _ocr_image(p)
        id_card = ocr["idcard"]
        known = svc.registry.by_id.get(id_card)
        name = ocr.get("name") or (known.name if known else "")
    else:
        raise ApiError("MissingParameter", "The request is missing a required parameter: `IdCard` and `Name`, "
                       "or `ImageBase64`, or `ImageUrl`.")

    def check() -> tuple[str, dict[str, Any]]:
        forced = (ocr or {}).get("result")
        if forced is not None:
            if forced not in ELEMENT_RESULTS["IdCardOCRVerification"]:
                raise invalid("image directive", "result must be a Result of IdCardOCRVerification")
            raise Done(forced)
        need(id_card_problem(id_card) is None, "-2")
        need(bool(name) or ocr is None, "-5")  # OCR read no name and the library has no such number
        need(name_problem(name) is None, "-3")
        limit(svc, call, "-7", name, id_card)
        person = svc.registry.by_id.get(id_card)
        need(person is not None, "-5")
        return ("0" if person.name == name else "-1"), {}

    out = run(svc, call, check)
    # The card's fields: from the image whenever OCR read a valid number; for Name + IdCard only
    # when they matched. Sex and Birth come from the number, Nation and Address from the library.
    fields: dict[str, Any] = {"Name": None, "IdCard": None, "Sex": None, "Nation": None, "Birth": None,
                              "Address": None, "Warnings": None, "Quality": None}
    show = out["Result"] == "0" if ocr is None else id_card_problem(id_card) is None
    if show:
        lib = svc.registry.by_id.get(id_card)
        fields.update(Name=name, IdCard=id_card, Sex=id_card_sex(id_card), Birth=id_card_birth(id_card),
                      Nation=(ocr or {}).get("nation") or (lib.nation if lib else None),
                      Address=(ocr or {}).get("address") or (lib.address if lib else None))
    if ocr is not None:
        fields.update(Warnings=ocr.get("warnings", ""), Quality=int(ocr.get("quality", "100")))
    return {**out, **fields}


@action("CheckIdNameDate")
def check_id_name_date(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    def check() -> tuple[str, dict[str, Any]]:
        need(id_card_problem(p["IdCard"]) is None, "-2")
        need(name_problem(p["Name"]) is None, "-3")
        begin, end = p["ValidityBegin"], p["ValidityEnd"]
        need(bool(re.fullmatch(r"\d{8}", begin)) and bool(re.fullmatch(r"\d{8}", end)) and (end == "00000000" or end > begin), "-4")
        limit(svc, call, "-8", p["Name"], p["IdCard"])
        person = svc.registry.by_id.get(p["IdCard"])
        need(person is not None, "-7")
        same = person.name == p["Name"] and person.valid_from == begin and person.valid_to == end
        return ("0" if same else "-1"), {}

    return run(svc, call, check)


def _phone_person(svc: Service, phone: str) -> Optional[Person]:
    return svc.registry.by_phone.get(phone)


def _phone_three(svc: Service, call: Call, p: dict[str, Any], carrier_only: Optional[str]) -> dict[str, Any]:
    isp = ""

    def check() -> tuple[str, dict[str, Any]]:
        nonlocal isp
        need(phone_valid(p["Phone"]), "-6")
        need(id_card_problem(p["IdCard"]) is None, "-7")
        need(name_problem(p["Name"]) is None, "-8")
        carrier = phone_carrier(p["Phone"])
        need(carrier is not None and carrier_only in (None, carrier), "-13")
        isp = CARRIER_NAMES[carrier]
        if carrier_only is None:
            limit(svc, call, "-12", p["Phone"], p["Name"], p["IdCard"])
        person = _phone_person(svc, p["Phone"])
        need(person is not None, "-9")
        name_ok, id_ok = person.name == p["Name"], person.id_card == p["IdCard"]
        if name_ok and id_ok:
            return "0", {}
        detail = None
        if p.get("VerifyMode") == "1":
            detail = "PhoneNameIdCardMismatch" if not (name_ok or id_ok) else "PhoneNameMismatch" if not name_ok else "PhoneIdCardMismatch"
        return "-4", {"ResultDetail": detail}

    out = run(svc, call, check)
    out["Isp"] = isp
    return out


@action("PhoneVerification")
def phone_verification(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("VerifyMode") not in (None, "0", "1"):
        raise invalid("VerifyMode", "0 (simple) or 1 (detailed)")
    return _phone_three(svc, call, p, None)


@action("PhoneVerificationCMCC")
def phone_verification_cmcc(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    return _phone_three(svc, call, p, "CMCC")


@action("PhoneVerificationCTCC")
def phone_verification_ctcc(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    return _phone_three(svc, call, p, "CTCC")


@action("PhoneVerificationCUCC")
def phone_verification_cucc(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    return _phone_three(svc, call, p, "CUCC")


@action("CheckPhoneAndName")
def check_phone_and_name(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    def check() -> tuple[str, dict[str, Any]]:
        need(phone_valid(p["Mobile"]), "-5")
        need(name_problem(p["Name"]) is None, "-4")
        need(phone_carrier(p["Mobile"]) is not None, "-13")
        limit(svc, call, "-6", p["Mobile"], p["Name"])
        person = _phone_person(svc, p["Mobile"])
        need(person is not None, "-1")
        return ("0" if person.name == p["Name"] else "1"), {}

    return run(svc, call, check)


@action("MobileStatus")
def mobile_status(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    def check() -> tuple[str, dict[str, Any]]:
        need(phone_valid(p["Mobile"]), "-2")
        need(phone_carrier(p["Mobile"]) is not None, "-13")
        limit(svc, call, "-4", p["Mobile"])
        person = _phone_person(svc, p["Mobile"])
        need(person is not None, "-1")
        return "0", {"StatusCode": person.phone_status}

    return run(svc, call, check, StatusCode=None)


_RANGES = ((3, "[0,3)"), (6, "[3,6)"), (12, "[6,12)"), (24, "[12,24)"))


@action("MobileNetworkTimeVerification")
def mobile_network_time(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    def check() -> tuple[str, dict[str, Any]]:
        need(phone_valid(p["Mobile"]), "-1")
        need(phone_carrier(p["Mobile"]) is not None, "-13")
        limit(svc, call, "-5", p["Mobile"])
        person = _phone_person(svc, p["Mobile"])
        need(person is not None, "-2")
        months = person.phone_months
        return "0", {"Range": next((r for bound, r in _RANGES if months < bound), "[24,+)")}

    return run(svc, call, check, Range=None)


def _bank(svc: Service, call: Call, p: dict[str, Any], codes: dict[str, str], fields: tuple[str, ...]) -> dict[str, Any]:
    """Bank-card 2/3/4-element checks; ``codes`` names each outcome's Result for the action."""

    def check() -> tuple[str, dict[str, Any]]:
        need(name_problem(p["Name"]) is None, codes["name"])
        if "IdCard" in fields:
            need(id_card_problem(p["IdCard"]) is None, codes["id"])
        need(bank_card_format_ok(p["BankCard"]), codes["format"])
        if "Phone" in fields:
            need(phone_valid(p["Phone"]), codes["phone"])
        if "IdCard" in fields:
            need(p.get("CertType") in (None, 0), codes["cert"])
        need(luhn_ok(p["BankCard"]), codes["invalid_card"])
        limit(svc, call, codes["limit"], *(p[f] for f in fields))
        person = svc.registry.by_card.get(p["BankCard"])
        need(person is not None, codes["unknown_card"])
        same = person.name == p["Name"]
        same = same and ("IdCard" not in fields or person.id_card == p["IdCard"])
        same = same and ("Phone" not in fields or person.phone == p["Phone"])
        return ("0" if same else "-1"), {}

    return run(svc, call, check)


@action("BankCard2EVerification")
def bank_card_2e(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    codes = {"name": "-2", "format": "-3", "invalid_card": "-7", "limit": "-17", "unknown_card": "-18"}
    return _bank(svc, call, p, codes, ("Name", "BankCard"))


@action("BankCardVerification")
def bank_card_3e(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    codes = {"name": "-2", "id": "-3", "format": "-4", "cert": "-19", "invalid_card": "-8", "limit": "-18",
             "unknown_card": "-20"}
    return _bank(svc, call, p, codes, ("Name", "IdCard", "BankCard"))


@action("BankCard4EVerification")
def bank_card_4e(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    codes = {"name": "-2", "id": "-3", "format": "-4", "phone": "-5", "cert": "-20", "invalid_card": "-9",
             "limit": "-19", "unknown_card": "-21"}
    return _bank(svc, call, p, codes, ("Name", "IdCard", "BankCard", "Phone"))


@action("CheckBankCardInformation")
def check_bank_card_information(svc: Service, call: Call, p: dict[str, Any]) -> dict[str, Any]:
    def check() -> tuple[str, dict[str, Any]]:
        need(bank_card_format_ok(p["BankCard"]) and luhn_ok(p["BankCard"]), "-5")
        limit(svc, call, "-4", p["BankCard"])
        person = svc.registry.by_card.get(p["BankCard"])
        need(person is not None, "-3")
        return "0", {"AccountBank": person.bank, "AccountType": person.card_type}

    return run(svc, call, check, AccountBank=None, AccountType=None)
