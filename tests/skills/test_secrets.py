"""Rule-based secret detection, redaction and restoration (§6.4 privacy pass)."""

from __future__ import annotations

import pytest

from openviking_mcp.skills import find_secrets, placeholder, redact, restore

# Built from parts so that no scanner mistakes this test file for a leak.
OPENAI = "sk-" + "proj-" + "Xq7Lm2Pz9Rt4Vb8Nc1Kd5Wf3Hj6Gs0Ay"
ANTHROPIC = "sk-" + "ant-api03-" + "Zr8Tq2Lm7Pv4Xc9Nb1Kd6Wf3Hj5Gs0AyE"
GITHUB = "ghp" + "_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1"
AWS_ID = "AKIA" + "Q3ZR7LMP2XVB4NC8"
AWS_SECRET = "wJalrXUtnF" + "EMI/K7MDENG/bPxRfiCY" + "q8Zr2Tm4Lp"
SLACK = "xoxb-" + "1234567890-0987654321-" + "aBcDeFgHiJkL"
GOOGLE = "AIza" + "SyB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"
STRIPE = "sk_" + "live_" + "51HcZr8Tq2Lm7Pv4Xc9Nb1"
JWT = "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + ".dBjftJeZ4CVPmB92K27uhbUJU1p1r"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA7VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6d\n"
    "VMvDuictGeurT8jNbvJZHtCSuYEvuNMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEo\n"
    "-----END RSA PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        (f"export OPENAI_API_KEY={OPENAI}", OPENAI, "openai_api_key"),
        (f"key: {ANTHROPIC}", ANTHROPIC, "anthropic_api_key"),
        (f"git clone https://{GITHUB}@github.com/o/r", GITHUB, "github_token"),
        (f"use {GITHUB_PAT} here", GITHUB_PAT, "github_token"),
        (f"id {AWS_ID} end", AWS_ID, "aws_access_key_id"),
        (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET, "aws_secret_access_key"),
        (f"SLACK={SLACK}", SLACK, "slack_token"),
        (f"maps key {GOOGLE}.", GOOGLE, "google_api_key"),
        (f"stripe {STRIPE}", STRIPE, "stripe_key"),
        (f"Authorization: Bearer {JWT}", JWT, "jwt"),
        (f"key:\n{PEM}\n", PEM, "private_key"),
        ("password: hunter2hunter", "hunter2hunter", "assignment"),
        ('api_key = "Zr8Tq2Lm7Pv4"', "Zr8Tq2Lm7Pv4", "assignment"),
        ("{'client_secret': 'a1b2c3d4e5f6'}", "a1b2c3d4e5f6", "assignment"),
        ('"DB_PASSWORD": "correct horse 9"', "correct horse 9", "assignment"),
        ("token=Q2x9mR4tZ8pL", "Q2x9mR4tZ8pL", "assignment"),
        (
            "curl -H 'Authorization: Bearer abcDEF123456789'",
            "abcDEF123456789",
            "authorization_header",
        ),
        ("postgres://admin:S3cretPassw0rd@db:5432/app", "S3cretPassw0rd", "url_password"),
    ],
)
def test_true_positives(text: str, value: str, kind: str) -> None:
    secrets = find_secrets(text)
    assert [(s.value, s.kind) for s in secrets] == [(value, kind)]
    assert text[secrets[0].start : secrets[0].end] == value


@pytest.mark.parametrize(
    "text",
    [
        "api_key: <your-key>",
        "api_key = ${API_KEY}",
        'api_key = "$OPENAI_API_KEY"',
        "token: xxxxxxxxxxxxxxxx",
        "password: ********",
        "api_key = your_api_key_here",
        "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxx",
        "OPENAI_API_KEY=sk-...",
        "password: abc123",  # shorter than 8 characters
        "password: required",  # a plain word
        "max_tokens: 100000000",  # digits only
        "api_key = os.environ.get('API_KEY')",
        "token = config.auth.token",
        "api_key: OPENAI_API_KEY",  # the name of a variable, not its value
        "tokenizer: bert-base-uncased",
        "AWS example AKIAIOSFODNN7EXAMPLE",
        "postgres://user:password@localhost/db",
        "https://example.com/path?x=1",
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
        "Authorization: Bearer $TOKEN",
        "token: {{ov_privacy:skill:s:secret_1}}",
        "The password is set in the config file.",
    ],
)
def test_false_positives(text: str) -> None:
    assert find_secrets(text) == []


def test_several_secrets_come_back_in_order() -> None:
    text = f"a {GITHUB} b password: hunter2hunter c {AWS_ID}"
    assert [s.kind for s in find_secrets(text)] == [
        "github_token",
        "assignment",
        "aws_access_key_id",
    ]


def test_redact_and_restore_round_trip() -> None:
    text = f"Use {OPENAI} (again: {OPENAI}) and password: hunter2hunter.\n"
    redacted, mapping = redact(text, "my-skill")
    first = placeholder("my-skill", "secret_1")
    second = placeholder("my-skill", "secret_2")
    assert first == "{{ov_privacy:skill:my-skill:secret_1}}"
    assert redacted == f"Use {first} (again: {first}) and password: {second}.\n"
    assert mapping == {first: OPENAI, second: "hunter2hunter"}
    assert OPENAI not in redacted
    assert find_secrets(redacted) == []  # redacting again finds nothing
    assert restore(redacted, mapping) == text


def test_redact_without_secrets() -> None:
    assert redact("nothing to see", "s") == ("nothing to see", {})
    assert restore("nothing {{x}}", {}) == "nothing {{x}}"


def test_redact_continues_numbering_after_existing_placeholders() -> None:
    text = f"{placeholder('s', 'secret_3')} and {GITHUB}"
    redacted, mapping = redact(text, "s")
    assert mapping == {placeholder("s", "secret_4"): GITHUB}
    assert redacted == f"{placeholder('s', 'secret_3')} and {placeholder('s', 'secret_4')}"


def test_restore_is_a_single_pass() -> None:
    one, two = placeholder("s", "secret_1"), placeholder("s", "secret_2")
    # A value that happens to look like another placeholder is not expanded again.
    assert restore(f"{one}|{two}", {one: two, two: "v"}) == f"{two}|v"


def test_restore_writes_json_values_compactly_and_skips_null() -> None:
    one, two, three, four = (placeholder("s", f"secret_{n}") for n in range(1, 5))
    mapping: dict[str, object] = {
        one: {"user": "ann", "ports": [80, 443]},
        two: 42,
        three: True,
        four: None,
    }
    text = f"{one} {two} {three} {four}"
    assert restore(text, mapping) == f'{{"user":"ann","ports":[80,443]}} 42 true {four}'
    assert restore("é {x}", {"{x}": ["é"]}) == 'é ["é"]'  # non-ASCII kept as it is
    assert restore(four, {four: None}) == four
