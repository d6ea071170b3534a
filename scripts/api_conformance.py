#!/usr/bin/env python3
"""The identities scripts/api-conformance runs schemathesis as (standard library only).

    api_conformance.py free-port
    api_conformance.py wait-ready BASE_URL SECONDS PID
    api_conformance.py prepare BASE_URL REALNAME_BIN DATABASE_URL OUT_DIR

`prepare` registers a user, signs them in and gives them a draft application (the README's
example, with consent); walks a second user (the applicant) through the README's journey up to
`under_review`, so that the review queue holds a case; then creates a reviewer with
`realname staff add` and signs them in. It writes OUT_DIR/user.token, OUT_DIR/reviewer.token,
OUT_DIR/verification.id (the user's draft) and OUT_DIR/case.id (the applicant's case). When
`staff add` prints the second factor's otpauth URI (CONTRACT 5), the reviewer signs in with the
current TOTP code as well (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

USER_LOGIN = "conformance-user@example.com"
USER_PASSWORD = "conformance user password"
APPLICANT_LOGIN = "conformance-applicant@example.com"
REVIEWER_LOGIN = "conformance-reviewer"
REVIEWER_PASSWORD = "conformance reviewer password"

# The README's journey, step 2 (CONTRACT 4: POST /v1/verifications).
APPLICATION = {
    "consent": True,
    "real_name": "John Smith",
    "nationality": "USA",
    "date_of_birth": "1990-05-17",
    "phone": "13800138000",
    "documents": {
        "passport": {"number": "E12345678", "expiry_date": "2099-12-31"},
        "stay_permit": {"kind": "entry_record", "entry_date": "2026-01-10"},
    },
    "sex": "male",
    "occupation": {"category": "office_worker"},
    "address": "Room 1201, 88 Jianguo Road, Chaoyang, Beijing",
    "pep": {"declared": False},
}


# The README's journey, step 4: a savings card of the sandbox bank that settles.
BANK_CARD = {
    "bank": "ICBC",
    "card_number": "6222020000000000018",
    "card_type": "savings",
    "account_type": "current",
    "account_name": "John Smith",
}
# Judged by content: a JPEG whose header reads (a 1600 x 1200 frame), then padding.
JPEG = b"\xff\xd8\xff\xe0\x00\x10\x4a\x46\x49\x46\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xc0\x00\x11\x08\x04\xb0\x06\x40\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01" + b"\x07" * 4096


def fail(message):
    print(f"api-conformance: {message}", file=sys.stderr)
    sys.exit(1)


def request(method, url, body=None, token=None, content_type="application/json"):
    """Returns (status, parsed JSON or raw text). A `bytes` body is sent as it is."""
    if body is None or isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def expect(what, status, body, wanted):
    if status != wanted:
        fail(f"{what}: expected {wanted}, got {status}: {body}")
    return body


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        print(sock.getsockname()[1])


def wait_ready(base, seconds, pid):
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        try:
            os.kill(int(pid), 0)
        except OSError:
            fail("the node exited before it was ready")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    fail(f"{base}/readyz did not answer 200 within {seconds} s")


def totp(secret_base32, at=None):
    """The current RFC 6238 code of a base32 secret: HMAC-SHA-1, 6 digits, 30 s steps."""
    secret = secret_base32.strip().replace(" ", "").upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    step = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def otpauth_secret(output):
    """The secret of the first otpauth:// URI in `output`, or None when there is none."""
    match = re.search(r"otpauth://\S+", output)
    if not match:
        return None
    query = urllib.parse.parse_qs(urllib.parse.urlparse(match.group(0)).query)
    secrets = query.get("secret")
    if not secrets:
        fail(f"staff add printed an otpauth URI without a secret: {match.group(0)}")
    return secrets[0]


def sign_in(base, login, password, secret=None):
    body = {"login": login, "password": password}
    if secret is not None:
        body["totp"] = totp(secret)
    status, answer = request("POST", f"{base}/v1/sessions", body)
    if status == 401 and secret is not None:
        # A code of a step already used is refused: wait for the next step and try once more.
        time.sleep(30 - time.time() % 30 + 1)
        body["totp"] = totp(secret)
        status, answer = request("POST", f"{base}/v1/sessions", body)
    answer = expect(f"sign-in of {login}", status, answer, 201)
    token = answer.get("token") if isinstance(answer, dict) else None
    if not token:
        fail(f"sign-in of {login} answered no token: {answer}")
    return token


