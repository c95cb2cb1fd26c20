"""A throwaway self-signed certificate for serving a fake forge over HTTPS on 127.0.0.1.

Clients trust it through ``REQUESTS_CA_BUNDLE`` (requests reads it when a session trusts the
environment, as PyGithub's and python-gitlab's do): see :func:`serve_tls`. The certificate is made
with the ``cryptography`` package (PyGithub depends on it), else with ``openssl req -x509``.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import subprocess
from pathlib import Path

from tests.fakes.http import FakeServer

_HOST = "127.0.0.1"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` for 127.0.0.1 (and ``localhost``) into ``directory``.

    The certificate is its own CA (``basicConstraints CA:TRUE``), so it can be a client's trust anchor.
    Raises OSError when neither ``cryptography`` nor ``openssl`` can make one.
    """
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        _with_cryptography(cert, key)
    except ImportError:
        subj, san = f"/CN={_HOST}", f"subjectAltName=IP:{_HOST},DNS:localhost"
        argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        argv += ["-days", "2", "-subj", subj, "-keyout", str(key), "-out", str(cert), "-addext", san]
        subprocess.run(
            [*argv, "-addext", "basicConstraints=critical,CA:TRUE"],
            check=True,
            capture_output=True,
        )
    return cert, key


def _with_cryptography(cert_path: Path, key_path: Path) -> None:
    """Make the certificate and key with ``cryptography`` (raises ImportError without it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _HOST)])
    now = datetime.datetime.now(datetime.UTC)
    san = [x509.IPAddress(ipaddress.ip_address(_HOST)), x509.DNSName("localhost")]
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def serve_tls(server: FakeServer, cert: Path, key: Path) -> None:
    """Make ``server`` (not yet started) serve HTTPS with ``cert``; its ``root``/``url`` say ``https``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.tls = context
