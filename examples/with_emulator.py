"""Run a command against a FaceID emulator started for it, optionally with a simulated person.

    python examples/with_emulator.py [--person SCENARIO] -- COMMAND [ARGS...]

The bundled emulator (tcfaceid.emulator) is started in this process on a free port; the command
runs with ``TCFACEID_ENDPOINT`` set to its address and ``TENCENTCLOUD_SECRET_ID`` /
``TENCENTCLOUD_SECRET_KEY`` set to the emulator's documented example keys, so any program using
the credential chain (the C library, tcf-call, the Python Client) talks to it unchanged.

The command's output is passed through. With ``--person SCENARIO`` (pass, fail_liveness,
fail_compare, retry_then_pass, ... see docs/emulator.md), each verification page URL the command
prints is "opened" (fetched, as a browser would) and the verification completed with that scenario
through the emulator's control API: the person in front of the page. Without it, open the URLs
yourself: the page has a button per outcome.

Exits with the command's exit status. ``make example-c`` uses it for examples/c/verify.c.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Optional

PYTHON_BINDINGS = Path(__file__).resolve().parents[1] / "bindings" / "python"
if PYTHON_BINDINGS.is_dir() and str(PYTHON_BINDINGS) not in sys.path:
    sys.path.insert(0, str(PYTHON_BINDINGS))  # works without installing tcfaceid, too

from tcfaceid.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Config, Emulator  # noqa: E402

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def play_person(endpoint: str, url: str, scenario: str, delay: float = 0.5) -> None:
    """What the person does: open the page, take a moment, finish it with ``scenario``."""
    token = url.split("token=", 1)[1].split("&", 1)[0]
    with _DIRECT.open(url, timeout=10) as page:  # opening the page ("doing" for E-ID)
        page.read()
    time.sleep(delay)
    req = urllib.request.Request(
        f"{endpoint}/_emulator/complete",
        data=json.dumps({"token": token, "scenario": scenario}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with _DIRECT.open(req, timeout=10) as answer:
        done = json.load(answer)
    print(f"[with_emulator] the person finished the page: {scenario} (ErrCode {done.get('err_code')})",
          flush=True)


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("--person", metavar="SCENARIO",
                   help="complete every verification page the command prints with this scenario")
    p.add_argument("--port", type=int, default=0, help="the emulator's port (default: a free one)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("no command given")

    with Emulator(Config(port=args.port)) as emu:
        print(f"[with_emulator] emulator at {emu.endpoint}", flush=True)
        env = dict(os.environ, TCFACEID_ENDPOINT=emu.endpoint, TENCENTCLOUD_SECRET_ID=DEFAULT_SECRET_ID,
                   TENCENTCLOUD_SECRET_KEY=DEFAULT_SECRET_KEY)
        env.pop("TENCENTCLOUD_SESSION_TOKEN", None)
        page = re.compile(re.escape(emu.endpoint) + r"/(?:h5|eid)/verify\?token=[A-Za-z0-9._~-]+")
        try:
            proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                    text=True, bufsize=1)
        except OSError as e:
            print(f"[with_emulator] cannot run {command[0]}: {e.strerror}", file=sys.stderr)
            return 127
        assert proc.stdout is not None
        people: list[threading.Thread] = []
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            m = page.search(line)
            if m and args.person:
                t = threading.Thread(target=play_person, args=(emu.endpoint, m.group(0), args.person), daemon=True)
                t.start()
                people.append(t)
        code = proc.wait()
        for t in people:
            t.join(timeout=10)
    return code


if __name__ == "__main__":
    sys.exit(main())