def register_with_draft(base, login, passport):
    """Registers `login`, signs in and creates a draft; returns (token, application id)."""
    status, body = request("POST", f"{base}/v1/accounts", {"login": login, "password": USER_PASSWORD})
    expect(f"registration of {login}", status, body, 201)
    token = sign_in(base, login, USER_PASSWORD)
    application = json.loads(json.dumps(APPLICATION))
    application["documents"]["passport"]["number"] = passport
    status, body = request("POST", f"{base}/v1/verifications", application, token=token)
    body = expect(f"the draft application of {login}", status, body, 201)
    return token, str(body.get("id", ""))


def poll(what, seconds, probe):
    """Calls `probe` until it answers something true, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    fail(f"{what}: nothing within {seconds} s")


def under_review(base, token, app_id):
    """The README's journey from a draft to `under_review`: documents, card, submit, amount."""
    app = f"{base}/v1/verifications/{app_id}"
    for slot in ("passport_photo_page", "stay_permit"):
        status, body = request("PUT", f"{app}/documents/{slot}", JPEG, token, "image/jpeg")
        expect(f"the upload of {slot}", status, body, 200)
    status, body = request("PUT", f"{app}/bank_card", BANK_CARD, token)
    expect("the bank card", status, body, 200)
    status, body = request("POST", f"{app}/submit", {}, token)
    expect("the submission", status, body, 200)

    def amount():
        query = urllib.parse.urlencode({"card_number": BANK_CARD["card_number"]})
        status, body = request("GET", f"{base}/v1/sandbox/bank/statement?{query}")
        transactions = body.get("transactions") if status == 200 and isinstance(body, dict) else None
        return transactions[0].get("amount") if transactions else None

    paid = poll("the deposit on the sandbox statement", 30, amount)
    # The bank shows the money a moment before the service has recorded the bank's notice.
    poll(
        "the application awaiting the amount",
        30,
        lambda: request("GET", app, token=token)[1].get("status") == "awaiting_amount",
    )
    status, body = request("POST", f"{app}/deposit_confirmation", {"amount": paid}, token)
    body = expect("the deposit confirmation", status, body, 200)
    if body.get("status") != "under_review":
        fail(f"the application is {body.get('status')!r} after the deposit, not under_review")


def prepare(base, binary, database, out_dir):
    user_token, draft_id = register_with_draft(base, USER_LOGIN, "E12345678")
    applicant_token, applicant_app = register_with_draft(base, APPLICANT_LOGIN, "E87654321")
    under_review(base, applicant_token, applicant_app)

    staff = subprocess.run(
        [binary, "staff", "add", REVIEWER_LOGIN, "--role", "reviewer", "--database", database],
        input=REVIEWER_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if staff.returncode != 0:
        fail(f"realname staff add exited {staff.returncode}: {staff.stderr.strip()}")
    secret = otpauth_secret(staff.stdout + staff.stderr)
    reviewer_token = sign_in(base, REVIEWER_LOGIN, REVIEWER_PASSWORD, secret)

    def case():
        status, body = request("GET", f"{base}/v1/review/cases?status=open&limit=100", token=reviewer_token)
        cases = body.get("cases") if status == 200 and isinstance(body, dict) else None
        found = [c for c in cases or [] if c.get("verification_id") == applicant_app]
        return str(found[0].get("id", "")) if found else None

    case_id = poll("the applicant's case in the review queue", 30, case)

    for name, value in [
        ("user.token", user_token),
        ("reviewer.token", reviewer_token),
        ("verification.id", draft_id),
        ("case.id", case_id),
    ]:
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as file:
            file.write(value + "\n")


def main(argv):
    commands = {"free-port": (free_port, 0), "wait-ready": (wait_ready, 3), "prepare": (prepare, 4)}
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        fail("usage: api_conformance.py free-port | wait-ready ... | prepare ... (see its docstring)")
    command, _ = commands[argv[1]]
    command(*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
