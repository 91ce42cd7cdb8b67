"""hela serve's Arrow Flight SQL port with ADBC's Flight SQL driver (what notebooks and BI
tools use), and TLS with API keys on both ports: the answers must equal those of a lake
ingested from the same events."""

import base64
import datetime
import ipaddress
import json
import subprocess
import sys
from pathlib import Path

import adbc_driver_flightsql.dbapi as flightsql
import pytest
from adbc_driver_flightsql import DatabaseOptions

import hela

from test_server import BY_EVENT, LATERAL, Server, sample_actions


def ship(url: str, sample_file: Path, **client_options) -> int:
    from elasticsearch import Elasticsearch, helpers

    es = Elasticsearch(url, request_timeout=60, **client_options)
    actions = sample_actions(sample_file)
    shipped, errors = helpers.bulk(es, actions, chunk_size=500, refresh="wait_for")
    assert errors == []
    return shipped


def test_adbc_reads_what_a_lake_holds_and_lists_its_tables(tmp_path, lake, sample_file):
    server = Server(tmp_path / "served", "--query-timeout", "3", flight=True)
    try:
        ship(server.url, sample_file)
        with flightsql.connect(server.flight) as connection, connection.cursor() as cursor:
            cursor.execute(BY_EVENT)
            by_event = cursor.fetch_df()
            assert by_event.equals(lake.sql(BY_EVENT).to_pandas()), f"{by_event}\n{lake.sql(BY_EVENT).to_pandas()}"
            cursor.execute(LATERAL)
            lateral = cursor.fetch_arrow_table()
            assert lateral.equals(lake.sql(LATERAL).to_arrow())
            assert lateral.column("Image").to_pylist()[-1].lower().endswith("whoami.exe")

            # The catalog calls drivers make to show what can be queried.
            objects = connection.adbc_get_objects(depth="tables").read_all().to_pylist()
            tables = [t["table_name"] for c in objects for s in c["catalog_db_schemas"] for t in s["db_schema_tables"]]
            assert "events" in tables, objects
            schema = connection.adbc_get_table_schema("events")
            assert {"EventID", "Hostname", "_index", "_id"} <= set(schema.names)

            # A query that cannot run says why, and a file cannot be read through it.
            with pytest.raises(Exception, match="nowhere"):
                cursor.execute("SELECT * FROM nowhere")
            with pytest.raises(Exception, match="not allowed over the network"):
                cursor.execute("CREATE EXTERNAL TABLE secrets STORED AS CSV LOCATION '/etc/passwd'")
            # A query past the server's time limit is stopped and says so.
            with pytest.raises(Exception, match="query-timeout"):
                cursor.execute("SELECT count(*) FROM range(1000000000000)")
                cursor.fetch_df()
        assert server.stop() == 0
    finally:
        server.kill()
    assert "\"flight DoGet prepared statement\" ok" in server.log.read_text()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A server certificate for 127.0.0.1 and localhost (not a CA's, as webpki requires of
    the certificate a server presents), and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hela test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, key_file = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert, key_file


def add_key(keys: Path, name: str, role: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "hela", "apikey", "add", "--auth", str(keys), "--name", name, "--role", role], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_tls_and_api_keys_on_both_ports(tmp_path, lake, sample_file):
    cert, key = self_signed(tmp_path)
    keys = tmp_path / "keys.toml"
    shipper, hunter = add_key(keys, "winlogbeat", "ingest"), add_key(keys, "hunter", "read")
    server = Server(tmp_path / "served", "--auth", str(keys), "--tls-cert", str(cert), "--tls-key", str(key), flight=True)
    try:
        assert server.url.startswith("https://") and server.flight.startswith("grpc+tls://")
        shipped = ship(server.url, sample_file, api_key=shipper, ca_certs=str(cert))
        assert shipped == len(sample_actions(sample_file))

        # HTTPS: the Python client and the command line, trusting the server's certificate.
        remote = hela.connect(server.url, token=hunter, ca_cert=cert)
        assert remote.sql(BY_EVENT).to_pandas().equals(lake.sql(BY_EVENT).to_pandas())
        with pytest.raises(hela.HelaError, match="CERTIFICATE_VERIFY_FAILED"):
            hela.connect(server.url, token=hunter).tables()
        answer = subprocess.run(
            [sys.executable, "-m", "hela", "sql", "--server", server.url, "--token", hunter, "--server-ca", str(cert), "--format", "json", BY_EVENT],
            capture_output=True,
            text=True,
        )
        assert answer.returncode == 0, answer.stderr
        assert json.loads(answer.stdout) == lake.sql(BY_EVENT).to_pandas().to_dict("records")

        # Flight SQL over TLS: with the key as a bearer token, or a Basic handshake.
        tls = {DatabaseOptions.TLS_ROOT_CERTS.value: cert.read_text()}
        bearer = {**tls, DatabaseOptions.AUTHORIZATION_HEADER.value: f"Bearer {hunter}"}
        with flightsql.connect(server.flight, db_kwargs=bearer) as connection, connection.cursor() as cursor:
            cursor.execute(BY_EVENT)
            assert cursor.fetch_df().equals(lake.sql(BY_EVENT).to_pandas())
        name, secret = base64.b64decode(hunter).decode().split(":", 1)
        basic = {**tls, "username": name, "password": secret}
        with flightsql.connect(server.flight, db_kwargs=basic) as connection, connection.cursor() as cursor:
            cursor.execute(LATERAL)
            assert cursor.fetch_arrow_table().equals(lake.sql(LATERAL).to_arrow())

        # Refusals: no key, a key without the read role, a wrong secret.
        refusals = [
            (tls, "Unauthenticated|UNAUTHENTICATED"),
            ({**tls, DatabaseOptions.AUTHORIZATION_HEADER.value: f"Bearer {shipper}"}, "PermissionDenied|PERMISSION_DENIED|needs the role \\[read\\]"),
            ({**tls, "username": name, "password": "wrong"}, "Unauthenticated|UNAUTHENTICATED"),
        ]
        for options, error in refusals:
            with pytest.raises(Exception, match=error):
                with flightsql.connect(server.flight, db_kwargs=options) as connection, connection.cursor() as cursor:
                    cursor.execute(BY_EVENT)
                    cursor.fetch_df()
        assert server.stop() == 0
    finally:
        server.kill()
