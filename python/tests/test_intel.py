"""Threat intelligence: STIX bundles made with the stix2 package, MISP and OTX files made by
hand and CSV, loaded with `hela intel load`, and ioc_match's matches against a direct
computation in Python."""

import ipaddress
import json
import random

import pandas as pd
import pytest
import stix2

import hela

IDENTITY = stix2.Identity(name="Example CERT", identity_class="organization")


def _indicator(pattern: str, **extra) -> stix2.Indicator:
    return stix2.Indicator(pattern=pattern, pattern_type="stix", valid_from="2024-01-01T00:00:00Z", created_by_ref=IDENTITY.id, **extra)


SHA256 = "a" * 63 + "b"
MD5 = "0123456789abcdef0123456789abcdef"


def _files(directory) -> list:
    bundle = stix2.Bundle(
        IDENTITY,
        _indicator("[ipv4-addr:value = '203.0.113.7']", confidence=80, labels=["c2"]),
        _indicator("[ipv4-addr:value ISSUBSET '198.51.100.0/24'] OR [domain-name:value = 'evil.example']"),
        _indicator(f"[file:hashes.'SHA-256' = '{SHA256.upper()}']"),
        _indicator("[url:value = 'http://Bad.Example/payload.ps1']"),
        _indicator("[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'both.example']"),
    )
    stix = directory / "bundle.json"
    stix.write_text(bundle.serialize())
    misp = directory / "misp.json"
    misp.write_text(json.dumps({"Event": {
        "info": "Phishing wave", "Orgc": {"name": "CIRCL"}, "Tag": [{"name": "tlp:green"}],
        "Attribute": [
            {"type": "ip-dst", "value": "2001:db8:bad::1", "category": "Network activity", "uuid": "a1"},
            {"type": "filename|md5", "value": f"dropper.exe|{MD5}", "category": "Payload delivery", "uuid": "a2"},
            {"type": "regkey", "value": "HKLM\\Software\\Run", "uuid": "a3"},
        ],
        "Object": [{"Attribute": [{"type": "hostname", "value": "c2.phish.example", "uuid": "a4"}]}],
    }}))
    otx = directory / "otx.json"
    otx.write_text(json.dumps({"results": [{
        "id": "p1", "name": "Emotet infrastructure", "author_name": "analyst", "tags": ["emotet"],
        "indicators": [
            {"indicator": "10.66.0.0/16", "type": "CIDR", "created": "2024-02-01T00:00:00"},
            {"indicator": "Mimikatz.exe", "type": "FileHash-MD5"},
            {"indicator": "Global\\mutex", "type": "Mutex"},
        ],
    }]}))
    csv = directory / "feed.csv"
    csv.write_text("type,value,source,confidence,labels\nfile_name,mimikatz.exe,internal,90,tool;credential access\nsha1,not-a-hash,internal,,\n")
    return [stix, misp, otx, csv]


def _events(seed: int, count: int) -> pd.DataFrame:
    rng = random.Random(seed)
    addresses = ["203.0.113.7", "198.51.100.20", "198.51.101.1", "10.66.3.4", "10.67.0.1", "2001:db8:bad::1", "192.0.2.1"]
    names = ["evil.example", "a.b.evil.example", "notevil.example", "c2.phish.example", "both.example", None]
    images = ["C:\\Tools\\MIMIKATZ.EXE", "C:\\Windows\\System32\\cmd.exe", "D:\\dropper.exe"]
    hashes = [f"SHA1=00,MD5={MD5.upper()},SHA256=00", f"SHA256={SHA256}", "MD5=ffffffffffffffffffffffffffffffff"]
    urls = ["HTTP://BAD.EXAMPLE/payload.ps1", "http://bad.example/other", None]
    rows = [
        {"n": i, "SourceIp": rng.choice(addresses), "DestinationIp": rng.choice(addresses), "QueryName": rng.choice(names),
         "Image": rng.choice(images), "Hashes": rng.choice(hashes), "url": rng.choice(urls)}
        for i in range(count)
    ]
    return pd.DataFrame(rows)


