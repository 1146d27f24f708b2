"""Bearer tokens with scopes, TLS and mTLS, on real servers with certificates made here."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc
from neardup.index.errors import InvalidArgument
from neardup.service.auth import new_token
from neardup.service.client import Client, Connection, NeardupRpcError
from neardup.service.config import ServerConfig
from neardup.v1 import neardup_pb2 as pb

from .conftest import RunningServer, config_for, start_server

Code = grpc.StatusCode


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[0].subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1, and a client certificate, as PEM files."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = _key()
    ca = _certificate("neardup test CA", ca_key, None, ca=True)
    files: dict[str, bytes] = {"ca.pem": _pem(ca)}
    for role in ("server", "client"):
        key = _key()
        files[f"{role}.pem"] = _pem(_certificate(f"neardup {role}", key, (ca, ca_key)))
        files[f"{role}.key"] = _pem_key(key)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return {name: folder / name for name in files}


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A tokens file with a reader, a writer and an admin; and their clear tokens."""
    path = tmp_path_factory.mktemp("tokens") / "tokens.toml"
    clear, entries = {}, []
    grants = {"reader": ["read"], "writer": ["read", "write"], "admin": ["read", "write", "admin"]}
    for name, scopes in grants.items():
        clear[name], entry = new_token(name, scopes)
        entries.append(entry)
    path.write_text("\n".join(entries))
    assert "sha256" in path.read_text() and clear["reader"] not in path.read_text()
    return path, clear


@pytest.fixture(scope="module")
def secured(
    tmp_path_factory: pytest.TempPathFactory, tokens: tuple[Path, dict[str, str]]
) -> Iterator[RunningServer]:
    running = start_server(
        config_for(tmp_path_factory.mktemp("secured") / "data", tokens_file=tokens[0])
    )
    yield running
    running.shutdown()


def call_as(server: RunningServer, token: str | None) -> Client:
    return Client(server.target, timeout=30, connection=Connection(token=token))


GARDEN_HASH = "c09ff81b33f40d64"


def test_a_call_without_a_token_is_unauthenticated(secured: RunningServer) -> None:
    with call_as(secured, None) as client, pytest.raises(NeardupRpcError) as caught:
        client.stats()
    assert caught.value.code == Code.UNAUTHENTICATED
    assert "Bearer" in caught.value.message


def test_an_unknown_token_is_unauthenticated(secured: RunningServer) -> None:
    with call_as(secured, "guess") as client, pytest.raises(NeardupRpcError) as caught:
        client.stats()
    assert caught.value.code == Code.UNAUTHENTICATED


def test_each_scope_grants_its_methods_only(
    secured: RunningServer, tokens: tuple[Path, dict[str, str]]
) -> None:
    clear = tokens[1]
    with call_as(secured, clear["reader"]) as reader:
        assert reader.stats().collection.name == "default"
        with pytest.raises(NeardupRpcError) as caught:
            reader.add(hash=GARDEN_HASH, id="x")
        assert caught.value.code == Code.PERMISSION_DENIED
        assert "'write' scope" in caught.value.message
    with call_as(secured, clear["writer"]) as writer:
        assert writer.add(hash=GARDEN_HASH, id="x").outcome == pb.ADD_OUTCOME_ADDED
        responses = list(
            writer.add_stream([pb.AddRequest(id="y", hash=pb.Fingerprint(hex=GARDEN_HASH))])
        )
        assert responses[0].HasField("added")
        with pytest.raises(NeardupRpcError) as caught:
            writer.call("Snapshot", pb.SnapshotRequest())
        assert caught.value.code == Code.PERMISSION_DENIED
    with call_as(secured, clear["admin"]) as admin:
        assert admin.call("Snapshot", pb.SnapshotRequest()).snapshots
    with call_as(secured, clear["reader"]) as reader:
        assert reader.stats().collection.name == "default"  # and the server goes on


def test_a_streaming_call_without_a_token_is_unauthenticated(secured: RunningServer) -> None:
    with call_as(secured, None) as client, pytest.raises(NeardupRpcError) as caught:
        list(client.add_stream([pb.AddRequest(id="z", hash=pb.Fingerprint(hex=GARDEN_HASH))]))
    assert caught.value.code == Code.UNAUTHENTICATED


def test_health_needs_no_token(secured: RunningServer) -> None:
    with grpc.insecure_channel(secured.target) as channel:
        status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert status.status == health_pb2.HealthCheckResponse.SERVING


def test_without_tokens_only_loopback_is_allowed(tokens: tuple[Path, dict[str, str]]) -> None:
    with pytest.raises(InvalidArgument, match="loopback only"):
        ServerConfig(listen="0.0.0.0:50051").check_loopback()
    for host in ("127.0.0.1", "[::1]", "localhost"):
        ServerConfig(listen=f"{host}:50051").check_loopback()
    ServerConfig(listen="0.0.0.0:50051", tokens_file=tokens[0]).check_loopback()


def test_tls_serves_clients_that_trust_its_ca_only(tmp_path: Path, pki: dict[str, Path]) -> None:
    running = start_server(
        config_for(tmp_path / "data", tls_cert=pki["server.pem"], tls_key=pki["server.key"])
    )
    try:
        trusted = Connection(tls_ca=pki["ca.pem"].read_bytes())
        with Client(running.target, timeout=30, connection=trusted) as client:
            assert client.stats().collection.name == "default"
        with Client(running.target, timeout=5) as plain, pytest.raises(NeardupRpcError) as caught:
            plain.stats()
        assert caught.value.code == Code.UNAVAILABLE
    finally:
        running.shutdown()


def test_mtls_requires_a_client_certificate_from_the_ca(
    tmp_path: Path, pki: dict[str, Path]
) -> None:
    running = start_server(
        config_for(
            tmp_path / "data",
            tls_cert=pki["server.pem"],
            tls_key=pki["server.key"],
            tls_client_ca=pki["ca.pem"],
        )
    )
    try:
        ca = pki["ca.pem"].read_bytes()
        with_cert = Connection(
            tls_ca=ca,
            tls_cert=pki["client.pem"].read_bytes(),
            tls_key=pki["client.key"].read_bytes(),
        )
        with Client(running.target, timeout=30, connection=with_cert) as client:
            assert client.stats().collection.name == "default"
        without = Connection(tls_ca=ca)
        with (
            Client(running.target, timeout=5, connection=without) as client,
            pytest.raises(NeardupRpcError) as caught,
        ):
            client.stats()
        assert caught.value.code == Code.UNAVAILABLE
    finally:
        running.shutdown()


def test_tls_settings_are_checked_together() -> None:
    with pytest.raises(InvalidArgument, match="go together"):
        ServerConfig(tls_cert=Path("cert.pem")).check_tls()
    with pytest.raises(InvalidArgument, match="mTLS"):
        ServerConfig(tls_client_ca=Path("ca.pem")).check_tls()
