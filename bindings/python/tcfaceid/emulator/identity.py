"""Identity data as the emulator's "national library" knows it, and the format
rules the service applies to names, ID numbers, phone and bank-card numbers.

Everything here is fake: the default people below do not exist; their numbers
merely pass the checksums.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# Province-level codes of GB/T 2260, plus 81/82/83: residence permits for
# Hong Kong, Macao and Taiwan residents (810000 / 820000 / 830000).
_PROVINCES = {
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
}

INTERPUNCT = "\u00b7"
_NAME_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]+(?:\u00b7[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]+)*$")

# Mobile number ranges by carrier (faq-facts.md, "Mobile number ranges by carrier").
_CARRIER_PREFIXES = {
    "CMCC": ["1340", "1341", "1342", "1343", "1344", "1345", "1346", "1347", "1348", "135", "136", "137", "138", "139",
             "147", "148", "150", "151", "152", "157", "158", "159", "172", "178", "182", "183", "184", "187", "188",
             "195", "197", "198"],
    "CUCC": ["130", "131", "132", "145", "146", "155", "156", "166", "175", "176", "185", "186", "196"],
    "CTCC": ["133", "1349", "141", "149", "153", "173", "174", "177", "180", "181", "189", "190", "191", "193", "199"],
}
CARRIER_NAMES = {"CMCC": "移动", "CUCC": "联通", "CTCC": "电信"}


def id_card_problem(id_card: str, today: Optional[_dt.date] = None) -> Optional[str]:
    """Why an 18-character ID number (GB 11643) is invalid, or None when it is valid."""
    if not isinstance(id_card, str) or len(id_card) != 18:
        return "must be 18 characters"
    body, check = id_card[:17], id_card[17]
    if not body.isascii() or not body.isdigit():
        return "the first 17 characters must be digits"
    if check not in "0123456789X":
        return "the check character must be a digit or an uppercase X"
    if int(body[:2]) not in _PROVINCES:
        return "unknown region code"
    try:
        birth = _dt.date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        return "invalid birth date"
    if birth.year < 1900 or (today is not None and birth > today):
        return "invalid birth date"
    if _CHECK[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11] != check:
        return "checksum mismatch"
    return None


def id_card_type(id_card: str) -> int:
    """UseIDType: 0 second-generation ID, 1 HK/Macao/Taiwan residence permit, 2 other."""
    if id_card_problem(id_card) is not None:
        return 2
    return 1 if id_card[:2] in ("81", "82", "83") else 0


def name_problem(name: str) -> Optional[str]:
    """Why a person's name is not one the authoritative library can hold, or None."""
    if not isinstance(name, str) or not name:
        return "empty"
    if len(name) > 32:
        return "longer than 32 characters"
    if len(name) < 2:
        return "shorter than 2 characters"
    if not _NAME_RE.match(name):
        return "only Chinese characters, with U+00B7 between the parts of a minority name"
    return None


def phone_carrier(phone: str) -> Optional[str]:
    """CMCC / CUCC / CTCC for an 11-digit mainland mobile number, None if the range is unknown."""
    for carrier, prefixes in _CARRIER_PREFIXES.items():
        if any(phone.startswith(p) and len(p) == 4 for p in prefixes):
            return carrier
    for carrier, prefixes in _CARRIER_PREFIXES.items():
        if any(phone.startswith(p) and len(p) == 3 for p in prefixes):
            return carrier
    return None


def phone_valid(phone: str) -> bool:
    return isinstance(phone, str) and len(phone) == 11 and phone.isascii() and phone.isdigit() and phone[0] == "1"


def bank_card_format_ok(card: str) -> bool:
    return isinstance(card, str) and 12 <= len(card) <= 19 and card.isascii() and card.isdigit()


