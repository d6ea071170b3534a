"""A platform's backend, written against the Python client that openapi-python-client made
from /v1/openapi.json: it sends a user to realname and reads how they stand, against a running
node (CONTRACT 4). Exits non-zero when a call fails or answers another shape.

    python client_check.py BASE_URL PLATFORM_KEY
"""

import sys
import uuid

from realname_client import AuthenticatedClient
from realname_client.api.platform import create_platform_session, get_platform_user
from realname_client.models import PlatformSessionBody, PlatformSessionView, PlatformUserView


def main(base: str, key: str) -> int:
    client = AuthenticatedClient(base_url=base, token=key, raise_on_unexpected_status=True)
    external_user_id = f"ext-{uuid.uuid4().hex[:12]}"
    session = create_platform_session.sync(
        client=client, body=PlatformSessionBody(external_user_id=external_user_id, locale="en")
    )
    if not isinstance(session, PlatformSessionView):
        print(f"client-check: creating a session answered {session!r}", file=sys.stderr)
        return 1
    if not (session.url or "").startswith(base + "/start/"):
        print("client-check: the session's url does not start with the node's /start/", file=sys.stderr)
        return 1
    user = get_platform_user.sync(external_user_id, client=client)
    if not isinstance(user, PlatformUserView):
        print(f"client-check: reading the user answered {user!r}", file=sys.stderr)
        return 1
    if (user.external_user_id, user.real_name_status) != (external_user_id, "unverified"):
        print(f"client-check: unexpected user {user.to_dict()!r}", file=sys.stderr)
        return 1
    print(f"client-check: session {session.id} made and user read ({user.real_name_status}) through the generated client")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
