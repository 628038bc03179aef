"""The E-ID flow (E证通) from start to the decrypted identity, as a script.

One command (an emulator is started inside, and a simulated person completes the page):

    python examples/eid_flow.py                       # or: make example-eid

Steps, each printed as it happens (docs/flows.md, "The E-ID flow"):

1. GetEidToken (``client.get_eid_token``): an EidSession (EidToken, Url valid 10 minutes and
   once, results for 3 days) that a backend stores as ``session.to_json()``.
2. The person opens the Url (on a PC, typically as a QR code for their phone) and verifies.
   Here a thread plays them: it opens the page and completes it through the emulator's control
   API (``POST /_emulator/complete``); ``--person none`` leaves it to you (open the printed URL).
3. Waiting: CheckEidTokenStatus about every second (``client.wait_eid``, which tolerates two
   transient errors in a row), until "finished" or "timeout". When the person's browser comes
   back to the RedirectUrl instead, ``parse_redirect`` gives the same EidToken: both are shown.
4. GetEidResult (``client.eid_result(session, parts=("text", "eid_info"))``): the verdict,
   decided on codes only.
5. EidInfo decrypted with the merchant's SM2 private key (``tcfaceid.decrypt_eid_info``; here the
   emulator's bundled test key for its default merchant) and compared with what was expected;
   the identity is only ever printed masked.

Against a running emulator: ``--endpoint http://127.0.0.1:8455 --person pass``. Against the real
service: ``--endpoint https://faceid.tencentcloudapi.com --merchant-id ... --sm2-key key.pem
--redirect-url https://your.site/eid/return`` and the keys in TENCENTCLOUD_SECRET_ID /
TENCENTCLOUD_SECRET_KEY; the person is then a real one. Exit status: 0 passed, 1 not passed
(failed, timed out), 2 an error.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Optional

PYTHON_BINDINGS = Path(__file__).resolve().parents[1] / "bindings" / "python"
if PYTHON_BINDINGS.is_dir() and str(PYTHON_BINDINGS) not in sys.path:
    sys.path.insert(0, str(PYTHON_BINDINGS))  # works without installing tcfaceid, too

import tcfaceid  # noqa: E402  (after the sys.path set-up above)
from tcfaceid.emulator import (  # noqa: E402
    DEFAULT_MERCHANT_ID,
    DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM,
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    Config,
    Emulator,
)

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def mask_id(id_card: Optional[str]) -> str:
    """110101199003071233 -> 110***********1233."""
    if not id_card:
        return "(none)"
    return "*" * len(id_card) if len(id_card) <= 7 else id_card[:3] + "*" * (len(id_card) - 7) + id_card[-4:]


def mask_name(name: Optional[str]) -> str:
    """张三 -> 张*."""
    return name[0] + "*" * (len(name) - 1) if name else "(none)"


class Person(threading.Thread):
    """The person on the E-ID page, simulated against an emulator: opens the Url (the status
    becomes "doing"), takes a moment, and finishes with ``scenario`` through the control API.
    ``landing`` is then the URL the browser is sent back to (the RedirectUrl + token)."""

    def __init__(self, endpoint: str, url: str, token: str, scenario: str, delay: float = 1.5) -> None:
        super().__init__(daemon=True)
        self.endpoint, self.url, self.token, self.scenario, self.delay = endpoint, url, token, scenario, delay
        self.landing: Optional[str] = None
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        try:
            with _DIRECT.open(self.url, timeout=10) as page:
                page.read()
            time.sleep(self.delay)
            req = urllib.request.Request(
                f"{self.endpoint}/_emulator/complete",
                data=json.dumps({"token": self.token, "scenario": self.scenario}).encode(),
                headers={"Content-Type": "application/json"}, method="POST")
            with _DIRECT.open(req, timeout=10) as answer:
                self.landing = json.load(answer).get("redirect")
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.error = e


def run(client: tcfaceid.Client, merchant_id: str, *, sm2_key_pem: Optional[str], person: Optional[str],
        emulator_endpoint: Optional[str], redirect_url: str, name: Optional[str] = None,
        id_card: Optional[str] = None, interval: float = 1.0, out: Any = None) -> int:
    """The flow; returns the exit status. ``person``: a scenario to simulate, or None."""
    out = out or sys.stdout

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    # 1. GetEidToken: validated locally first (nothing is sent when an input is wrong).
    session = client.get_eid_token(
        merchant_id, id_card=id_card, name=name,
        input_type=4 if id_card and name else None,  # 4: we pass them; else the page reads the ID card
        redirect_url=redirect_url,
    )
    stored = session.to_json()  # what a backend keeps (no name, no ID number)
    say(f"1. GetEidToken: {session!r}")
    say(f"   stored as {len(stored)} bytes of JSON; the Url is valid {int(session.expires_at - session.created_at)} s"
        f", the results {int(session.results_until - session.created_at) // 86400} days")
    session = tcfaceid.EidSession.from_json(stored)  # e.g. in another worker

    # 2. The person.
    helper = None
    if person and emulator_endpoint:
        helper = Person(emulator_endpoint, session.url, session.eid_token, person)
        helper.start()
        say(f"2. the person opens the page and verifies (simulated: {person})")
    else:
        say(f"2. open this page to verify (valid 10 minutes, once): {session.url}")

    # 3. Waiting: CheckEidTokenStatus about every second.
    status = client.wait_eid(session, interval=interval)
    say(f"3. CheckEidTokenStatus: {status}")
    if helper is not None:
        helper.join(timeout=10)
        if helper.error is not None:
            say(f"   the simulated person failed: {helper.error}")
            return 2
        if helper.landing:
            landed = tcfaceid.parse_redirect(helper.landing)  # what the RedirectUrl landing would see
            same = hmac.compare_digest(landed.encode(), session.eid_token.encode())
            say(f"   the browser came back to the RedirectUrl with the same EidToken: {same}")
    if status != "finished":
        say("   not finished in time: start again with a new EidToken")
        return 1

    # 4. GetEidResult: the text first, then InfoType 0 for EidInfo.
    verdict = client.eid_result(session, parts=("text", "eid_info"))
    say(f"4. GetEidResult: {verdict.status}, code {verdict.code} ({verdict.meaning}), billed {verdict.billed}, "
        f"{len(verdict.attempts)} attempt(s)")
    if not verdict.passed:
        return 1

    # 5. The identity, decrypted locally with the merchant's SM2 key.
    if not sm2_key_pem:
        say("5. no --sm2-key: EidInfo not decrypted")
        return 0
    try:
        identity = tcfaceid.decrypt_eid_info((verdict.response or {}).get("EidInfo"), sm2_key_pem)
    except tcfaceid.StateError:
        say("5. EidInfo is empty: identity return is not enabled for this merchant")
        return 0
    say(f"5. EidInfo decrypted: name {mask_name(identity.get('name'))}, ID {mask_id(identity.get('idnum'))}"
        f" (type {identity.get('idtype')})")
    if id_card:
        matches = hmac.compare_digest(str(identity.get("idnum", "")).encode(), id_card.upper().encode())
        say(f"   the ID number is the one expected: {matches}")
        if not matches:
            return 1
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description="The E-ID flow, from GetEidToken to the decrypted EidInfo.")
    p.add_argument("--endpoint", help="FaceID endpoint; default: an emulator started in this process")
    p.add_argument("--merchant-id", default=DEFAULT_MERCHANT_ID)
    p.add_argument("--sm2-key", metavar="PEM_FILE", help="the merchant's SM2 private key (default: the "
                   "emulator's public test key, for its default merchant on a loopback endpoint)")
    p.add_argument("--person", default=None, help="simulate the person with this emulator scenario "
                   "(pass, fail_liveness, ...; default: pass with the built-in emulator; 'none': you)")
    p.add_argument("--name", help="with --id-card: passed by the backend (InputType 4)")
    p.add_argument("--id-card")
    p.add_argument("--redirect-url", default="https://shop.example/eid/return?state=demo",
                   help="where the page sends the browser back (the EidToken is added as token=)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between status polls")
    args = p.parse_args(argv)
    if bool(args.name) != bool(args.id_card):
        p.error("--name and --id-card go together")

    emulator = None
    endpoint = args.endpoint
    if endpoint is None:
        emulator = Emulator(Config(port=0)).start()
        endpoint = emulator.endpoint
        print(f"emulator started at {endpoint}", flush=True)
    loopback = urllib.parse.urlsplit(endpoint).hostname in ("127.0.0.1", "localhost", "::1")
    person = args.person if args.person is not None else ("pass" if emulator else "none")
    secret_id = secret_key = None
    if loopback and not os.environ.get("TENCENTCLOUD_SECRET_ID"):
        secret_id, secret_key = DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY  # the emulator's documented pair
    pem = None
    if args.sm2_key:
        pem = Path(args.sm2_key).read_text(encoding="ascii")
    elif loopback and args.merchant_id == DEFAULT_MERCHANT_ID:
        pem = DEFAULT_MERCHANT_SM2_PRIVATE_KEY_PEM
    try:
        with tcfaceid.Client(secret_id, secret_key, endpoint=endpoint) as client:
            return run(client, args.merchant_id, sm2_key_pem=pem,
                       person=None if person == "none" else person,
                       emulator_endpoint=endpoint if loopback else None, redirect_url=args.redirect_url,
                       name=args.name, id_card=args.id_card, interval=args.interval)
    except tcfaceid.InvalidArgumentError as e:  # refused locally: nothing was sent
        print(f"invalid input: {e.message}", file=sys.stderr)
        return 2
    except tcfaceid.Error as e:  # the code and RequestId, never the inputs
        print(f"FaceID call failed: {e.code} (RequestId {e.request_id})", file=sys.stderr)
        return 2
    finally:
        if emulator is not None:
            emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