def luhn_ok(card: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(card)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def id_card_sex(id_card: str) -> str:
    """男 / 女 from the 17th character of a valid ID number (odd: male)."""
    return "男" if int(id_card[16]) % 2 == 1 else "女"


def id_card_birth(id_card: str) -> str:
    """The birth date of a valid ID number as ID-card OCR prints it: ``1990/3/7``."""
    return f"{int(id_card[6:10])}/{int(id_card[10:12])}/{int(id_card[12:14])}"


def digest(value: str) -> str:
    """A stable key for counting per identity without keeping the value itself."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


@dataclass
class Person:
    """One record of the emulator's authoritative library."""

    name: str
    id_card: str
    phone: Optional[str] = None
    bank_card: Optional[str] = None
    bank: str = "中国工商银行"
    card_type: int = 1  # 1 debit, 2 credit, 3 prepaid, 4 quasi-credit
    valid_from: str = "20150101"
    valid_to: str = "20350101"  # "00000000" for long-term
    photo: bool = True  # False: the library has no photo of this person
    phone_status: int = 0  # MobileStatus.StatusCode
    phone_months: int = 60  # time on network
    nation: Optional[str] = None  # IdCardOCRVerification Nation (民族), e.g. "汉"
    address: Optional[str] = None  # IdCardOCRVerification Address
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Person":
        known = {f for f in cls.__dataclass_fields__}  # type: ignore[attr-defined]
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown identity fields: {', '.join(unknown)}")
        if "name" not in data or "id_card" not in data:
            raise ValueError("an identity needs at least name and id_card")
        person = cls(**dict(data))
        for name, kind in (("name", str), ("id_card", str), ("bank", str), ("valid_from", str), ("valid_to", str),
                           ("phone", (str, type(None))), ("bank_card", (str, type(None))), ("photo", bool),
                           ("nation", (str, type(None))), ("address", (str, type(None))),
                           ("card_type", int), ("phone_status", int), ("phone_months", int), ("extra", dict)):
            value = getattr(person, name)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ValueError(f"identity field {name} has the wrong type")
        return person

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}  # type: ignore[attr-defined]


DEFAULT_PEOPLE: tuple[dict[str, Any], ...] = (
    {"name": "张三", "id_card": "110101199003071233", "phone": "13800138000", "bank_card": "6212261000000000017",
     "nation": "汉", "address": "北京市东城区示例路1号"},
    {"name": "李四", "id_card": "440304198512010027", "phone": "18612345678", "bank_card": "6228480000000000026",
     "bank": "中国农业银行", "card_type": 2},
    {"name": "阿卜杜拉·买买提", "id_card": "650102197806154350", "phone": "13312345678",
     "bank_card": "6216610000000000032", "bank": "中国银行", "valid_to": "00000000"},
    {"name": "王五", "id_card": "310115199504308767", "phone": "15900001111", "photo": False, "phone_status": 1,
     "phone_months": 5},
    {"name": "陈大文", "id_card": "81000019920101003X", "phone": "17712345678"},
)


class Registry:
    """The emulator's authoritative library: people by ID number, phone and bank card."""

    def __init__(self, people: Iterable[Mapping[str, Any]] = DEFAULT_PEOPLE) -> None:
        self.by_id: dict[str, Person] = {}
        self.by_phone: dict[str, Person] = {}
        self.by_card: dict[str, Person] = {}
        for p in people:
            self.add(Person.from_dict(p))

    def add(self, person: Person) -> None:
        problem = id_card_problem(person.id_card)
        if problem:
            raise ValueError(f"identity id_card is invalid: {problem}")
        old = self.by_id.get(person.id_card)
        if old is not None:  # replacing a person: forget their old phone and card
            if old.phone and self.by_phone.get(old.phone) is old:
                del self.by_phone[old.phone]
            if old.bank_card and self.by_card.get(old.bank_card) is old:
                del self.by_card[old.bank_card]
        self.by_id[person.id_card] = person
        if person.phone:
            self.by_phone[person.phone] = person
        if person.bank_card:
            self.by_card[person.bank_card] = person
