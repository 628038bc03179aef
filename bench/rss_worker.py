"""One 8 MB-video LivenessRecognition client in its own process (bench/run.py starts it).

    python bench/rss_worker.py <variant> <endpoint> <video file> <calls>

variant: ``tcfaceid-path`` (Client.liveness_recognition(..., video=pathlib.Path)),
``tcfaceid-bytes`` (video=the file's bytes, read per call), ``sdk`` (the official
tencentcloud-sdk-python: models.LivenessRecognitionRequest with VideoBase64, the file read and
base64-encoded per call, as its users do).

After the imports and the client are ready, the process's peak-RSS counter is reset (``5`` into
/proc/self/clear_refs) and the baseline is VmRSS; after the calls the peak is VmHWM. Prints one
JSON line: per-call wall times (s), baseline and peak (KiB).
"""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
ID_CARD, NAME = "110101199003071233", "张三"


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def main() -> None:
    variant, endpoint, video, calls = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    if variant.startswith("tcfaceid"):
        import tcfaceid

        client = tcfaceid.Client(SECRET_ID, SECRET_KEY, endpoint=endpoint, qps=False)

        def one() -> None:
            media = video if variant == "tcfaceid-path" else video.read_bytes()
            r = client.liveness_recognition(ID_CARD, NAME, "SILENT", video=media)
            assert r.status == "matched", r

    elif variant == "sdk":
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.faceid.v20180301 import faceid_client, models

        scheme, _, host = endpoint.partition("://")
        profile = ClientProfile(httpProfile=HttpProfile(protocol=scheme, endpoint=host, keepAlive=True))
        client = faceid_client.FaceidClient(credential.Credential(SECRET_ID, SECRET_KEY), "", profile)

        def one() -> None:
            req = models.LivenessRecognitionRequest()
            req.IdCard, req.Name, req.LivenessType = ID_CARD, NAME, "SILENT"
            req.VideoBase64 = base64.b64encode(video.read_bytes()).decode("ascii")
            r = client.LivenessRecognition(req)
            assert r.Result == "Success", r

    else:
        raise SystemExit(f"unknown variant {variant}")

    reset = True
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        reset = False
    baseline = status_kib("VmRSS") if reset else status_kib("VmHWM")
    walls = []
    for _ in range(calls):
        t0 = time.perf_counter()
        one()
        walls.append(time.perf_counter() - t0)
    print(json.dumps({"variant": variant, "walls": walls, "baseline_kib": baseline, "peak_kib": status_kib("VmHWM"),
                      "hwm_reset": reset}))


if __name__ == "__main__":
    main()
