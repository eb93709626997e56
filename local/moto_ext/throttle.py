"""EC2's request rate limits, as the EC2 developer guide documents them ("Request throttling for the Amazon EC2
API"): a token bucket per account, Region and API action; each request takes a token, each bucket refills at
its rate up to its size, and a request that finds its bucket empty is refused with `RequestLimitExceeded`.

The default buckets, by kind of action (that guide's "request token bucket sizes and refill rates"):
- mutating actions (create, delete, modify, copy, attach, tag ...): 200 tokens, 5 a second;
- non-mutating actions (Describe*, Get*, List*) with a filter or pagination: 100 tokens, 20 a second;
- non-mutating actions without either ("unfiltered and unpaginated"): 50 tokens, 10 a second.

They hold for the stack's principals (the functions, the workflow, the automation): what an account's own
tools spend of its budget. A test's seeding stands for resources that already exist, and is not counted.
They are off until a test turns them on: `POST /moto-api/snapmgmt/ec2/throttle {"scale": 1}` is AWS's buckets,
`{"scale": 0.1}` every bucket and refill a tenth of it (a limit tripped quickly), `{"scale": null}` off again;
moto's reset turns them off. `GET` reads every refusal so far.
"""

import threading
import time

MUTATING = (200, 5.0)
NON_MUTATING = (100, 20.0)
UNFILTERED = (50, 10.0)

_lock = threading.Lock()
_buckets = {}
_refusals = []
# None: off (the default, and after a reset).
_settings = {"scale": None}


def kind_of(action: str, query: dict) -> tuple:
    """The (size, refill per second) of the action's bucket."""
    if action.startswith(("Describe", "Get", "List")):
        filtered = any(key.startswith(("Filter.", "MaxResults", "NextToken")) for key in query)
        return NON_MUTATING if filtered else UNFILTERED
    return MUTATING


def take(account: str, region: str, action: str, query: dict, now: float = None) -> bool:
    """Takes a token from the action's bucket; False when it is empty (the request is refused)."""
    size, refill = kind_of(action, query)
    scale = _settings["scale"]
    if scale is None:
        return True
    size, refill = max(1.0, size * scale), refill * scale
    now = time.monotonic() if now is None else now
    with _lock:
        tokens, last = _buckets.get((account, region, action), (size, now))
        tokens = min(size, tokens + (now - last) * refill)
        if tokens < 1:
            _buckets[(account, region, action)] = (tokens, now)
            _refusals.append({"region": region, "action": action, "at": time.time()})
            return False
        _buckets[(account, region, action)] = (tokens - 1, now)
        return True


def configure(scale) -> None:
    with _lock:
        _settings["scale"] = None if scale is None else float(scale)
        _buckets.clear()


def refusals() -> list:
    with _lock:
        return list(_refusals)


def reset() -> None:
    with _lock:
        _buckets.clear()
        _refusals.clear()
        _settings["scale"] = None


def check(response, action: str, service: str) -> None:
    """Refuses the stack's principals' EC2 request when its bucket is empty, as EC2 does (HTTP 503)."""
    from . import iam

    if service != "ec2" or iam._role_of(response.headers) is None:
        return
    account = getattr(response, "current_account", None) or iam.ACCOUNT
    region = getattr(response, "region", None) or iam.REGION
    if not take(account, region, action, response.querystring or {}):
        error = iam.XmlDenial("RequestLimitExceeded", "Request limit exceeded.", wrapped=True)
        error.code = 503
        raise error


def install() -> None:
    from . import hooks

    hooks.before_action(check)


def install_reset() -> None:
    """moto's reset (POST /moto-api/reset, before each test) empties the buckets and the block faults too: a fresh
    account."""
    from moto.moto_api._internal.models import MotoAPIBackend

    original = MotoAPIBackend.reset

    def reset_with_buckets(self):
        from . import ebs, volumes

        original(self)
        reset()
        ebs.reset()
        volumes.reset()

    MotoAPIBackend.reset = reset_with_buckets
