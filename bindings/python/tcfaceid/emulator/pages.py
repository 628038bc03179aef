"""The verification pages a person opens from DetectAuth's / GetEidToken's ``Url``."""

from __future__ import annotations

import html
from typing import Any, Optional

from .saas import SCENARIOS

_LABELS = {
    "pass": "通过 Pass",
    "fail_liveness": "活体失败 Fail liveness",
    "fail_compare": "比对失败 Fail comparison",
    "retry_then_pass": "重试后通过 Retry, then pass",
    "fail_intention": "意愿失败 Fail intention",
    "abandon": "放弃 Abandon",
}

_STYLE = """
body{font-family:system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem}.who{background:#f4f6f8;border-radius:.5rem;padding:.75rem 1rem;margin:1rem 0}
button{display:block;width:100%;margin:.5rem 0;padding:.8rem;font-size:1rem;border-radius:.5rem;border:1px solid #0052d9;background:#fff;color:#0052d9;cursor:pointer}
button.primary{background:#0052d9;color:#fff}label{display:block;margin:.5rem 0}input{width:100%;padding:.5rem;font-size:1rem}
.note{color:#666;font-size:.85rem}
"""


def mask_name(name: str) -> str:
    if not name:
        return "—"
    return name[0] + "*" * (len(name) - 1)


def mask_id(id_card: str) -> str:
    if not id_card:
        return "—"
    return id_card[:3] + "*" * max(len(id_card) - 7, 0) + id_card[-4:] if len(id_card) > 7 else "*" * len(id_card)


def page(title: str, body: str) -> bytes:
    doc = (
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>{body}"
        "<p class=\"note\">tcfaceid emulator — a local stand-in for Tencent Cloud FaceID. No real verification happens here.</p>"
        "</body></html>"
    )
    return doc.encode("utf-8")


def message(title: str, text: str, code: Optional[int] = None) -> bytes:
    extra = f"<p id=\"errcode\">ErrCode {code}</p>" if code is not None else ""
    return page(title, f"<h1>{html.escape(title)}</h1><p id=\"message\">{html.escape(text)}</p>{extra}")


def verify_page(kind: str, session: Any, ask_identity: bool) -> bytes:
    """``kind`` is "h5" (SaaS) or "eid". ``ask_identity``: E-ID InputType 3, the person types name and number."""
    title = "E证通 身份核验" if kind == "eid" else "人脸核身"
    token = html.escape(session.token, quote=True)
    scenarios = [s for s in SCENARIOS if s != "fail_intention" or session.intention is not None]
    buttons = "".join(
        f"<button type=\"submit\" name=\"scenario\" value=\"{s}\" id=\"scenario-{s}\""
        f"{' class=primary' if s == 'pass' else ''}>{html.escape(_LABELS[s])}</button>"
        for s in scenarios
    )
    identity = (
        "<label>姓名 Name<input name=\"name\" id=\"name\" autocomplete=\"off\"></label>"
        "<label>身份证号 ID number<input name=\"id_card\" id=\"id_card\" autocomplete=\"off\"></label>"
        if ask_identity
        else f"<div class=\"who\">姓名 {html.escape(mask_name(session.name))}<br>"
        f"证件号 {html.escape(mask_id(session.id_card))}</div>"
    )
    body = (
        f"<h1>{title}</h1>"
        "<p>Choose what happens in this verification. The outcome is recorded as the service would record it, "
        "and you are sent back to the business's RedirectUrl with the token.</p>"
        f"<form method=\"post\" action=\"/{kind}/complete\"><input type=\"hidden\" name=\"token\" value=\"{token}\">"
        f"{identity}{buttons}</form>"
    )
    return page(title, body)


def done_page(result: dict[str, Any]) -> bytes:
    code = result.get("err_code")
    text = "验证完成 Verification finished." if code is not None else "验证已放弃 Verification abandoned."
    return message("人脸核身", text, code)