def _expected(events: pd.DataFrame, indicators: pd.DataFrame) -> set:
    """Each (event, field, indicator value) match, computed directly."""
    found = set()
    for ind in indicators.itertuples():
        for event in events.itertuples():
            for field in ["SourceIp", "DestinationIp", "QueryName", "Image", "Hashes", "url"]:
                value = getattr(event, field)
                if not isinstance(value, str):
                    continue
                hit = False
                if ind.type == "ip" and field in ("SourceIp", "DestinationIp"):
                    hit = ipaddress.ip_address(value) in ipaddress.ip_network(ind.value)
                elif ind.type == "domain" and field == "QueryName":
                    hit = value.lower() == ind.value or value.lower().endswith("." + ind.value)
                elif ind.type in ("md5", "sha1", "sha256") and field == "Hashes":
                    hit = any(part.split("=")[1].lower() == ind.value for part in value.split(",") if part.split("=")[0].lower() == ind.type)
                elif ind.type == "file_name" and field == "Image":
                    hit = value.replace("/", "\\").rsplit("\\", 1)[-1].lower() == ind.value
                elif ind.type == "url" and field == "url":
                    scheme, rest = value.split("://", 1)
                    host, _, path = rest.partition("/")
                    hit = f"{scheme.lower()}://{host.lower()}/{path}" == ind.value
                if hit:
                    found.add((event.n, field, ind.value))
    return found


def _load(lake, files, capfd) -> tuple:
    """Runs `hela intel load`; its exit status and what it wrote to standard error."""
    status = hela.command("intel", "load", "--lake", lake, *files)
    return status, capfd.readouterr().err


@pytest.fixture()
def loaded(tmp_path, capfd):
    lake = tmp_path / "lake"
    files = _files(tmp_path)
    return lake, files, _load(lake, files, capfd)


def test_every_format_loads_and_refusals_are_reported(loaded, capfd):
    lake, files, (status, err) = loaded
    assert status == 1, err
    for reason in ["AND", "regkey", "Mutex", "not a md5", "not a sha1"]:
        assert reason in err, reason
    connection = hela.Connection(lake)
    table = connection.sql("SELECT type, value, source, confidence, labels FROM indicators").to_pandas()
    values = set(zip(table["type"], table["value"]))
    assert values == {
        ("ip", "203.0.113.7"), ("ip", "198.51.100.0/24"), ("domain", "evil.example"), ("sha256", SHA256),
        ("url", "http://bad.example/payload.ps1"), ("ip", "2001:db8:bad::1"), ("file_name", "dropper.exe"), ("md5", MD5),
        ("domain", "c2.phish.example"), ("ip", "10.66.0.0/16"), ("file_name", "mimikatz.exe"),
    }
    c2 = table[table["value"] == "203.0.113.7"].iloc[0]
    assert (c2["source"], c2["confidence"], list(c2["labels"])) == ("Example CERT", 80, ["c2"])
    assert set(table[table["value"] == "mimikatz.exe"]["source"]) == {"internal"}
    quarantined = "".join(p.read_text() for p in (lake / "quarantine").glob("*.jsonl"))
    assert "regkey" in quarantined and "Global" in quarantined
    status, err = _load(lake, files, capfd)
    assert status == 0 and err.count("already loaded") == len(files), err
    connection.refresh()
    assert len(connection.sql("SELECT * FROM indicators").to_pandas()) == len(table)


def test_ioc_match_finds_what_a_direct_computation_finds(loaded):
    lake, _, _ = loaded
    connection = hela.Connection(lake)
    events = _events(5, 400)
    connection.register("events", events)
    found = connection.sql("SELECT n, ioc_field, ioc_value, ioc_source FROM ioc_match(events, indicators)").to_pandas()
    indicators = connection.sql("SELECT type, value FROM indicators").to_pandas()
    expected = _expected(events, indicators)
    assert len(expected) > 100
    assert set(zip(found["n"], found["ioc_field"], found["ioc_value"])) == expected
    assert len(found) == len(expected)
    chosen = connection.sql("SELECT DISTINCT ioc_field FROM ioc_match(events, indicators, 'QueryName')").to_pandas()
    assert list(chosen["ioc_field"]) == ["QueryName"]


