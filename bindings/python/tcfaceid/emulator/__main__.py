"""``python -m tcfaceid.emulator``: run the FaceID emulator until stopped."""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Optional

from .auth import Credential
from .config import DEFAULT_HOST, DEFAULT_PORT, Config, Merchant, Rule
from .server import Emulator


def make_cert(directory: str, host: str) -> int:
    """Write a throwaway self-signed certificate and key for ``host`` (uses the openssl command)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        print("openssl is not installed (Debian: apt-get install openssl)", file=sys.stderr)
        return 2
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    cert, key = out / "emulator-cert.pem", out / "emulator-key.pem"
    san = f"IP:{host}" if host.replace(".", "").isdigit() or ":" in host else f"DNS:{host}"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "30", "-subj", f"/CN={host}", "-addext", f"subjectAltName={san},DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    print(f"certificate: {cert}\nkey: {key}\n"
          f"run: python -m tcfaceid.emulator --tls-cert {cert} --tls-key {key}\n"
          f"clients trust it with the CA bundle {cert}")
    return 0


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tcfaceid.emulator", description="A local Tencent Cloud FaceID emulator.")
    ap.add_argument("--host", default=None, help=f"address to bind (default {DEFAULT_HOST})")
    ap.add_argument("--port", type=int, default=None, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    ap.add_argument("--config", help="JSON configuration file (docs/emulator.md)")
    ap.add_argument("--secret-id", help="accept this SecretId (with --secret-key) instead of the default pair")
    ap.add_argument("--secret-key", help="the SecretKey of --secret-id")
    ap.add_argument("--rule-id", action="append", help="a RuleId that DetectAuth accepts (repeatable; default 1)")
    ap.add_argument("--merchant-id", action="append",
                    help="an E-ID MerchantId (repeatable), with the bundled test SM2 key")
    ap.add_argument("--public-url", help="base URL of the verification pages, if not the served URL")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key", help="the private key of --tls-cert (PEM)")
    ap.add_argument("--no-qps-limit", action="store_true", help="do not enforce the per-action QPS limits")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    ap.add_argument("--make-cert", metavar="DIR", help="write a self-signed certificate and key into DIR and exit")
    return ap.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    cfg = Config.from_file(args.config) if args.config else Config()
    if args.host is not None:
        cfg.host = args.host
    if args.port is not None:
        cfg.port = args.port
    if bool(args.secret_id) != bool(args.secret_key):
        raise SystemExit("--secret-id and --secret-key go together")
    if args.secret_id:
        cfg.credentials = [Credential(args.secret_id, args.secret_key)]
    if args.rule_id:
        cfg.rules = [Rule(r) for r in args.rule_id]
    if args.merchant_id:
        cfg.merchants = [Merchant.from_any(m) for m in args.merchant_id]
    if args.public_url:
        cfg.public_url = args.public_url
    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("--tls-cert and --tls-key go together")
    if args.tls_cert:
        cfg.tls_cert, cfg.tls_key = args.tls_cert, args.tls_key
    if args.no_qps_limit:
        cfg.qps_enabled = False
    if args.verbose:
        cfg.quiet = False
    return cfg


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if args.make_cert:
        return make_cert(args.make_cert, args.host or DEFAULT_HOST)
    try:
        cfg = build_config(args)
        emu = Emulator(cfg)
    except (OSError, ValueError, TypeError, KeyError) as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        emu.start()
    except OSError as e:
        print(f"cannot listen on {cfg.host}:{cfg.port}: {e}", file=sys.stderr)
        return 1
    print(f"tcfaceid emulator serving {emu.endpoint}", flush=True)
    print(f"  SecretIds: {', '.join(c.secret_id for c in cfg.credentials)}; RuleIds: "
          f"{', '.join(r.rule_id for r in cfg.rules)}; MerchantIds: {', '.join(m.merchant_id for m in cfg.merchants)}",
          flush=True)
    try:
        signal.pause()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