def test_ioc_match_errors_name_what_is_wrong(loaded):
    lake, _, _ = loaded
    connection = hela.Connection(lake)
    connection.register("plain", pd.DataFrame({"x": [1]}))
    for sql, said in [
        ("SELECT * FROM ioc_match(plain, indicators)", "none of the fields"),
        ("SELECT * FROM ioc_match(indicators, plain)", "no column `type`"),
        ("SELECT * FROM ioc_match(plain, indicators, 'nope')", "no column `nope`"),
    ]:
        with pytest.raises(Exception, match=said):
            connection.sql(sql).to_arrow()


def test_indicators_stand_on_the_server_and_each_match_is_an_alert(tmp_path):
    from test_live import alerts_in, bulk, stored, wait_until
    from test_server import Server

    files = _files(tmp_path)
    alerts_file = tmp_path / "alerts.jsonl"
    lake = tmp_path / "served"
    args = [a for f in files for a in ("--intel", str(f))] + ["--alerts-file", str(alerts_file)]
    events = _events(9, 300)
    actions = [{"_index": "shipped", "_id": f"e-{row['n']}", "_source": {k: v for k, v in row.items() if not pd.isna(v)}}
               for row in events.to_dict("records")]

    server = Server(lake, *args)
    try:
        assert "11 indicators standing" in server.log.read_text(), server.log.read_text()
        bulk(server, actions, refresh="wait_for")
        indicators = pd.DataFrame(stored(server, "SELECT type, value FROM indicators"))
        expected = _expected(events, indicators)
        assert len(expected) > 100
        alerts = alerts_in(alerts_file, len(expected))
        found = {(int(a["source_id"][2:]), *next(iter(a["fields"].items()))[:1], a["indicator"]["value"]) for a in alerts}
        assert found == expected and len(alerts) == len(expected)
        assert len({a["detection_id"] for a in alerts}) == len(alerts)
        c2 = next(a for a in alerts if a["indicator"]["value"] == "203.0.113.7")
        assert (c2["rule_id"], c2["level"], c2["tags"], c2["indicator"]["source"], c2["source"]) == (
            "indicator:ip:203.0.113.7", "high", ["c2"], "Example CERT", "shipped")
        assert next(iter(c2["fields"].values())) == "203.0.113.7"
        in_lake = stored(server, "SELECT count(*) AS n, count(DISTINCT detection_id) AS ids FROM detections WHERE rule_id LIKE 'indicator:%'")
        assert in_lake == [{"n": len(expected), "ids": len(expected)}]

        # A feed that changes is read again: its new indicator stands, the old ones raise
        # no second alert.
        with files[3].open("a") as feed:
            feed.write("domain,late.example,internal,20,\n")
        wait_until(server, lambda: "12 indicators standing" in server.log.read_text(), "the changed feed is read again")
        bulk(server, [{"_index": "shipped", "_id": "late", "_source": {"QueryName": "www.late.example", "Image": "C:\\x\\mimikatz.exe"}}], refresh="wait_for")
        late = [a for a in alerts_in(alerts_file, len(expected) + 2) if a["source_id"] == "late"]
        assert sorted((a["indicator"]["value"], a["level"]) for a in late) == [("late.example", "low"), ("mimikatz.exe", "high")]
        server.kill()
    finally:
        server.kill()

    # Restarted, the files are recognised as loaded and the same indicators stand.
    server = Server(lake, *args)
    try:
        log = server.log.read_text()
        assert "12 indicators standing" in log and "indicators loaded" not in log, log
        assert server.stop() == 0
    finally:
        server.kill()
